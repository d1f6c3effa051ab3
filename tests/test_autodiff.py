"""The autodiff core: every registered primitive's VJP against central finite differences, plus the engine.

Run: python3 -m pytest tests/test_autodiff.py -q
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_conformance.reference.autodiff import (KINDS, REGISTRY, Tensor, Variable, grad, is_recording,
                                                  no_grad, ops, stop_gradient)

# Central differences in float64: truncation error ~ EPS**2 * |f'''| ~ 1e-12 and rounding error
# ~ 1e-16 * |f| / EPS ~ 1e-10 per entry, summed over at most a few hundred output entries (the
# cotangent contraction), so a correct VJP agrees to ~1e-8. RTOL 1e-5 / ATOL 1e-6 leave two to three
# orders of margin for that, yet any real VJP mistake (a wrong factor, sign, axis or broadcast sum)
# is off by O(1) on inputs of size ~1 and fails.
EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6

MAX_EXAMPLES = 100
GRADCHECK = settings(derandomize=True, max_examples=MAX_EXAMPLES, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


# ---- what each Domain kind draws: (input shapes, attributes) ---------------------------------------

def _axis_in(ndim):
    return st.integers(-ndim, ndim - 1)


@st.composite
def _unary(draw):
    return [draw(SHAPES)], {}


@st.composite
def _binary(draw):
    shapes, _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4))
    return list(shapes), {}


@st.composite
def _where(draw):
    (cond, a, b), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                             max_side=4))
    return [a, b], {"condition": draw(hnp.arrays(bool, cond))}


@st.composite
def _clip(draw):
    # Bounds on multiples of 0.1, where avoid_ties keeps the entries away from; either may be None.
    x_min = 0.1 * draw(st.integers(-6, 0))
    x_max = x_min + 0.1 * draw(st.integers(1, 8))
    which = draw(st.sampled_from(["both", "no_min", "no_max"]))
    return [draw(SHAPES)], {"x_min": None if which == "no_min" else x_min,
                            "x_max": None if which == "no_max" else x_max}


@st.composite
def _matmul(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    (batch_a, batch_b), _ = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                                   max_side=3))
    a_vector, b_vector = draw(st.booleans()), draw(st.booleans())
    a = (k,) if a_vector else batch_a + (n, k)
    b = (k,) if b_vector else batch_b + (k, m)
    return [a, b], {}


@st.composite
def _reduce(draw):
    shape = draw(SHAPES)
    nd = len(shape)
    options = [st.none(), st.just(())]
    if nd:
        options += [_axis_in(nd),
                    st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).flatmap(
                        lambda axes: st.tuples(*(st.sampled_from([a, a - nd]) for a in axes)))]
    axis = draw(st.one_of(options))
    return [shape], {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def _axis(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    return [shape], {"axis": draw(_axis_in(len(shape)))}


@st.composite
def _reshape(draw):
    shape = draw(SHAPES)
    size = int(np.prod(shape))
    candidates = [(-1,), (size,), shape[::-1], (1,) + shape, (size, 1), shape + (1, 1)]
    if len(shape) >= 2:
        candidates += [(shape[0], -1), (-1, shape[-1])]
    if size == 1:
        candidates.append(())
    return [shape], {"shape": draw(st.sampled_from(candidates))}


@st.composite
def _transpose(draw):
    # Up to 4 axes: on 3 or fewer most permutations are their own inverse, which would hide a VJP that
    # applies `axes` instead of its inverse.
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=3))
    # A rotation of a drawn permutation: hypothesis favours near-identity permutations, and rotating
    # them yields cycles, which are not their own inverse.
    rotated = st.permutations(range(len(shape))).flatmap(
        lambda p: st.integers(1, max(len(p) - 1, 1)).map(lambda k: tuple(int(a) for a in np.roll(p, k))))
    axes = draw(rotated | st.none())
    return [shape], {"axes": axes}


@st.composite
def _expand_dims(draw):
    shape = draw(SHAPES)
    return [shape], {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def _squeeze(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    units = [i for i, n in enumerate(shape) if n == 1]
    options = [st.none()]
    if units:
        options += [st.sampled_from(units + [u - len(shape) for u in units]),
                    st.lists(st.sampled_from(units), min_size=1, unique=True).map(tuple)]
    return [shape], {"axis": draw(st.one_of(options))}


@st.composite
def _concatenate(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(_axis_in(len(shape)))
    shapes = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(shape)
        s[axis] = draw(st.integers(1, 4))
        shapes.append(tuple(s))
    return shapes, {"axis": axis}


@st.composite
def _stack(draw):
    shape = draw(SHAPES)
    n = draw(st.integers(1, 3))
    return [shape] * n, {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def _getitem(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kinds = [
        # ints, slices with any step, None, Ellipsis
        hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True),
        # integer arrays, one per leading axis, that may repeat entries (np.add.at must sum them)
        hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2,
                                                                       max_side=5)),
        hnp.arrays(bool, shape),                                  # a full boolean mask
        st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6).map(
            lambda rows: (np.array(rows),) + (slice(None),) * (len(shape) - 1)),  # rows, then slices
    ]
    return [shape], {"index": draw(st.one_of(kinds))}


@st.composite
def _cast(draw):
    # Gradient checks need float64 on both sides; the float32 round trip is checked separately below.
    return [draw(SHAPES)], {"dtype": np.dtype("float64")}


@st.composite
def _windows(draw):
    # Overlapping (stride below the dilated window: the bincount scatter-add) and disjoint windows
    # (the strided write) are both drawn.
    n = draw(st.integers(1, 3))
    window = tuple(draw(st.integers(1, 3)) for _ in range(n))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    spatial = tuple((w - 1) * d + 1 + draw(st.integers(0, 3)) for w, d in zip(window, dilation))
    shape = (draw(st.integers(1, 2)),) + spatial + (draw(st.integers(1, 2)),)
    return [shape], {"window": window, "strides": strides, "dilation": dilation}


@st.composite
def _pad(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    width = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return [shape], {"pad_width": width, "constant_values": draw(st.sampled_from([0.0, -1.5]))}


@st.composite
def _lstm(draw):
    batch, time, features, units = (draw(st.integers(1, n)) for n in (2, 3, 3, 2))
    return ([(batch, time, features), (batch, units), (batch, units), (features, 4 * units),
             (units, 4 * units), (4 * units,)], {"go_backwards": draw(st.booleans())})


DRAWERS = {"unary": _unary, "binary": _binary, "where": _where, "clip": _clip, "matmul": _matmul,
           "reduce": _reduce, "axis": _axis, "reshape": _reshape, "transpose": _transpose,
           "expand_dims": _expand_dims, "squeeze": _squeeze, "concatenate": _concatenate,
           "stack": _stack, "getitem": _getitem, "cast": _cast, "windows": _windows, "pad": _pad,
           "lstm": _lstm}


def _call_op(name, kind, tensors, attrs):
    """The primitive through its public entry point (ops function or Python operator)."""
    fn = getattr(ops, name)
    if kind == "where":
        return fn(attrs["condition"], *tensors)
    if kind == "clip":
        return fn(tensors[0], attrs["x_min"], attrs["x_max"])
    if kind in ("concatenate", "stack"):
        return fn(list(tensors), **attrs)
    if kind == "getitem":
        return tensors[0][attrs["index"]]
    return fn(*tensors, **attrs)


def _values(rng, shapes, domain):
    if domain.avoid_ties:
        # All entries distinct on the grid 0.1 * k + 0.05: at least 0.1 apart (no ties for max/maximum)
        # and 0.05 from every multiple of 0.1 (relu and abs kink at 0, clip bounds lie on that lattice).
        sizes = [int(np.prod(s)) for s in shapes]
        grid = (rng.permutation(sum(sizes)) - sum(sizes) // 2) * 0.1 + 0.05
        parts = np.split(grid, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes)]
    arrays = []
    for i, s in enumerate(shapes):
        kind = domain.value_domain(i)
        if kind == "any":
            arrays.append(rng.standard_normal(s))
        elif kind == "positive":
            arrays.append(rng.uniform(0.5, 2.0, s))
        elif kind == "nonzero":
            arrays.append(rng.uniform(0.5, 2.0, s) * rng.choice([-1.0, 1.0], s))
        else:
            raise AssertionError(f"unknown value domain {kind!r}")
    return [np.asarray(a, dtype=np.float64) for a in arrays]   # 0-d draws come back as NumPy scalars


def _numeric_vjp(forward, arrays, attrs, u, i):
    """u . d forward / d arrays[i], entry by entry, by central differences."""
    x = arrays[i]
    result = np.zeros(x.shape)
    for j in range(x.size):
        sides = []
        for delta in (EPS, -EPS):
            moved = x.copy()
            moved.flat[j] += delta
            inputs = arrays[:i] + [moved] + arrays[i + 1:]
            sides.append(np.sum(forward(*inputs, **attrs) * u))
        result.flat[j] = (sides[0] - sides[1]) / (2 * EPS)
    return result


# ---- every registered primitive -------------------------------------------------------------------

def test_drawers_cover_the_documented_kinds():
    assert set(DRAWERS) == set(KINDS)


def test_every_registered_primitive_is_exported_by_ops_and_back():
    public = {n for n in dir(ops) if not n.startswith("_") and callable(getattr(ops, n))}
    assert set(ops.__all__) == public, "a function in ops that is not in ops.__all__ (or vice versa)"
    assert set(REGISTRY) == set(ops.__all__), (
        f"exported without a registered primitive: {sorted(set(ops.__all__) - set(REGISTRY))}; "
        f"registered but not exported: {sorted(set(REGISTRY) - set(ops.__all__))}")


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_vjp_matches_finite_differences(name):
    prim = REGISTRY[name]
    assert prim.domain is not None, f"primitive {name!r} has no test domain"
    assert prim.domain.kind in DRAWERS, f"primitive {name!r}: no test draws domain kind {prim.domain.kind!r}"
    kind = prim.domain.kind

    @GRADCHECK
    @given(case=DRAWERS[kind](), seed=st.integers(0, 2**32 - 1))
    def check(case, seed):
        shapes, attrs = case
        rng = np.random.default_rng(seed)
        arrays = _values(rng, shapes, prim.domain)
        tensors = [Tensor(a) for a in arrays]
        out = _call_op(name, kind, tensors, attrs)
        # The public op is this primitive: same value as its registered forward.
        np.testing.assert_array_equal(out.data, prim.forward(*arrays, **attrs))
        u = rng.standard_normal(out.shape)
        grads = grad(out, tensors, output_gradient=u)
        for i, (a, g) in enumerate(zip(arrays, grads)):
            assert g.shape == a.shape and g.dtype == a.dtype
            if not prim.domain.differentiable:
                np.testing.assert_array_equal(out.data, a)
                np.testing.assert_array_equal(g, 0)
                continue
            np.testing.assert_allclose(
                g, _numeric_vjp(prim.forward, arrays, attrs, u, i), rtol=RTOL, atol=ATOL,
                err_msg=f"{name}: gradient of input {i} of shapes {shapes}, attrs {attrs}")

    check()


# ---- a composite ----------------------------------------------------------------------------------

def test_two_layer_mlp_with_softmax_cross_entropy_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4))
    labels = np.eye(3)[rng.integers(0, 3, 5)]
    params = [rng.standard_normal((4, 6)) * 0.5, rng.standard_normal(6) * 0.1,
              rng.standard_normal((6, 3)) * 0.5, rng.standard_normal(3) * 0.1]

    def loss(w1, b1, w2, b2):
        h = ops.tanh(x @ w1 + b1)
        probs = ops.softmax(ops.matmul(h, w2) + b2)
        return -ops.mean(ops.sum(labels * ops.log(probs), axis=-1))

    variables = [Variable(p, name=f"p{i}") for i, p in enumerate(params)]
    grads = grad(loss(*variables), variables)

    def loss_value(*arrays):
        with no_grad():
            return loss(*(Tensor(a) for a in arrays)).data

    for i, g in enumerate(grads):
        np.testing.assert_allclose(g, _numeric_vjp(loss_value, params, {}, 1.0, i), rtol=RTOL, atol=ATOL)


# ---- the engine -----------------------------------------------------------------------------------

@pytest.mark.parametrize("x,window,strides,expected", [
    # 2x2 windows tiling a 2x4 image; the first window [[1, 3], [3, 2]] has two maxima
    ([[1.0, 3.0, 3.0, 0.0], [3.0, 2.0, 0.0, 0.0]], (2, 2), (2, 2), [[0.0, 1.0, 10.0, 0.0], [0.0, 0.0, 0.0, 0.0]]),
    # overlapping 1-D windows of [3, 3, 1]: the first window's maximum is its first entry
    ([3.0, 3.0, 1.0], (2,), (1,), [1.0, 10.0, 0.0]),
])
def test_window_max_gives_a_window_cotangent_to_its_first_maximum(x, window, strides, expected):
    """Equal maxima in a window: the first in the window's row-major order takes its whole cotangent. The
    expected values are what tf.nn.max_pool2d / max_pool1d, jax.lax.reduce_window with max and (2-D)
    torch.nn.functional.max_pool2d give for these inputs with output cotangents [1, 10] (checked with
    tensorflow 2.21, jax and torch 2.13 on 2026-12-04): MaxPooling's gradient in every Keras backend."""
    x = np.array(x, dtype=np.float32)
    x = x.reshape((1,) + x.shape + (1,))
    t = Tensor(x)
    out = ops.window_max(t, window, strides)
    (g,) = grad(out, [t], output_gradient=np.array([1.0, 10.0], dtype=np.float32).reshape(out.shape))
    np.testing.assert_array_equal(g.reshape(np.shape(expected)), expected)


