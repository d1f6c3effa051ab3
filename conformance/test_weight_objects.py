"""Regularizers, constraints and initializers: on their own, and as the layers' weight arguments.

- ``test_weight_object[regularizers.l2]`` / ``[constraints.MaxNorm]`` / ``[initializers.Constant]``: each
  of the item's spec ``examples`` built in the implementation and in the reference and applied to the
  same drawn weight array: a regularizer's penalty (tolerance kind ``loss``), a constraint's projection
  (``forward``), an initializer's values for a drawn shape (``forward``). An item without examples
  (keras 3's OrthogonalRegularizer, defined on rank-2 weights only) is untested.
- ``test_initial_weights[layers.Conv2D]``: a layer with every ``*_initializer`` argument drawn from the
  documented initializers (``domain: {objects: initializers}``, spec/initializers.yaml: the deterministic
  ones), built on a drawn input in both; every weight it is built with compared with the reference's.
  (The regularizer and constraint arguments act through training: the layer gradient check draws them,
  ``test_numerics.py``.)
"""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import layers as harness
from keras_conformance.conformance import strategies
from keras_conformance.conformance.context import Case
from keras_conformance.conformance.tolerances import assert_close

CONFORMANCE_CATEGORY = "numerics"
AREAS = ("regularizers", "constraints", "initializers")


def conformance_cases(ctx, function_name):
    if function_name == "test_weight_object":
        return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
                for i in ctx.spec.items() if i.area in AREAS and i.kind in ("class", "function")]
    return [Case(id=i.name, item=i.name, category=CONFORMANCE_CATEGORY, needs=("construct", "call"))
            for i in ctx.spec.items() if i.is_layer and harness.initializer_params(i)]


# a weight's shape: a Dense kernel (inputs, units) or a convolution kernel (spatial..., in, out)
weight_shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(6))
def test_weight_object(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    if not item.examples:
        harness.untested(f"{item.file}: {item.name} has no `examples` (constructor expressions to check)")
    expr = harness.ObjectExpr(data.draw(st.sampled_from(list(item.examples)), label="example"))
    shape = data.draw(weight_shapes, label="shape")
    seed = data.draw(strategies.seeds, label="seed")
    ctx.locate(item.name)
    made = expr.made
    check.exercise(made.item, *made.kwargs)
    if item.area == "initializers":
        call, what = f"(shape={shape!r}, dtype='float32')", f"{expr}(shape={shape})"
        check.reproducer = "\n".join([
            ctx.preamble(with_reference=True),
            f"print(a.to_numpy({expr.code_in('K')}{call}) - {expr.code_in('R')}{call})"])
        got = ctx.k_numpy(expr.build(ctx.K)(shape, dtype="float32"))
        expected = ctx.r_numpy(expr.build(ctx.R)(shape, dtype="float32"))
        if tuple(np.shape(got)) != shape:
            raise AssertionError(f"{what}: shape {np.shape(got)}, documented {shape}\nreproducer:\n"
                                 f"{check.reproducer}")
        assert_close(got, expected, kind="forward", device=ctx.device, reproducer=check.reproducer,
                     what=f"{what}: the values")
        return
    rng = np.random.default_rng(seed)
    w = (1.5 * rng.standard_normal(shape)).astype("float32")
    check.reproducer = "\n".join([
        ctx.preamble(with_reference=True),
        f"w = (1.5 * np.random.default_rng({seed}).standard_normal({shape!r})).astype('float32')",
        f"print(a.to_numpy({expr.code_in('K')}(a.to_tensor(w))), {expr.code_in('R')}(w))"])
    got = ctx.k_numpy(expr.build(ctx.K)(ctx.adapter.to_tensor(w)))
    expected = ctx.r_numpy(expr.build(ctx.R)(w))
    if item.area == "regularizers":
        assert_close(np.asarray(got, "float64").reshape(()), np.asarray(expected, "float64").reshape(()),
                     kind="loss", device=ctx.device, reproducer=check.reproducer,
                     what=f"{expr} on a weight of shape {shape}: the penalty")
    else:
        assert_close(got, expected, kind="forward", device=ctx.device, reproducer=check.reproducer,
                     what=f"{expr} on a weight of shape {shape}: the constrained weight")


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(4))
def test_initial_weights(conformance, case, conformance_check, data):
    ctx, check = conformance, conformance_check
    item = ctx.spec[case.item]
    lc = harness.draw_case(data, item, ctx.R, initializers=True)
    ctx.locate(item.name)
    for v in harness.variants(item, lc):
        check.exercise(item.name, *v.kwargs)
        for made, params in harness.objects_exercised(v.kwargs).items():
            check.exercise(made, *params)
        check.reproducer = "\n".join([
            ctx.preamble(with_reference=True), harness.build_code(item, v, "K", "model", "layer"),
            harness.build_code(item, v, "R", "ref", "ref_layer"),
            "print([np.max(np.abs(np.asarray(a.to_numpy(g)) - e)) for g, e in "
            "zip(layer.get_weights(), ref_layer.get_weights())])"])
        ctx.seed(v.seed)
        _, layer = harness.build(ctx.K, item, v)
        _, ref_layer = harness.build(ctx.R, item, v)
        got, expected = layer.get_weights(), ref_layer.get_weights()
        shapes = [tuple(np.shape(w)) for w in got]
        if shapes != [tuple(np.shape(e)) for e in expected]:
            raise AssertionError(f"{v!r}: get_weights() shapes {shapes}, the reference's (the documented "
                                 f"weights) {[tuple(np.shape(e)) for e in expected]}\nreproducer:\n"
                                 f"{check.reproducer}")
        names = [w.name for w in item.weights
                 if not w.when or harness.evaluate(w.when, item, v, harness.unknown_batch(v))]
        for i, (g, e) in enumerate(zip(got, expected)):
            name = names[i] if i < len(names) else f"weight {i}"
            assert_close(ctx.k_numpy(g), ctx.r_numpy(e), kind="forward", device=ctx.device,
                         reproducer=check.reproducer, what=f"{v!r}: {name} as built (its initializer)")
