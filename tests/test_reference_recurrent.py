"""The recurrent layers of the reference (reference/layers/recurrent.py) against formulas written out here in
plain NumPy, per version: gate orders and weight layouts, GRU reset_after, implementation 1 / 2 and unroll
giving the same numbers, masking (each version's output at a masked step), go_backwards, stateful chunks,
initial_state, dropout in training only, unit_forget_bias, names and configs; and a float64
finite-difference check of the gradients through time (an LSTM on a masked input)."""
from __future__ import annotations

import numpy as np
import pytest

from keras_conformance import reference
from keras_conformance.reference import backend
from keras_conformance.reference.autodiff import Variable, grad, no_grad, ops

VERSIONS = ("2.2.4", "2.3", "3")


@pytest.fixture(params=VERSIONS)
def K(request):
    backend.set_seed(1234)
    return reference.keras(request.param)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _hard_sigmoid(v):
    slope = 1.0 / 6.0 if v == "3" else 0.2
    return lambda x: np.clip(slope * x + 0.5, 0.0, 1.0)


def _weights(rng, shapes, scale=0.6):
    return [(rng.standard_normal(s) * scale).astype("float32") for s in shapes]


def _predict(K, layer, x, mask_value=None, batch_shape=False):
    shape = x.shape if batch_shape else None
    i = K.layers.Input(batch_shape=shape) if batch_shape else K.layers.Input(shape=x.shape[1:])
    t = K.layers.Masking(mask_value=mask_value)(i) if mask_value is not None else i
    model = K.models.Model(i, layer(t))
    return model


# --- NumPy formulas ---------------------------------------------------------------------------------

def np_lstm(x, kernel, recurrent, bias, ra=_sigmoid, act=np.tanh, h=None, c=None):
    """keras' LSTM: gates i, f, c, o along the last axis."""
    batch, steps, _ = x.shape
    u = recurrent.shape[0]
    h = np.zeros((batch, u)) if h is None else h
    c = np.zeros((batch, u)) if c is None else c
    outs = []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ recurrent + (0 if bias is None else bias)
        i, f, g, o = z[:, :u], z[:, u:2 * u], z[:, 2 * u:3 * u], z[:, 3 * u:]
        c = ra(f) * c + ra(i) * act(g)
        h = ra(o) * act(c)
        outs.append(h)
    return np.stack(outs, 1), h, c