def test_a_tensor_used_several_times_accumulates_its_gradients():
    x = Tensor(np.array([1.0, -2.0, 3.0]))
    y = ops.sum(x * x + x + ops.exp(x) * x)
    (g,) = grad(y, [x])
    np.testing.assert_allclose(g, 2 * x.data + 1 + np.exp(x.data) * (1 + x.data))


def test_repeated_advanced_index_sums_into_the_same_entry():
    x = Tensor(np.arange(4.0))
    (g,) = grad(ops.sum(x[[0, 0, 2, 0]]), [x])
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0, 0.0])


def test_max_splits_the_gradient_between_ties():
    x = Tensor(np.array([1.0, 3.0, 3.0]))
    (g,) = grad(ops.max(x), [x])
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5])


def test_unconnected_input_gets_zeros_of_its_shape_and_dtype():
    x = Tensor(np.ones((2, 3)))
    z = Tensor(np.ones(4, np.float32))
    gx, gz = grad(ops.sum(x * 2.0), [x, z])
    np.testing.assert_array_equal(gx, 2.0)
    assert gz.shape == (4,) and gz.dtype == np.float32 and not gz.any()
    (gc,) = grad(Tensor(3.0), [x])   # y with no graph at all
    np.testing.assert_array_equal(gc, np.zeros((2, 3)))


