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
           "dot_output_shape", "concat_output_shape", "ntuple", "channels", "spatial", "with_spatial",
           "conv_shape", "pool_shape", "deconv_output_length", "deconv_shape", "Made", "describe", "arg",
           "rnn_gates", "rnn_shape", "bidirectional_shape"]


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


def ntuple(value, n: int) -> tuple:
    """A conv argument (``kernel_size``, ``strides``, ``pool_size``, ...) as one value per spatial axis:
    an int is repeated ``n`` times, a list or tuple kept (keras 2 conv_utils.normalize_tuple)."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,) * n


def _channels_last(data_format) -> bool:
    # None is the configured image_data_format, "channels_last" unless set otherwise.
    return data_format in (None, "channels_last")


def channels(input_shape, data_format=None):
    """The channel dimension of a (batch, ..., channels) or (batch, channels, ...) shape."""
    return input_shape[-1] if _channels_last(data_format) else input_shape[1]


def spatial(input_shape, data_format=None) -> tuple:
    """The spatial dimensions of a shape, in order, batch and channels left out."""
    return tuple(input_shape[1:-1] if _channels_last(data_format) else input_shape[2:])


def with_spatial(input_shape, data_format, new_spatial, new_channels=None) -> tuple:
    """``input_shape`` with its spatial dimensions (and, when given, its channels) replaced."""
    c = channels(input_shape, data_format) if new_channels is None else new_channels
    body = tuple(new_spatial)
    return (input_shape[0],) + (body + (c,) if _channels_last(data_format) else (c,) + body)


def conv_shape(input_shape, filters, kernel_size, strides=1, padding="valid", data_format=None,
               dilation_rate=1) -> tuple:
    """The output shape of an N-d convolution (N = rank - 2) with ``filters`` output channels."""
    dims = spatial(input_shape, data_format)
    n = len(dims)
    out = tuple(conv_output_length(d, k, padding, s, r) for d, k, s, r in
                zip(dims, ntuple(kernel_size, n), ntuple(strides, n), ntuple(dilation_rate, n)))
    return with_spatial(input_shape, data_format, out, filters)


def pool_shape(input_shape, pool_size, strides=None, padding="valid", data_format=None) -> tuple:
    """The output shape of an N-d pooling layer; ``strides`` None is ``pool_size`` (the documented
    default of every pooling layer)."""
    strides = pool_size if strides is None else strides
    return conv_shape(input_shape, channels(input_shape, data_format), pool_size, strides, padding,
                      data_format, 1)


def deconv_output_length(length, filter_size, padding, output_padding=None, stride=1, dilation=1):
    """The output length of a transposed convolution along one axis (keras 2.2.4 / 2.3.1 / 3.15
    conv_utils.deconv_output_length); None stays None."""
    if length is None:
        return None
    dilated = (filter_size - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(dilated - stride, 0)
        if padding == "full":
            return length * stride - (stride + dilated - 2)
        return length * stride
    pad = {"same": dilated // 2, "valid": 0, "full": dilated - 1}[padding]
    return (length - 1) * stride + dilated - 2 * pad + output_padding


def deconv_shape(input_shape, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1) -> tuple:
    """The output shape of an N-d transposed convolution with ``filters`` output channels."""
    dims = spatial(input_shape, data_format)
    n = len(dims)
    pads = (None,) * n if output_padding is None else ntuple(output_padding, n)
    out = tuple(deconv_output_length(d, k, padding, p, s, r) for d, k, p, s, r in
                zip(dims, ntuple(kernel_size, n), pads, ntuple(strides, n), ntuple(dilation_rate, n)))
    return with_spatial(input_shape, data_format, out, filters)


class Made:
    """What a spec expression sees of an ``objects`` domain value (``layers.LSTMCell(units=2)``): the class
    name and its keyword arguments, read as attributes (``cell.units``); ``arg(obj, name, default)`` reads
    an optional one. The object itself is built by each implementation from the same expression."""

    def __init__(self, class_name: str, kwargs: Mapping[str, Any], module: str = "layers"):
        self.class_name = class_name
        self.kwargs = dict(kwargs)
        self.module = module

    @property
    def item(self) -> str:
        """The documented item the expression constructs (``regularizers.l2``)."""
        return f"{self.module}.{self.class_name}"

    def __getattr__(self, name):
        if name.startswith("__") or name in ("class_name", "kwargs", "module"):
            raise AttributeError(name)
        try:
            return self.kwargs[name]
        except KeyError:
            raise AttributeError(f"layers.{self.class_name}(...) is given no {name!r} here; read an optional "
                                 f"argument with arg(obj, {name!r}, default)") from None

    def __repr__(self):
        return f"{self.module}.{self.class_name}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"


class _Recorder:
    def __init__(self, module: str):
        self.module = module

    def __getattr__(self, class_name):
        return lambda **kwargs: Made(class_name, kwargs, self.module)


def describe(code: str):
    """The ``Made`` record (or list of them) of an ``objects`` expression, for spec expressions."""
    from .schema import OBJECT_MODULES
    return eval(code, {"__builtins__": {}, **{m: _Recorder(m) for m in OBJECT_MODULES}})  # noqa: S307


def arg(obj, name: str, default=None):
    """An argument of an ``objects`` value (``arg(layer, "return_sequences", False)``)."""
    return obj.kwargs.get(name, default) if isinstance(obj, Made) else getattr(obj, name, default)


# the recurrent layers an ``objects`` domain may wrap: gates stacked in one kernel, and states returned
RNN_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}
RNN_STATES = {"SimpleRNN": 1, "GRU": 1, "LSTM": 2}


def rnn_gates(layer) -> int:
    """How many gates a recurrent layer stacks along its kernel's last axis (LSTM i, f, c, o: 4)."""
    return RNN_GATES[layer.class_name]


