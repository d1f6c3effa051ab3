"""Primitives that move entries around without changing them: their VJPs move the cotangent back."""
from __future__ import annotations

import numpy as np

from .registry import Domain, primitive
from .tensor import Tensor


def _reshape_forward(x, *, shape):
    return np.reshape(x, shape)


def _transpose_forward(x, *, axes):
    return np.transpose(x, axes)


def _transpose_vjp(g, out, x, *, axes):
    # The inverse permutation; axes None reverses, which is its own inverse.
    return (np.transpose(g, None if axes is None else np.argsort(axes)),)


def _expand_dims_forward(x, *, axis):
    return np.expand_dims(x, axis)


def _squeeze_forward(x, *, axis):
    return np.squeeze(x, axis)


def _back_to_shape(g, out, x, **attrs):
    # reshape, expand_dims and squeeze keep the entries in order: the cotangent only needs x's shape.
    return (np.reshape(g, x.shape),)


_RESHAPE = primitive("reshape", _reshape_forward, _back_to_shape, Domain("reshape"))
_TRANSPOSE = primitive("transpose", _transpose_forward, _transpose_vjp, Domain("transpose"))
_EXPAND_DIMS = primitive("expand_dims", _expand_dims_forward, _back_to_shape, Domain("expand_dims"))
_SQUEEZE = primitive("squeeze", _squeeze_forward, _back_to_shape, Domain("squeeze"))


def reshape(x, shape):
    return _RESHAPE(x, shape=tuple(shape) if np.ndim(shape) else (int(shape),))


def transpose(x, axes=None):
    return _TRANSPOSE(x, axes=None if axes is None else tuple(axes))


def expand_dims(x, axis):
    return _EXPAND_DIMS(x, axis=tuple(axis) if isinstance(axis, list) else axis)


def squeeze(x, axis=None):
    return _SQUEEZE(x, axis=tuple(axis) if isinstance(axis, list) else axis)


# ---- joining --------------------------------------------------------------------------------------

def _concatenate_forward(*xs, axis):
    return np.concatenate(xs, axis=axis)


def _concatenate_vjp(g, out, *xs, axis):
    # Cut the cotangent where the inputs were joined.
    ends = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return tuple(np.split(g, ends, axis=axis))


def _stack_forward(*xs, axis):
    return np.stack(xs, axis=axis)


def _stack_vjp(g, out, *xs, axis):
    return tuple(np.moveaxis(g, axis, 0))


_CONCATENATE = primitive("concatenate", _concatenate_forward, _concatenate_vjp, Domain("concatenate"))
_STACK = primitive("stack", _stack_forward, _stack_vjp, Domain("stack"))


def _sequence(xs, name):
    if isinstance(xs, (Tensor, np.ndarray)) or not isinstance(xs, (list, tuple)) or not xs:
        raise TypeError(f"{name}: xs must be a non-empty list of tensors")
    return xs


def concatenate(xs, axis=0):
    return _CONCATENATE(*_sequence(xs, "concatenate"), axis=axis)


def stack(xs, axis=0):
    return _STACK(*_sequence(xs, "stack"), axis=axis)


# ---- indexing -------------------------------------------------------------------------------------

def _is_basic(index) -> bool:
    """Whether `index` selects a view (ints, slices, None, Ellipsis): each entry of x at most once."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer)) for p in parts)


def _getitem_forward(x, *, index):
    return x[index]


def _getitem_vjp(g, out, x, *, index):
    gx = np.zeros(x.shape, g.dtype)
    if _is_basic(index):
        gx[index] = g
    else:
        # Advanced indices may pick an entry several times; np.add.at sums instead of overwriting.
        np.add.at(gx, index, g)
    return (gx,)


_GETITEM = primitive("getitem", _getitem_forward, _getitem_vjp, Domain("getitem"))


def _plain_index(index):
    # Tensors used as indices are read as their arrays; lists become arrays (NumPy's meaning of a list).
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(x, index):
    """x[index], NumPy semantics (basic and advanced); also Tensor.__getitem__."""
    return _GETITEM(x, index=_plain_index(index))
