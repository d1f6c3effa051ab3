"""Training: what ``fit`` and ``evaluate`` do with their documented arguments, against the reference.

- ``test_fit[Model.fit]``: a one-Dense model (a regression, or a softmax classifier) is fit in the
  implementation and in the reference from the same drawn weights on the same data, with a drawn
  combination of fit's documented arguments (``FIT_ARGUMENTS``, keyed by parameter name; a parameter the
  version does not document is never passed) and of compile's ``loss`` and ``metrics`` (their spec
  domains: the seeds' string shortcuts, by name and alias).
  ``History.history`` (the loss and every metric per epoch, the validation values), ``History.epoch``
  and the final weights are compared (tolerance kind ``trajectory``).
  Shuffling is random, so it is drawn only where it cannot change the result: one batch per epoch
  (the batch's mean loss does not depend on the order of its samples); elsewhere ``shuffle=False``.
- ``test_fit_shuffles[Model.fit]``: ``shuffle=True`` (the default) with 16 samples in batches of 1 must
  train on another order than ``shuffle=False``: the weights after one epoch differ from the reference's
  unshuffled ones. A correct shuffle keeps the identity order with probability 1/16! < 1e-13.
- ``test_class_predictions[Sequential.predict_classes]`` / ``[Sequential.predict_proba]`` (2.x): a softmax
  classifier or a one-unit sigmoid on drawn weights, with a drawn ``batch_size``: the classes (exactly) and
  the probabilities against the reference's.
- ``test_evaluate[Model.evaluate]``: the loss and metrics ``evaluate`` returns with a drawn
  ``batch_size`` and ``sample_weight`` on drawn weights, and ``metrics_names``, against the reference.

``steps_per_epoch`` / ``validation_steps`` (whose meaning for arrays differs between versions),
``callbacks`` and ``verbose`` are left to other checks: the coverage table shows what this one passed.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.layers import untested
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "training"
LEARNING_RATE = 0.1
SHUFFLE_SAMPLES = 16


def conformance_cases(ctx, function_name):
    if function_name == "test_class_predictions":
        return [Case(id=m, item=m, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
                for m in ("Sequential.predict_classes", "Sequential.predict_proba") if m in ctx.spec]
    method = {"test_fit": "Model.fit", "test_fit_shuffles": "Model.fit",
              "test_evaluate": "Model.evaluate"}[function_name]
    if method not in ctx.spec:
        return []
    return [Case(id=method, item=method, category=CONFORMANCE_CATEGORY,
                 needs=("construct", "call", "compile", "fit"))]


# -- what a check may compile with: read from the spec -----------------------------------------------------
def _names(item) -> list[str]:
    return [item.attr, *item.aliases, *item.strings]


def _domain(item, name) -> list:
    for p in item.params if item is not None else ():
        if p.name == name and p.domain and p.domain.get("choices"):
            return list(p.domain["choices"])
    return []


def compile_choices(spec) -> dict[str, list[str]]:
    """The loss and metric identifiers of each task: the ``loss`` and ``metrics`` domains of
    Model.compile, each sorted to the task its loss or metric item is defined on (spec ``targets``:
    real ones go to the regression, one-hot ones to the softmax classifier); a shortcut that names no
    item, or an exact-match one ('accuracy'), goes with the classifier, whose targets decide what it
    becomes. A loss or metric that an implementation lacks is its item's finding, not fit's: the
    domains hold the seeds' own examples."""
    items = [i for i in spec.items() if i.area in ("losses", "metrics") and i.kind == "function"]
    by_name = {n: i for i in items for n in _names(i)}
    compile_ = spec.get("Model.compile")

    def sort(names, targets, unresolved):
        return [n for n in names if (by_name[n].targets in targets if n in by_name else unresolved)]
    losses, metrics = _domain(compile_, "loss"), _domain(compile_, "metrics")
    return {"regression_loss": sort(losses, ("real",), False),
            "regression_metrics": sort(metrics, ("real",), False),
            "classification_loss": sort(losses, ("categorical",), False),
            "classification_metrics": sort(metrics, ("categorical", "labels"), True)}