def np_gru(x, kernel, recurrent, bias, reset_after, ra=_sigmoid, act=np.tanh):
    """keras' GRU: gates z, r, h; reset_after applies r to (h U_h + b'_h)."""
    batch, steps, _ = x.shape
    u = recurrent.shape[0]
    h = np.zeros((batch, u))
    if bias is None:
        bi, br = np.zeros(3 * u), np.zeros(3 * u)
    elif reset_after:
        bi, br = bias[0], bias[1]
    else:
        bi, br = bias, np.zeros(3 * u)
    outs = []
    for t in range(steps):
        xz = x[:, t] @ kernel + bi
        z = ra(xz[:, :u] + h @ recurrent[:, :u] + br[:u])
        r = ra(xz[:, u:2 * u] + h @ recurrent[:, u:2 * u] + br[u:2 * u])
        if reset_after:
            hh = act(xz[:, 2 * u:] + r * (h @ recurrent[:, 2 * u:] + br[2 * u:]))
        else:
            hh = act(xz[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1), h


def np_simple(x, kernel, recurrent, bias, h0=None, mask=None, rule="previous_output"):
    """keras' SimpleRNN, with a mask: a masked step keeps h; its output is the previous output (zeros at the
    first step) or, rule "first_state", the previous state h (keras 2.2.4's symbolic loop)."""
    batch, steps, _ = x.shape
    u = recurrent.shape[0]
    h = np.zeros((batch, u)) if h0 is None else h0
    outs, prev = [], np.zeros((batch, u))
    for t in range(steps):
        new = np.tanh(x[:, t] @ kernel + bias + h @ recurrent)
        if mask is None:
            out, h = new, new
        else:
            keep = mask[:, t:t + 1]
            fallback = h if rule == "first_state" else prev
            out = np.where(keep, new, fallback)
            h = np.where(keep, new, h)
        outs.append(out)
        prev = out
    return np.stack(outs, 1), h


# --- weights, gates and formulas --------------------------------------------------------------------

def test_lstm_gate_order_and_layout(K):
    v = K.api_version
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    for implementation in ((1, 2) if v != "3" else (None,)):
        kw = {} if implementation is None else {"implementation": implementation}
        layer = K.layers.LSTM(3, return_sequences=True, **kw)
        model = _predict(K, layer, x)
        assert [w.shape for w in layer.get_weights()] == [(2, 12), (3, 12), (12,)]
        w = _weights(rng, [(2, 12), (3, 12), (12,)])
        layer.set_weights(w)
        ra = _hard_sigmoid(v) if v == "2.2.4" else _sigmoid
        expected, _, _ = np_lstm(x, *w, ra=ra)
        np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_reset_after(K, reset_after):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 3)).astype("float32")
    outs = []
    for implementation in (1, 2):
        kw = {"implementation": implementation}
        layer = K.layers.GRU(2, reset_after=reset_after, recurrent_activation="sigmoid", return_sequences=True, **kw)
        model = _predict(K, layer, x)
        bias_shape = (2, 6) if reset_after else (6,)
        assert [w.shape for w in layer.get_weights()] == [(3, 6), (2, 6), bias_shape]
        w = _weights(np.random.default_rng(2), [(3, 6), (2, 6), bias_shape])
        layer.set_weights(w)
        expected, _ = np_gru(x, *w, reset_after=reset_after)
        got = model.predict(x, verbose=0)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        outs.append(got)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)


def test_gru_reset_after_default_by_version(K):
    assert K.layers.GRU(2).reset_after is (K.api_version == "3")
    assert K.layers.GRUCell(2).reset_after is (K.api_version == "3")
    expected_ra = "hard_sigmoid" if K.api_version == "2.2.4" else "sigmoid"
    assert K.layers.LSTM(2).get_config()["recurrent_activation"] == expected_ra


def test_unroll_and_implementations_agree(K):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 2)).astype("float32")
    x[0, 1] = 0.0
    for make in (lambda **kw: K.layers.LSTM(2, return_sequences=True, **kw),
                 lambda **kw: K.layers.GRU(2, return_sequences=True, **kw),
                 lambda **kw: K.layers.SimpleRNN(2, return_sequences=True, **kw)):
        base = make()
        _predict(K, base, x, mask_value=0.0)
        w = _weights(rng, [a.shape for a in base.get_weights()])
        results = []
        for unroll in (False, True):
            for go_backwards in (False, True):
                layer = make(unroll=unroll, go_backwards=go_backwards)
                model = _predict(K, layer, x, mask_value=0.0)
                layer.set_weights(w)
                results.append((go_backwards, model.predict(x, verbose=0)))
        for gb in (False, True):
            a, b = [r for g, r in results if g == gb]
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_go_backwards_is_the_reversed_sequence(K):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    fwd, back = K.layers.SimpleRNN(2, return_sequences=True), K.layers.SimpleRNN(2, return_sequences=True,
                                                                                  go_backwards=True)
    mf, mb = _predict(K, fwd, x), _predict(K, back, x)
    back.set_weights(fwd.get_weights())
    # go_backwards walks x from its last step and returns the outputs in that (reversed) order
    np.testing.assert_allclose(mb.predict(x, verbose=0), mf.predict(x[:, ::-1], verbose=0), rtol=1e-6, atol=1e-6)


def test_unit_forget_bias(K):
    layer = K.layers.LSTM(2)
    _predict(K, layer, np.zeros((1, 2, 3), "float32"))
    np.testing.assert_array_equal(layer.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])
    layer = K.layers.LSTM(2, unit_forget_bias=False)
    _predict(K, layer, np.zeros((1, 2, 3), "float32"))
    np.testing.assert_array_equal(layer.get_weights()[2], np.zeros(8))


