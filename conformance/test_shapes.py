"""Shapes: a layer's output shape and its weights' shapes follow the documented rules.

For every documented layer (``test_output_shape[layers.Dense]``, ``test_weight_shapes[layers.Dense]``),
on configurations and inputs drawn from its spec entry (``conformance/layers.py``): the ``output_shape``
rule, evaluated over ``input_shape`` (batch first) and the constructor arguments, against what the
implementation produces (``predict`` of a functional model holding the layer, and
``compute_output_shape`` with an unknown batch); the documented ``weights`` (in order) against
``layer.get_weights()`` and ``Model.get_weights()``. A layer whose entry lacks what the check needs is
*untested*.
"""
from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from keras_conformance.conformance import layers as harness
from keras_conformance.conformance import oracle, strategies
from keras_conformance.conformance.context import Case

CONFORMANCE_CATEGORY = "shapes"


def conformance_cases(ctx, function_name):
    if function_name == "test_layer_nodes":
        return conformance_cases_nodes(ctx)
    if function_name == "test_summary_counts":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct",))
                for i in ctx.spec.items() if i.owner == "Model" and i.attr == "summary"]
    # a functional form (layers.add) is checked like its class (layers.Add), built with the function
    forms = function_name == "test_output_shape"
    return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
            for i in ctx.spec.items() if i.is_layer or (forms and i.form_of and i.form_of in ctx.spec)]


def _exercise(check, item, case):
    check.exercise(item.name, *case.kwargs)
    check.exercise("models.Model", "inputs", "outputs")
    check.exercise("layers.Input", "shape", "dtype")


@given(data=st.data())
@strategies.SETTINGS
def test_output_shape(conformance, case, conformance_check, data):
    ctx = conformance
    documented = ctx.spec[case.item]
    item = harness.layer_item(ctx.spec, documented)
    form = documented.attr if documented.form_of else None
    for lc in harness.variants(item, harness.draw_case(data, item, need=("input", "output_shape"))):
        _output_shape(ctx, documented, item, form, lc, conformance_check)


def _output_shape(ctx, documented, item, form, lc, conformance_check):
    expected = harness.output_list(harness.evaluate(item.output_shape, item, lc))
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), harness.build_code(item, lc, form=form), harness.inputs_code(lc),
        f"out = model.predict({'xs' if lc.multi else 'xs[0]'}, verbose=0)",
        "print([np.shape(o) for o in out] if isinstance(out, list) else np.shape(out))",
        f"print(layer.compute_output_shape({harness.unknown_batch(lc)!r}))",
        f"# documented: {item.output_shape} = {expected}"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.locate(documented.name)
    _exercise(conformance_check, documented, lc)
    model, layer = harness.build(ctx.K, item, lc, form=form)
    got = [tuple(a.shape) for a in harness.predictions(model, harness.feed(lc, harness.inputs(lc)), ctx.k_numpy)]
    assert got == expected, (f"{lc!r}: output shape{'s' if len(got) > 1 else ''} {_shown(got)}, documented "
                             f"{_shown(expected)} ({item.output_shape}){tail}")
    cos = getattr(layer, "compute_output_shape", None) if layer is not None else None
    if cos is not None:
        unknown = harness.unknown_batch(lc)
        got2 = _shown(harness.output_list(cos(unknown)))
        exp2 = _shown(harness.output_list(harness.evaluate(item.output_shape, item, lc, unknown)))
        assert got2 == exp2, (f"{item.name}({lc.kwargs_code()}).compute_output_shape({unknown}) = {got2}, "
                              f"documented {exp2} ({item.output_shape}){tail}")


def _shown(shapes):
    """One output's shape as a tuple, several as a list of tuples."""
    shapes = [tuple(None if d is None else int(d) for d in s) for s in shapes]
    return shapes[0] if len(shapes) == 1 else shapes


@given(data=st.data())
@strategies.SETTINGS
def test_weight_shapes(conformance, case, conformance_check, data):
    ctx = conformance
    item = ctx.spec[case.item]
    for lc in harness.variants(item, harness.draw_case(data, item)):
        _weight_shapes(ctx, item, lc, conformance_check)


def _weight_shapes(ctx, item, lc, conformance_check):
    full = harness.unknown_batch(lc)
    expected = [(w.name, w.shape, tuple(harness.evaluate(w.shape, item, lc, full))) for w in item.weights
                if not w.when or harness.evaluate(w.when, item, lc, full)]
    conformance_check.reproducer = "\n".join([
        ctx.preamble(), harness.build_code(item, lc),
        "print([np.shape(w) for w in layer.get_weights()])",
        "print([np.shape(w) for w in model.get_weights()])",
        "# documented: " + (", ".join(f"{n} {e} = {s}" for n, e, s in expected) or "no weights")])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    ctx.locate(item.name)
    _exercise(conformance_check, item, lc)
    model, layer = harness.build(ctx.K, item, lc)
    documented = [s for _, _, s in expected]
    for what, arrays in (("layer.get_weights()", layer.get_weights()), ("Model.get_weights()", model.get_weights())):
        got = [tuple(int(d) for d in np.shape(w)) for w in arrays]
        assert got == documented, (
            f"{lc!r}: {what} shapes {got}, documented "
            + (", ".join(f"{n} {e} = {s}" for n, e, s in expected) or "no weights") + f" ({item.source}){tail}")