# -- the arguments of fit a check draws, keyed by parameter name -------------------------------------------
# Each entry draws a value for one documented parameter, given what was drawn before (the case so far):
# None leaves the parameter out (its documented default applies). Array arguments are drawn as plain data
# ({"array": ...}) that ``oracle.fit_arrays`` turns into the same arrays for both implementations.
def _epochs(draw, c):
    return draw(st.one_of(st.none(), st.integers(2, 3)))     # left out: the documented 1


def _initial_epoch(draw, c):
    epochs = c["fit"].get("epochs", 1)
    return draw(st.one_of(st.none(), st.integers(0, epochs - 1))) if epochs > 1 else None


def _validation_data(draw, c):
    if c["validation"] != "data":
        return None
    return {"array": "validation_data", "n": draw(st.integers(1, 5)), "weighted": draw(st.booleans())}


def _validation_split(draw, c):
    if c["validation"] != "split" or c["n"] < 4:
        return None
    return draw(st.sampled_from([0.25, 0.5]))


def _validated(c) -> bool:
    return "validation_data" in c["fit"] or "validation_split" in c["fit"]


def _validation_freq(draw, c):
    if not _validated(c) or c["fit"].get("epochs", 1) < 2:
        return None         # with one epoch every frequency validates once
    return draw(st.sampled_from([None, 1, 2, 2]))


def _validation_batch_size(draw, c):
    return draw(st.one_of(st.none(), st.integers(1, 4))) if _validated(c) else None


def _sample_weight(draw, c):
    return {"array": "sample_weight"} if draw(st.booleans()) else None


def _class_weight(draw, c):
    if c["task"] != "classification" or not draw(st.booleans()):
        return None
    return {k: draw(st.sampled_from([0.5, 1.0, 2.0, 3.0])) for k in range(c["units"])}


def _shuffle(draw, c):
    split = c["fit"].get("validation_split", 0.0)
    n_train = int(c["n"] * (1.0 - split))
    if c["fit"].get("batch_size", 32) < n_train:
        return False            # several batches an epoch: only an unshuffled order is comparable
    choices = [True, False] + (["batch"] if c["api_version"] != "3" else [])
    return draw(st.one_of(st.none(), st.sampled_from(choices)))


FIT_ARGUMENTS = {
    "batch_size": None,         # drawn first, with the number of samples (fit_case)
    "epochs": _epochs,
    "initial_epoch": _initial_epoch,
    "validation_data": _validation_data,
    "validation_split": _validation_split,
    "validation_freq": _validation_freq,
    "validation_batch_size": _validation_batch_size,
    "sample_weight": _sample_weight,
    "class_weight": _class_weight,
    "shuffle": _shuffle,
}


@st.composite
def fit_case(draw, ctx, item, choices):
    """Plain data: the task, sizes, seed, compile's loss and metrics and fit's keyword arguments."""
    task = draw(st.sampled_from([t for t in ("regression", "classification") if choices[f"{t}_loss"]]))
    documented = {p.name for p in item.params}
    # batch_size left out is the documented default, 32: then more samples than that, so it shows
    batch_size = draw(st.one_of(st.none(), st.integers(1, 8))) if "batch_size" in documented else None
    c = {"api_version": ctx.api_version, "task": task,
         "n": draw(st.sampled_from([1, 2, 3, 4, 5, 6, 8, 12] if batch_size is not None else [33, 40])),
         "validation": draw(st.sampled_from(["none", "data", "split"])),
         "in_dim": draw(st.integers(1, 4)),
         "units": draw(st.integers(2, 4)) if task == "classification" else draw(st.integers(1, 3)),
         "seed": draw(strategies.seeds),
         "loss": draw(st.sampled_from(choices[f"{task}_loss"])),
         "metrics": draw(st.lists(st.sampled_from(choices[f"{task}_metrics"]), max_size=2, unique=True))
         if choices[f"{task}_metrics"] else [],
         "fit": {} if batch_size is None else {"batch_size": batch_size}}
    for name, arg in FIT_ARGUMENTS.items():
        if name in documented and arg is not None:
            value = arg(draw, c)
            if value is not None:
                c["fit"][name] = value
    return c


