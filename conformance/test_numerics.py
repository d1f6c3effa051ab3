"""Numerics: the implementation against the NumPy reference on identical weights and inputs.

- ``test_numerics[layers.Dense]``: a model holding the layer is built in the implementation, its weights
  are read with ``get_weights`` and set into the same model built by the reference; ``predict`` outputs
  compared (tolerance kind ``forward``).
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

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "numerics"


def conformance_cases(ctx, function_name):
    if function_name == "test_gradient":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY,
                     needs=("construct", "call", "compile", "fit"))
                for i in ctx.spec.items() if i.name == "Model.train_on_batch"]
    cases = []
    for i in ctx.spec.items():
        if i.area.startswith("layers") and i.kind == "class":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call"), {"kind": "layer"}))
        elif i.area in ("losses", "metrics") and i.kind == "function":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, (), {"kind": "loss" if i.area == "losses"
                                                                        else "metric"}))
        elif i.area == "activations" and i.kind == "function":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, (), {"kind": "activation"}))
        elif i.area == "optimizers" and i.kind == "class":
            cases.append(Case(i.name, i.name, CONFORMANCE_CATEGORY, ("construct", "call", "compile", "fit"),
                              {"kind": "optimizer"}))
    return cases


@given(data=st.data())
@strategies.SETTINGS
def test_numerics(conformance, case, conformance_check, data):
    kind = case.data["kind"]
    item = conformance.spec[case.item]
    {"layer": _layer, "loss": _function, "metric": _function, "activation": _activation,
     "optimizer": _optimizer}[kind](conformance, item, conformance_check, data)


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


def _layer(ctx, item, check, data):
    s = strategies.layer_config(ctx, item)
    if s is None:
        pytest.skip(f"no configuration strategy for {item.name} yet")
    (kwargs, input_shape), batch, seed = data.draw(st.tuples(s, strategies.batches, strategies.seeds),
                                                   label="(config, input), batch, seed")
    ctx.locate(item.name)
    check.exercise("Model.predict", "x", "verbose")
    if item.attr == "Activation":
        # every documented activation on every example, not one drawn by chance
        acts = strategies.documented_activations(ctx)
        check.exercise("layers.Activation", "activation")
        for act in acts:
            check.exercise(f"activations.{act}", "x")
            _compare_layer(ctx, item, check, {**kwargs, "activation": act}, input_shape, batch, seed)
        return
    check.exercise(item.name, *kwargs)
    _compare_layer(ctx, item, check, kwargs, input_shape, batch, seed)


def _compare_layer(ctx, item, check, kwargs, input_shape, batch, seed):
    recipe = {"input_shape": input_shape, "layers": [(item.attr, kwargs)]}
    xshape = (batch,) + tuple(input_shape)
    set_drawn = bool(item.weights)
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True),
        oracle.code(recipe, ctx.api_version, "K", "model"),
        oracle.code(recipe, ctx.api_version, "R", "ref"),
        *([oracle.drawn_weights_code("weights", "model", seed + 2),
           "model.set_weights(weights); ref.set_weights(weights)"] if set_drawn
          else ["ref.set_weights(model.get_weights())"]),
        oracle.inputs_code("x", xshape, seed),
        "got, expected = np.asarray(model.predict(x, verbose=0)), np.asarray(ref.predict(x, verbose=0))",
        "print(np.max(np.abs(got - expected)))"])
    if set_drawn:
        check.exercise("Model.set_weights", "weights")
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    ref = oracle.build(ctx.R, ctx.api_version, recipe)
    copy_weights(ctx, item.name, recipe, model, ref, check.reproducer, seed + 2 if set_drawn else None)
    x = oracle.inputs(xshape, seed)
    got = ctx.k_numpy(oracle.predict(model, x))
    expected = ctx.r_numpy(oracle.predict(ref, x))
    assert_close(got, expected, kind="forward", device=ctx.device, reproducer=check.reproducer,
                 what=f"{item.name}({oracle._kwargs_code(kwargs)}) output on input {xshape}"
                      + (" with drawn non-zero weights" if set_drawn else ""))


# -- losses, metrics, activations -------------------------------------------------------------------------
def _function(ctx, item, check, data):
    _function_edges(ctx, item, check)
    c = data.draw(strategies.loss_case(item), label="case")
    kw = "".join(f", {k}={v!r}" for k, v in c["kwargs"].items())
    y_true, y_pred = strategies.loss_arrays(item.attr, c["batch"], c["k"], c["seed"])
    _compare_function(ctx, item, check, y_true, y_pred, c["kwargs"],
                      ["from keras_conformance.conformance.strategies import loss_arrays",
                       f"y_true, y_pred = loss_arrays({item.attr!r}, {c['batch']}, {c['k']}, {c['seed']})"],
                      what=f"{item.name}(y_true, y_pred{kw}) with y shape {y_pred.shape}")


def _function_edges(ctx, item, check):
    """The deterministic edge cases (exact 0 / 1 probabilities, ``strategies.edge_loss_arrays``) at the
    documented defaults, on every example: the same arrays each time, so the check cannot pass by chance."""
    edges = strategies.edge_loss_arrays(item.attr)
    if edges is None:
        return
    y_true, y_pred = edges
    _compare_function(ctx, item, check, y_true, y_pred, {},
                      ["from keras_conformance.conformance.strategies import edge_loss_arrays",
                       f"y_true, y_pred = edge_loss_arrays({item.attr!r})"],
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
    shape = data.draw(st.tuples(strategies.batches, strategies.dims), label="shape")
    seed = data.draw(strategies.seeds, label="seed")
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True), oracle.inputs_code("x", shape, seed),
        f"print(a.to_numpy(K.{item.name}(x)) - R.{item.name}(x).numpy())"])
    fn = ctx.locate(item.name)
    ref_fn = ctx.locate(item.name, ctx.R)
    check.exercise(item.name, "x")
    x = oracle.inputs(shape, seed)
    assert_close(ctx.k_numpy(fn(x)), ctx.r_numpy(ref_fn(x)), kind="forward", device=ctx.device,
                 reproducer=check.reproducer, what=f"{item.name} on shape {shape}")


# -- training: gradient and optimizer trajectories --------------------------------------------------------
def _train_pair(ctx, check, item_name, optimizer, lr, steps, data):
    lr_name = ctx.optimizer_lr_name(optimizer)
    if lr_name is None:
        pytest.skip(f"optimizers.{optimizer} has no documented learning-rate argument in API "
                    f"{ctx.api_version}")
    c = data.draw(strategies.dense_model_case(ctx), label="model case")
    recipe, batch, seed = c["recipe"], c["batch"], c["seed"]
    units = recipe["layers"][0][1]["units"]
    xshape, yshape = (batch,) + tuple(recipe["input_shape"]), (batch, units)
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True),
        oracle.code(recipe, ctx.api_version, "K", "model"),
        oracle.code(recipe, ctx.api_version, "R", "ref"),
        "ref.set_weights(model.get_weights())",
        f"model.compile(optimizer=K.optimizers.{optimizer}({lr_name}={lr!r}), loss='mean_squared_error')",
        f"ref.compile(optimizer=R.optimizers.{optimizer}({lr_name}={lr!r}), loss='mean_squared_error')",
        oracle.inputs_code("x", xshape, seed), oracle.inputs_code("y", yshape, seed + 1),
        f"for step in range({steps}):",
        "    print(model.train_on_batch(x, y), ref.train_on_batch(x, y))",
        "    print([np.max(np.abs(np.asarray(w) - r)) for w, r in zip(model.get_weights(), ref.get_weights())])"])
    ctx.locate(f"optimizers.{optimizer}")
    check.exercise(f"optimizers.{optimizer}", lr_name)
    check.exercise("Model.compile", "optimizer", "loss")
    check.exercise("Model.train_on_batch", "x", "y")
    ctx.seed(seed)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    ref = oracle.build(ctx.R, ctx.api_version, recipe)
    copy_weights(ctx, item_name, recipe, model, ref, check.reproducer)
    oracle.compile_mse(model, oracle.optimizer(ctx.K, optimizer, lr_name, lr))
    oracle.compile_mse(ref, oracle.optimizer(ctx.R, optimizer, lr_name, lr))
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
                              f"({optimizer}, {lr_name}={lr}, {oracle._kwargs_code(recipe['layers'][0][1])})")


def _optimizer(ctx, item, check, data):
    _train_pair(ctx, check, item.name, item.attr, 0.01, 3, data)


@given(data=st.data())
@strategies.SETTINGS
def test_gradient(conformance, case, conformance_check, data):
    if "optimizers.SGD" not in conformance.spec:
        pytest.skip("optimizers.SGD is not documented in this API version")
    _train_pair(conformance, conformance_check, case.item, "SGD", 1.0, 1, data)
