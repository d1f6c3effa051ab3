"""The LSTM recurrence over a whole sequence as one primitive, its VJP backpropagation through time.

Per step (keras' LSTMCell, gates in its kernel order i, f, c, o; tanh and the logistic sigmoid):

    z_t = x_t W + b + h_{t-1} U
    i = sigmoid(z_i)   f = sigmoid(z_f)   g = tanh(z_c)   o = sigmoid(z_o)
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

The layer's loop written with ops records about 18 nodes a step (slices, products, activations), each
with its own backward, and projects each step's input on its own; here every step's x_t W + b is one
product before the loop, and the backward takes every step's gates from the output and does all that does
not depend on the recurrence for every step at once, so only h_{t-1} U and its transpose run step by step.
The output carries the gates ([h, c, i, f, g, o] per step) so that the backward need not recompute them;
the layer reads h and c.
"""
from __future__ import annotations

import numpy as np

from .registry import Domain, primitive


def _time_major(x, go_backwards):
    """(time, batch, ...) in the order the steps are taken, contiguous: each step's rows are one block."""
    x = np.swapaxes(x, 0, 1)
    return np.ascontiguousarray(x[::-1] if go_backwards else x)


def _lstm_forward(x, h0, c0, kernel, recurrent_kernel, bias, *, go_backwards=False):
    """(batch, time, 6 * units): [h_t, c_t, i_t, f_t, g_t, o_t] at each step, in the order taken."""
    u = recurrent_kernel.shape[0]
    steps, batch = x.shape[1], x.shape[0]
    dtype = np.result_type(x, h0, c0, kernel, recurrent_kernel, bias)
    xs = _time_major(x, go_backwards)
    xw = (xs.reshape(steps * batch, -1) @ kernel).reshape(steps, batch, 4 * u)   # every x_t W ...
    xw += bias                                                                    # ... + b
    out = np.empty((steps, batch, 6 * u), dtype=dtype)
    recurrent = np.empty((batch, 4 * u), dtype=dtype)
    cand = np.empty((batch, u), dtype=dtype)
    h, c = h0, c0
    # Each step writes into `out` and two scratch arrays (no array allocated per step); the product h U
    # goes to its own contiguous scratch first (a product into a strided slice of `out` is slower).
    with np.errstate(over="ignore"):        # e^-z overflows to inf for z < -88: 1 / (1 + inf) = 0, right
        for t in range(steps):
            z = out[t, :, 2 * u:]
            np.add(xw[t], np.matmul(h, recurrent_kernel, out=recurrent), out=z)     # z_t
            np.tanh(z[:, 2 * u:3 * u], out=cand)                                     # g = tanh(z_c)
            np.negative(z, out=z)                                                    # i, f, o = sigmoid(z)
            np.exp(z, out=z)
            z += 1
            np.reciprocal(z, out=z)
            z[:, 2 * u:3 * u] = cand
            i, f, o = z[:, :u], z[:, u:2 * u], z[:, 3 * u:]
            h_t, c_t = out[t, :, :u], out[t, :, u:2 * u]
            np.multiply(f, c, out=c_t)                                               # c_t = f c + i g
            cand *= i
            c_t += cand
            np.tanh(c_t, out=h_t)                                                    # h_t = o tanh(c_t)
            h_t *= o
            h, c = h_t, c_t
    return np.swapaxes(out, 0, 1)


def _lstm_vjp(g, out, x, h0, c0, kernel, recurrent_kernel, bias, *, go_backwards=False,
              needs=(True,) * 6):
    u = recurrent_kernel.shape[0]
    steps, batch = x.shape[1], x.shape[0]
    out, g = np.swapaxes(out, 0, 1), np.swapaxes(g, 0, 1)
    h, c, gates = out[..., :u], out[..., u:2 * u], out[..., 2 * u:]
    i, f, cand, o = (gates[..., k * u:(k + 1) * u] for k in range(4))
    c_prev = np.concatenate([c0[None], c[:-1]])
    tanh_c = np.tanh(c)
    # each activation's derivative, d gate / d z: s(1-s) for the sigmoids, 1 - g^2 for the candidate
    slope = gates * (1 - gates)
    slope[..., 2 * u:3 * u] = 1 - cand * cand
    # dz_i = dc * g * i'   dz_f = dc * c_prev * f'   dz_g = dc * i * g'   dz_o = dh * tanh(c) * o';
    # dc_t += dh_t * o * (1 - tanh(c_t)^2),  dc_{t-1} = dc_t * f_t: what multiplies dc or dh, for all steps
    factors = slope.copy()
    factors[..., :u] *= cand
    factors[..., u:2 * u] *= c_prev
    factors[..., 2 * u:3 * u] *= i
    factors[..., 3 * u:] *= tanh_c
    factors = factors.reshape(steps, batch, 4, u)
    to_cell = o * (1 - tanh_c * tanh_c)
    # a cotangent of the gates themselves goes straight to z (the layer reads only h and c: zero there)
    dz = (g[..., 2 * u:] * slope).reshape(steps, batch, 4, u)
    g_h, g_c = g[..., :u], g[..., u:2 * u]
    dh = np.zeros_like(h0)
    dc = np.zeros_like(c0)
    carried = np.empty_like(dc)
    for t in range(steps - 1, -1, -1):
        dh += g_h[t]                                 # dh_t: its own cotangent and the next step's
        dc += g_c[t]
        dc += np.multiply(dh, to_cell[t], out=carried)
        d = dz[t]
        d[:, :3] += dc[:, None] * factors[t, :, :3]
        d[:, 3] += dh * factors[t, :, 3]
        dc *= f[t]                                   # dc_{t-1}, through c_t = f * c_{t-1} + ...
        np.matmul(d.reshape(batch, 4 * u), recurrent_kernel.T, out=dh)   # dh_{t-1}, through h_{t-1} U
    flat = dz.reshape(steps * batch, 4 * u)
    dx = dkernel = drecurrent = dbias = None
    if needs[0]:
        dx = (flat @ kernel.T).reshape(steps, batch, -1)
        dx = np.swapaxes(dx[::-1] if go_backwards else dx, 0, 1)
    if needs[3]:
        dkernel = _time_major(x, go_backwards).reshape(steps * batch, -1).T @ flat
    if needs[4]:
        h_prev = np.concatenate([h0[None], h[:-1]])
        drecurrent = h_prev.reshape(steps * batch, u).T @ flat
    if needs[5]:
        dbias = flat.sum(axis=0)
    return dx, dh, dc, dkernel, drecurrent, dbias


# partial: the first layer's input (a batch) and a layer without bias (a constant zero) need no gradient
_LSTM = primitive("lstm", _lstm_forward, _lstm_vjp, Domain("lstm"), partial=True)


def lstm(x, h0, c0, kernel, recurrent_kernel, bias, go_backwards=False):
    """x (batch, time, features), h0 and c0 (batch, units), kernel (features, 4 units), recurrent_kernel
    (units, 4 units), bias (4 units,) -> (batch, time, 6 units): [h_t, c_t, i_t, f_t, g_t, o_t] of every
    step, in the order taken (last to first when ``go_backwards``)."""
    return _LSTM(x, h0, c0, kernel, recurrent_kernel, bias, go_backwards=bool(go_backwards))