def _recipe(c) -> dict:
    """The case's one-Dense model as an oracle recipe: linear for the regression, softmax for the classifier."""
    layer = {"units": c["units"]}
    if c["task"] == "classification":
        layer["activation"] = "softmax"
    return {"input_shape": (c["in_dim"],), "layers": [("Dense", layer)]}


def _compile(ctx, model, K, c):
    lr_name = ctx.optimizer_lr_name("SGD")
    kwargs = {"metrics": list(c["metrics"])} if c["metrics"] else {}
    model.compile(optimizer=oracle.optimizer(K, "SGD", lr_name, LEARNING_RATE), loss=c["loss"], **kwargs)


def _pair(ctx, check, c):
    """The implementation's model and the reference's, compiled, holding the same drawn weights."""
    lr_name = ctx.optimizer_lr_name("SGD")
    if lr_name is None:
        untested(f"optimizers.SGD has no documented learning-rate argument in API {ctx.api_version}")
    metrics = f", metrics={list(c['metrics'])!r}" if c["metrics"] else ""
    compile_code = (f"optimizer={{ns}}.optimizers.SGD({lr_name}={LEARNING_RATE}), "
                    f"loss={c['loss']!r}{metrics}")
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True),
        "from keras_conformance.conformance import oracle",
        oracle.code(_recipe(c), ctx.api_version, "K", "model"), oracle.code(_recipe(c), ctx.api_version, "R", "ref"),
        f"case = {c!r}",
        "weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], case['seed'] + 2)",
        "model.set_weights(weights); ref.set_weights(weights)",
        f"model.compile({compile_code.format(ns='K')})",
        f"ref.compile({compile_code.format(ns='R')})"])
    check.exercise("Model.compile", "optimizer", "loss", *(["metrics"] if c["metrics"] else []))
    check.exercise(f"optimizers.SGD", lr_name)
    ctx.seed(c["seed"])
    model, ref = oracle.build(ctx.K, ctx.api_version, _recipe(c)), oracle.build(ctx.R, ctx.api_version, _recipe(c))
    weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], c["seed"] + 2)
    got_shapes = [tuple(np.shape(ctx.k_numpy(w))) for w in model.get_weights()]
    if got_shapes != [w.shape for w in weights]:
        raise AssertionError(f"Dense({c['units']}) on {c['in_dim']} features: get_weights() shapes {got_shapes}, "
                             f"documented {[w.shape for w in weights]}\nreproducer:\n{check.reproducer}")
    model.set_weights(weights)
    ref.set_weights(weights)
    _compile(ctx, model, ctx.K, c)
    _compile(ctx, ref, ctx.R, c)
    return model, ref


def _describe(c) -> str:
    args = ", ".join(f"{k}={v['array'] if isinstance(v, dict) and 'array' in v else v!r}"
                     for k, v in c["fit"].items())
    metrics = f", metrics={c['metrics']!r}" if c["metrics"] else ""
    return (f"{c['task']} Dense({c['units']}) on {c['n']} samples of {c['in_dim']} features, "
            f"loss={c['loss']!r}{metrics}, fit({args})")


def compare_history(ctx, got, expected, what, reproducer):
    """History.history (keys, then each value per epoch) and History.epoch against the reference's."""
    tail = f"\nreproducer:\n{reproducer}"
    hist = getattr(got, "history", None)
    if not isinstance(hist, dict):
        raise AssertionError(f"{what}: fit returned {type(got).__name__}, documented a History whose "
                             f"`history` is a dict{tail}")
    want = expected.history
    if set(hist) != set(want):
        raise AssertionError(f"{what}: History.history keys {sorted(hist)}, the reference's {sorted(want)}{tail}")
    for key in sorted(want):
        g = np.asarray([float(np.asarray(ctx.k_numpy(v)).ravel()[0]) for v in hist[key]])
        e = np.asarray([float(np.asarray(v).ravel()[0]) for v in want[key]])
        if g.shape != e.shape:
            raise AssertionError(f"{what}: History.history[{key!r}] has {g.size} values (one per epoch), the "
                                 f"reference's {e.size}{tail}")
        assert_close(g, e, kind="trajectory", device=ctx.device, reproducer=reproducer,
                     what=f"{what}: History.history[{key!r}] per epoch")
    if list(getattr(got, "epoch", [])) != list(expected.epoch):
        raise AssertionError(f"{what}: History.epoch {list(getattr(got, 'epoch', []))}, the reference's "
                             f"{list(expected.epoch)}{tail}")


