"""Numerics: the implementation against the NumPy reference on identical weights and inputs.

- ``test_numerics[layers.Dense]``: a functional model holding the layer, on a configuration and inputs
  drawn from the layer's spec entry (``conformance/layers.py``), in the implementation and in the
  reference; drawn non-zero weights set into both (``set_weights``); ``predict`` outputs compared
  (tolerance kind ``forward``).
- ``test_layer_gradient[layers.Dense]``: one SGD step at learning rate 1 through a graph whose first
  kernels are the layer's inputs: the gradients with respect to the input and to every weight
  (``gradient``). Stochastic layers get ``test_training_statistics`` instead (statistical bounds).
- ``test_numerics[losses.X]`` / ``[metrics.X]`` / ``[activations.X]``: the function on drawn arrays
  (``loss``/``forward``).
- ``test_numerics[optimizers.Adam]``: three ``train_on_batch`` steps (loss mean_squared_error, learning
  rate 0.01 under the version's documented argument name) on identical initial weights; the weights after
  every step compared (``trajectory``).
- ``test_gradient[Model.train_on_batch]``: one step of SGD with learning rate 1, so the new weights are
  old - grad: the implementation's gradient through the public API against the reference's
  (``gradient``), and the returned loss (``loss``).
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import layers as harness
from keras_conformance.conformance import oracle, statistics, strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "numerics"


def conformance_cases(ctx, function_name):
    if function_name == "test_gradient":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items() if i.name == "Model.train_on_batch"]
    if function_name == "test_layer_gradient":
        # a stochastic layer's training output is random: its training behaviour is checked by statistics
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items() if i.is_layer and i.stochastic is None]
    if function_name == "test_functional_graph":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items() if i.name == "models.Model"]
    if function_name == "test_stateful":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items() if i.is_layer and i.stateful]
    if function_name == "test_training_statistics":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
                for i in ctx.spec.items() if i.is_layer and i.stochastic is not None]
    cases = []
    for i in ctx.spec.items():
        if i.is_layer or (i.form_of and i.form_of in ctx.spec):
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call"), {"kind": "layer"}))
        elif i.area in ("losses", "metrics") and i.kind == "function":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, (), {"kind": "loss" if i.area == "losses"
                                                                        else "metric"}))
        elif i.area == "activations" and i.kind == "function":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, (), {"kind": "activation"}))
        elif i.area == "optimizers" and i.kind == "class":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call", "compile", "fit"),
                              {"kind": "optimizer"}))
            if _kwargs_domains(i):
                # its own case: a version refusing a **kwargs key leaves the named hyper-parameters checked
                cases.append(Case(f"{i.name}-kwargs", i.name, CONFORMANCE_CATEGORY,
                                  ("construct", "call", "compile", "fit"), {"kind": "optimizer_kwargs"}))
    return cases


@given(data=st.data())
@strategies.SETTINGS
def test_numerics(conformance, case, conformance_check, data):
    kind = case.data["kind"]
    item = conformance.spec[case.item]
    {"layer": _layer, "loss": _function, "metric": _function, "activation": _activation,
     "optimizer": _optimizer, "optimizer_kwargs": _optimizer_kwargs}[kind](conformance, item, conformance_check,
                                                                           data)


# -- layers ---------------------------------------------------------------------------------------------
def copy_weights(ctx, item_name, recipe, model, ref, reproducer, seed=None):
    """Weights implementation -> reference. First the shapes of ``model.get_weights()`` against the
    documented weights order of the recipe's layers (spec ``weights``, model order), so a wrong order is a
    readable failure, not a crash in ``set_weights``. With ``seed``, drawn non-zero weights (kernel AND
    bias, ``oracle.drawn_weights``) are set into the implementation first (the same arrays into the
    reference), so a dropped bias shows; the implementation must give them back from ``get_weights``."""
    tail = f"\nreproducer:\n{reproducer}"
    current = [ctx.k_numpy(w) for w in model.get_weights()]
    problem = oracle.weight_order_problem(ctx.spec, recipe, model, [np.shape(w) for w in current])
    if problem:
        raise AssertionError(f"{item_name}: {problem}{tail}")
    if seed is None:
        ref.set_weights(current)
        return
    arrays = oracle.drawn_weights([np.shape(w) for w in current], seed)
    model.set_weights(arrays)
    for i, (g, e) in enumerate(zip([ctx.k_numpy(w) for w in model.get_weights()], arrays)):
        assert_close(g, e, kind="forward", device=ctx.device, reproducer=reproducer,
                     what=f"{item_name}: Model.get_weights()[{i}] right after Model.set_weights(weights)")
    ref.set_weights(arrays)


def _share_weights(ctx, item, lc, layer, ref_layer, reproducer):
    """Drawn non-zero weights into the implementation's layer and the same arrays into the reference's,
    after checking that the implementation's weight shapes are the documented ones."""
    shapes = [tuple(np.shape(w)) for w in layer.get_weights()]
    documented = [tuple(np.shape(w)) for w in ref_layer.get_weights()]
    if shapes != documented:
        raise AssertionError(f"{lc!r}: layer.get_weights() shapes {shapes}, the reference's (the documented "
                             f"weights) {documented}\nreproducer:\n{reproducer}")
    arrays = oracle.drawn_weights(shapes, lc.seed + 2)
    if arrays:
        layer.set_weights(arrays)
        ref_layer.set_weights(arrays)
    return arrays


