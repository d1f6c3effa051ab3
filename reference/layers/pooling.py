"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D,
GlobalAveragePooling1D/2D/3D, and the aliases every version exports (MaxPool2D, AvgPool2D,
GlobalMaxPool2D, GlobalAvgPool2D, ... : the same classes under a second name).

Forward math only, on autodiff Tensors (keras 2.2.4 / 2.3.1 layers/pooling.py and the TensorFlow
backend's pool2d / pool3d; keras 3.15 layers/pooling/*.py and ops.max_pool / ops.average_pool). The
input is moved to channels-last (``conv_utils.to_channels_last``) and each of its sliding windows
reduced (``ops.window_max`` / ``ops.window_sum``: the max / sum of ``ops.windows``' view over its window
axes):

- "same" padding is TensorFlow's (every backend agrees): ``ceil(n / stride)`` outputs, the extra
  padded entry after. Max pooling ignores the padded positions (they are -inf); average pooling
  averages over the valid positions only (the window's sum over the count of input entries in it).
- "valid" padding takes the whole windows; a window larger than the input is a ValueError in every
  version (keras 3: compute_pooling_output_shape; 2.x: TensorFlow's shape inference, "Negative
  dimension size caused by subtracting ...").
- global pooling is a max / mean over the spatial axes (keras 3: ``keepdims`` keeps them as 1s).
  GlobalAveragePooling1D supports masking: with a mask, the mean over the unmasked steps.
"""
from __future__ import annotations

import numpy as np

from ..autodiff import ops
from .base import InputSpec, Layer
from .conv_utils import (from_channels_last, normalize_data_format, normalize_padding, normalize_tuple,
                         output_length, spatial_dims, spatial_padding, to_channels_last, with_spatial)

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
           "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
           # aliases (keras 2.2.4 / 2.3.1 layers/pooling.py "# Aliases"; keras 3.15 keras_export names)
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D"]


def _valid_counts(spatial, window, strides, pads, dtype) -> np.ndarray:
    """How many input entries (not padding) each "same" window holds: (1, *out, 1), the product over
    the axes of the per-axis counts (the padding is a box, so the count factorises)."""
    counts = np.ones((1,) * (len(spatial) + 2), dtype=dtype)
    for axis, (n, w, s, (before, _)) in enumerate(zip(spatial, window, strides, pads)):
        out = -(-n // s)
        start = np.arange(out) * s - before
        per_axis = np.minimum(start + w, n) - np.maximum(start, 0)
        shape = [1] * counts.ndim
        shape[1 + axis] = out
        counts = counts * per_axis.reshape(shape).astype(dtype)
    return counts


# --- windowed pooling ----------------------------------------------------------------------------

class _Pooling(Layer):
    """What MaxPooling / AveragePooling 1D, 2D, 3D share: arguments, output shape, the windows."""

    _rank = 2
    _mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        version = self._api_version
        n = self._rank
        self.pool_size = normalize_tuple(pool_size, n, "pool_size", version)
        # strides None is pool_size (every version); keras 3 standardizes strides with allow_zero
        self.strides = normalize_tuple(pool_size if strides is None else strides, n, "strides",
                                       version, allow_zero=version == "3")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=n + 2)

    def _output_spatial(self, spatial) -> tuple:
        if self.padding == "valid" and any(n is not None and n < p for n, p in zip(spatial, self.pool_size)):
            raise ValueError(
                f"Computed output size would be zero or negative for layer {self.name}: "
                f"a valid-padded input of spatial shape {tuple(spatial)} is smaller than "
                f"`pool_size={self.pool_size}` (strides={self.strides}).")
        return tuple(output_length(n, p, self.padding, s) for n, p, s in
                     zip(spatial, self.pool_size, self.strides))

    def compute_output_shape(self, input_shape):
        spatial = self._output_spatial(spatial_dims(input_shape, self.data_format))
        return with_spatial(input_shape, self.data_format, spatial)

    def call(self, inputs):
        x = to_channels_last(inputs, self.data_format)
        spatial = tuple(x.shape[1:-1])
        self._output_spatial(spatial)                      # the window must fit ("valid")
        n = self._rank
        if self.padding == "same":
            pads = spatial_padding(spatial, self.pool_size, self.strides, (1,) * n, "same")
            width = [(0, 0)] + list(pads) + [(0, 0)]
            if self._mode == "max":
                # the padded positions never win the max
                out = ops.window_max(ops.pad(x, width, constant_values=-np.inf), self.pool_size,
                                     self.strides)
            else:
                # TensorFlow's rule: the mean over the valid positions of each window
                counts = _valid_counts(spatial, self.pool_size, self.strides, pads, x.dtype)
                out = ops.divide(ops.window_sum(ops.pad(x, width, constant_values=0.0), self.pool_size,
                                                self.strides), counts)
        elif self._mode == "max":
            out = ops.window_max(x, self.pool_size, self.strides)
        else:
            out = ops.divide(ops.window_sum(x, self.pool_size, self.strides), float(np.prod(self.pool_size)))
        return from_channels_last(out, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling):
    """Max pooling over windows of ``pool_size`` steps of a (batch, steps, features) input."""
    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling over windows of ``pool_size`` steps of a (batch, steps, features) input."""
    _rank, _mode = 1, "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """Max pooling over ``pool_size`` windows of a rank-4 (image) input."""
    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling over ``pool_size`` windows of a rank-4 (image) input."""
    _rank, _mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(_Pooling):
    """Max pooling over ``pool_size`` windows of a rank-5 (volume) input."""
    _rank, _mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(_Pooling):
    """Average pooling over ``pool_size`` windows of a rank-5 (volume) input."""
    _rank, _mode = 3, "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


# --- global pooling ------------------------------------------------------------------------------

class _GlobalPooling(Layer):
    """What the global poolings share: a max / mean over every spatial axis."""

    _rank = 2
    _mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = keepdims                 # keras 3 only (the 2.x spec has no keepdims)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def _axes(self) -> tuple:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self._rank))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.keepdims:
            return with_spatial(input_shape, self.data_format, (1,) * self._rank)
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        return (input_shape[0], channels)

    def call(self, inputs):
        reduce = ops.max if self._mode == "max" else ops.mean
        return reduce(inputs, axis=self._axes(), keepdims=bool(self.keepdims))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        if self._api_version == "3":
            config["keepdims"] = self.keepdims
        return config


class GlobalMaxPooling1D(_GlobalPooling):
    """The max over the steps of a (batch, steps, features) input."""
    _rank, _mode = 1, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps of a (batch, steps, features) input; with a mask (batch, steps),
    the mean over the unmasked steps (keras 2.2.4 / 2.3.1: sum(x * mask) / sum(mask); keras 3.15:
    sum(where(mask, x, 0)) / sum(mask)). The output carries no mask."""
    _rank, _mode = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = self._axes()[0]
        mask = np.asarray(getattr(mask, "data", mask), dtype=bool)
        mask = np.expand_dims(mask, 2 if self.data_format == "channels_last" else 1)
        keep = bool(self.keepdims)
        total = ops.sum(ops.where(mask, inputs, np.zeros((), dtype=inputs.dtype)), axis=axis,
                        keepdims=keep)
        count = np.broadcast_to(mask, tuple(inputs.shape)).astype(inputs.dtype).sum(axis=axis,
                                                                                    keepdims=keep)
        return ops.divide(total, count)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling2D(_GlobalPooling):
    """The max over the rows and columns of a rank-4 input."""
    _rank, _mode = 2, "max"


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over the rows and columns of a rank-4 input."""
    _rank, _mode = 2, "average"


class GlobalMaxPooling3D(_GlobalPooling):
    """The max over the three spatial axes of a rank-5 input."""
    _rank, _mode = 3, "max"


class GlobalAveragePooling3D(_GlobalPooling):
    """The mean over the three spatial axes of a rank-5 input."""
    _rank, _mode = 3, "average"


# --- aliases: the same classes -------------------------------------------------------------------
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