def compare_weights(ctx, model, ref, what, reproducer):
    got = [ctx.k_numpy(w) for w in model.get_weights()]
    for i, (g, e) in enumerate(zip(got, ref.get_weights())):
        assert_close(g, ctx.r_numpy(e), kind="trajectory", device=ctx.device, reproducer=reproducer,
                     what=f"{what}: weight {i} after fit")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(12))
def test_fit(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    choices = compile_choices(ctx.spec)
    item = ctx.spec[case.item]
    c = data.draw(fit_case(ctx, item, choices), label="fit case")
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\n" + "\n".join([
        "x, y, kwargs = oracle.fit_arrays(case)",
        "got, expected = model.fit(x, y, verbose=0, **kwargs), ref.fit(x, y, verbose=0, **kwargs)",
        "print(got.history, expected.history)"])
    check.exercise("Model.fit", "x", "y", "verbose", *kwargs)
    what = _describe(c)
    ctx.seed(c["seed"])
    got = model.fit(x, y, verbose=0, **kwargs)
    expected = ref.fit(x, y, verbose=0, **kwargs)
    compare_history(ctx, got, expected, what, check.reproducer)
    compare_weights(ctx, model, ref, what, check.reproducer)


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_fit_shuffles(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    choices = compile_choices(ctx.spec)
    if not choices["regression_loss"]:
        untested(f"no documented loss on real targets in API {ctx.api_version}")
    c = {"api_version": ctx.api_version, "task": "regression", "n": SHUFFLE_SAMPLES,
         "in_dim": data.draw(st.integers(1, 4), label="in_dim"), "units": data.draw(st.integers(1, 3), label="units"),
         "seed": data.draw(strategies.seeds, label="seed"), "loss": choices["regression_loss"][0], "metrics": [],
         "fit": {"batch_size": 1}}
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\n" + "\n".join([
        "x, y, kwargs = oracle.fit_arrays(case)",
        "model.fit(x, y, verbose=0, **kwargs); ref.fit(x, y, verbose=0, shuffle=False, **kwargs)",
        "print([np.max(np.abs(np.asarray(g) - e)) for g, e in zip(model.get_weights(), ref.get_weights())])"])
    check.exercise("Model.fit", "x", "y", "verbose", "batch_size")
    ctx.seed(c["seed"])
    model.fit(x, y, verbose=0, **kwargs)
    ref.fit(x, y, verbose=0, shuffle=False, **kwargs)
    differs = False
    for g, e in zip(model.get_weights(), ref.get_weights()):
        try:
            assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="trajectory", device=ctx.device,
                         reproducer="", what="")
        except AssertionError:
            differs = True
    if not differs:
        raise AssertionError(
            f"{_describe(c)} with shuffle left at its documented default (True): the weights after one epoch "
            f"equal those of an unshuffled epoch (the reference with shuffle=False), so the {SHUFFLE_SAMPLES} "
            f"samples were not shuffled (a shuffle keeps their order with probability 1/{SHUFFLE_SAMPLES}!)"
            f"\nreproducer:\n{check.reproducer}")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(12))
