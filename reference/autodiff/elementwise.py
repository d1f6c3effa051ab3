"""Elementwise primitives (NumPy broadcasting), each forward next to its vector-Jacobian product.

In a VJP, `g` is the cotangent of the output and `out` the output; a binary op's gradients are summed back
to each input's shape with `unbroadcast`.
"""
from __future__ import annotations

import numpy as np

from .registry import Domain, primitive
from .tensor import Tensor, unbroadcast

UNARY = Domain("unary")
BINARY = Domain("binary")


# ---- arithmetic -----------------------------------------------------------------------------------

def _add_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(g, b.shape)


def _subtract_vjp(g, out, a, b):
    return unbroadcast(g, a.shape), unbroadcast(-g, b.shape)


def _multiply_vjp(g, out, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def _divide_vjp(g, out, a, b):
    # d(a/b)/db = -a/b**2 = -out/b
    return unbroadcast(g / b, a.shape), unbroadcast(-g * out / b, b.shape)


def _power_vjp(g, out, a, b):
    # d(a**b)/db = a**b * log(a) exists only for a > 0; elsewhere (x ** 2 with a constant exponent, the
    # common case) it is set to 0 rather than NaN, as TensorFlow and JAX do.
    log_a = np.log(np.where(a > 0, a, 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        da = b * np.power(a, b - 1)
    return unbroadcast(g * da, a.shape), unbroadcast(g * out * log_a, b.shape)


_ADD = primitive("add", np.add, _add_vjp, BINARY)
_SUBTRACT = primitive("subtract", np.subtract, _subtract_vjp, BINARY)
_MULTIPLY = primitive("multiply", np.multiply, _multiply_vjp, BINARY)
_DIVIDE = primitive("divide", np.divide, _divide_vjp, Domain("binary", values=("any", "nonzero")))
_POWER = primitive("power", np.power, _power_vjp, Domain("binary", values=("positive", "any")))
_NEGATIVE = primitive("negative", np.negative, lambda g, out, x: (-g,), UNARY)
_SQUARE = primitive("square", np.square, lambda g, out, x: (2 * x * g,), UNARY)
_SQRT = primitive("sqrt", np.sqrt, lambda g, out, x: (g / (2 * out),), Domain("unary", values="positive"))
_EXP = primitive("exp", np.exp, lambda g, out, x: (g * out,), UNARY)
_LOG = primitive("log", np.log, lambda g, out, x: (g / x,), Domain("unary", values="positive"))
# sign(0) = 0: the subgradient TensorFlow and JAX use at the kink.
_ABS = primitive("abs", np.abs, lambda g, out, x: (g * np.sign(x),), Domain("unary", avoid_ties=True))


def add(x1, x2): return _ADD(x1, x2)
def subtract(x1, x2): return _SUBTRACT(x1, x2)
def multiply(x1, x2): return _MULTIPLY(x1, x2)
def divide(x1, x2): return _DIVIDE(x1, x2)
def power(x1, x2): return _POWER(x1, x2)
def negative(x): return _NEGATIVE(x)
def square(x): return _SQUARE(x)
def sqrt(x): return _SQRT(x)
def exp(x): return _EXP(x)
def log(x): return _LOG(x)
def abs(x): return _ABS(x)  # noqa: A001 - the Keras op name


# ---- selection ------------------------------------------------------------------------------------

def _maximum_vjp(g, out, a, b):
    # A tie sends the whole gradient to the first argument, like TensorFlow's Maximum (Keras 2's backend).
    take_a = a >= b
    return unbroadcast(np.where(take_a, g, 0), a.shape), unbroadcast(np.where(take_a, 0, g), b.shape)


def _minimum_vjp(g, out, a, b):
    take_a = a <= b
    return unbroadcast(np.where(take_a, g, 0), a.shape), unbroadcast(np.where(take_a, 0, g), b.shape)


def _where_forward(a, b, *, condition):
    return np.where(condition, a, b)


def _where_vjp(g, out, a, b, *, condition):
    return unbroadcast(np.where(condition, g, 0), a.shape), unbroadcast(np.where(condition, 0, g), b.shape)


def _clip_forward(x, *, x_min, x_max):
    return np.clip(x, x_min, x_max)


def _clip_vjp(g, out, x, *, x_min, x_max):
    # The bounds themselves pass the gradient (TensorFlow's clip_by_value); only strictly outside is 0.
    inside = np.ones(x.shape, bool)
    if x_min is not None:
        inside &= x >= x_min
    if x_max is not None:
        inside &= x <= x_max
    return (np.where(inside, g, 0),)


_MAXIMUM = primitive("maximum", np.maximum, _maximum_vjp, Domain("binary", avoid_ties=True))
_MINIMUM = primitive("minimum", np.minimum, _minimum_vjp, Domain("binary", avoid_ties=True))
_WHERE = primitive("where", _where_forward, _where_vjp, Domain("where"))
_CLIP = primitive("clip", _clip_forward, _clip_vjp, Domain("clip", avoid_ties=True))


def maximum(x1, x2): return _MAXIMUM(x1, x2)
def minimum(x1, x2): return _MINIMUM(x1, x2)


def where(condition, x1, x2):
    """x1 where `condition` (an ndarray of bools, not differentiated) is true, else x2; all broadcast."""
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return _WHERE(x1, x2, condition=condition)


def clip(x, x_min, x_max):
    """x limited to [x_min, x_max]; the bounds are constants (numbers or ndarrays), either may be None."""
    if x_min is None and x_max is None:
        raise ValueError("clip: x_min and x_max cannot both be None")
    return _CLIP(x, x_min=x_min, x_max=x_max)


# ---- dtype and gradient flow ----------------------------------------------------------------------

def _cast_forward(x, *, dtype):
    return x.astype(dtype)


def _cast_vjp(g, out, x, *, dtype):
    # The engine casts the cotangent back to x's dtype; a cast to an integer type has no gradient.
    return (g if np.dtype(dtype).kind == "f" else np.zeros(x.shape, x.dtype),)


_CAST = primitive("cast", _cast_forward, _cast_vjp, Domain("cast"))
# vjp None: the derivative is zero by definition, so the output is a new leaf that grad never enters.
_STOP_GRADIENT = primitive("stop_gradient", lambda x: x, None, Domain("unary", differentiable=False))


def cast(x, dtype):
    return _CAST(x, dtype=np.dtype(dtype))


def stop_gradient(x):
    """x's value, treated as a constant by `grad`."""
    return _STOP_GRADIENT(x)
