"""Reductions over axes (None = all, an int, or a tuple; negative counts from the end), with keepdims."""
from __future__ import annotations

import math

import numpy as np

from .registry import Domain, primitive


def _axes(axis, ndim) -> tuple:
    """`axis` as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axis))


def _with_kept_dims(g, x_shape, axis, keepdims):
    """The reduced cotangent `g` reshaped with size-1 reduced axes, so it broadcasts against x."""
    if keepdims:
        return g
    return np.expand_dims(g, _axes(axis, len(x_shape)))


def _sum_forward(x, *, axis, keepdims):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g, out, x, *, axis, keepdims):
    return (np.broadcast_to(_with_kept_dims(g, x.shape, axis, keepdims), x.shape),)


def _mean_forward(x, *, axis, keepdims):
    return np.mean(x, axis=axis, keepdims=keepdims)


def _mean_vjp(g, out, x, *, axis, keepdims):
    count = math.prod(x.shape[a] for a in _axes(axis, x.ndim))
    return (np.broadcast_to(_with_kept_dims(g, x.shape, axis, keepdims) / count, x.shape),)


def _extremum_vjp(g, out, x, *, axis, keepdims):
    # Equal extreme entries share the gradient equally, as TensorFlow's reduce_max gradient does.
    out = _with_kept_dims(out, x.shape, axis, keepdims)
    selected = x == out
    # The cotangent divided by the number of ties at the reduced size, then spread over the winners: one
    # full-size product, in x's dtype (a bool / int division would make a float64 array of x's size).
    count = np.sum(selected, axis=_axes(axis, x.ndim), keepdims=True, dtype=x.dtype)
    return (selected * (_with_kept_dims(g, x.shape, axis, keepdims) / count),)


def _one_axis_at_a_time(ufunc, x, axis, keepdims):
    # NumPy reduces several small non-contiguous axes at once (a pooling window of a strided view) about
    # half as fast as one axis after the other; the result is the same (max and min are exact).
    axes = _axes(axis, x.ndim)
    if len(axes) < 2 or x.size == 0:
        return ufunc.reduce(x, axis=axis, keepdims=keepdims) if x.ndim else x
    out = x
    for a in reversed(axes):
        out = ufunc.reduce(out, axis=a, keepdims=True)
    return out if keepdims else np.squeeze(out, axis=axes)


def _max_forward(x, *, axis, keepdims):
    return _one_axis_at_a_time(np.maximum, x, axis, keepdims)


def _min_forward(x, *, axis, keepdims):
    return _one_axis_at_a_time(np.minimum, x, axis, keepdims)


_SUM = primitive("sum", _sum_forward, _sum_vjp, Domain("reduce"))
_MEAN = primitive("mean", _mean_forward, _mean_vjp, Domain("reduce"))
_MAX = primitive("max", _max_forward, _extremum_vjp, Domain("reduce", avoid_ties=True))
_MIN = primitive("min", _min_forward, _extremum_vjp, Domain("reduce", avoid_ties=True))


def _normalized(axis):
    # Lists become tuples: attributes are kept on the graph and NumPy wants a tuple.
    return tuple(axis) if isinstance(axis, list) else axis


def sum(x, axis=None, keepdims=False):  # noqa: A001 - the Keras op name
    return _SUM(x, axis=_normalized(axis), keepdims=bool(keepdims))


def mean(x, axis=None, keepdims=False):
    return _MEAN(x, axis=_normalized(axis), keepdims=bool(keepdims))


def max(x, axis=None, keepdims=False):  # noqa: A001
    return _MAX(x, axis=_normalized(axis), keepdims=bool(keepdims))


def min(x, axis=None, keepdims=False):  # noqa: A001
    return _MIN(x, axis=_normalized(axis), keepdims=bool(keepdims))