def _layer(ctx, documented, check, data):
    item = harness.layer_item(ctx.spec, documented)
    form = documented.attr if documented.form_of else None
    lc = harness.draw_case(data, item, ctx.R)
    ctx.locate(documented.name)
    check.exercise("Model.predict", "x", "verbose")
    for v in harness.variants(item, lc):      # every documented choice of an `every` domain, each example
        check.exercise(documented.name, *v.kwargs, *(["inputs"] if form else []))
        _compare_layer(ctx, item, check, v, form)


def _compare_layer(ctx, item, check, lc, form=None):
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), harness.build_code(item, lc, "K", "model", "layer", form),
        harness.build_code(item, lc, "R", "ref", "ref_layer", form),
        oracle.drawn_weights_code("weights", "layer", lc.seed + 2),
        "if weights: layer.set_weights(weights); ref_layer.set_weights(weights)",
        harness.inputs_code(lc),
        f"x = {'xs' if lc.multi else 'xs[0]'}",
        "got, expected = model.predict(x, verbose=0), ref.predict(x, verbose=0)",
        "print([np.max(np.abs(np.asarray(g) - e)) for g, e in zip(got, expected)] if isinstance(got, list) "
        "else np.max(np.abs(np.asarray(got) - expected)))"])
    ctx.seed(lc.seed)
    model, layer = harness.build(ctx.K, item, lc, form=form)
    ref, ref_layer = harness.build(ctx.R, item, lc, form=form)
    if layer is not None and _share_weights(ctx, item, lc, layer, ref_layer, check.reproducer):
        check.exercise("Layer.set_weights", "weights")
    xs = harness.inputs(lc)
    got = harness.predictions(model, harness.feed(lc, xs), ctx.k_numpy)
    expected = harness.predictions(ref, harness.feed(lc, xs), ctx.r_numpy)
    _compare_outputs(ctx, lc, got, expected, "forward", "(inference)", check.reproducer)


def _compare_outputs(ctx, lc, got, expected, kind, what, reproducer):
    if len(got) != len(expected):
        raise AssertionError(f"{lc!r}: {len(got)} outputs, documented {len(expected)}\nreproducer:\n{reproducer}")
    for i, (g, e) in enumerate(zip(got, expected)):
        label = f"output {i}" if len(got) > 1 else "output"
        assert_close(g, e, kind=kind, device=ctx.device, reproducer=reproducer, what=f"{lc!r}: {label} {what}")


@given(data=st.data())
@strategies.SETTINGS
def test_layer_gradient(conformance, case, conformance_check, data):
    """One SGD step at learning rate 1 through a graph whose first kernels are the layer's inputs
    (``layers.gradient_model``): the implementation's gradients with respect to the input and to every
    weight of the layer, against the reference's, through the public API only."""
    ctx = conformance
    item = ctx.spec[case.item]
    lc = harness.draw_case(data, item, ctx.R)
    lr_name = ctx.optimizer_lr_name("SGD")
    if lr_name is None:
        harness.untested(f"optimizers.SGD has no documented learning-rate argument in API {ctx.api_version}")
    ctx.locate(item.name)
    for v in harness.variants(item, lc.for_training(item)):
        _gradient_step(ctx, item, v, lr_name, conformance_check)