def test_evaluate(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    choices = compile_choices(ctx.spec)
    fit = ctx.spec.get("Model.fit")
    if fit is None:
        pytest.skip("Model.fit is not documented in this API version")
    c = data.draw(fit_case(ctx, fit, choices), label="case")
    documented = {p.name for p in ctx.spec[case.item].params}
    c["fit"] = {k: v for k, v in c["fit"].items() if k in ("batch_size", "sample_weight") and k in documented}
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\n" + "\n".join([
        "x, y, kwargs = oracle.fit_arrays(case)",
        "print(model.evaluate(x, y, verbose=0, **kwargs), ref.evaluate(x, y, verbose=0, **kwargs))",
        "print(model.metrics_names, ref.metrics_names)"])
    check.exercise("Model.evaluate", "x", "y", "verbose", *kwargs)
    what = _describe(c).replace("fit(", "evaluate(")
    got = model.evaluate(x, y, verbose=0, **kwargs)
    expected = ref.evaluate(x, y, verbose=0, **kwargs)
    g = np.atleast_1d(np.asarray([ctx.k_numpy(v) for v in got] if isinstance(got, (list, tuple)) else ctx.k_numpy(got),
                                 dtype="float64")).ravel()
    e = np.atleast_1d(np.asarray(expected, dtype="float64")).ravel()
    if g.shape != e.shape:
        raise AssertionError(f"{what}: evaluate returned {g.size} values, the reference {e.size} "
                             f"({ref.metrics_names})\nreproducer:\n{check.reproducer}")
    assert_close(g, e, kind="loss", device=ctx.device, reproducer=check.reproducer,
                 what=f"{what}: the values evaluate returned ({ref.metrics_names})")
    if list(model.metrics_names) != list(ref.metrics_names):
        raise AssertionError(f"{what}: metrics_names {list(model.metrics_names)}, the reference's "
                             f"{list(ref.metrics_names)}\nreproducer:\n{check.reproducer}")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(6))
def test_class_predictions(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    method = ctx.spec[case.item].attr
    units = data.draw(st.integers(1, 4), label="units")
    c = {"api_version": ctx.api_version, "task": "classification", "n": data.draw(st.integers(1, 12), label="n"),
         "in_dim": data.draw(st.integers(1, 4), label="in_dim"), "units": units,
         "seed": data.draw(strategies.seeds, label="seed"), "metrics": [], "fit": {}}
    batch_size = data.draw(st.one_of(st.none(), st.integers(1, 5)), label="batch_size")
    activation = "softmax" if units > 1 else "sigmoid"
    recipe = {"input_shape": (c["in_dim"],), "layers": [("Dense", {"units": units, "activation": activation})]}
    kwargs = {"verbose": 0, **({"batch_size": batch_size} if batch_size is not None else {})}
    call = f"{method}(x{''.join(f', {k}={v!r}' for k, v in kwargs.items())})"
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), "from keras_conformance.conformance import oracle",
        oracle.code(recipe, ctx.api_version, "K", "model"), oracle.code(recipe, ctx.api_version, "R", "ref"),
        f"case = {c!r}",
        "weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], case['seed'] + 2)",
        "model.set_weights(weights); ref.set_weights(weights)",
        "x, _, _ = oracle.fit_arrays(case)",
        f"print(model.{call}, ref.{call})"])
    check.exercise(case.item, "x", *kwargs)
    model, ref = oracle.build(ctx.K, ctx.api_version, recipe), oracle.build(ctx.R, ctx.api_version, recipe)
    weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], c["seed"] + 2)
    model.set_weights(weights)
    ref.set_weights(weights)
    x, _, _ = oracle.fit_arrays(c)
    ctx.locate(case.item)       # not-implemented, naming it, where the implementation lacks the method
    got = ctx.k_numpy(getattr(model, method)(x, **kwargs))
    expected = getattr(ref, method)(x, **kwargs)
    what = f"Sequential([Dense({units}, activation={activation!r})]).{call} on {c['n']} samples"
    if method == "predict_classes":
        if np.shape(got) != np.shape(expected) or not np.array_equal(np.asarray(got), expected):
            raise AssertionError(f"{what}: classes {np.asarray(got).tolist()}, the reference's "
                                 f"{np.asarray(expected).tolist()}\nreproducer:\n{check.reproducer}")
    else:
        assert_close(np.asarray(got), expected, kind="forward", device=ctx.device, reproducer=check.reproducer,
                     what=f"{what}: the probabilities")

