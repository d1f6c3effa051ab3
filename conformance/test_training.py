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
from keras_conformance.conformance.context import Case, one_line
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
              "test_evaluate": "Model.evaluate"}.get(function_name)
    if function_name == "test_generator_methods":
        return [Case(id=m, item=m, category=CONFORMANCE_CATEGORY, needs=("construct", "call", "compile", "fit"))
                for m in ("Model.fit_generator", "Model.evaluate_generator", "Model.predict_generator")
                if m in ctx.spec]
    if function_name in ("test_fit_outputs", "test_fit_temporal"):
        # the compile arguments these checks draw: several outputs; per-timestep weights (2.x)
        return [Case(id="Model.compile", item="Model.compile", category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for _ in [0] if "Model.fit" in ctx.spec and "models.Model" in ctx.spec and (
                    function_name == "test_fit_outputs" or any(
                        p.name == "sample_weight_mode" for p in ctx.spec["Model.compile"].params))]
    if function_name == "test_on_batch":
        return [Case(id=m, item=m, category=CONFORMANCE_CATEGORY, needs=("construct", "call", "compile", "fit"))
                for m in ("Model.train_on_batch", "Model.test_on_batch") if m in ctx.spec]
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



# -- train_on_batch / test_on_batch: consecutive calls, their arguments keyed by parameter name ------------
# Each draws the value of one documented argument for one call (None: left out), given the case.
def _batch_sample_weight(draw, c):
    return {"array": "sample_weight"} if draw(st.booleans()) else None


def _batch_class_weight(draw, c):
    if "sample_weight" in c["call"] and "sample_and_class_weight" in c["refused"]:
        return None         # documented as an error together (spec raises, trigger sample_and_class_weight)
    return _class_weight(draw, c)


def _batch_flag(draw, c):
    return draw(st.one_of(st.none(), st.booleans()))


ON_BATCH_ARGUMENTS = {
    "sample_weight": _batch_sample_weight,
    "class_weight": _batch_class_weight,
    "reset_metrics": _batch_flag,       # 2.3: False accumulates the metrics over the calls
    "return_dict": _batch_flag,         # 3: the logs as a dict
}


def _chunk_kwargs(call, lo, hi, sample_weight):
    """The keyword arguments of one call on samples [lo, hi) (a drawn sample_weight becomes theirs)."""
    out = {}
    for name, value in call.items():
        out[name] = sample_weight[lo:hi] if isinstance(value, dict) and value.get("array") == "sample_weight" \
            else value
    return out


def _values(ctx, result):
    """A *_on_batch result as ({name: value} or None, flat float64 values)."""
    if isinstance(result, dict):
        return ({k: float(np.asarray(ctx.k_numpy(v)).ravel()[0]) for k, v in result.items()},
                np.asarray([float(np.asarray(ctx.k_numpy(v)).ravel()[0]) for _, v in sorted(result.items())]))
    flat = result if isinstance(result, (list, tuple)) else [result]
    return None, np.asarray([float(np.asarray(ctx.k_numpy(v)).ravel()[0]) for v in flat])


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(8))
def test_on_batch(conformance, case, conformance_check, data):
    """Two or three consecutive ``train_on_batch`` / ``test_on_batch`` calls on consecutive chunks of the
    data, each with drawn documented arguments (``ON_BATCH_ARGUMENTS``): every returned value (the loss and
    the metrics, as a list, a scalar or with ``return_dict`` a dict) and, for train_on_batch, the weights
    after the calls, against the reference's."""
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    method = item.attr
    documented = {p.name for p in item.params}
    choices = compile_choices(ctx.spec)
    fit = ctx.spec.get("Model.fit")
    if fit is None:
        untested(f"Model.fit is not documented in API {ctx.api_version}: no training case to draw")
    c = data.draw(fit_case(ctx, fit, choices), label="case")
    c["fit"] = {}
    calls = []
    n_calls = data.draw(st.integers(2, 3), label="calls")
    c["n"] = max(c["n"], n_calls)
    c["refused"] = sorted(r.trigger for r in item.raises if isinstance(r.trigger, str))
    for k in range(n_calls):
        call = c["call"] = {}
        for name, arg in ON_BATCH_ARGUMENTS.items():
            if name in documented and not (name == "class_weight" and method != "train_on_batch"):
                value = arg(data.draw, c)
                if value is not None:
                    call[name] = value
        calls.append(call)
    del c["call"], c["refused"]
    model, ref = _pair(ctx, check, c)
    x, y, _ = oracle.fit_arrays(c)
    sample_weight = oracle.fit_arrays({**c, "fit": {"sample_weight": {"array": "sample_weight"}}})[2]["sample_weight"]
    bounds = np.linspace(0, c["n"], n_calls + 1).astype(int)
    check.reproducer += "\n" + "\n".join([
        "x, y, _ = oracle.fit_arrays(case)",
        "sw = oracle.fit_arrays({**case, 'fit': {'sample_weight': {'array': 'sample_weight'}}})[2]['sample_weight']",
        f"calls = {calls!r}",
        f"bounds = {bounds.tolist()!r}",
        "for call, lo, hi in zip(calls, bounds, bounds[1:]):",
        "    kw = {k: (sw[lo:hi] if isinstance(v, dict) else v) for k, v in call.items()}",
        f"    print(model.{method}(x[lo:hi], y[lo:hi], **kw), ref.{method}(x[lo:hi], y[lo:hi], **kw))"])
    what = _describe(c).split(", fit(")[0]
    for k, (call, lo, hi) in enumerate(zip(calls, bounds, bounds[1:])):
        kwargs = _chunk_kwargs(call, lo, hi, sample_weight)
        check.exercise(case.item, "x", "y", *kwargs)
        label = f"{what}: call {k + 1} of {n_calls}: {method}(x[{lo}:{hi}], y[{lo}:{hi}]" + "".join(
            f", {name}={'sw[...]' if name == 'sample_weight' else v!r}" for name, v in kwargs.items()) + ")"
        got = getattr(model, method)(x[lo:hi], y[lo:hi], **kwargs)
        expected = getattr(ref, method)(x[lo:hi], y[lo:hi], **kwargs)
        g_dict, g = _values(ctx, got)
        e_dict, e = _values(ctx, expected)
        if (g_dict is None) != (e_dict is None) or (e_dict is not None and set(g_dict) != set(e_dict)) \
                or g.shape != e.shape:
            raise AssertionError(f"{label}: returned {got!r}, the reference {expected!r} "
                                 f"({list(ref.metrics_names)})\nreproducer:\n{check.reproducer}")
        assert_close(g, e, kind="loss", device=ctx.device, reproducer=check.reproducer,
                     what=f"{label}: the values returned ({list(ref.metrics_names)})")
    if method == "train_on_batch":
        compare_weights(ctx, model, ref, what + f" after {n_calls} train_on_batch calls", check.reproducer)


