"""Matrix product, batched and broadcast exactly like np.matmul (1-D operands included)."""
from __future__ import annotations

import numpy as np

from .registry import Domain, primitive
from .tensor import unbroadcast


def _matmul_vjp(g, out, a, b, *, needs=(True, True)):
    # np.matmul treats a 1-D `a` as a row (1, k) and a 1-D `b` as a column (k, 1), then drops that axis
    # from the result; redo that promotion so one matrix formula covers every case:
    #   d(a @ b)/da = g @ b^T,   d(a @ b)/db = a^T @ g,   each summed over broadcast batch dimensions.
    a2 = a[np.newaxis, :] if a.ndim == 1 else a
    b2 = b[:, np.newaxis] if b.ndim == 1 else b
    if b.ndim == 1:
        g = np.expand_dims(g, -1)
    if a.ndim == 1:
        g = np.expand_dims(g, -2)
    ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape) if needs[0] else None
    gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape) if needs[1] else None
    return ga, gb


# partial: a layer's data side (its input windows, a constant batch) needs no gradient of its own
_MATMUL = primitive("matmul", np.matmul, _matmul_vjp, Domain("matmul"), partial=True)


def matmul(x1, x2):
    return _MATMUL(x1, x2)