def _gradient_step(ctx, item, lc, lr_name, check):
    check.exercise(item.name, *lc.kwargs)
    for made, params in harness.objects_exercised(lc.kwargs).items():   # regularizers, constraints
        check.exercise(made, *params)
    check.exercise("Model.train_on_batch", "x", "y")
    check.exercise("Model.compile", "optimizer", "loss")
    check.exercise("optimizers.SGD", lr_name)
    batch = lc.shapes[0][0]
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), harness.gradient_model_code(item, lc, "K", "model"),
        "k_layer, k_denses = layer, denses",
        harness.gradient_model_code(item, lc, "R", "ref"),
        harness.inputs_code(lc),
        "for d, r, x in zip(k_denses, denses, xs): d.set_weights([x.reshape(x.shape[0], -1)]); "
        "r.set_weights([x.reshape(x.shape[0], -1)])",
        oracle.drawn_weights_code("w", "k_layer", lc.seed + 2),
        "if w: k_layer.set_weights(w); layer.set_weights(w)",
        (f"x = {'xs' if lc.multi else 'xs[0]'}" if harness.integer_input(lc) else f"x = np.eye({batch}, dtype='float32')"),
        f"rng = np.random.default_rng({lc.seed + 7}); out = ref.predict(x, verbose=0)",
        "y = [rng.standard_normal(np.shape(o)).astype('float32') for o in out] if isinstance(out, list) "
        "else rng.standard_normal(np.shape(out)).astype('float32')",
        f"model.compile(optimizer=K.optimizers.SGD({lr_name}=1.0), loss='mean_squared_error')",
        f"ref.compile(optimizer=R.optimizers.SGD({lr_name}=1.0), loss='mean_squared_error')",
        "print(model.train_on_batch(x, y), ref.train_on_batch(x, y))",
        "print([np.max(np.abs(np.asarray(a) - b)) for a, b in zip(k_denses[0].get_weights() + k_layer.get_weights(), "
        "denses[0].get_weights() + layer.get_weights())])"])
    ctx.seed(lc.seed)
    model, layer, denses = harness.gradient_model(ctx.K, item, lc)
    ref, ref_layer, ref_denses = harness.gradient_model(ctx.R, item, lc)
    xs = harness.inputs(lc)
    for d, r, x in zip(denses, ref_denses, xs):
        flat = x.reshape(x.shape[0], -1)
        d.set_weights([flat])
        r.set_weights([flat])
    _share_weights(ctx, item, lc, layer, ref_layer, check.reproducer)
    eye = harness.feed(lc, xs) if harness.integer_input(lc) else np.eye(batch, dtype="float32")
    out = ref.predict(eye, verbose=0)
    rng = np.random.default_rng(lc.seed + 7)
    y = ([rng.standard_normal(np.shape(o)).astype("float32") for o in out] if isinstance(out, list)
         else rng.standard_normal(np.shape(out)).astype("float32"))
    model.compile(optimizer=oracle.optimizer(ctx.K, "SGD", lr_name, 1.0), loss="mean_squared_error")
    ref.compile(optimizer=oracle.optimizer(ctx.R, "SGD", lr_name, 1.0), loss="mean_squared_error")
    loss = oracle.first_scalar(model.train_on_batch(eye, y), ctx.k_numpy)
    ref_loss = oracle.first_scalar(ref.train_on_batch(eye, y), ctx.r_numpy)
    assert_close(loss, ref_loss, kind="loss", device=ctx.device, reproducer=check.reproducer,
                 what=f"{lc!r}: the loss train_on_batch returned")
    for i, (d, r) in enumerate(zip(denses, ref_denses)):
        assert_close(ctx.k_numpy(d.get_weights()[0]), ctx.r_numpy(r.get_weights()[0]), kind="gradient",
                     device=ctx.device, reproducer=check.reproducer,
                     what=f"{lc!r}: input {i} minus the gradient of the loss with respect to it")
    names = [w.name for w in item.weights if not w.when or harness.evaluate(w.when, item, lc, harness.unknown_batch(lc))]
    for i, (g, e) in enumerate(zip(layer.get_weights(), ref_layer.get_weights())):
        name = names[i] if i < len(names) else f"weight {i}"
        assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="gradient", device=ctx.device, reproducer=check.reproducer,
                     what=f"{lc!r}: {name} after one SGD step at learning rate 1 (old minus its gradient)")