# -- the layer methods of seed 003, on a layer shared by two calls ----------------------------------------
NODE_METHODS = ("get_input_at", "get_output_at", "get_input_shape_at", "get_output_shape_at", "count_params")
def conformance_cases_nodes(ctx):
    return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct",))
            for i in ctx.spec.items() if i.owner == "Layer" and i.attr in NODE_METHODS]


def test_layer_nodes(conformance, case, conformance_check):
    """``layer.get_input_at(i)`` / ``get_output_at(i)`` are the tensors of call i, ``get_input_shape_at(i)``
    / ``get_output_shape_at(i)`` their shapes (batch None), and ``count_params()`` the number of scalars
    in the weights (seed 003), on a Dense layer shared by two calls."""
    ctx = conformance
    item = ctx.spec[case.item]
    conformance_check.reproducer = "\n".join([ctx.preamble(), oracle.SHARED_GRAPH_CODE.format(ns="K"),
                                              f"print(shared.{item.attr}(1))"
                                              if item.attr != "count_params" else "print(shared.count_params())"])
    tail = f"\nreproducer:\n{conformance_check.reproducer}"
    method = getattr(ctx.locate("layers.Dense"), item.attr, None)
    if method is None:
        from keras_conformance.conformance.context import NotImplementedByAdapter
        raise NotImplementedByAdapter(f"{item.name}: not implemented (layers.Dense has no {item.attr!r})")
    inputs, outputs, shared = oracle.shared_graph(ctx.K)
    conformance_check.exercise(item.name, *(("node_index",) if item.params else ()))
    if item.attr == "count_params":
        got = int(shared.count_params())
        assert got == 4 * 3 + 3, f"Layer.count_params() of Dense(3) on 4 features is {got}, documented 15 " \
                                 f"(kernel 4 x 3 + bias 3){tail}"
        return
    expected = {"get_input_at": inputs, "get_output_at": outputs,
                "get_input_shape_at": [(None, 4), (None, 2, 4)],
                "get_output_shape_at": [(None, 3), (None, 2, 3)]}[item.attr]
    for node in (0, 1):
        got = getattr(shared, item.attr)(node)
        if item.attr.endswith("shape_at"):
            got = tuple(None if d is None else int(d) for d in got)
            assert got == expected[node], f"{item.name}({node}) = {got}, documented {expected[node]}{tail}"
        else:
            assert got is expected[node], (f"{item.name}({node}) is {got!r}, documented the tensor of call "
                                           f"{node}: {expected[node]!r}{tail}")


# -- Model.summary's parameter counts ----------------------------------------------------------------------
SUMMARY_MODEL_CODE = ("model = {ns}.models.Sequential([{ns}.layers.Dense(3, input_shape=(4,)), "
                      "{ns}.layers.BatchNormalization()])")
_COUNTS = re.compile(r"(Total|Trainable|Non-trainable) params: ([\d,]+)")


def _summary_counts(K) -> dict:
    """The three counts ``summary(print_fn=...)`` prints for SUMMARY_MODEL_CODE's model."""
    model = K.models.Sequential([K.layers.Dense(3, input_shape=(4,)), K.layers.BatchNormalization()])
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(str(line)))
    return {kind: int(n.replace(",", "")) for kind, n in _COUNTS.findall("\n".join(lines))}


def test_summary_counts(conformance, case, conformance_check):
    """What ``model.summary(print_fn=...)`` prints as its total, trainable and non-trainable parameter
    counts (every Keras version prints the three lines) on Dense(3) then BatchNormalization (whose moving
    mean and variance are not trainable), against the reference's."""
    ctx = conformance
    conformance_check.reproducer = "\n".join([ctx.preamble(), SUMMARY_MODEL_CODE.format(ns="K"),
                                              "model.summary()"])
    conformance_check.exercise(case.item, "print_fn")
    got, expected = _summary_counts(ctx.K), _summary_counts(ctx.R)
    assert got == expected, (f"{case.item}: the counts printed are {got}, the reference prints {expected} "
                             f"(Dense(3) on 4 features: 15 trainable; BatchNormalization: 6 trainable, 6 not)"
                             f"\nreproducer:\n{conformance_check.reproducer}")
