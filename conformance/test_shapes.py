"""Shapes: a layer's output shape and its weights' shapes follow the documented rules.

For every documented layer with an ``output_shape`` rule (``test_output_shape[layers.Dense]``) and with
documented ``weights`` (``test_weight_shapes[layers.Dense]``), on hypothesis-drawn configurations: the
rule is evaluated over ``input_shape`` (batch first) and the constructor arguments (drawn, else the
documented defaults) and compared with what the implementation produces (``predict`` on a model holding
the layer, ``compute_output_shape`` with an unknown batch, the layer's ``get_weights`` and the model's
``Model.get_weights`` in the documented order).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case

CONFORMANCE_CATEGORY = "shapes"


def conformance_cases(ctx, function_name):
    layers = [i for i in ctx.spec.items() if i.area.startswith("layers") and i.kind == "class"]
    if function_name == "test_output_shape":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
                for i in layers if i.output_shape]
    return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
            for i in layers if i.weights]


evaluate = oracle.evaluate


def _strategy(ctx, item):
    s = strategies.layer_config(ctx, item)
    if s is None:
        pytest.skip(f"no configuration strategy for {item.name} yet")
    return st.tuples(s, strategies.batches, strategies.seeds)


def _exercise(ctx, check, item, kwargs):
    check.exercise(item.name, *kwargs)
    check.exercise("models.Sequential", "layers")
    if ctx.api_version == "3":
        check.exercise("layers.Input", "shape")


def _recipe(item, kwargs, input_shape):
    return {"input_shape": input_shape, "layers": [(item.attr, kwargs)]}


@given(data=st.data())
@strategies.SETTINGS
def test_output_shape(conformance, case, conformance_check, data):
    ctx = conformance
    item = ctx.spec[case.item]
    (kwargs, input_shape), batch, seed = data.draw(_strategy(ctx, item), label="(config, input), batch, seed")
    recipe = _recipe(item, kwargs, input_shape)
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(recipe, ctx.api_version),
        oracle.inputs_code("x", (batch,) + tuple(input_shape), seed),
        "print(model.predict(x, verbose=0).shape)",
        f"print(model.layers[-1].compute_output_shape({(None,) + tuple(input_shape)!r}))",
        f"# documented: {item.output_shape}"])
    ctx.locate(item.name)
    _exercise(ctx, conformance_check, item, kwargs)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    x = oracle.inputs((batch,) + tuple(input_shape), seed)
    got = tuple(ctx.k_numpy(oracle.predict(model, x)).shape)
    expected = tuple(evaluate(item.output_shape, item, kwargs, (batch,) + tuple(input_shape)))
    assert got == expected, (
        f"{item.name}({oracle._kwargs_code(kwargs)}) on input {(batch,) + tuple(input_shape)}: output shape "
        f"{got}, documented {expected} ({item.output_shape})\nreproducer:\n{conformance_check.reproducer}")
    layer = model.layers[-1]
    cos = getattr(layer, "compute_output_shape", None)
    if cos is not None:
        unknown = (None,) + tuple(input_shape)
        got2 = tuple(cos(unknown))
        exp2 = tuple(evaluate(item.output_shape, item, kwargs, unknown))
        assert got2 == exp2, (
            f"{item.name}({oracle._kwargs_code(kwargs)}).compute_output_shape({unknown}) = {got2}, "
            f"documented {exp2}\nreproducer:\n{conformance_check.reproducer}")


@given(data=st.data())
@strategies.SETTINGS
def test_weight_shapes(conformance, case, conformance_check, data):
    ctx = conformance
    item = ctx.spec[case.item]
    (kwargs, input_shape), batch, seed = data.draw(_strategy(ctx, item), label="(config, input), batch, seed")
    recipe = _recipe(item, kwargs, input_shape)
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), oracle.code(recipe, ctx.api_version),
        "print([w.shape for w in model.layers[-1].get_weights()])",
        "print([np.shape(w) for w in model.get_weights()])  # the model's order: layer by layer",
        "# documented: " + ", ".join(f"{w.name} {w.shape}" + (f" when {w.when}" if w.when else "")
                                     for w in item.weights)])
    ctx.locate(item.name)
    _exercise(ctx, conformance_check, item, kwargs)
    model = oracle.build(ctx.K, ctx.api_version, recipe)
    full = (None,) + tuple(input_shape)
    expected = [(w.name, tuple(evaluate(w.shape, item, kwargs, full))) for w in item.weights
                if not w.when or evaluate(w.when, item, kwargs, full)]
    got = [tuple(np.shape(w)) for w in model.layers[-1].get_weights()]
    assert got == [s for _, s in expected], (
        f"{item.name}({oracle._kwargs_code(kwargs)}) on input {full}: weight shapes {got}, documented "
        + ", ".join(f"{n} {s}" for n, s in expected)
        + f"\nreproducer:\n{conformance_check.reproducer}")
    problem = oracle.weight_order_problem(ctx.spec, recipe, model,
                                          [np.shape(w) for w in model.get_weights()])
    if problem:
        raise AssertionError(f"{item.name}({oracle._kwargs_code(kwargs)}) on input {full}: {problem}"
                             f"\nreproducer:\n{conformance_check.reproducer}")