# -- layers that keep their states between calls ---------------------------------------------------------
@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_stateful(conformance, case, conformance_check, data):
    """A layer documented to keep its states between calls (spec ``stateful``), built with
    ``stateful=True`` on an Input whose batch size is fixed: ``predict_on_batch`` on two consecutive time
    chunks (the second continues from the states the first left), ``reset_states()`` (the first chunk
    then gives its first output again), and two ``train_on_batch`` steps (SGD, mean squared error) on the
    chunks: outputs, losses and the layer's weights against the reference's."""
    ctx = conformance
    item = ctx.spec[case.item]
    lc = harness.draw_case(data, item, ctx.R).for_training(item).with_kwargs(stateful=True)
    lr_name = ctx.optimizer_lr_name("SGD")
    if lr_name is None:
        harness.untested(f"optimizers.SGD has no documented learning-rate argument in API {ctx.api_version}")
    ctx.locate(item.name)
    for v in harness.variants(item, lc):
        _stateful(ctx, item, v, lr_name, conformance_check)


def _stateful(ctx, item, lc, lr_name, check):
    check.exercise(item.name, *lc.kwargs)
    for name, params in (("layers.Input", ("batch_shape",)), ("Model.predict_on_batch", ("x",)),
                         ("Model.train_on_batch", ("x", "y")), ("Model.compile", ("optimizer", "loss"))):
        check.exercise(name, *params)
    shape = tuple(lc.shapes[0])
    steps = shape[1]
    whole = harness.inputs(lc.replace(shapes=[(shape[0], 2 * steps) + shape[2:]]))[0]
    chunks = [whole[:, :steps], whole[:, steps:]]
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), harness.build_code(item, lc, "K", "model", "layer", batch_shape=True),
        harness.build_code(item, lc, "R", "ref", "ref_layer", batch_shape=True),
        oracle.drawn_weights_code("w", "layer", lc.seed + 2),
        "if w: layer.set_weights(w); ref_layer.set_weights(w)",
        harness.inputs_code(lc.replace(shapes=[(shape[0], 2 * steps) + shape[2:]])),
        f"chunks = [xs[0][:, :{steps}], xs[0][:, {steps}:]]",
        "for c in chunks: print(model.predict_on_batch(c), ref.predict_on_batch(c))",
        "layer.reset_states(); ref_layer.reset_states()",
        "print(model.predict_on_batch(chunks[0]), ref.predict_on_batch(chunks[0]))"])
    ctx.seed(lc.seed)
    model, layer = harness.build(ctx.K, item, lc, batch_shape=True)
    ref, ref_layer = harness.build(ctx.R, item, lc, batch_shape=True)
    _share_weights(ctx, item, lc, layer, ref_layer, check.reproducer)
    firsts = []
    for i, c in enumerate(chunks):
        got = harness.arrays_list(model.predict_on_batch(c), ctx.k_numpy)
        expected = harness.arrays_list(ref.predict_on_batch(c), ctx.r_numpy)
        firsts.append(expected)
        _compare_outputs(ctx, lc, got, expected, "forward",
                         f"of predict_on_batch on time chunk {i + 1} of 2 (stateful=True)", check.reproducer)
    layer.reset_states()
    ref_layer.reset_states()
    got = harness.arrays_list(model.predict_on_batch(chunks[0]), ctx.k_numpy)
    _compare_outputs(ctx, lc, got, firsts[0], "forward",
                     "of predict_on_batch on chunk 1 after reset_states() (the first output again)",
                     check.reproducer)
    layer.reset_states()
    ref_layer.reset_states()
    rng = np.random.default_rng(lc.seed + 7)
    ys = [[rng.standard_normal(np.shape(o)).astype("float32") for o in out] for out in firsts]
    model.compile(optimizer=oracle.optimizer(ctx.K, "SGD", lr_name, 0.1), loss="mean_squared_error")
    ref.compile(optimizer=oracle.optimizer(ctx.R, "SGD", lr_name, 0.1), loss="mean_squared_error")
    for i, (c, y) in enumerate(zip(chunks, ys)):
        y = y if len(y) > 1 else y[0]
        loss = oracle.first_scalar(model.train_on_batch(c, y), ctx.k_numpy)
        ref_loss = oracle.first_scalar(ref.train_on_batch(c, y), ctx.r_numpy)
        assert_close(loss, ref_loss, kind="loss" if i == 0 else "trajectory", device=ctx.device,
                     reproducer=check.reproducer, what=f"{lc!r}: the loss train_on_batch returned on chunk {i + 1}")
        for j, (g, e) in enumerate(zip(layer.get_weights(), ref_layer.get_weights())):
            assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="gradient" if i == 0 else "trajectory",
                         device=ctx.device, reproducer=check.reproducer,
                         what=f"{lc!r}: weight {j} after train_on_batch on chunk {i + 1} (SGD {lr_name}=0.1)")


