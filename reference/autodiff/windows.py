"""Sliding windows and constant padding: the two primitives under every convolution and pooling layer.

`windows` is a strided *view* (no copy): for an input (batch, *spatial, channels) it is the array
(batch, *out_spatial, *window, channels) whose entry [b, o..., k..., c] is x[b, o * stride + k * dilation,
c] along each spatial axis. A convolution is that view contracted with a kernel (one matmul), a pooling
layer a max or mean over its window axes, so no layer loops over batch, pixels, channels or kernel
positions. Its VJP adds every window's cotangent back where the window was read from: a plain strided
write when no two windows overlap, one `bincount` (a vectorised scatter-add) when they do.
"""
from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .registry import Domain, primitive


def output_lengths(spatial, window, strides, dilation) -> tuple:
    """The number of whole windows along each spatial axis (0 when the window does not fit)."""
    return tuple(max((n - (w - 1) * d - 1) // s + 1, 0)
                 for n, w, s, d in zip(spatial, window, strides, dilation))


def _window_view(x, window, strides, dilation, writeable=False):
    n = len(window)
    out = output_lengths(x.shape[1:1 + n], window, strides, dilation)
    st = x.strides
    shape = (x.shape[0],) + out + tuple(window) + (x.shape[-1],)
    step = ((st[0],) + tuple(st[1 + i] * strides[i] for i in range(n))
            + tuple(st[1 + i] * dilation[i] for i in range(n)) + (st[-1],))
    return as_strided(x, shape, step, writeable=writeable)


def _windows_forward(x, *, window, strides, dilation):
    return _window_view(x, window, strides, dilation)


def _overlapping(window, strides, dilation) -> bool:
    # Along one axis, window o reads o * s + k * d for k < w: distinct for all (o, k) when the window
    # has one entry or the stride steps past the whole dilated window.
    return any(w > 1 and s < (w - 1) * d + 1 for w, s, d in zip(window, strides, dilation))


def _windows_vjp(g, out, x, *, window, strides, dilation):
    if not _overlapping(window, strides, dilation):
        gx = np.zeros(x.shape, g.dtype)
        _window_view(gx, window, strides, dilation, writeable=True)[...] = g
        return (gx,)
    # Overlapping windows read some entries several times: their cotangents must add up. The same
    # strided view over the flat positions of x says where each window entry came from.
    positions = np.arange(x.size).reshape(x.shape)
    index = _window_view(positions, window, strides, dilation)
    gx = np.bincount(index.ravel(), weights=g.ravel(), minlength=x.size)
    return (gx.reshape(x.shape).astype(g.dtype, copy=False),)


def _pad_forward(x, *, pad_width, constant_values):
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


def _pad_vjp(g, out, x, *, pad_width, constant_values):
    # The padded entries are constants: the cotangent of x is the part of g where x was copied.
    return (g[tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))],)


def _offset_slices(shape, window, strides, dilation):
    """For each position k in the window, the index of x[b, o * stride + k * dilation, c] over every
    output position o at once: a strided slice of x shaped like the pooled output."""
    out = output_lengths(shape[1:1 + len(window)], window, strides, dilation)
    for offset in itertools.product(*(range(w) for w in window)):
        yield (slice(None),) + tuple(slice(k * d, k * d + (o - 1) * s + 1 if o else k * d, s)
                                     for k, d, o, s in zip(offset, dilation, out, strides)) + (slice(None),)


# The maximum and the sum over each window: the reductions of `windows(x)` over its window axes. NumPy
# reduces the strided 6-D view over its small window axes slowly (a 2x2 pool of 64x26x26x32: 5.2 ms;
# its VJP, comparing and writing back through the view, 9.9 ms), so:
# - forward: one window position after the other (a handful: 4 for a 2x2 pool), each step vectorised
#   over batch, pixels and channels (0.85 ms);
# - VJP of the sum over windows that tile x (stride = window, no dilation: every pooling layer's default):
#   x seen as (batch, out_1, window_1, out_2, window_2, ..., channels), a reshape in x's own memory order, so
#   the cotangent is one broadcast already laid out like x; other windows one position after the other,
#   adding up what overlapping windows send to one entry. The max's VJP goes one position after the other
#   too (its first maximum takes the window's cotangent).
def _reduce_windows(ufunc, x, window, strides, dilation):
    out = None
    for index in _offset_slices(x.shape, window, strides, dilation):
        out = np.array(x[index]) if out is None else ufunc(out, x[index], out=out)
    return out


def _window_max_forward(x, *, window, strides, dilation):
    return _reduce_windows(np.maximum, x, window, strides, dilation)


def _window_sum_forward(x, *, window, strides, dilation):
    return _reduce_windows(np.add, x, window, strides, dilation)


def _tiling(x_shape, window, strides, dilation):
    """(the part of x the tiles cover, its shape split into (out_i, window_i) pairs, the window axes), or
    None where the windows do not tile x."""
    if any(s != w or (w > 1 and d != 1) for w, s, d in zip(window, strides, dilation)):
        return None
    n = len(window)
    out = output_lengths(x_shape[1:1 + n], window, strides, dilation)
    covered = (slice(None),) + tuple(slice(0, o * w) for o, w in zip(out, window)) + (slice(None),)
    split = (x_shape[0],) + tuple(v for o, w in zip(out, window) for v in (o, w)) + (x_shape[-1],)
    return covered, split, tuple(2 + 2 * i for i in range(n))


