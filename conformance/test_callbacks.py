"""Callbacks: what fit (and, since 2.3, evaluate and predict) does with its ``callbacks`` argument, and the
documented callback classes, against the reference on the same drawn weights and data
(spec/callbacks.yaml). Each model is conformance/test_training.py's one-Dense regression (``_pair``),
trained with SGD at its learning rate, ``shuffle=False``, on ``oracle.fit_arrays`` data.

- ``test_callback_hooks[callbacks.Callback]``: a subclass of the implementation's ``callbacks.Callback``
  overriding every hook the version documents (the spec's ``callbacks.Callback.on_*`` items) records each
  call: the hook, its epoch or batch index, the sorted keys of its logs and their values (an array, such
  as predict's ``outputs``, by its shape), during fit with validation data, then evaluate and predict where
  the version gives them ``callbacks``; ``params['epochs']``, ``params['verbose']`` and ``model`` at
  on_train_begin. The same recorder subclassing the reference's Callback must see the same calls.
- ``test_history[callbacks.History]``: fit returns an instance of ``callbacks.History``; its ``history``,
  ``epoch`` and ``params['epochs']`` against the reference's.
- ``test_early_stopping[callbacks.EarlyStopping]`` (validated on the training inputs with negated targets,
  so val_loss rises while loss falls and both directions of every mode are decided): drawn monitor / min_delta / patience / mode / baseline /
  restore_best_weights (/ start_from_epoch): the epochs run (History), ``stopped_epoch`` and the final
  weights. An example whose monitored values come within the trajectory tolerance of a decision boundary
  (two epochs min_delta apart, a value at the baseline) is not drawn: there the float rounding of each
  implementation decides, not the documented rule.
- ``test_model_checkpoint[callbacks.ModelCheckpoint]`` (the same validation data): drawn save_best_only / save_weights_only /
  monitor / mode (/ period, / initial_value_threshold) and a ``{epoch:02d}`` file name (2.x ``.h5``;
  3 ``.weights.h5`` for weights, ``.h5`` for a whole model: keras 3 requires one of its suffixes): the
  names of the files written, and the weights loaded back from the last one, against the reference.
- ``test_lambda_callback[callbacks.LambdaCallback]``: the version's documented hook arguments (at most
  one drawn to be left out), each a function recording its arguments (index, sorted log keys), and a keyword argument
  that must become an attribute: which functions are called, in which order, with what.
- ``test_progbar[callbacks.ProgbarLogger]``: ``verbose=2``: the ``Epoch i/n`` lines printed, in order, and
  the names each epoch's summary line gives values for (as a set), against the reference. The docs fix
  that the epoch lines and the loss / metric / val_ names are printed; the layout of the line, the times
  and the number format are formatting and are not compared.
- ``test_base_logger[callbacks.BaseLogger]`` (2.x): on_batch_end with drawn batch sizes and values, then
  on_epoch_end: the epoch logs it writes (size-weighted means; a stateful metric's last value).
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.layers import domain_strategy, untested
from keras_conformance.conformance.test_training import (_pair, compare_history, compare_weights,
                                                         compile_choices)
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "training"
TIE = 1e-3          # relative: a monitored value this close to a decision boundary is not drawn

_CHECKS = {"test_callback_hooks": "callbacks.Callback", "test_history": "callbacks.History",
           "test_early_stopping": "callbacks.EarlyStopping", "test_model_checkpoint": "callbacks.ModelCheckpoint",
           "test_lambda_callback": "callbacks.LambdaCallback", "test_progbar": "callbacks.ProgbarLogger",
           "test_base_logger": "callbacks.BaseLogger"}


def conformance_cases(ctx, function_name):
    if function_name == "test_batch_hook_alias":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items(kind="method") if i.owner == "callbacks.Callback" and i.attr in BATCH_ALIASES
                and f"callbacks.Callback.{BATCH_ALIASES[i.attr]}" in ctx.spec]
    item = _CHECKS[function_name]
    if item not in ctx.spec:
        return []
    needs = () if function_name == "test_base_logger" else ("construct", "call", "compile", "fit")
    return [Case(id=item, item=item, category=CONFORMANCE_CATEGORY, needs=needs)]


# -- the training case -----------------------------------------------------------------------------------
def _case(data, ctx, epochs, n, batch_size, validation=True, metrics=None):
    choices = compile_choices(ctx.spec)
    if not choices["regression_loss"]:
        untested(f"no documented loss on real targets in API {ctx.api_version}")
    fit = {"batch_size": batch_size, "epochs": epochs, "shuffle": False}
    if validation:
        fit["validation_data"] = {"array": "validation_data", "n": data.draw(st.integers(2, 4), label="val n"),
                                  "weighted": False}
    if metrics is None:
        metrics = data.draw(st.lists(st.sampled_from(choices["regression_metrics"]), max_size=1), label="metrics") \
            if choices["regression_metrics"] else []
    return {"api_version": ctx.api_version, "task": "regression", "n": n,
            "in_dim": data.draw(st.integers(1, 3), label="in_dim"), "units": data.draw(st.integers(1, 2), label="units"),
            "seed": data.draw(strategies.seeds, label="seed"),
            "loss": data.draw(st.sampled_from(choices["regression_loss"]), label="loss"), "metrics": metrics,
            "fit": fit}


def _draw_args(data, item, names=None, always=()):
    """Constructor arguments drawn from the item's spec domains (each may be left at its default); a
    domain marked ``every`` is not drawn: ``_every(item)`` gives the values every example checks."""
    kwargs = {}
    for p in item.params:
        if p.domain is None or p.domain.get("every") or (names is not None and p.name not in names):
            continue
        if p.name in always or data.draw(st.booleans(), label=f"give {p.name}"):
            kwargs[p.name] = data.draw(domain_strategy(p.domain, {}), label=p.name)
    return kwargs


def _every(item) -> list[dict]:
    """One {parameter: value} per combination of the parameters whose domain is ``every`` (each example
    checks each of them), or [{}]."""
    combos = [{}]
    for p in item.params:
        if p.domain is not None and p.domain.get("every"):
            combos = [{**c, p.name: v} for c in combos for v in p.domain["choices"]]
    return combos


def _call_code(ns, cls, kwargs):
    return f"{ns}.callbacks.{cls}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _fit_exercise(check, kwargs):
    check.exercise("Model.fit", "x", "y", "verbose", "callbacks", *kwargs)


# -- hooks -----------------------------------------------------------------------------------------------
def documented_hooks(spec) -> list[str]:
    """The hooks of callbacks.Callback the version documents (spec items callbacks.Callback.on_*)."""
    return [i.attr for i in spec.items(kind="method") if i.owner == "callbacks.Callback"
            and i.attr.startswith("on_")]


def _value(to_numpy, v):
    if isinstance(v, (list, tuple)):
        return ("list", [_value(to_numpy, e) for e in v])
    a = np.asarray(to_numpy(v))
    return ("array", a.shape) if a.ndim else float(a)


def recorder(K, hooks, to_numpy):
    """A subclass of ``K.callbacks.Callback`` overriding each hook: its instances' ``calls`` list
    (hook, index or None, sorted log keys, {key: value})."""
    def record(self, hook, index, logs):
        logs = dict(logs or {})
        self.calls.append((hook, None if index is None else int(index), sorted(logs),
                           {k: _value(to_numpy, v) for k, v in logs.items()}))
        if hook == "on_train_begin":
            self.seen_params = {k: (self.params or {}).get(k) for k in ("epochs", "verbose")}
            self.seen_model = self.model

    def make(hook):
        if "epoch" in hook or "batch" in hook:       # (epoch or batch, logs): the documented signatures
            def method(self, index, logs=None):
                record(self, hook, index, logs)
        else:
            def method(self, logs=None):
                record(self, hook, None, logs)
        method.__name__ = hook
        return method

    body = {h: make(h) for h in hooks}

    def __init__(self):
        K.callbacks.Callback.__init__(self)
        self.calls, self.seen_params, self.seen_model = [], None, None
    body["__init__"] = __init__
    return type("Recorder", (K.callbacks.Callback,), body)


def _compare_calls(ctx, got, expected, what, reproducer):
    tail = f"\nreproducer:\n{reproducer}"
    g_seq = [(h, i, k) for h, i, k, _ in got]
    e_seq = [(h, i, k) for h, i, k, _ in expected]
    if g_seq != e_seq:
        for n, (g, e) in enumerate(zip(g_seq, e_seq)):
            if g != e:
                break
        else:
            n = min(len(g_seq), len(e_seq))
        raise AssertionError(
            f"{what}: hook call {n}: {g_seq[n] if n < len(g_seq) else 'none'}, the reference's "
            f"{e_seq[n] if n < len(e_seq) else 'none'} (hook, index, log keys); calls before it agree: "
            f"{e_seq[max(0, n - 3):n]}; the implementation made {len(g_seq)} calls, the reference {len(e_seq)}{tail}")
    for n, ((hook, index, keys, gv), (_, _, _, ev)) in enumerate(zip(got, expected)):
        for k in keys:
            g, e = gv[k], ev[k]
            if isinstance(e, float) and isinstance(g, float):
                assert_close(np.asarray(g), np.asarray(e), kind="trajectory", device=ctx.device, reproducer=reproducer,
                             what=f"{what}: call {n} {hook}({index}) logs[{k!r}]")
            elif g != e:
                raise AssertionError(f"{what}: call {n} {hook}({index}) logs[{k!r}] is {g}, the reference's {e}{tail}")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(4))
def test_callback_hooks(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    hooks = documented_hooks(ctx.spec)
    epochs = data.draw(st.integers(1, 2), label="epochs")
    n, batch_size = data.draw(st.sampled_from([(4, 2), (5, 2), (3, 3)]), label="n, batch_size")
    c = _case(data, ctx, epochs, n, batch_size)
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    with_eval = {m: "callbacks" in {p.name for p in ctx.spec[m].params} for m in ("Model.evaluate", "Model.predict")}
    check.reproducer += "\n" + "\n".join([
        "from keras_conformance.conformance.test_callbacks import recorder, documented_hooks",
        "from keras_conformance import spec",
        f"hooks = documented_hooks(spec.load({ctx.api_version!r}))",
        "x, y, kwargs = oracle.fit_arrays(case)",
        "got, expected = recorder(K, hooks, a.to_numpy)(), recorder(R, hooks, np.asarray)()",
        "model.fit(x, y, verbose=0, callbacks=[got], **kwargs); ref.fit(x, y, verbose=0, callbacks=[expected], **kwargs)",
        *([f"model.evaluate(x, y, batch_size={batch_size}, verbose=0, callbacks=[got]); "
           f"ref.evaluate(x, y, batch_size={batch_size}, verbose=0, callbacks=[expected])"] if with_eval["Model.evaluate"] else []),
        *([f"model.predict(x, batch_size={batch_size}, verbose=0, callbacks=[got]); "
           f"ref.predict(x, batch_size={batch_size}, verbose=0, callbacks=[expected])"] if with_eval["Model.predict"] else []),
        "for g, e in zip(got.calls, expected.calls): print(g[:3], e[:3])"])
    _fit_exercise(check, kwargs)
    check.exercise("callbacks.Callback")
    for h in hooks:
        check.exercise(f"callbacks.Callback.{h}", "logs", *(["epoch"] if "epoch" in h else ["batch"] if "batch" in h else []))
    got, expected = recorder(ctx.K, hooks, ctx.k_numpy)(), recorder(ctx.R, hooks, ctx.r_numpy)()
    model.fit(x, y, verbose=0, callbacks=[got], **kwargs)
    ref.fit(x, y, verbose=0, callbacks=[expected], **kwargs)
    if with_eval["Model.evaluate"]:
        check.exercise("Model.evaluate", "x", "y", "batch_size", "verbose", "callbacks")
        model.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[got])
        ref.evaluate(x, y, batch_size=batch_size, verbose=0, callbacks=[expected])
    if with_eval["Model.predict"]:
        check.exercise("Model.predict", "x", "batch_size", "verbose", "callbacks")
        model.predict(x, batch_size=batch_size, verbose=0, callbacks=[got])
        ref.predict(x, batch_size=batch_size, verbose=0, callbacks=[expected])
    what = (f"Dense({c['units']}) on {n} samples, batch_size={batch_size}, epochs={epochs}, "
            f"{c['fit']['validation_data']['n']} validation samples, metrics={c['metrics']!r}")
    _compare_calls(ctx, got.calls, expected.calls, what, check.reproducer)
    seen = {k: (None if v is None else v if isinstance(v, str) else int(v)) for k, v in (got.seen_params or {}).items()}
    if seen != expected.seen_params:
        raise AssertionError(f"{what}: params at on_train_begin give {seen} (epochs, verbose), the reference's "
                             f"{expected.seen_params}\nreproducer:\n{check.reproducer}")
    if got.seen_model is not model:
        raise AssertionError(f"{what}: the callback's `model` at on_train_begin is {got.seen_model!r}, documented "
                             f"the model being trained\nreproducer:\n{check.reproducer}")


#: the 2.x batch hooks that 2.3 and 3 keep as aliases: on_train_batch_* calls them
BATCH_ALIASES = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(2))
def test_batch_hook_alias(conformance, case, conformance_check, data):
    """A callback overriding only ``on_batch_begin`` (or ``on_batch_end``), where the version documents it
    beside ``on_train_batch_begin`` (2.3 and 3: the train-batch hook calls it), is called at each training
    batch of ``fit``, with the index and logs the reference gives."""
    ctx, check = conformance, conformance_check
    hook = ctx.spec[case.item].attr
    n, batch_size = data.draw(st.sampled_from([(4, 2), (5, 2), (3, 3)]), label="n, batch_size")
    c = _case(data, ctx, data.draw(st.integers(1, 2), label="epochs"), n, batch_size, validation=False)
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\n" + "\n".join([
        "from keras_conformance.conformance.test_callbacks import recorder",
        "x, y, kwargs = oracle.fit_arrays(case)",
        f"got, expected = recorder(K, [{hook!r}], a.to_numpy)(), recorder(R, [{hook!r}], np.asarray)()",
        "model.fit(x, y, verbose=0, callbacks=[got], **kwargs); ref.fit(x, y, verbose=0, callbacks=[expected], **kwargs)",
        "print(got.calls, expected.calls)"])
    _fit_exercise(check, kwargs)
    check.exercise(case.item, "batch", "logs")
    got, expected = recorder(ctx.K, [hook], ctx.k_numpy)(), recorder(ctx.R, [hook], ctx.r_numpy)()
    model.fit(x, y, verbose=0, callbacks=[got], **kwargs)
    ref.fit(x, y, verbose=0, callbacks=[expected], **kwargs)
    assert expected.calls, f"the reference never called {hook}: the check would compare nothing"
    _compare_calls(ctx, got.calls, expected.calls, f"{case.item} alone overridden, Dense({c['units']}) on {n} "
                   f"samples, batch_size={batch_size}, epochs={c['fit']['epochs']}", check.reproducer)


def _epochs_case(ctx, check, data):
    """1 to 3 epochs of 4 samples in batches of 2, with or without validation: the case, the two compiled
    models on the same weights, and the data (the reproducer makes the same)."""
    c = _case(data, ctx, data.draw(st.integers(1, 3), label="epochs"), 4, 2,
              validation=data.draw(st.booleans(), label="validation"))
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\nx, y, kwargs = oracle.fit_arrays(case)"
    return c, model, ref, x, y, kwargs


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_history(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    c, model, ref, x, y, kwargs = _epochs_case(ctx, check, data)
    check.reproducer += "\n" + "\n".join([
        "got, expected = model.fit(x, y, verbose=0, **kwargs), ref.fit(x, y, verbose=0, **kwargs)",
        "print(type(got), got.epoch, got.history, got.params, expected.epoch, expected.history, expected.params)"])
    _fit_exercise(check, kwargs)
    check.exercise("callbacks.History")
    got = model.fit(x, y, verbose=0, **kwargs)
    expected = ref.fit(x, y, verbose=0, **kwargs)
    what = f"fit({', '.join(kwargs)}) of Dense({c['units']})"
    if not isinstance(got, ctx.K.callbacks.History):
        raise AssertionError(f"{what} returned {type(got).__name__}, documented an instance of "
                             f"callbacks.History\nreproducer:\n{check.reproducer}")
    compare_history(ctx, got, expected, what, check.reproducer)
    if (got.params or {}).get("epochs") != expected.params.get("epochs"):
        raise AssertionError(f"{what}: History.params['epochs'] is {(got.params or {}).get('epochs')!r}, the "
                             f"reference's {expected.params.get('epochs')!r}\nreproducer:\n{check.reproducer}")


def _diverging_validation(c):
    """fit's arrays with validation data (x, -y): the training inputs with negated targets, so val_loss
    grows while loss falls, and a monitor sees epochs that improve and epochs that do not."""
    x, y, kwargs = oracle.fit_arrays(c)
    kwargs["validation_data"] = (x, -y)
    return x, y, kwargs


# -- EarlyStopping ---------------------------------------------------------------------------------------
def _near_tie(values, min_delta, baseline) -> bool:
    """Whether a monitored trajectory comes within TIE of a decision: two values |min_delta| apart (or
    equal), or a value at the baseline (each implementation's rounding would decide there)."""
    vals = [float(v) for v in values]
    scale = max([1.0] + [abs(v) for v in vals])
    for i, a in enumerate(vals):
        if baseline is not None and abs(a - baseline) < TIE * scale:
            return True
        for b in vals[i + 1:]:
            if abs(abs(a - b) - abs(min_delta)) < TIE * scale:
                return True
    return False


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(6))
def test_early_stopping(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    c = _case(data, ctx, 6, 6, 2, validation=False, metrics=[])
    args = _draw_args(data, item, always=("restore_best_weights",))
    if ctx.api_version != "3" and args.get("restore_best_weights") and args.get("baseline") is not None:
        # keras 2.2.4 / 2.3.1 would set None as the weights when no epoch beats the baseline: not drawn
        args.pop("baseline")
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = _diverging_validation(c)
    check.reproducer += "\n" + "\n".join([
        "x, y, kwargs = oracle.fit_arrays(case); kwargs['validation_data'] = (x, -y)",
        f"cb, rcb = {_call_code('K', 'EarlyStopping', args)}, {_call_code('R', 'EarlyStopping', args)}",
        "got, expected = model.fit(x, y, verbose=0, callbacks=[cb], **kwargs), "
        "ref.fit(x, y, verbose=0, callbacks=[rcb], **kwargs)",
        "print(got.epoch, expected.epoch, cb.stopped_epoch, rcb.stopped_epoch, expected.history)"])
    cb, rcb = ctx.K.callbacks.EarlyStopping(**args), ctx.R.callbacks.EarlyStopping(**args)
    expected = ref.fit(x, y, verbose=0, callbacks=[rcb], **kwargs)
    monitor = args.get("monitor", item.param("monitor").default)
    assume(not _near_tie(expected.history[monitor], args.get("min_delta", 0), args.get("baseline")))
    _fit_exercise(check, kwargs)
    check.exercise(case.item, *args)
    got = model.fit(x, y, verbose=0, callbacks=[cb], **kwargs)
    what = (f"EarlyStopping({', '.join(f'{k}={v!r}' for k, v in args.items())}) over 6 epochs, validated on "
            f"the training inputs with negated targets")
    compare_history(ctx, got, expected, what, check.reproducer)
    if int(getattr(cb, "stopped_epoch", -1)) != rcb.stopped_epoch:
        raise AssertionError(f"{what}: stopped_epoch {getattr(cb, 'stopped_epoch', None)!r}, the reference's "
                             f"{rcb.stopped_epoch} (history of {monitor}: {expected.history[monitor]})"
                             f"\nreproducer:\n{check.reproducer}")
    compare_weights(ctx, model, ref, what, check.reproducer)


# -- ModelCheckpoint -------------------------------------------------------------------------------------
def _checkpoint_files(K, ctx_numpy, folder, recipe, api_version, weights_only):
    names = sorted(os.listdir(folder))
    if not names:
        return names, None
    path = os.path.join(folder, names[-1])
    if weights_only:
        model = oracle.build(K, api_version, recipe)
        model.load_weights(path)
    else:
        model = K.models.load_model(path, compile=False)
    return names, [ctx_numpy(w) for w in model.get_weights()]


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(4))
def test_model_checkpoint(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    c = _case(data, ctx, 3, 4, 2, validation=False, metrics=[])
    drawn = _draw_args(data, item)
    for every in _every(item):
        _checkpoint_case(ctx, check, item, c, {**drawn, **every})


def _checkpoint_case(ctx, check, item, c, args):
    weights_only = bool(args.get("save_weights_only", False))
    suffix = ".weights.h5" if weights_only and ctx.api_version == "3" else ".h5"
    pattern = "ckpt.{epoch:02d}" + suffix
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = _diverging_validation(c)
    recipe = {"input_shape": (c["in_dim"],), "layers": [("Dense", {"units": c["units"]})]}
    root = tempfile.mkdtemp(prefix="kc-ckpt-")
    try:
        got_dir, ref_dir = os.path.join(root, "got"), os.path.join(root, "ref")
        os.makedirs(got_dir)
        os.makedirs(ref_dir)
        shown = {**args, "filepath": os.path.join("<dir>", pattern)}
        check.reproducer += "\n" + "\n".join([
            "import os, tempfile", "x, y, kwargs = oracle.fit_arrays(case); kwargs['validation_data'] = (x, -y)",
            "d, rd = tempfile.mkdtemp(), tempfile.mkdtemp()",
            f"cb = K.callbacks.ModelCheckpoint(os.path.join(d, {pattern!r}), "
            f"{', '.join(f'{k}={v!r}' for k, v in args.items())})",
            f"rcb = R.callbacks.ModelCheckpoint(os.path.join(rd, {pattern!r}), "
            f"{', '.join(f'{k}={v!r}' for k, v in args.items())})",
            "model.fit(x, y, verbose=0, callbacks=[cb], **kwargs); ref.fit(x, y, verbose=0, callbacks=[rcb], **kwargs)",
            "print(sorted(os.listdir(d)), sorted(os.listdir(rd)))"])
        rcb = ctx.R.callbacks.ModelCheckpoint(os.path.join(ref_dir, pattern), **args)
        expected_hist = ref.fit(x, y, verbose=0, callbacks=[rcb], **kwargs)
        if args.get("save_best_only"):
            monitor = args.get("monitor", item.param("monitor").default)
            assume(not _near_tie(expected_hist.history[monitor], 0.0, args.get("initial_value_threshold")))
        _fit_exercise(check, kwargs)
        check.exercise(item.name, "filepath", *args)
        cb = ctx.K.callbacks.ModelCheckpoint(os.path.join(got_dir, pattern), **args)
        with contextlib.redirect_stderr(io.StringIO()):
            model.fit(x, y, verbose=0, callbacks=[cb], **kwargs)
        what = (f"ModelCheckpoint({', '.join(f'{k}={v!r}' for k, v in shown.items())}) over 3 epochs, validated "
                f"on the training inputs with negated targets")
        e_names, e_weights = _checkpoint_files(ctx.R, ctx.r_numpy, ref_dir, recipe, ctx.api_version, weights_only)
        g_names, g_weights = _checkpoint_files(ctx.K, ctx.k_numpy, got_dir, recipe, ctx.api_version, weights_only)
        if g_names != e_names:
            raise AssertionError(f"{what}: files written {g_names}, the reference's {e_names} (history "
                                 f"{expected_hist.history})\nreproducer:\n{check.reproducer}")
        if e_weights is not None:
            if len(g_weights) != len(e_weights):
                raise AssertionError(f"{what}: {e_names[-1]} loads back {len(g_weights)} weights, the reference's "
                                     f"{len(e_weights)}\nreproducer:\n{check.reproducer}")
            for i, (g, e) in enumerate(zip(g_weights, e_weights)):
                assert_close(g, e, kind="trajectory", device=ctx.device, reproducer=check.reproducer,
                             what=f"{what}: weight {i} loaded back from {e_names[-1]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


# -- LambdaCallback --------------------------------------------------------------------------------------
def lambda_hooks(item) -> list[str]:
    return [p.name for p in item.params if p.kind != "var_keyword"]


def lambda_callback(K, hooks, record):
    """``K.callbacks.LambdaCallback`` with a function for each hook appending (hook, index, sorted log
    keys) to ``record``, and ``tag="lambda"`` as a further keyword argument."""
    def make(hook):
        if hook in ("on_train_begin", "on_train_end"):
            return lambda logs: record.append((hook, None, sorted(logs or {})))
        return lambda index, logs: record.append((hook, int(index), sorted(logs or {})))
    return K.callbacks.LambdaCallback(**{h: make(h) for h in hooks}, tag="lambda")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(4))
def test_lambda_callback(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    # every documented hook function, but at most one left out (whose hook must then do nothing)
    documented = lambda_hooks(item)
    omitted = data.draw(st.sampled_from([None, *documented]), label="omitted")
    hooks = [h for h in documented if h != omitted]
    c = _case(data, ctx, 2, 4, 2)
    model, ref = _pair(ctx, check, c)
    x, y, kwargs = oracle.fit_arrays(c)
    check.reproducer += "\n" + "\n".join([
        "from keras_conformance.conformance.test_callbacks import lambda_callback",
        "x, y, kwargs = oracle.fit_arrays(case)", "got, expected = [], []",
        f"model.fit(x, y, verbose=0, callbacks=[lambda_callback(K, {hooks!r}, got)], **kwargs)",
        f"ref.fit(x, y, verbose=0, callbacks=[lambda_callback(R, {hooks!r}, expected)], **kwargs)",
        "print(got, expected, sep='\\n')"])
    _fit_exercise(check, kwargs)
    check.exercise(case.item, *hooks, "kwargs")
    got, expected = [], []
    cb = lambda_callback(ctx.K, hooks, got)
    model.fit(x, y, verbose=0, callbacks=[cb], **kwargs)
    ref.fit(x, y, verbose=0, callbacks=[lambda_callback(ctx.R, hooks, expected)], **kwargs)
    what = f"LambdaCallback({', '.join(hooks)}) in fit over 2 epochs of 2 batches with validation"
    if got != expected:
        n = next((i for i, (g, e) in enumerate(zip(got, expected)) if g != e), min(len(got), len(expected)))
        raise AssertionError(f"{what}: call {n} is {got[n] if n < len(got) else 'none'}, the reference's "
                             f"{expected[n] if n < len(expected) else 'none'} (function, index, log keys); "
                             f"{len(got)} calls, the reference {len(expected)}\nreproducer:\n{check.reproducer}")
    if getattr(cb, "tag", None) != "lambda":
        raise AssertionError(f"{what}: the keyword argument tag='lambda' did not become an attribute "
                             f"(documented: further keyword arguments become attributes)\nreproducer:\n{check.reproducer}")


# -- ProgbarLogger / verbose -----------------------------------------------------------------------------
_EPOCH_LINE = re.compile(r"^Epoch (\d+)/(\d+)$")
_NAMED_VALUE = re.compile(r"(?:^|\s-\s|\s)([A-Za-z_]\w*): [-+]?(?:\d|nan|inf)")


def progress_lines(text):
    """(the ``Epoch i/n`` lines, [sorted names given values] of each other line that names some)."""
    lines = [ln.strip() for ln in re.split(r"[\r\n\x08]+", text) if ln.strip()]
    epochs = [ln for ln in lines if _EPOCH_LINE.match(ln)]
    named = [sorted(set(_NAMED_VALUE.findall(ln))) for ln in lines if not _EPOCH_LINE.match(ln)]
    return epochs, [n for n in named if n]


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_progbar(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    c, model, ref, x, y, kwargs = _epochs_case(ctx, check, data)
    check.reproducer += "\n" + "\n".join([
        "model.fit(x, y, verbose=2, **kwargs); ref.fit(x, y, verbose=2, **kwargs)"])
    check.exercise("Model.fit", "x", "y", "verbose", *kwargs)
    check.exercise(case.item)
    outputs = []
    for m in (model, ref):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
            m.fit(x, y, verbose=2, **kwargs)
        outputs.append(buf.getvalue())
    (g_epochs, g_named), (e_epochs, e_named) = progress_lines(outputs[0]), progress_lines(outputs[1])
    what = f"fit(verbose=2, {', '.join(f'{k}=...' for k in kwargs)}) with metrics={c['metrics']!r}"
    tail = f"\nprinted:\n{outputs[0]}\nthe reference printed:\n{outputs[1]}\nreproducer:\n{check.reproducer}"
    if g_epochs != e_epochs:
        raise AssertionError(f"{what}: epoch lines {g_epochs}, the reference's {e_epochs}{tail}")
    if g_named != e_named:
        raise AssertionError(f"{what}: the summary lines name {g_named}, the reference's {e_named}{tail}")


# -- BaseLogger (2.x) ------------------------------------------------------------------------------------
@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(6))
def test_base_logger(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    sizes = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=4), label="batch sizes")
    rng = np.random.default_rng(data.draw(strategies.seeds, label="seed"))
    batches = [{"batch": i, "size": s, "loss": round(float(rng.uniform(0, 2)), 4),
                "acc": round(float(rng.uniform(0, 1)), 4)} for i, s in enumerate(sizes)]
    stateful = data.draw(st.sampled_from([None, ["acc"]]), label="stateful_metrics")
    kwargs = {} if stateful is None else {"stateful_metrics": stateful}
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), f"batches = {batches!r}",
        "def run(K):",
        f"    cb = K.callbacks.BaseLogger({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})",
        "    cb.set_params({'metrics': ['loss', 'acc']}); cb.on_epoch_begin(0)",
        "    for b in batches: cb.on_batch_end(b['batch'], dict(b))",
        "    logs = {}; cb.on_epoch_end(0, logs); return logs",
        "print(run(K), run(R))"])
    check.exercise(case.item, *kwargs)

    def run(K):
        cb = K.callbacks.BaseLogger(**kwargs)
        cb.set_params({"metrics": ["loss", "acc"]})
        cb.on_epoch_begin(0)
        for b in batches:
            cb.on_batch_end(b["batch"], dict(b))
        logs = {}
        cb.on_epoch_end(0, logs)
        return logs
    got, expected = run(ctx.K), run(ctx.R)
    what = f"BaseLogger({kwargs}) over batches {batches}"
    if sorted(got) != sorted(expected):
        raise AssertionError(f"{what}: epoch logs {sorted(got)}, the reference's {sorted(expected)}"
                             f"\nreproducer:\n{check.reproducer}")
    for k in expected:
        assert_close(np.asarray(float(got[k])), np.asarray(expected[k]), kind="loss", device=ctx.device,
                     reproducer=check.reproducer, what=f"{what}: logs[{k!r}]")