def rnn_shape(input_shape, layer) -> list:
    """[output, *states] of a recurrent layer record on (batch, time, features): the output
    (batch, time, units) with return_sequences else (batch, units); with return_state one (batch, units)
    state per RNN_STATES."""
    units = layer.units
    out = ((input_shape[0], input_shape[1], units) if arg(layer, "return_sequences", False)
           else (input_shape[0], units))
    states = [(input_shape[0], units)] * RNN_STATES[layer.class_name] if arg(layer, "return_state", False) else []
    return [out] + states


def bidirectional_shape(input_shape, layer, merge_mode="concat"):
    """Bidirectional(layer, merge_mode): the merged output (concat doubles the last axis; None keeps both),
    then the forward states and the backward states."""
    out, *states = rnn_shape(input_shape, layer)
    if merge_mode == "concat":
        out = out[:-1] + (out[-1] * 2,)
    outs = [out, out] if merge_mode is None else [out]
    if states or merge_mode is None:
        return outs + states + states
    return outs[0]


EXPR_NAMES: dict[str, Any] = {
    "len": len, "tuple": tuple, "list": list, "int": int, "float": float, "max": max, "min": min,
    "abs": abs, "range": range, "sum": sum, "all": all, "any": any, "isinstance": isinstance,
    "sorted": sorted, "zip": zip, "enumerate": enumerate, "round": round, "sqrt": math.sqrt,
    "None": None, "True": True, "False": False,
    "prod": prod, "normalize_axis": normalize_axis, "axes_list": axes_list,
    "conv_output_length": conv_output_length, "dot_output_shape": dot_output_shape,
    "concat_output_shape": concat_output_shape, "ntuple": ntuple, "channels": channels,
    "spatial": spatial, "with_spatial": with_spatial, "conv_shape": conv_shape, "pool_shape": pool_shape,
    "deconv_output_length": deconv_output_length, "deconv_shape": deconv_shape, "arg": arg,
    "rnn_gates": rnn_gates, "rnn_shape": rnn_shape, "bidirectional_shape": bidirectional_shape,
}


def evaluate(expr: str, env: Mapping[str, Any]) -> Any:
    """Evaluate a spec expression with the names of ``env`` (input_shape, the arguments) and
    ``EXPR_NAMES``; nothing else is reachable (no other builtins)."""
    # the names go into the globals: a comprehension's own scope sees globals, not eval's locals
    return eval(expr, {"__builtins__": {}, **EXPR_NAMES, **dict(env)})  # noqa: S307 - spec expressions