# --- masking ------------------------------------------------------------------------------------------

def test_masked_steps_keep_the_state(K):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    x[0, 0] = 0.0          # a masked first step
    x[1, 2] = 0.0
    x[2, 3] = 0.0          # a masked last step
    mask = np.any(x != 0.0, axis=-1)
    layer = K.layers.SimpleRNN(2, return_sequences=True, return_state=True)
    model = _predict(K, layer, x, mask_value=0.0)
    w = _weights(rng, [(2, 2), (2, 2), (2,)])
    layer.set_weights(w)
    seq, state = model.predict(x, verbose=0)
    rule = "first_state" if K.api_version == "2.2.4" else "previous_output"
    exp_seq, exp_state = np_simple(x, *w, mask=mask, rule=rule)
    np.testing.assert_allclose(seq, exp_seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state, exp_state, rtol=1e-5, atol=1e-6)
    assert np.all(seq[0, 0] == 0.0)            # zero initial state: both rules give zeros at step 0


def test_masked_first_step_output_by_version(K):
    """With a non-zero initial state and a masked first step the rules differ: 2.2.4's symbolic loop outputs
    the initial state (states[0]); its unrolled loop, 2.3.1 and keras 3 output zeros."""
    v = K.api_version
    x = np.zeros((1, 2, 1), "float32")
    x[0, 1, 0] = 1.0
    h0 = np.full((1, 2), 0.5, "float32")
    for unroll in (False, True):
        layer = K.layers.SimpleRNN(2, return_sequences=True, unroll=unroll)
        i, s = K.layers.Input(shape=(2, 1)), K.layers.Input(shape=(2,))
        model = K.models.Model([i, s], layer(K.layers.Masking(0.0)(i), initial_state=[s]))
        layer.set_weights([np.ones((1, 2), "float32"), np.eye(2, dtype="float32"), np.zeros(2, "float32")])
        out = model.predict([x, h0], verbose=0)
        first = h0[0] if (v == "2.2.4" and not unroll) else np.zeros(2)
        np.testing.assert_allclose(out[0, 0], first, atol=1e-7)
        np.testing.assert_allclose(out[0, 1], np.tanh(1.0 + h0[0]), rtol=1e-6)


def test_zero_output_for_mask_keras3():
    K = reference.keras("3")
    x = np.ones((1, 3, 1), "float32")
    x[0, 1] = 0.0
    for zero in (False, True):
        layer = K.layers.RNN(K.layers.SimpleRNNCell(1), return_sequences=True, zero_output_for_mask=zero)
        model = _predict(K, layer, x, mask_value=0.0)
        layer.set_weights([np.ones((1, 1), "float32"), np.ones((1, 1), "float32"), np.zeros(1, "float32")])
        out = model.predict(x, verbose=0)[0, :, 0]
        assert out[1] == (0.0 if zero else out[0])


def test_compute_mask(K):
    m = np.array([[True, False]])
    assert K.layers.LSTM(2).compute_mask(None, m) is None
    assert K.layers.LSTM(2, return_sequences=True).compute_mask(None, m) is m
    assert K.layers.LSTM(2, return_sequences=True, return_state=True).compute_mask(None, m)[1:] == [None, None]


def test_stacked_cells_masked_output_224():
    """keras 2.2.4's symbolic loop gives a masked step states[0]: for a stack, the first cell's h (a faithful
    quirk; unroll=True gives the previous output)."""
    K = reference.keras("2.2.4")
    x = np.ones((1, 2, 1), "float32")
    x[0, 1] = 0.0
    outs = {}
    for unroll in (False, True):
        layer = K.layers.RNN([K.layers.SimpleRNNCell(1), K.layers.SimpleRNNCell(1)], return_sequences=True,
                             unroll=unroll)
        model = _predict(K, layer, x, mask_value=0.0)
        layer.set_weights([np.ones((1, 1), "float32"), np.zeros((1, 1), "float32"), np.zeros(1, "float32"),
                           np.full((1, 1), 2.0, "float32"), np.zeros((1, 1), "float32"), np.zeros(1, "float32")])
        outs[unroll] = model.predict(x, verbose=0)[0, :, 0]
    h1 = np.tanh(1.0)
    np.testing.assert_allclose(outs[False], [np.tanh(2 * h1), h1], rtol=1e-6)
    np.testing.assert_allclose(outs[True], [np.tanh(2 * h1), np.tanh(2 * h1)], rtol=1e-6)