def test_grad_of_a_non_scalar_needs_an_output_gradient():
    x = Tensor(np.ones((2, 3)))
    y = x * 3.0
    with pytest.raises(ValueError, match=r"y must be a scalar.*\(2, 3\).*output_gradient"):
        grad(y, [x])
    (g,) = grad(y, [x], output_gradient=np.full((2, 3), 2.0))
    np.testing.assert_array_equal(g, 6.0)
    with pytest.raises(ValueError, match="output_gradient has shape"):
        grad(y, [x], output_gradient=np.ones(3))
    with pytest.raises(TypeError, match="xs must be a list of Tensors"):
        grad(ops.sum(y), x)


def test_deep_graphs_need_no_recursion():
    x = Tensor(np.array(0.5))
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    (g,) = grad(y, [x])
    assert g == 1.0


def test_gradient_with_respect_to_an_intermediate_tensor():
    x = Tensor(np.array([1.0, 2.0]))
    h = x * 3.0
    y = ops.sum(h * h)
    gh, gx = grad(y, [h, x])
    np.testing.assert_allclose(gh, 2 * h.data)
    np.testing.assert_allclose(gx, 18 * x.data)


def test_no_grad_records_nothing_and_restores_recording():
    x = Variable(np.ones(3))
    with no_grad():
        assert not is_recording()
        y = ops.sum(x * 2.0)
    assert is_recording()
    np.testing.assert_array_equal(grad(y, [x])[0], 0.0)
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError
    assert is_recording()