# -- training-mode statistics of stochastic layers ---------------------------------------------------------
@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_training_statistics(conformance, case, conformance_check, data):
    """A stochastic layer called with ``training=True`` on a large input: the statistics its spec entry
    documents (``stochastic``), each within a bound a correct implementation misses with probability
    below ``layers.DELTA``. (At inference the forward numerics check requires the identity.)"""
    ctx = conformance
    item = ctx.spec[case.item]
    lc = harness.draw_case(data, item, ctx.R, ("input", "stochastic"))
    rank = len(lc.shapes[0])
    lc = harness.LayerCase(lc.item, lc.kwargs, [harness.statistics_shape(rank)] * len(lc.shapes), lc.seed,
                           lc.dtype, "factors" if item.stochastic["kind"] == "multiplicative_gaussian" else "normal",
                           every=lc.every)
    ctx.locate(item.name)
    for v in harness.variants(item, lc):
        _statistics(ctx, item, v, conformance_check)


def _statistics(ctx, item, lc, conformance_check):
    conformance_check.exercise(item.name, *lc.kwargs)
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), harness.inputs_code(lc),
        f"layer = K.layers.{item.attr}({lc.kwargs_code()})",
        "out = np.asarray(a.to_numpy(layer(xs[0], training=True)))",
        f"# documented training behaviour: {dict(item.stochastic)}"])
    ctx.seed(lc.seed)
    layer = harness.construct(ctx.K, item, lc)
    x = harness.inputs(lc)[0]
    out = ctx.k_numpy(layer(x, training=True))
    statistics.check(item, lc, x, out, conformance_check.reproducer, ctx.device)


# -- losses, metrics, activations -------------------------------------------------------------------------
def _function(ctx, item, check, data):
    _function_edges(ctx, item, check)
    c = data.draw(strategies.loss_case(item), label="case")
    kw = "".join(f", {k}={v!r}" for k, v in c["kwargs"].items())
    y_true, y_pred = strategies.loss_arrays(item.targets, c["batch"], c["k"], c["seed"], c["kwargs"])
    _compare_function(ctx, item, check, y_true, y_pred, c["kwargs"],
                      ["from keras_conformance.conformance.strategies import loss_arrays",
                       f"y_true, y_pred = loss_arrays({item.targets!r}, {c['batch']}, {c['k']}, {c['seed']}, "
                       f"{c['kwargs']!r})"],
                      what=f"{item.name}(y_true, y_pred{kw}) with y shape {y_pred.shape}")


def _function_edges(ctx, item, check):
    """The deterministic edge cases (exact 0 / 1 probabilities, ``strategies.edge_loss_arrays``) at the
    documented defaults, on every example: the same arrays each time, so the check cannot pass by chance."""
    edges = strategies.edge_loss_arrays(item.targets)
    if edges is None:
        return
    y_true, y_pred = edges
    _compare_function(ctx, item, check, y_true, y_pred, {},
                      ["from keras_conformance.conformance.strategies import edge_loss_arrays",
                       f"y_true, y_pred = edge_loss_arrays({item.targets!r})"],
                      what=f"{item.name}(y_true, y_pred) on the edge cases (y_pred rows with exact 0 "
                           f"and 1 probabilities: {y_pred.tolist()}, y_true {y_true.tolist()})")


def _compare_function(ctx, item, check, y_true, y_pred, kwargs, make_inputs, what):
    """The implementation's ``item`` against the reference's on the same (y_true, y_pred)."""
    path = item.name
    kw = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), *make_inputs,
        f"got = np.asarray(a.to_numpy(K.{path}(y_true, y_pred{kw})))",
        f"expected = np.asarray(R.{path}(y_true, y_pred{kw}).numpy())",
        "print(got, expected)"])
    fn = ctx.locate(path)
    ref_fn = ctx.locate(path, ctx.R)
    check.exercise(item.name, "y_true", "y_pred", *kwargs)
    got = ctx.k_numpy(fn(y_true, y_pred, **kwargs))
    expected = ctx.r_numpy(ref_fn(y_true, y_pred, **kwargs))
    assert_close(got, expected, kind="loss", device=ctx.device, reproducer=check.reproducer, what=what)