# --- states ---------------------------------------------------------------------------------------------

def test_stateful_chunks_continue(K):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    whole = K.layers.LSTM(2, return_sequences=True)
    mw = _predict(K, whole, x)
    layer = K.layers.LSTM(2, return_sequences=True, stateful=True)
    ms = _predict(K, layer, x[:, :2], batch_shape=True)
    layer.set_weights(whole.get_weights())
    full = mw.predict(x, verbose=0)
    parts = [ms.predict_on_batch(x[:, :2]), ms.predict_on_batch(x[:, 2:])]
    np.testing.assert_allclose(np.concatenate(parts, 1), full, rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(ms.predict_on_batch(x[:, :2]), full[:, :2], rtol=1e-5, atol=1e-6)
    if K.api_version != "3":
        h = rng.standard_normal((2, 2)).astype("float32")
        layer.reset_states([h, h])
        np.testing.assert_allclose(layer.states[0], h)
        with pytest.raises(ValueError):
            layer.reset_states([h])
        with pytest.raises(AttributeError):
            K.layers.LSTM(2).reset_states()


def test_stateful_needs_a_batch_size(K):
    with pytest.raises(ValueError):
        K.layers.GRU(2, stateful=True)(K.layers.Input(shape=(3, 2)))


def test_initial_state_symbolic_and_eager(K):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 2)).astype("float32")
    h0, c0 = rng.standard_normal((2, 2)).astype("float32"), rng.standard_normal((2, 2)).astype("float32")
    layer = K.layers.LSTM(2, return_state=True)
    i, h, c = K.layers.Input(shape=(3, 2)), K.layers.Input(shape=(2,)), K.layers.Input(shape=(2,))
    outs = layer(i, initial_state=[h, c])
    assert len(outs) == 3
    assert len(layer._inbound_nodes[-1].input_tensors) == 3     # the states are inputs of the node (keras 2)
    model = K.models.Model([i, h, c], outs)
    w = _weights(rng, [(2, 8), (2, 8), (8,)])
    layer.set_weights(w)
    out, hT, cT = model.predict([x, h0, c0], verbose=0)
    _, eh, ec = np_lstm(x, *w, ra=_hard_sigmoid(K.api_version) if K.api_version == "2.2.4" else _sigmoid,
                        h=h0, c=c0)
    np.testing.assert_allclose(out, eh, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(cT, ec, rtol=1e-5, atol=1e-6)
    eager = layer(x, initial_state=[h0, c0])
    np.testing.assert_allclose(eager[0].numpy(), eh, rtol=1e-5, atol=1e-6)
    rebuilt = K.models.Model.from_config(model.get_config())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict([x, h0, c0], verbose=0)[0], out, rtol=1e-6)
    with pytest.raises(ValueError):
        layer(x, initial_state=[h0])


def test_dropout_only_in_training(K):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 4, 3)).astype("float32")
    plain = K.layers.GRU(3, return_sequences=True)
    layer = K.layers.GRU(3, return_sequences=True, dropout=0.5, recurrent_dropout=0.3)
    mp, md = _predict(K, plain, x), _predict(K, layer, x)
    layer.set_weights(plain.get_weights())
    np.testing.assert_allclose(md.predict(x, verbose=0), mp.predict(x, verbose=0), rtol=1e-6)
    a, b = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.allclose(a, b)                               # a fresh mask per call
    # one mask per call, reused at every step: the input mask of the last call is a single (batch, features)
    # array per gate, cleared once the call is done
    assert layer.cell._dropout_mask is None
    cell = layer.cell
    seen = []
    original = cell._draw

    def draw(like, rate, count):
        seen.append(tuple(like.shape))
        return original(like, rate, count)
    cell._draw = draw
    layer(x, training=True)
    assert seen == [(64, 3), (64, 3)]                         # dropout and recurrent_dropout: once each