def test_stop_gradient_passes_the_value_and_blocks_the_gradient():
    x = Tensor(np.array([1.0, 2.0]))
    y = ops.sum(stop_gradient(x) * x)
    np.testing.assert_allclose(y.data, 5.0)
    np.testing.assert_allclose(grad(y, [x])[0], x.data)   # only the unstopped factor


# ---- Variable -------------------------------------------------------------------------------------

def test_variable_assign_is_in_place_and_checks_the_shape():
    initial = np.zeros((2, 3), np.float32)
    v = Variable(initial, name="dense/kernel")
    array = v.data
    v.assign(np.ones((2, 3)))
    assert v.data is array and v.dtype == np.float32 and not initial.any()   # caller's array untouched
    v.assign_add(np.full((2, 3), 2.0))
    v.assign_sub(np.ones((2, 3)))
    np.testing.assert_array_equal(v.data, 2.0)
    with pytest.raises(ValueError, match=r"'dense/kernel'.*\(2, 3\)") as info:
        v.assign(np.ones((3, 2)))
    assert "(3, 2)" in str(info.value)
    assert v.name == "dense/kernel" and v.trainable and not Variable(1.0, trainable=False).trainable


# ---- dtypes and operand mixing --------------------------------------------------------------------

def test_float32_in_float32_out_and_float32_gradients():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    w = Variable(rng.standard_normal((3, 2)).astype(np.float32))
    b = Variable(np.zeros(2, np.float32))
    logits = ops.relu(x @ w + b) * 0.5 - 1           # Python numbers must not promote to float64
    loss = -ops.mean(ops.log_softmax(logits)[:, 0]) + ops.mean(ops.square(w)) ** 2
    assert logits.dtype == np.float32 and loss.dtype == np.float32
    gw, gb = grad(loss, [w, b])
    assert gw.dtype == np.float32 and gb.dtype == np.float32