def _activation(ctx, item, check, data):
    """The activation on a drawn 2-D x (as the implementation's tensor: documented "x: Input tensor"),
    with its keyword arguments drawn from their spec domains (or left at their defaults)."""
    shape = data.draw(st.tuples(strategies.batches, strategies.dims), label="shape")
    seed = data.draw(strategies.seeds, label="seed")
    drawn, every = {}, {}
    for p in item.params:
        if p.domain and not p.required and p.kind != "var_keyword":
            if p.domain.get("every"):        # every documented choice on each example, none left to the draw
                every[p.name] = list(p.domain["choices"])
                continue
            value = data.draw(strategies.optional(harness.domain_strategy(p.domain, {})), label=p.name)
            if value is not strategies.OMIT:
                drawn[p.name] = value
    for values in itertools.product(*every.values()):
        _compare_activation(ctx, item, check, shape, seed, {**drawn, **dict(zip(every, values))})


def _compare_activation(ctx, item, check, shape, seed, kwargs):
    kw = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), oracle.inputs_code("x", shape, seed),
        f"print(a.to_numpy(K.{item.name}(a.to_tensor(x){kw})) - R.{item.name}(x{kw}).numpy())"])
    fn = ctx.locate(item.name)
    ref_fn = ctx.locate(item.name, ctx.R)
    check.exercise(item.name, "x", *kwargs)
    x = oracle.inputs(shape, seed)
    assert_close(ctx.k_numpy(fn(ctx.adapter.to_tensor(x), **kwargs)), ctx.r_numpy(ref_fn(x, **kwargs)),
                 kind="forward", device=ctx.device, reproducer=check.reproducer,
                 what=f"{item.name}(x{kw}) on shape {shape}")


# -- training: gradient and optimizer trajectories --------------------------------------------------------
def _train_pair(ctx, check, item_name, optimizer, lr, steps, data, hyper=None):
    lr_name = ctx.optimizer_lr_name(optimizer)
    if lr_name is None:
        pytest.skip(f"optimizers.{optimizer} has no documented learning-rate argument in API "
                    f"{ctx.api_version}")
    hyper = dict(hyper or {})
    kw = "".join(f", {k}={v!r}" for k, v in hyper.items())
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, batch, seed = c["recipe"], c["batch"], c["seed"]
    units = recipe["layers"][0][1]["units"]
    xshape, yshape = (batch,) + tuple(recipe["input_shape"]), (batch, units)
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True),
        oracle.code(recipe, ctx.api_version, "K", "model"),
        oracle.code(recipe, ctx.api_version, "R", "ref"),
        "ref.set_weights(model.get_weights())",
        f"model.compile(optimizer=K.optimizers.{optimizer}({lr_name}={lr!r}{kw}), loss='mean_squared_error')",
        f"ref.compile(optimizer=R.optimizers.{optimizer}({lr_name}={lr!r}{kw}), loss='mean_squared_error')",
        oracle.inputs_code("x", xshape, seed), oracle.inputs_code("y", yshape, seed + 1),
        f"for step in range({steps}):",
        "    print(model.train_on_batch(x, y), ref.train_on_batch(x, y))",
        "    print([np.max(np.abs(np.asarray(w) - r)) for w, r in zip(model.get_weights(), ref.get_weights())])"])
    ctx.locate(f"optimizers.{optimizer}")
    check.exercise(f"optimizers.{optimizer}", lr_name, *hyper)
    check.exercise("Model.compile", "optimizer", "loss")
    check.exercise("Model.train_on_batch", "x", "y")
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    ref = oracle.build(ctx.R, ctx.api_version, recipe)
    copy_weights(ctx, item_name, recipe, model, ref, check.reproducer)
    opt = getattr(ctx.K.optimizers, optimizer)(**{lr_name: lr}, **hyper)
    ref_opt = getattr(ctx.R.optimizers, optimizer)(**{lr_name: lr}, **hyper)
    if "name" in hyper:     # keras 3: the name given is the optimizer's name, get_config()["name"]
        got_name, ref_name = opt.get_config().get("name"), ref_opt.get_config().get("name")
        assert got_name == ref_name, (f"{item_name}: get_config()['name'] is {got_name!r}, the reference "
                                      f"{ref_name!r} (given name={hyper['name']!r})\n{check.reproducer}")
    oracle.compile_mse(model, opt)
    oracle.compile_mse(ref, ref_opt)
    x, y = oracle.inputs(xshape, seed), oracle.inputs(yshape, seed + 1)
    kind = "gradient" if steps == 1 else "trajectory"
    for step in range(1, steps + 1):
        loss = oracle.first_scalar(model.train_on_batch(x, y), ctx.k_numpy)
        ref_loss = oracle.first_scalar(ref.train_on_batch(x, y), ctx.r_numpy)
        assert_close(loss, ref_loss, kind="loss" if step == 1 else kind, device=ctx.device,
                     reproducer=check.reproducer,
                     what=f"{item_name}: loss returned by train_on_batch step {step}")
        got = [ctx.k_numpy(w) for w in model.get_weights()]
        exp = [ctx.r_numpy(w) for w in ref.get_weights()]
        assert len(got) == len(exp), f"{item_name}: {len(got)} weight arrays, reference {len(exp)}"
        for i, (g, e) in enumerate(zip(got, exp)):
            assert_close(g, e, kind=kind, device=ctx.device, reproducer=check.reproducer,
                         what=f"{item_name}: weight {i} after train_on_batch step {step} "
                              f"({optimizer}, {lr_name}={lr}{kw}, {oracle._kwargs_code(recipe['layers'][0][1])})")


