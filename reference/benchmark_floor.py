"""The floor: the benchmark's three models written out by hand in plain NumPy.

No framework, no graph, no autodiff: each model is its forward pass and its backward pass, derived on
paper, in float32, on preallocated buffers. It is what the same arithmetic costs when nothing but NumPy
runs it, so the reference's time divided by the floor's is what the reference's generality costs (its
Tensor graph, its primitives' bookkeeping, its Keras-shaped engine), and the floor is the lower bound
that ratio is read against.

It is the same workload as the reference, not an approximation of it: each class takes the weight list
of ``model.get_weights()`` (same order, same layouts: Dense kernels (in, out), Conv2D kernels
(kh, kw, in, out) channels_last, LSTM kernels with the gates i, f, c, o along the last axis), its
``train_on_batch`` is one SGD step (learning rate 0.01) on Keras 3's loss (the mean over the batch of the
categorical or binary cross-entropy of probabilities clipped to [1e-7, 1 - 1e-7]), and its ``fit`` and
``predict`` visit the batches in order, as Keras does with ``shuffle=False``.
tests/test_benchmark_floor.py checks predictions, losses and updated weights against the reference.

    from keras_conformance.reference import benchmark_floor
    model = benchmark_floor.build("cnn", reference_model.get_weights())
    loss = model.train_on_batch(x, y)
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

F32 = np.float32
EPSILON = F32(1e-7)
LEARNING_RATE = F32(0.01)


# -- pieces shared by the models ------------------------------------------------------------------------------
def _sigmoid_(z):
    """The logistic function, in place. exp(-z) may overflow to inf for z < -88; 1 / (1 + inf) is the
    right limit, 0, so the overflow is silenced by the caller rather than avoided with a second branch."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    np.reciprocal(z, out=z)
    return z


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _categorical_crossentropy(p, y):
    """Keras 3's loss on softmax probabilities ``p`` and the gradient it sends to the logits.

    Keras renormalises ``p`` by its sum, clips it to [eps, 1 - eps] and averages ``-sum(y log p)`` over
    the batch. Through the softmax the gradient is ``(p * sum(y') / s - y') / batch`` with ``s`` the sum
    of ``p`` and ``y' = y`` where ``p`` was not clipped, 0 where it was (a clipped entry passes no
    gradient): the chain softmax -> renormalise -> clip -> log, multiplied out."""
    batch = F32(len(p))
    s = p.sum(axis=1, keepdims=True)
    q = p / s
    clipped = np.clip(q, EPSILON, 1 - EPSILON)
    loss = -np.sum(y * np.log(clipped)) / batch
    y_kept = np.where(clipped == q, y, F32(0))
    dz = p * (y_kept.sum(axis=1, keepdims=True) / s)
    dz -= y_kept
    dz /= batch
    return loss, dz


def _binary_crossentropy(p, y):
    """Keras 3's loss on sigmoid probabilities ``p`` (batch, 1) and the gradient to the logits: through the
    sigmoid ``(p - y) / batch``, 0 where ``p`` was clipped."""
    batch = F32(p.size)
    clipped = np.clip(p, EPSILON, 1 - EPSILON)
    loss = -np.sum(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)) / batch
    dz = np.where(clipped == p, p - y, F32(0))
    dz /= batch
    return loss, dz


def _sgd_(weight, gradient):
    """``weight -= lr * gradient`` in place, reusing the gradient's buffer (it is not needed after)."""
    gradient *= LEARNING_RATE
    weight -= gradient