def test_float64_is_kept_and_scalars_are_exact_in_it():
    x = Tensor(np.array([0.3, 0.7]))
    assert (x * 0.1).dtype == np.float64
    np.testing.assert_array_equal((x * 0.1).data, x.data * 0.1)
    assert Tensor([1, 2]).dtype == np.float32 and Tensor(np.arange(3)).dtype == np.float32


def test_cast_gradient_comes_back_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0]))
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32
    (g,) = grad(ops.sum(y * y), [x])
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, 2 * x.data)


def test_python_operators_and_ndarray_operands():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(a)
    cases = {
        "1 - t": (1 - t, 1 - a), "2 / t": (2 / t, 2 / a), "2 ** t": (2 ** t, 2 ** a),
        "a @ t": (a @ t, a @ a), "a + t": (a + t, a + a), "a * t": (a * t, a * a), "-t": (-t, -a),
        "t.T": (t.T, a.T), "abs(-t)": (abs(-t), a), "t[:, 1]": (t[:, 1], a[:, 1]),
    }
    for expression, (got, expected) in cases.items():
        assert isinstance(got, Tensor), expression
        np.testing.assert_allclose(got.data, expected, err_msg=expression)
    (g,) = grad(ops.sum(a @ t + 2 / t), [t])
    np.testing.assert_allclose(g, a.T @ np.ones((2, 2)) - 2 / a ** 2)


def test_a_partial_vjp_computes_only_the_gradients_asked_for():
    # matmul's VJP is `partial`: asked for b only, it must not compute (or return) a's, and b's must be
    # the same as when both are asked for.
    rng = np.random.default_rng(3)
    a, b = Tensor(rng.standard_normal((5, 3))), Tensor(rng.standard_normal((3, 2)))
    prim = REGISTRY["matmul"]
    assert prim.partial
    g = rng.standard_normal((5, 2))
    only_b = prim.vjp(g, None, a.data, b.data, needs=(False, True))
    assert only_b[0] is None
    (gb,) = grad(ops.matmul(a, b), [b], output_gradient=g)
    ga_both, gb_both = grad(ops.matmul(a, b), [a, b], output_gradient=g)
    np.testing.assert_allclose(gb, gb_both)
    np.testing.assert_allclose(only_b[1], gb_both)
    np.testing.assert_allclose(ga_both, g @ b.data.T)
