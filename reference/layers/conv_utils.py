"""What the convolution, pooling, cropping, padding and upsampling layers share: their arguments'
validation (keras 2.2.4 / 2.3.1 utils/conv_utils.py and backend normalize_data_format; keras 3.15
utils/argument_validation.py standardize_tuple and backend/config.py standardize_data_format) and the
move between ``data_format``'s layout and the channels-last layout the windowing primitive works in.

Every message names the argument, as Keras' do.
"""
from __future__ import annotations

import numbers

from .. import backend
from ..autodiff import ops

__all__ = []


def normalize_tuple(value, n: int, name: str, api_version: str, allow_zero: bool = False) -> tuple:
    """An int or an iterable of ``n`` ints as a tuple of ``n`` ints; ValueError naming ``name``."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={value!r}"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(out) != n or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                    for v in out):
            raise ValueError(message)
        out = tuple(int(v) for v in out)
    # keras 3 refuses values below 1 (0 where allowed); keras 2 kept them and failed later in the
    # backend, which the reference does at once with the same error type.
    low = 0 if allow_zero else 1
    if any(v < low for v in out):
        raise ValueError(f"{message}, including values that do not satisfy `value >= {low}`")
    return out


def normalize_padding(value, allowed=("valid", "same")) -> str:
    """``padding`` lower-cased and checked against ``allowed`` (``causal`` only where documented)."""
    padding = str(value).lower() if isinstance(value, str) else value
    if padding not in allowed:
        names = ", ".join(f'"{a}"' for a in allowed)
        raise ValueError(f"The `padding` argument must be one of {names}. Received: padding={value!r}")
    return padding


def normalize_data_format(value) -> str:
    """``data_format`` lower-cased; None is ``backend.image_data_format()``."""
    if value is None:
        return backend.image_data_format()
    data_format = str(value).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                         f"Received: data_format={value!r}")
    return data_format


def to_channels_last(x, data_format: str):
    """(batch, channels, *spatial) -> (batch, *spatial, channels) when channels_first; else x."""
    if data_format == "channels_last":
        return x
    return ops.transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,))


def from_channels_last(x, data_format: str):
    """The inverse of ``to_channels_last``."""
    if data_format == "channels_last":
        return x
    return ops.transpose(x, (0, x.ndim - 1) + tuple(range(1, x.ndim - 1)))


def spatial_dims(shape, data_format: str) -> tuple:
    """The spatial dimensions of a shape in ``data_format``'s layout (batch and channels left out)."""
    shape = tuple(shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def with_spatial(shape, data_format: str, spatial, channels=None) -> tuple:
    """``shape`` with its spatial dimensions (and, when given, its channels) replaced."""
    shape = tuple(shape)
    if channels is None:
        channels = shape[-1] if data_format == "channels_last" else shape[1]
    if data_format == "channels_last":
        return (shape[0],) + tuple(spatial) + (channels,)
    return (shape[0], channels) + tuple(spatial)


def output_length(length, window: int, padding: str, stride: int, dilation: int = 1):
    """Whole windows along one axis (keras conv_utils.conv_output_length): ``same`` / ``causal`` keep
    ceil(length / stride), ``valid`` ceil((length - dilated window + 1) / stride); None stays None."""
    if length is None:
        return None
    kept = length if padding in ("same", "causal") else length - (window - 1) * dilation
    return -(-kept // stride)


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) that TensorFlow's "SAME" adds along one axis (every Keras backend agrees): the
    output has ceil(length / stride) entries and the extra entry, when the total is odd, goes after."""
    dilated = (window - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + dilated - length, 0)
    return total // 2, total - total // 2


def spatial_padding(spatial, window, strides, dilation, padding: str) -> list[tuple[int, int]]:
    """The (before, after) pairs per spatial axis for ``padding`` valid / same / causal."""
    if padding == "valid":
        return [(0, 0)] * len(spatial)
    if padding == "causal":
        return [((w - 1) * d, 0) for w, d in zip(window, dilation)]
    return [same_padding(n, w, s, d) for n, w, s, d in zip(spatial, window, strides, dilation)]
