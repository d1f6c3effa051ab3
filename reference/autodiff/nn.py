"""Activations and normalisers, in the numerically stable forms Keras relies on."""
from __future__ import annotations

import numpy as np

from .registry import Domain, primitive


def _relu_vjp(g, out, x):
    # The derivative at 0 is taken as 0, like TensorFlow and JAX; a product with the mask, as TensorFlow's
    # ReluGrad computes it (and several times faster than np.where on a random mask).
    return (g * (x > 0),)


def _sigmoid_forward(x):
    # 1 / (1 + e^-x), as jax.nn.sigmoid computes it: for very negative x, e^-x overflows to inf and the
    # result is 0, the correctly rounded value below the smallest float (a result that is not denormal
    # agrees to an ulp with the two-branch form through e^-|x|, which takes about 1.7x as long: an RNN
    # calls this three times a step).
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


def _tanh_vjp(g, out, x):
    return (g * (1 - out * out),)


def _softplus_forward(x):
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow, and exact log1p for large |x|.
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _softmax_forward(x, *, axis):
    # Subtracting the max changes nothing mathematically and keeps exp from overflowing.
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, out, x, *, axis):
    # Jacobian diag(s) - s s^T applied to g, without forming it: s * (g - <g, s>).
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def _log_softmax_forward(x, *, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g, out, x, *, axis):
    # d log_softmax_i / dx_j = delta_ij - softmax_j, and softmax = exp(out).
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


_RELU = primitive("relu", lambda x: np.maximum(x, 0), _relu_vjp, Domain("unary", avoid_ties=True))
_SIGMOID = primitive("sigmoid", _sigmoid_forward, lambda g, out, x: (g * out * (1 - out),), Domain("unary"))
_TANH = primitive("tanh", np.tanh, _tanh_vjp, Domain("unary"))
# softplus' derivative is the sigmoid.
_SOFTPLUS = primitive("softplus", _softplus_forward, lambda g, out, x: (g * _sigmoid_forward(x),),
                      Domain("unary"))
_SOFTMAX = primitive("softmax", _softmax_forward, _softmax_vjp, Domain("axis"))
_LOG_SOFTMAX = primitive("log_softmax", _log_softmax_forward, _log_softmax_vjp, Domain("axis"))


def relu(x): return _RELU(x)
def sigmoid(x): return _SIGMOID(x)
def tanh(x): return _TANH(x)
def softplus(x): return _SOFTPLUS(x)
def softmax(x, axis=-1): return _SOFTMAX(x, axis=axis)
def log_softmax(x, axis=-1): return _LOG_SOFTMAX(x, axis=axis)