def _optimizer_arguments(ctx, item, lr_name, data):
    """The optimizer's documented hyper-parameters, each left at its default (unless its domain says
    ``omit: false``) or drawn from its spec domain, meeting the item's ``valid`` constraints over the
    defaults and the drawn values (keras 3: one clipping argument at most). Keys that a version documents only as accepted by **kwargs (2.3's
    decay, epsilon) stay at their defaults here: the ``-kwargs`` case draws them (_optimizer_kwargs)."""
    from hypothesis import assume

    from keras_conformance.spec.shapes import evaluate
    kwargs = {}
    for p in item.params:
        if p.domain is not None and p.kind not in ("var_keyword", "var_positional") and p.name != lr_name:
            strategy = harness.domain_strategy(p.domain, {})
            if p.domain.get("omit") is not False:
                strategy = strategies.optional(strategy)
            value = data.draw(strategy, label=p.name)
            if value is not strategies.OMIT:
                kwargs[p.name] = value
    names = {**item.defaults(), **kwargs}
    for expr in item.valid:
        assume(bool(evaluate(expr, names)))
    return kwargs


def _learning_rate(item, lr_name, data) -> float:
    """0.01, or drawn from the learning-rate parameter's domain where the spec gives one (Adadelta, whose
    steps at 0.01 are under the trajectory tolerance)."""
    domain = item.param(lr_name).domain if lr_name else None
    return data.draw(harness.domain_strategy(domain, {}), label=lr_name) if domain else 0.01


def _optimizer(ctx, item, check, data):
    lr_name = ctx.optimizer_lr_name(item.attr)
    lr = _learning_rate(item, lr_name, data)
    _train_pair(ctx, check, item.name, item.attr, lr, 3, data, _optimizer_arguments(ctx, item, lr_name, data))


def _kwargs_domains(item) -> dict:
    """The documented ``**kwargs`` keys of an item that its spec gives a domain (``domains:``)."""
    return next((dict(p.domains) for p in item.params if p.kind == "var_keyword" and p.domains), {})


def _optimizer_kwargs(ctx, item, check, data):
    """As the optimizer's numerics check, with keys it takes only through ``**kwargs`` (2.x's clipnorm and
    clipvalue, 2.3's decay and epsilon) drawn from their ``domains``: at least one of them given."""
    from hypothesis import assume
    lr_name = ctx.optimizer_lr_name(item.attr)
    lr = _learning_rate(item, lr_name, data)
    hyper = _optimizer_arguments(ctx, item, lr_name, data)
    keys = {}
    for key, dom in _kwargs_domains(item).items():
        value = data.draw(strategies.optional(harness.domain_strategy(dom, {})), label=key)
        if value is not strategies.OMIT:
            keys[key] = value
    assume(keys)
    check.exercise(f"optimizers.{item.attr}", *keys)
    _train_pair(ctx, check, item.name, item.attr, lr, 3, data, {**hyper, **keys})


@given(data=st.data())
@strategies.SETTINGS
def test_gradient(conformance, case, conformance_check, data):
    if "optimizers.SGD" not in conformance.spec:
        pytest.skip("optimizers.SGD is not documented in this API version")
    _train_pair(conformance, conformance_check, case.item, "SGD", 1.0, 1, data)


# -- a functional graph: two inputs, a shared layer, two outputs --------------------------------------------
def _graph_code(ns: str, var: str) -> str:
    return oracle.SHARED_GRAPH_CODE.format(ns=ns) + f"\n{var} = {ns}.models.Model([a, b], outputs)"