class _Floor:
    """What the three models share: the weights, and the Keras loops the benchmark times."""

    shapes: tuple = ()

    def __init__(self, weights):
        weights = [np.array(w, dtype=F32) for w in weights]   # a copy: the caller's arrays stay as they are
        got = tuple(w.shape for w in weights)
        if got != self.shapes:
            raise ValueError(f"{type(self).__name__}: expected weights of shapes {self.shapes}, got {got}")
        self.weights = weights
        self._buffers = {}

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def _buffer(self, name, shape, dtype=F32):
        # One buffer per name and shape: every batch of an epoch but the last has the same size, so each
        # step after the first allocates nothing for its largest arrays.
        key = (name, shape)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = np.empty(shape, dtype)
        return buf

    def predict_on_batch(self, x):
        with np.errstate(over="ignore"):
            return self._forward(np.asarray(x))[0].copy()

    def train_on_batch(self, x, y):
        """One SGD step; the loss before it, as Keras returns it."""
        with np.errstate(over="ignore"):
            return float(self._step(np.asarray(x), np.asarray(y, dtype=F32)))

    def fit(self, x, y, batch_size=32, epochs=1, verbose=0, shuffle=False):
        """Epochs of ``train_on_batch`` over consecutive slices; returns ``{"loss": [epoch means]}`` (each
        batch's loss weighted by its size, as Keras averages them)."""
        if shuffle:
            raise ValueError("the floor visits the batches in order only (shuffle=False)")
        n = len(x)
        losses = []
        for _ in range(epochs):
            total = 0.0
            for start in range(0, n, batch_size):
                stop = min(start + batch_size, n)
                total += self.train_on_batch(x[start:stop], y[start:stop]) * (stop - start)
            losses.append(total / n)
        return {"loss": losses}

    def predict(self, x, batch_size=32, verbose=0):
        n = len(x)
        out = None
        with np.errstate(over="ignore"):
            for start in range(0, n, batch_size):
                p = self._forward(np.asarray(x[start:start + batch_size]))[0]
                if out is None:
                    out = np.empty((n,) + p.shape[1:], F32)
                out[start:start + len(p)] = p
        return out


# -- the models ------------------------------------------------------------------------------------------------
class MLP(_Floor):
    """Dense 128 relu -> Dense 128 relu -> Dense 10 softmax on 64 inputs."""

    shapes = ((64, 128), (128,), (128, 128), (128,), (128, 10), (10,))

    def _forward(self, x):
        w1, b1, w2, b2, w3, b3 = self.weights
        batch = len(x)
        h1 = np.matmul(x, w1, out=self._buffer("h1", (batch, 128)))
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = np.matmul(h1, w2, out=self._buffer("h2", (batch, 128)))
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z3 = np.matmul(h2, w3, out=self._buffer("z3", (batch, 10)))
        z3 += b3
        return _softmax(z3), h1, h2

    def _step(self, x, y):
        w1, b1, w2, b2, w3, b3 = self.weights
        p, h1, h2 = self._forward(x)
        loss, dz3 = _categorical_crossentropy(p, y)
        # Each layer's input gradient is taken before its weights move: the step is on the old weights.
        dh2 = dz3 @ w3.T
        _sgd_(w3, h2.T @ dz3)
        _sgd_(b3, dz3.sum(axis=0))
        dh2 *= h2 > 0
        dh1 = dh2 @ w2.T
        _sgd_(w2, h1.T @ dh2)
        _sgd_(b2, dh2.sum(axis=0))
        dh1 *= h1 > 0
        _sgd_(w1, x.T @ dh1)
        _sgd_(b1, dh1.sum(axis=0))
        return loss