def test_names_and_config(K):
    v = K.api_version
    x = np.zeros((1, 2, 3), "float32")
    layer = K.layers.RNN([K.layers.LSTMCell(2), K.layers.GRUCell(2, reset_after=True)])
    _predict(K, layer, x)
    names = [w.name for w in layer.weights]
    if v == "3":
        assert names == ["kernel", "recurrent_kernel", "bias"] * 2
        assert layer.weights[0].path.startswith(f"{layer.name}/{layer.cell.name}/")
    else:
        assert names == [f"{layer.name}/{n}:0" for n in ("kernel", "recurrent_kernel", "bias", "kernel_1",
                                                        "recurrent_kernel_1", "bias_1")]
    config = layer.get_config()
    again = K.layers.RNN.from_config(config)
    assert type(again.cell).__name__ == "StackedRNNCells"
    assert [type(c).__name__ for c in again.cell.cells] == ["LSTMCell", "GRUCell"]
    lstm = K.layers.LSTM(2)
    assert ("implementation" in lstm.get_config()) is (v != "3")
    assert ("zero_output_for_mask" in lstm.get_config()) is (v == "3")


def test_keras2_surface():
    """2.x legacy_recurrent_support: only `units` positional; input_dim / input_length -> input_shape (seed
    002: LSTM(32, input_length=10, input_dim=64))."""
    for v in ("2.2.4", "2.3"):
        K = reference.keras(v)
        with pytest.raises(TypeError):
            K.layers.LSTM(2, "tanh")
        model = K.models.Sequential([K.layers.LSTM(32, input_length=10, input_dim=64)])
        assert model.output_shape == (None, 32)
        assert model.layers[0].input_shape == (None, 10, 64)
    K = reference.keras("3")
    K.layers.LSTM(2, "tanh")
    K.layers.LSTM(2, implementation=1, zero_output_for_mask=True)
    with pytest.raises(ValueError):
        K.layers.SimpleRNN(2, implementation=1)
    with pytest.raises(ValueError):
        K.layers.LSTM(0)


# --- gradients through time -------------------------------------------------------------------------

def _fd_check(layer, x, mask, eps=1e-6):
    """Autodiff gradients of sum(outputs * r) with respect to the input and every weight, against central
    differences, in float64. Returns the largest relative error."""
    rng = np.random.default_rng(11)
    r = rng.standard_normal(layer.compute_output_shape(x.shape))
    xv = Variable(x, name="x", dtype="float64")

    def loss(inp):
        return ops.sum(layer.call(inp, mask=mask) * r)
    params = [xv] + list(layer.weights)
    analytic = grad(loss(xv), params)
    worst = 0.0
    for p, g in zip(params, analytic):
        numeric = np.zeros_like(p.data)
        for idx in np.ndindex(p.data.shape):
            old = p.data[idx]
            with no_grad():
                p.data[idx] = old + eps
                up = float(loss(xv).data)
                p.data[idx] = old - eps
                down = float(loss(xv).data)
            p.data[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        err = np.max(np.abs(g - numeric) / np.maximum(1.0, np.abs(numeric)))
        worst = max(worst, float(err))
    return worst


@pytest.fixture
def float64():
    """floatx float64 (a 2.x layer's own cell takes floatx, not the layer's dtype)."""
    before = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(before)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("make", ["lstm", "gru", "stack"])
def test_gradient_through_time_float64(version, make, float64):
    """An LSTM (a GRU with reset_after, a stack of cells going backwards) on an input with masked steps, in
    float64: the autodiff gradients with respect to the input and every weight against central differences
    (eps 1e-6): the largest relative error |g - fd| / max(1, |fd|) is below 1e-7 (runs give ~1e-9)."""
    K = reference.keras(version)
    backend.set_seed(5)
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 4, 3))
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    mask = np.any(x != 0.0, axis=-1)
    # sigmoid gates: hard_sigmoid (the 2.2.4 default) has kinks a central difference may straddle
    layer = {"lstm": lambda: K.layers.LSTM(2, return_sequences=True, recurrent_activation="sigmoid"),
             "gru": lambda: K.layers.GRU(2, return_sequences=True, reset_after=True, recurrent_activation="sigmoid"),
             "stack": lambda: K.layers.RNN([K.layers.SimpleRNNCell(2), K.layers.LSTMCell(
                 2, recurrent_activation="sigmoid")], return_sequences=True, go_backwards=True)}[make]()
    layer._maybe_build(x.shape)
    assert all(w.dtype == np.float64 for w in layer.weights)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape) * 0.5)
    worst = _fd_check(layer, x, mask)
    print(f"{version} {make}: max relative error {worst:.3g}")
    assert worst < 1e-7