def _graph(K):
    inputs, outputs, shared = oracle.shared_graph(K)
    return K.models.Model(inputs, outputs), shared


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(3))
def test_functional_graph(conformance, case, conformance_check, data):
    """``models.Model([a, b], [shared(a), shared(b)])`` with one Dense shared by both inputs: its two
    outputs against the reference's on the same weights, then one SGD step (learning rate 1, loss
    mean_squared_error on both outputs): the shared kernel and bias get the sum of both outputs'
    gradients."""
    ctx = conformance
    seed = data.draw(strategies.seeds, label="seed")
    batch = data.draw(strategies.batches, label="batch")
    lr_name = ctx.optimizer_lr_name("SGD")
    if lr_name is None:
        harness.untested(f"optimizers.SGD has no documented learning-rate argument in API {ctx.api_version}")
    check = conformance_check
    for item, params in (("models.Model", ("inputs", "outputs")), ("Model.predict", ("x", "verbose")),
                         ("Model.train_on_batch", ("x", "y")), ("Model.compile", ("optimizer", "loss"))):
        check.exercise(item, *params)
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal((batch, 4)).astype("float32"), rng.standard_normal((batch, 2, 4)).astype("float32")]
    ys = [rng.standard_normal((batch, 3)).astype("float32"), rng.standard_normal((batch, 2, 3)).astype("float32")]
    weights = oracle.drawn_weights([(4, 3), (3,)], seed + 2)
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), _graph_code("K", "model"),
        "k_shared = shared", _graph_code("R", "ref"),
        f"rng = np.random.default_rng({seed}); xs = [rng.standard_normal(({batch}, 4)).astype('float32'), "
        f"rng.standard_normal(({batch}, 2, 4)).astype('float32')]",
        f"ys = [rng.standard_normal(({batch}, 3)).astype('float32'), rng.standard_normal(({batch}, 2, 3)).astype('float32')]",
        "from keras_conformance.conformance import oracle; "
        f"w = oracle.drawn_weights([(4, 3), (3,)], {seed + 2})",
        "k_shared.set_weights(w); shared.set_weights(w)",
        "print([np.max(np.abs(np.asarray(g) - e)) for g, e in zip(model.predict(xs, verbose=0), ref.predict(xs, verbose=0))])",
        f"model.compile(optimizer=K.optimizers.SGD({lr_name}=1.0), loss='mean_squared_error')",
        f"ref.compile(optimizer=R.optimizers.SGD({lr_name}=1.0), loss='mean_squared_error')",
        "print(model.train_on_batch(xs, ys), ref.train_on_batch(xs, ys))",
        "print([np.max(np.abs(np.asarray(g) - e)) for g, e in zip(k_shared.get_weights(), shared.get_weights())])"])
    ctx.seed(seed)
    model, shared = _graph(ctx.K)
    ref, ref_shared = _graph(ctx.R)
    shared.set_weights(weights)
    ref_shared.set_weights(weights)
    got = model.predict(xs, verbose=0)
    expected = ref.predict(xs, verbose=0)
    assert isinstance(got, (list, tuple)) and len(got) == 2, (
        f"models.Model with two outputs: predict returned {type(got).__name__} "
        f"{getattr(got, 'shape', '')}, documented a list of 2 arrays\nreproducer:\n{check.reproducer}")
    for i, (g, e) in enumerate(zip(got, expected)):
        assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="forward", device=ctx.device, reproducer=check.reproducer,
                     what=f"models.Model([a, b], [shared(a), shared(b)]): output {i}")
    model.compile(optimizer=oracle.optimizer(ctx.K, "SGD", lr_name, 1.0), loss="mean_squared_error")
    ref.compile(optimizer=oracle.optimizer(ctx.R, "SGD", lr_name, 1.0), loss="mean_squared_error")
    loss = oracle.first_scalar(model.train_on_batch(xs, ys), ctx.k_numpy)
    ref_loss = oracle.first_scalar(ref.train_on_batch(xs, ys), ctx.r_numpy)
    assert_close(loss, ref_loss, kind="loss", device=ctx.device, reproducer=check.reproducer,
                 what="the summed loss of both outputs returned by train_on_batch")
    for name, g, e in zip(("kernel", "bias"), shared.get_weights(), ref_shared.get_weights()):
        assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="gradient", device=ctx.device, reproducer=check.reproducer,
                     what=f"the shared Dense's {name} after one SGD step (the sum of both outputs' gradients)")