# -- the *_generator methods (2.x): the same batches from a generator or a Sequence -------------------------
# Each entry draws one documented argument (None: left out) given the case so far; "source" is how the
# training (or evaluated, predicted) batches arrive. Results must not depend on the queue: workers 0 (the
# main thread) or 1 (one thread, in order); use_multiprocessing only False (processes would pickle the data).
def _gen_steps(draw, c):
    n_batches = -(-c["n"] // c["batch"])
    if c["source"] == "generator":          # documented: required for a plain generator
        return draw(st.integers(1, n_batches + 1))
    return draw(st.one_of(st.none(), st.integers(1, n_batches)))


def _gen_epochs(draw, c):
    return draw(st.sampled_from([None, 2, 3, 3]))


def _gen_initial_epoch(draw, c):
    epochs = c["kwargs"].get("epochs", 1)
    return draw(st.integers(0, epochs - 1)) if epochs > 1 else None


def _gen_validation_data(draw, c):
    return draw(st.sampled_from([None, "arrays", "generator", "sequence"]))


def _gen_validation_steps(draw, c):
    source = c["kwargs"].get("validation_data")
    if source in (None, "arrays"):
        return None
    n_batches = -(-c["vn"] // c["batch"])
    if source == "generator":
        return draw(st.integers(1, n_batches + 1))
    return draw(st.one_of(st.none(), st.integers(1, n_batches)))


def _gen_validation_freq(draw, c):
    if c["kwargs"].get("validation_data") is None or c["kwargs"].get("epochs", 1) < 2:
        return None
    return draw(st.sampled_from([None, 1, 2]))


def _gen_class_weight(draw, c):
    return _class_weight(draw, c) if not c["weighted"] else None


def _gen_queue(draw, c):
    return draw(st.one_of(st.none(), st.integers(1, 10)))


def _gen_workers(draw, c):
    return draw(st.one_of(st.none(), st.sampled_from([0, 1])))


def _gen_multiprocessing(draw, c):
    return draw(st.sampled_from([None, False]))


def _gen_shuffle(draw, c):
    # a Sequence's batches are shuffled per epoch: comparable only with one batch, or without shuffling
    one_batch = c["n"] <= c["batch"]
    return draw(st.sampled_from([None, True, False])) if one_batch or c["source"] != "sequence" else False


GENERATOR_ARGUMENTS = {
    "steps_per_epoch": _gen_steps,
    "steps": _gen_steps,
    "epochs": _gen_epochs,
    "initial_epoch": _gen_initial_epoch,
    "validation_data": _gen_validation_data,
    "validation_steps": _gen_validation_steps,
    "validation_freq": _gen_validation_freq,
    "class_weight": _gen_class_weight,
    "max_queue_size": _gen_queue,
    "workers": _gen_workers,
    "use_multiprocessing": _gen_multiprocessing,
    "shuffle": _gen_shuffle,
}


def _generator_inputs(K, c, x, y, sw, vx, vy, predict=False):
    """(the batches' source for K, its validation_data or None), as the case draws them."""
    batches = oracle.batch_list(x, None if predict else y, None if predict else sw, c["batch"])
    source = oracle.batch_generator(batches) if c["source"] == "generator" else oracle.batch_sequence(K, batches)
    kind = c["kwargs"].get("validation_data")
    vbatches = oracle.batch_list(vx, vy, None, c["batch"])
    validation = {None: None, "arrays": (vx, vy), "generator": oracle.batch_generator(vbatches),
                  "sequence": oracle.batch_sequence(K, vbatches)}[kind]
    return source, validation


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(8))
def test_generator_methods(conformance, case, conformance_check, data):
    """fit_generator / evaluate_generator / predict_generator on the same batches, from a Python generator
    or a ``utils.Sequence`` (drawn), with drawn documented arguments (``GENERATOR_ARGUMENTS``): History and
    the final weights, the evaluated values, or the predictions, against the reference's."""
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    method = item.attr
    documented = {p.name for p in item.params}
    choices = compile_choices(ctx.spec)
    c = data.draw(fit_case(ctx, ctx.spec["Model.fit"], choices), label="case")
    c.update(fit={}, source=data.draw(st.sampled_from(["generator", "sequence"]), label="source"),
             batch=data.draw(st.integers(1, 4), label="batch"), vn=data.draw(st.integers(1, 5), label="vn"),
             weighted=method != "predict_generator" and data.draw(st.booleans(), label="weighted"), kwargs={})
    for name, arg in GENERATOR_ARGUMENTS.items():
        if name in documented and not (name == "class_weight" and c["task"] != "classification"):
            value = arg(data.draw, c)
            if value is not None:
                c["kwargs"][name] = value
    model, ref = _pair(ctx, check, c)
    x, y, _ = oracle.fit_arrays(c)
    sw = oracle.fit_arrays({**c, "fit": {"sample_weight": {"array": "sample_weight"}}})[2]["sample_weight"] \
        if c["weighted"] else None
    vx, vy = oracle.fit_arrays({**c, "fit": {"v": {"array": "validation_data", "n": c["vn"], "weighted": False}}})[2]["v"]
    kwargs = {k: v for k, v in c["kwargs"].items() if k != "validation_data"}
    check.exercise(case.item, "generator", "verbose", *c["kwargs"])
    check.reproducer += "\n" + "\n".join([
        "x, y, _ = oracle.fit_arrays(case)",
        "sw = oracle.fit_arrays({**case, 'fit': {'sample_weight': {'array': 'sample_weight'}}})[2]['sample_weight'] "
        "if case['weighted'] else None",
        "vx, vy = oracle.fit_arrays({**case, 'fit': {'v': {'array': 'validation_data', 'n': case['vn'], "
        "'weighted': False}}})[2]['v']",
        "from keras_conformance.conformance.test_training import _generator_inputs",
        f"predict = {method == 'predict_generator'!r}",
        "g, vg = _generator_inputs(K, case, x, y, sw, vx, vy, predict)",
        "rg, rvg = _generator_inputs(R, case, x, y, sw, vx, vy, predict)",
        f"kwargs = {kwargs!r}",
        "extra, rextra = ({'validation_data': vg}, {'validation_data': rvg}) if vg is not None else ({}, {})",
        f"print(model.{method}(g, verbose=0, **kwargs, **extra), ref.{method}(rg, verbose=0, **kwargs, **rextra))"])
    predict = method == "predict_generator"
    source, validation = _generator_inputs(ctx.K, c, x, y, sw, vx, vy, predict)
    rsource, rvalidation = _generator_inputs(ctx.R, c, x, y, sw, vx, vy, predict)
    extra = {"validation_data": validation} if validation is not None else {}
    rextra = {"validation_data": rvalidation} if rvalidation is not None else {}
    what = (f"{_describe(c).split(', fit(')[0]}: {method}({c['source']} of batches of {c['batch']}"
            + (f", sample weights" if c["weighted"] else "")
            + "".join(f", {k}={v!r}" for k, v in c["kwargs"].items()) + ")")
    ctx.seed(c["seed"])
    got = getattr(model, method)(source, verbose=0, **kwargs, **extra)
    expected = getattr(ref, method)(rsource, verbose=0, **kwargs, **rextra)
    if method == "fit_generator":
        compare_history(ctx, got, expected, what, check.reproducer)
        compare_weights(ctx, model, ref, what, check.reproducer)
        return
    g = np.atleast_1d(np.asarray([ctx.k_numpy(v) for v in got] if isinstance(got, (list, tuple)) else ctx.k_numpy(got),
                                 dtype="float64"))
    e = np.atleast_1d(np.asarray(expected, dtype="float64"))
    if g.shape != e.shape:
        raise AssertionError(f"{what}: returned shape {g.shape}, the reference {e.shape}\nreproducer:\n"
                             f"{check.reproducer}")
    assert_close(g, e, kind="forward" if predict else "loss", device=ctx.device, reproducer=check.reproducer,
                 what=f"{what}: the {'predictions' if predict else 'values returned'}")


# -- several outputs: list and dict forms of loss, loss_weights, metrics, weighted_metrics, y, sample_weight -
OUTPUTS = ("reg", "cls")        # the two heads: a linear regression and a softmax classifier


def _two_heads(K, c):
    inp = K.layers.Input(shape=(c["in_dim"],))
    reg = K.layers.Dense(c["units"], name="reg")(inp)
    cls = K.layers.Dense(c["classes"], activation="softmax", name="cls")(inp)
    return K.models.Model(inp, [reg, cls])


def _two_heads_code(ns, var, c):
    return (f"inp = {ns}.layers.Input(shape=({c['in_dim']},)); {var} = {ns}.models.Model(inp, ["
            f"{ns}.layers.Dense({c['units']}, name='reg')(inp), "
            f"{ns}.layers.Dense({c['classes']}, activation='softmax', name='cls')(inp)])")


def _per_output(values, form):
    """One value per output as a list or as a dict keyed by output name (the documented forms)."""
    return dict(zip(OUTPUTS, values)) if form == "dict" else list(values)


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(8))
def test_fit_outputs(conformance, case, conformance_check, data):
    """A model with two outputs (``reg``: linear, ``cls``: softmax) compiled with per-output losses (a list
    or a dict), drawn ``loss_weights`` and ``metrics`` / ``weighted_metrics`` (list or dict forms), fit on y
    and sample weights given as lists or dicts: History (the total and per-output losses and metrics)
    and the final weights against the reference's."""
    ctx, check = conformance, conformance_check
    choices = compile_choices(ctx.spec)
    if not choices["regression_loss"] or not choices["classification_loss"]:
        untested(f"Model.compile's loss domain has no loss for each task in API {ctx.api_version}")
    documented = {p.name for p in ctx.spec["Model.compile"].params}
    draw = data.draw
    c = {"api_version": ctx.api_version, "n": draw(st.integers(2, 8), label="n"),
         "in_dim": draw(st.integers(1, 3), label="in_dim"), "units": draw(st.integers(1, 2), label="units"),
         "classes": draw(st.integers(2, 3), label="classes"), "seed": draw(strategies.seeds, label="seed"),
         "form": draw(st.sampled_from(["list", "dict"]), label="form")}
    compile_kwargs = {"loss": _per_output([draw(st.sampled_from(choices["regression_loss"])),
                                                 draw(st.sampled_from(choices["classification_loss"]))], c["form"])}
    if draw(st.booleans(), label="loss_weights"):
        compile_kwargs["loss_weights"] = _per_output([draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in OUTPUTS], c["form"])
    for name in ("metrics", "weighted_metrics"):
        if name in documented and draw(st.booleans(), label=name):
            per = {"reg": draw(st.lists(st.sampled_from(choices["regression_metrics"]), min_size=1, max_size=1,
                                        unique=True)) if choices["regression_metrics"] else [],
                   "cls": draw(st.lists(st.sampled_from(choices["classification_metrics"]), min_size=1,
                                        max_size=1, unique=True)) if choices["classification_metrics"] else []}
            compile_kwargs[name] = {k: v for k, v in per.items() if v}
    fit_kwargs = {"batch_size": draw(st.integers(1, 4), label="batch_size"), "shuffle": False,
                  "epochs": draw(st.integers(1, 2), label="epochs")}
    weighted = draw(st.booleans(), label="sample_weight")
    sw_form = draw(st.sampled_from(_domain(ctx.spec["Model.fit"], "sample_weight") or ["list"]), label="sw form")
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], c["in_dim"])).astype("float32")
    ys = [rng.standard_normal((c["n"], c["units"])).astype("float32"),
          np.eye(c["classes"], dtype="float32")[rng.integers(0, c["classes"], size=c["n"])]]
    sws = [rng.uniform(0.5, 2.0, size=c["n"]).astype("float32") for _ in OUTPUTS]
    y = _per_output(ys, c["form"])
    if weighted:
        fit_kwargs["sample_weight"] = sws[0] if sw_form == "array" else _per_output(sws, sw_form)
    lr_name = ctx.optimizer_lr_name("SGD")
    if lr_name is None:
        untested(f"optimizers.SGD has no documented learning-rate argument in API {ctx.api_version}")
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), "from keras_conformance.conformance import oracle",
        _two_heads_code("K", "model", c), _two_heads_code("R", "ref", c),
        "weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], %d)" % (c["seed"] + 2),
        "model.set_weights(weights); ref.set_weights(weights)",
        f"rng = np.random.default_rng({c['seed']})",
        f"x = rng.standard_normal(({c['n']}, {c['in_dim']})).astype('float32')",
        f"ys = [rng.standard_normal(({c['n']}, {c['units']})).astype('float32'), "
        f"np.eye({c['classes']}, dtype='float32')[rng.integers(0, {c['classes']}, size={c['n']})]]",
        f"sws = [rng.uniform(0.5, 2.0, size={c['n']}).astype('float32') for _ in range(2)]",
        f"form = {c['form']!r}  # y and sample_weight as a list, or a dict keyed by output name",
        f"compile_kwargs = {compile_kwargs!r}",
        f"fit_kwargs = {({k: v for k, v in fit_kwargs.items() if k != 'sample_weight'})!r}",
        "y = dict(zip(['reg', 'cls'], ys)) if form == 'dict' else ys",
        *([f"sw_form = {sw_form!r}  # the documented form of sample_weight for several outputs",
           "fit_kwargs['sample_weight'] = sws[0] if sw_form == 'array' else dict(zip(['reg', 'cls'], sws)) "
           "if sw_form == 'dict' else sws"] if weighted else []),
        f"model.compile(optimizer=K.optimizers.SGD({lr_name}={LEARNING_RATE}), **compile_kwargs)",
        f"ref.compile(optimizer=R.optimizers.SGD({lr_name}={LEARNING_RATE}), **compile_kwargs)",
        "print(model.fit(x, y, verbose=0, **fit_kwargs).history, ref.fit(x, y, verbose=0, **fit_kwargs).history)"])
    check.exercise("Model.compile", "optimizer", *compile_kwargs)
    check.exercise("Model.fit", "x", "y", "verbose", *fit_kwargs)
    check.exercise("models.Model", "inputs", "outputs")
    ctx.seed(c["seed"])
    model, ref = _two_heads(ctx.K, c), _two_heads(ctx.R, c)
    weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], c["seed"] + 2)
    model.set_weights(weights)
    ref.set_weights(weights)
    for m, K in ((model, ctx.K), (ref, ctx.R)):
        m.compile(optimizer=oracle.optimizer(K, "SGD", lr_name, LEARNING_RATE), **compile_kwargs)
    what = (f"Model(Input(({c['in_dim']},)), [Dense({c['units']}, name='reg'), Dense({c['classes']}, "
            f"softmax, name='cls')]) on {c['n']} samples, compile({', '.join(f'{k}={v!r}' for k, v in compile_kwargs.items())}), "
            f"y as a {c['form']}, fit({', '.join(f'{k}={v!r}' for k, v in fit_kwargs.items() if k != 'sample_weight')}"
            f"{f', sample_weight=<{sw_form}>' if weighted else ''})")
    try:
        got = model.fit(x, y, verbose=0, **fit_kwargs)
    except Exception as exc:  # noqa: BLE001 - a documented call that raises is this check's finding
        raise AssertionError(f"{what}: fit raised {one_line(exc)}\nreproducer:\n{check.reproducer}") from exc
    expected = ref.fit(x, y, verbose=0, **fit_kwargs)
    compare_history(ctx, got, expected, what, check.reproducer)
    compare_weights(ctx, model, ref, what, check.reproducer)


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(6))
def test_fit_temporal(conformance, case, conformance_check, data):
    """``compile(sample_weight_mode='temporal')``: a Dense applied at every time step of (n, steps, d)
    inputs, fit with a weight per sample and time step ((n, steps) sample_weight): History and the final
    weights against the reference's."""
    ctx, check = conformance, conformance_check
    choices = compile_choices(ctx.spec)
    draw = data.draw
    n, steps, d = draw(st.integers(1, 6), label="n"), draw(st.integers(1, 4), label="steps"), draw(st.integers(1, 3), label="d")
    units, seed = draw(st.integers(1, 3), label="units"), draw(strategies.seeds, label="seed")
    loss = draw(st.sampled_from(choices["regression_loss"]), label="loss")
    metrics = draw(st.lists(st.sampled_from(choices["regression_metrics"]), max_size=1), label="metrics") \
        if choices["regression_metrics"] else []
    fit_kwargs = {"batch_size": draw(st.integers(1, 4), label="batch_size"), "shuffle": False,
                  "epochs": draw(st.integers(1, 2), label="epochs")}
    lr_name = ctx.optimizer_lr_name("SGD")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, steps, d)).astype("float32")
    y = rng.standard_normal((n, steps, units)).astype("float32")
    sw = rng.uniform(0.0, 2.0, size=(n, steps)).astype("float32")
    recipe = {"input_shape": (steps, d), "layers": [("Dense", {"units": units})]}
    compile_code = (f"optimizer={{ns}}.optimizers.SGD({lr_name}={LEARNING_RATE}), loss={loss!r}, "
                    f"sample_weight_mode='temporal'" + (f", metrics={metrics!r}" if metrics else ""))
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), "from keras_conformance.conformance import oracle",
        oracle.code(recipe, ctx.api_version, "K", "model"), oracle.code(recipe, ctx.api_version, "R", "ref"),
        f"weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], {seed + 2})",
        "model.set_weights(weights); ref.set_weights(weights)",
        f"rng = np.random.default_rng({seed})",
        f"x = rng.standard_normal(({n}, {steps}, {d})).astype('float32')",
        f"y = rng.standard_normal(({n}, {steps}, {units})).astype('float32')",
        f"sw = rng.uniform(0.0, 2.0, size=({n}, {steps})).astype('float32')",
        f"model.compile({compile_code.format(ns='K')}); ref.compile({compile_code.format(ns='R')})",
        f"print(model.fit(x, y, sample_weight=sw, verbose=0, **{fit_kwargs!r}).history, "
        f"ref.fit(x, y, sample_weight=sw, verbose=0, **{fit_kwargs!r}).history)"])
    check.exercise("Model.compile", "optimizer", "loss", "sample_weight_mode", *(["metrics"] if metrics else []))
    check.exercise("Model.fit", "x", "y", "verbose", "sample_weight", *fit_kwargs)
    ctx.seed(seed)
    model, ref = oracle.build(ctx.K, ctx.api_version, recipe), oracle.build(ctx.R, ctx.api_version, recipe)
    weights = oracle.drawn_weights([np.shape(w) for w in ref.get_weights()], seed + 2)
    model.set_weights(weights)
    ref.set_weights(weights)
    for m, K in ((model, ctx.K), (ref, ctx.R)):
        m.compile(optimizer=oracle.optimizer(K, "SGD", lr_name, LEARNING_RATE), loss=loss,
                  sample_weight_mode="temporal", **({"metrics": list(metrics)} if metrics else {}))
    what = (f"Dense({units}) at each of {steps} time steps, {n} samples, loss={loss!r}, metrics={metrics!r}, "
            f"sample_weight_mode='temporal', (n, steps) sample_weight, fit({fit_kwargs})")
    got = model.fit(x, y, sample_weight=sw, verbose=0, **fit_kwargs)
    expected = ref.fit(x, y, sample_weight=sw, verbose=0, **fit_kwargs)
    compare_history(ctx, got, expected, what, check.reproducer)
    compare_weights(ctx, model, ref, what, check.reproducer)
