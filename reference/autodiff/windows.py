"""Sliding windows and constant padding: the two primitives under every convolution and pooling layer.

`windows` is a strided *view* (no copy): for an input (batch, *spatial, channels) it is the array
(batch, *out_spatial, *window, channels) whose entry [b, o..., k..., c] is x[b, o * stride + k * dilation,
c] along each spatial axis. A convolution is that view contracted with a kernel (one matmul), a pooling
layer a max or mean over its window axes, so no layer loops over batch, pixels, channels or kernel
positions. Its VJP adds every window's cotangent back where the window was read from: a plain strided
write when no two windows overlap, one `bincount` (a vectorised scatter-add) when they do.
"""
from __future__ import annotations

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


_WINDOWS = primitive("windows", _windows_forward, _windows_vjp, Domain("windows"))
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


def pad(x, pad_width, constant_values=0.0):
    """x with `pad_width` ((before, after) per axis, non-negative ints) entries of `constant_values`
    added around it (np.pad, mode "constant")."""
    width = tuple((int(lo), int(hi)) for lo, hi in pad_width)
    if len(width) != np.ndim(x) or any(lo < 0 or hi < 0 for lo, hi in width):
        raise ValueError(f"pad: pad_width must hold one non-negative (before, after) pair per axis of "
                         f"x (rank {np.ndim(x)}), got {pad_width!r}")
    return _PAD(x, pad_width=width, constant_values=float(constant_values))