def _spread(contribution, x_shape, covered, dtype):
    # the covered part of x in x's layout; entries no window reads (a remainder) get no gradient
    covered_shape = tuple(len(range(*c.indices(n))) for c, n in zip(covered, x_shape))
    contribution = contribution.reshape(covered_shape)
    if covered_shape == tuple(x_shape):
        return contribution
    gx = np.zeros(x_shape, dtype)
    gx[covered] = contribution
    return gx


def _window_max_vjp(g, out, x, *, window, strides, dilation):
    # A window's whole cotangent goes to its first maximum in the window's row-major order, as TensorFlow's
    # MaxPoolGrad, XLA's select-and-scatter (jax) and torch's max_pool2d indices all give it: equal maxima
    # (a window of relu's zeros) are not shared, unlike `max`'s. One window position after the other, each
    # vectorised over batch, pixels and channels; `open_` marks the windows whose maximum is still to come.
    open_ = np.empty(out.shape, dtype=bool)
    first = np.empty(out.shape, dtype=bool)
    disjoint = _tiling(x.shape, window, strides, dilation) is not None
    gx = np.zeros(x.shape, g.dtype)
    positions = list(_offset_slices(x.shape, window, strides, dilation))
    for k, index in enumerate(positions):
        np.equal(x[index], out, out=first)
        if k == 0:
            np.logical_not(first, out=open_)
        else:
            first &= open_
            if k < len(positions) - 1:
                open_ ^= first                         # open, and not found here (first is within open_)
        if disjoint:
            np.multiply(g, first, out=gx[index])
        else:
            gx[index] += g * first
    return (gx,)


def _window_sum_vjp(g, out, x, *, window, strides, dilation):
    tiling = _tiling(x.shape, window, strides, dilation)
    if tiling is not None:
        covered, split, window_axes = tiling
        return (_spread(np.broadcast_to(np.expand_dims(g, window_axes), split), x.shape, covered, g.dtype),)
    gx = np.zeros(x.shape, g.dtype)
    for index in _offset_slices(x.shape, window, strides, dilation):
        gx[index] += g
    return (gx,)


_WINDOWS = primitive("windows", _windows_forward, _windows_vjp, Domain("windows"))
_WINDOW_MAX = primitive("window_max", _window_max_forward, _window_max_vjp, Domain("windows", avoid_ties=True))
_WINDOW_SUM = primitive("window_sum", _window_sum_forward, _window_sum_vjp, Domain("windows"))
_PAD = primitive("pad", _pad_forward, _pad_vjp, Domain("pad"))


def _ints(value, n, name):
    out = (value,) * n if isinstance(value, (int, np.integer)) else tuple(value)
    if len(out) != n or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in out):
        raise ValueError(f"windows: `{name}` must be {n} positive integers, got {value!r}")
    return tuple(int(v) for v in out)


def windows(x, window, strides=1, dilation=1):
    """The sliding windows of x (batch, *spatial, channels): (batch, *out_spatial, *window, channels).

    `window`, `strides`, `dilation`: one positive int per spatial axis (an int: the same on every axis).
    Only whole windows are taken ("valid"); pad first (`pad`) for "same", "causal" or "full".
    """
    n = np.ndim(x) - 2
    if n < 1:
        raise ValueError(f"windows: x must have a batch, a channel and at least one spatial axis, "
                         f"got rank {np.ndim(x)}")
    return _WINDOWS(x, window=_ints(window, n, "window"), strides=_ints(strides, n, "strides"),
                    dilation=_ints(dilation, n, "dilation"))


def _window_args(x, window, strides, dilation, what):
    n = np.ndim(x) - 2
    if n < 1:
        raise ValueError(f"{what}: x must have a batch, a channel and at least one spatial axis, "
                         f"got rank {np.ndim(x)}")
    return {"window": _ints(window, n, "window"), "strides": _ints(strides, n, "strides"),
            "dilation": _ints(dilation, n, "dilation")}


def window_max(x, window, strides=1, dilation=1):
    """The maximum of each window of x: ``max(windows(x, ...), axis=window axes)``, (batch, *out_spatial,
    channels), without the strided view."""
    return _WINDOW_MAX(x, **_window_args(x, window, strides, dilation, "window_max"))


def window_sum(x, window, strides=1, dilation=1):
    """The sum of each window of x: ``sum(windows(x, ...), axis=window axes)``, (batch, *out_spatial,
    channels)."""
    return _WINDOW_SUM(x, **_window_args(x, window, strides, dilation, "window_sum"))


def pad(x, pad_width, constant_values=0.0):
    """x with `pad_width` ((before, after) per axis, non-negative ints) entries of `constant_values`
    added around it (np.pad, mode "constant")."""
    width = tuple((int(lo), int(hi)) for lo, hi in pad_width)
    if len(width) != np.ndim(x) or any(lo < 0 or hi < 0 for lo, hi in width):
        raise ValueError(f"pad: pad_width must hold one non-negative (before, after) pair per axis of "
                         f"x (rank {np.ndim(x)}), got {pad_width!r}")
    return _PAD(x, pad_width=width, constant_values=float(constant_values))
