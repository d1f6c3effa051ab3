"""The names a spec expression may use, and the shape helpers among them (one module for both sides).

A spec expression (a layer's ``output_shape``, a weight's ``shape`` / ``when``, a ``valid`` constraint,
a parameter domain's ``permutation`` / ``factorization`` / ``when``, a stochastic statistic) is a Python
expression over ``input_shape`` (the batch dimension first; a list of such tuples for a layer with
several inputs), the constructor's arguments, and exactly the names in ``EXPR_NAMES``. The schema admits
no other name (spec/schema.py) and the suite evaluates with no other (``evaluate``), so a spec entry
that validates can always be evaluated.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

__all__ = ["EXPR_NAMES", "evaluate", "conv_output_length", "prod", "normalize_axis", "axes_list",
           "dot_output_shape", "concat_output_shape"]


def prod(dims) -> int | None:
    """The product of ``dims``; None when one of them is unknown (None)."""
    out = 1
    for d in dims:
        if d is None:
            return None
        out *= int(d)
    return out


def normalize_axis(axis: int, rank: int) -> int:
    """``axis`` as a non-negative index into a shape of ``rank`` dimensions (``-1`` -> ``rank - 1``)."""
    return axis + rank if axis < 0 else axis


def axes_list(axes, rank: int) -> list[int]:
    """Dot's ``axes`` (an int, or a pair) as two non-negative axes of inputs of ``rank``."""
    pair = list(axes) if isinstance(axes, (list, tuple)) else [axes, axes]
    return [normalize_axis(int(a), rank) for a in pair]


def conv_output_length(length, filter_size, padding, stride, dilation=1):
    """The output length of a convolution (or pooling) along one axis; None stays None.
    ``padding`` is ``valid``, ``same``, ``causal`` or ``full``."""
    if length is None:
        return None
    dilated = (filter_size - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    elif padding == "valid":
        out = length - dilated + 1
    elif padding == "full":
        out = length + dilated - 1
    else:
        raise ValueError(f"unknown padding {padding!r}")
    return (out + stride - 1) // stride


def dot_output_shape(shape_a, shape_b, axes):
    """The output shape of ``Dot(axes)`` on inputs of shapes ``shape_a`` and ``shape_b`` (batch first):
    the contracted axes removed, the remaining axes of ``a`` then of ``b``, and ``(batch, 1)`` when
    nothing remains (keras 2.2.4 / 2.3.1 / 3.15 source: layers/merge.py Dot.compute_output_shape)."""
    a_axis, b_axis = axes_list(axes, len(shape_a))[0], axes_list(axes, len(shape_b))[1]
    rest = [d for i, d in enumerate(shape_a) if i not in (0, a_axis)] + \
           [d for i, d in enumerate(shape_b) if i not in (0, b_axis)]
    return (shape_a[0],) + tuple(rest) if rest else (shape_a[0], 1)


def concat_output_shape(shapes, axis):
    """The output shape of ``Concatenate(axis)``: the inputs' shapes with the sizes along ``axis``
    added (None when one of them is unknown)."""
    first = list(shapes[0])
    ax = normalize_axis(axis, len(first))
    sizes = [s[ax] for s in shapes]
    first[ax] = None if any(d is None for d in sizes) else sum(sizes)
    return tuple(first)


EXPR_NAMES: dict[str, Any] = {
    "len": len, "tuple": tuple, "list": list, "int": int, "float": float, "max": max, "min": min,
    "abs": abs, "range": range, "sum": sum, "all": all, "any": any, "isinstance": isinstance,
    "sorted": sorted, "zip": zip, "enumerate": enumerate, "round": round, "sqrt": math.sqrt,
    "None": None, "True": True, "False": False,
    "prod": prod, "normalize_axis": normalize_axis, "axes_list": axes_list,
    "conv_output_length": conv_output_length, "dot_output_shape": dot_output_shape,
    "concat_output_shape": concat_output_shape,
}


def evaluate(expr: str, env: Mapping[str, Any]) -> Any:
    """Evaluate a spec expression with the names of ``env`` (input_shape, the arguments) and
    ``EXPR_NAMES``; nothing else is reachable (no other builtins)."""
    # the names go into the globals: a comprehension's own scope sees globals, not eval's locals
    return eval(expr, {"__builtins__": {}, **EXPR_NAMES, **dict(env)})  # noqa: S307 - spec expressions