def test_return_state_output_mask_reaches_the_loss(K):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    x[0, 1] = 0.0
    x[2, 3] = 0.0
    ys = [rng.standard_normal(s).astype("float32") for s in [(3, 4, 2), (3, 2), (3, 2)]]
    losses = []
    for return_state in (False, True):
        layer = K.layers.LSTM(2, return_sequences=True, return_state=return_state)
        model = _predict(K, layer, x, mask_value=0.0)
        if return_state:
            layer.set_weights(weights)
        weights = layer.get_weights()
        model.compile(optimizer=K.optimizers.SGD(0.0), loss="mean_squared_error")
        if return_state:
            _, h, c = model.predict(x, verbose=0)
            states = np.mean((h - ys[1]) ** 2) + np.mean((c - ys[2]) ** 2)
            losses.append(float(np.ravel(model.train_on_batch(x, ys))[0]) - states)
        else:
            losses.append(float(np.ravel(model.train_on_batch(x, ys[0]))[0]))
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-5)


@pytest.mark.parametrize("options", [{}, {"go_backwards": True, "return_sequences": True},
                                     {"use_bias": False, "return_state": True},
                                     {"implementation": 1, "return_sequences": True}],
                         ids=["last", "backwards-sequences", "no-bias-states", "implementation-1"])
def test_lstm_as_one_primitive_is_the_loop_of_its_cell_steps(K, options, monkeypatch):
    """An LSTM with tanh and sigmoid and no dropout runs its steps as the one ops.lstm primitive; the same
    layer on a mask that keeps every step takes the loop of LSTMCell steps. Outputs, states and the
    gradients with respect to the input, the initial states and every weight agree to float32 rounding."""
    from keras_conformance.reference.layers import recurrent
    calls = []
    fused = recurrent.ops.lstm
    monkeypatch.setattr(recurrent.ops, "lstm", lambda *a, **k: calls.append(1) or fused(*a, **k))
    rng = np.random.default_rng(21)
    x = Variable(rng.standard_normal((3, 5, 4)).astype("float32"))
    h0, c0 = (Variable(rng.standard_normal((3, 2)).astype("float32")) for _ in range(2))
    layer = K.layers.LSTM(2, recurrent_activation="sigmoid", **options)
    layer._maybe_build(x.shape)
    for w in layer.weights:
        w.assign(rng.standard_normal(w.shape).astype("float32") * 0.5)

    def run(mask):
        out = layer.call(x, mask=mask, initial_state=[h0, c0])
        outs = out if isinstance(out, list) else [out]
        cotangents = np.random.default_rng(99)
        loss = sum(ops.sum(o * cotangents.standard_normal(o.shape).astype("float32")) for o in outs)
        return [o.data for o in outs] + list(grad(loss, [x, h0, c0, *layer.weights]))

    fused_results = run(None)
    assert calls == [1], "the unmasked call did not run as the one primitive"
    loop_results = run(np.ones((3, 5), dtype=bool))
    assert calls == [1], "the masked call ran as the one primitive"
    for a, b in zip(fused_results, loop_results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