class CNN(_Floor):
    """Conv2D 32 3x3 valid relu -> MaxPooling2D 2x2 -> Flatten -> Dense 10 softmax on 28x28x1."""

    shapes = ((3, 3, 1, 32), (32,), (13 * 13 * 32, 10), (10,))

    def _forward(self, x):
        kernel, bias, w, b = self.weights
        batch = len(x)
        windows = sliding_window_view(x, (3, 3), axis=(1, 2))            # (batch, 26, 26, in, kh, kw)
        # im2col, transposed: one row per kernel tap, one column per output pixel, so the copy out of the
        # window view runs along contiguous image rows (several times faster than one row per pixel), and
        # a last row of ones makes the bias the kernel's tenth row: the product adds it, and the kernel's
        # gradient brings the bias's with it (the sum over pixels of the pixel gradients).
        cols = self._buffer("cols", (10, batch, 26, 26))
        np.copyto(cols[:9].reshape(3, 3, 1, batch, 26, 26), windows.transpose(4, 5, 3, 0, 1, 2))
        cols[9] = 1
        cols = cols.reshape(10, batch * 26 * 26)
        taps = self._buffer("taps", (10, 32))
        taps[:9] = kernel.reshape(9, 32)
        taps[9] = bias
        conv = np.matmul(cols.T, taps, out=self._buffer("conv", (batch * 26 * 26, 32)))
        conv = conv.reshape(batch, 26, 26, 32)
        # 2x2 max pooling as the maximum of the four strided quarter images: faster than a max over two
        # non-adjacent axes of a reshaped view. The relu comes after it, on a quarter of the pixels:
        # relu(max(a)) = max(relu(a)), as relu is monotone.
        pooled = self._buffer("pooled", (batch, 13, 13, 32))
        np.maximum(conv[:, 0::2, 0::2], conv[:, 0::2, 1::2], out=pooled)
        np.maximum(pooled, conv[:, 1::2, 0::2], out=pooled)
        np.maximum(pooled, conv[:, 1::2, 1::2], out=pooled)
        np.maximum(pooled, 0, out=pooled)
        flat = pooled.reshape(batch, 13 * 13 * 32)                      # channels_last, as Keras flattens
        z = np.matmul(flat, w, out=self._buffer("z", (batch, 10)))
        z += b
        return _softmax(z), cols, conv, pooled, flat

    def _step(self, x, y):
        kernel, bias, w, b = self.weights
        p, cols, conv, pooled, flat = self._forward(x)
        batch = len(x)
        loss, dz = _categorical_crossentropy(p, y)
        dpooled = (dz @ w.T).reshape(batch, 13, 13, 32)
        _sgd_(w, flat.T @ dz)
        _sgd_(b, dz.sum(axis=0))
        # The pooled gradient goes to the window's maximum, times the relu's derivative, which is 0 where
        # the maximum is <= 0: that mask is taken once, on the small pooled image (and where it is 0, the
        # comparison of a pixel with the relu's 0 may pick a pixel that is not the maximum, to no effect).
        # Two equal positive maxima in one window, which float data practically never hold, would each get
        # the whole gradient, where TensorFlow gives it to one and the reference shares it.
        dpooled *= pooled > 0
        dconv = self._buffer("dconv", (batch, 26, 26, 32))
        winner = self._buffer("winner", (batch, 13, 13, 32), bool)
        for i in (0, 1):
            for j in (0, 1):
                np.equal(conv[:, i::2, j::2], pooled, out=winner)
                np.multiply(dpooled, winner, out=dconv[:, i::2, j::2])
        dtaps = cols @ dconv.reshape(batch * 26 * 26, 32)
        _sgd_(kernel, dtaps[:9].reshape(3, 3, 1, 32))
        _sgd_(bias, dtaps[9])
        return loss


class LSTM(_Floor):
    """Embedding 1000x32 -> LSTM 64 (last output) -> Dense 1 sigmoid on integer sequences of 50."""

    units = 64
    shapes = ((1000, 32), (32, 4 * 64), (64, 4 * 64), (4 * 64,), (64, 1), (1,))

    def _forward(self, x):
        embeddings, kernel, recurrent, bias, w, b = self.weights
        u = self.units
        batch, steps = x.shape
        # Time-major: step t's rows are contiguous, and the input projection of every step is one product.
        tokens = x.T
        inputs = embeddings[tokens]                                     # (steps, batch, 32)
        gates = np.matmul(inputs.reshape(steps * batch, 32), kernel,
                          out=self._buffer("gates", (steps * batch, 4 * u)))
        gates += bias
        gates = gates.reshape(steps, batch, 4 * u)
        h = self._buffer("h", (steps + 1, batch, u))
        c = self._buffer("c", (steps + 1, batch, u))
        tanh_c = self._buffer("tanh_c", (steps, batch, u))
        recurrent_in = self._buffer("recurrent_in", (batch, 4 * u))
        cand = self._buffer("cand", (batch, u))
        h[0] = 0
        c[0] = 0
        for t in range(steps):
            g = gates[t]
            g += np.matmul(h[t], recurrent, out=recurrent_in)
            # The sigmoid over all four gates, then the candidate's tanh put back: NumPy's ufuncs run
            # about twice as fast on a contiguous block as on column slices of it.
            np.tanh(g[:, 2 * u:3 * u], out=cand)
            _sigmoid_(g)
            g[:, 2 * u:3 * u] = cand
            np.multiply(g[:, u:2 * u], c[t], out=c[t + 1])
            cand *= g[:, :u]
            c[t + 1] += cand
            np.tanh(c[t + 1], out=tanh_c[t])
            np.multiply(g[:, 3 * u:], tanh_c[t], out=h[t + 1])
        z = h[steps] @ w
        z += b
        return _sigmoid_(z), tokens, inputs, gates, h, c, tanh_c

    def _step(self, x, y):
        embeddings, kernel, recurrent, bias, w, b = self.weights
        u = self.units
        p, tokens, inputs, gates, h, c, tanh_c = self._forward(x)
        steps, batch = tokens.shape
        loss, dz = _binary_crossentropy(p, y)
        dh = dz @ w.T
        _sgd_(w, h[steps].T @ dz)
        _sgd_(b, dz.sum(axis=0))
        # Every factor of the gates' gradients that the recurrence does not carry, for all steps at once
        # (contiguous arrays, few calls); the loop over time is then left with what depends on dh and dc:
        #   d(pre-i) = dc * cand * i(1-i)        d(pre-f) = dc * c_prev * f(1-f)
        #   d(pre-c) = dc * i * (1-cand^2)       d(pre-o) = dh * tanh(c) * o(1-o)
        #   dc += dh * o * (1 - tanh(c)^2)       dc_prev = dc * f
        i, f, cand, o = (gates[..., k * u:(k + 1) * u] for k in range(4))
        factors = self._buffer("factors", (steps, batch, 4 * u))
        np.subtract(1, gates, out=factors)
        factors *= gates
        factors[..., :u] *= cand
        factors[..., u:2 * u] *= c[:steps]
        np.multiply(cand, cand, out=factors[..., 2 * u:3 * u])
        np.subtract(1, factors[..., 2 * u:3 * u], out=factors[..., 2 * u:3 * u])
        factors[..., 2 * u:3 * u] *= i
        factors[..., 3 * u:] *= tanh_c
        to_cell = 1 - tanh_c * tanh_c
        to_cell *= o
        dgates = self._buffer("dgates", (steps, batch, 4 * u))
        dc = np.zeros((batch, u), F32)
        carried = np.empty((batch, u), F32)
        for t in range(steps - 1, -1, -1):
            d = dgates[t]
            dc += np.multiply(dh, to_cell[t], out=carried)
            np.multiply(dc[:, None, :], factors[t, :, :3 * u].reshape(batch, 3, u),
                        out=d[:, :3 * u].reshape(batch, 3, u))
            np.multiply(dh, factors[t, :, 3 * u:], out=d[:, 3 * u:])
            dc *= f[t]
            if t:                                                       # h[0] is the zero state: no gradient
                dh = d @ recurrent.T
        flat = dgates.reshape(steps * batch, 4 * u)
        dinputs = flat @ kernel.T                                       # (steps * batch, 32)
        _sgd_(recurrent, h[:steps].reshape(steps * batch, u).T @ flat)
        _sgd_(kernel, inputs.reshape(steps * batch, 32).T @ flat)
        _sgd_(bias, flat.sum(axis=0))
        # The embedding's gradient: each token's rows summed (a token may occur many times in a batch).
        dembeddings = np.zeros_like(embeddings)
        np.add.at(dembeddings, tokens.reshape(-1), dinputs)
        _sgd_(embeddings, dembeddings)
        return loss


FLOORS = {"mlp": MLP, "cnn": CNN, "lstm": LSTM}


def build(model_name, weights):
    """The floor of one of the benchmark's models, from the weights of ``model.get_weights()``."""
    return FLOORS[model_name](weights)
