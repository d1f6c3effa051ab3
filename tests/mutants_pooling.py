"""Mutants of the pooling layers (registered through mutants.mutant).

One documented behaviour of one pooling layer broken at a time (spec/layers/pooling.yaml): what the window
reduces with, how "same" padding is treated, the strides default, the data_format, the axes of a global
pooling, keepdims, the config keys, a documented error, a documented default.
"""
from __future__ import annotations

import inspect

import numpy as np

from keras_conformance.reference.autodiff import as_tensor, ops
from keras_conformance.reference.layers import conv_utils
from mutants import ALL, KERAS2, _override, mutant  # noqa: F401


# --- windowed pooling --------------------------------------------------------------------------------
@mutant("numerics", KERAS2, "layers.MaxPooling1D averages its windows instead of taking their max",
        items=("layers.MaxPooling1D",))
def max_pooling1d_averages(K, v):
    _override(K, "MaxPooling1D", _mode="average")


@mutant("errors", ("3",), "layers.MaxPooling1D accepts an input of any rank (no InputSpec(ndim=3)): a rank-2 "
                          "input is pooled along its last axis instead of being refused",
        items=("layers.MaxPooling1D",))
def max_pooling1d_accepts_any_rank(K, v):
    Base = K.get("layers.MaxPooling1D")

    def __init__(self, *args, **kwargs):
        Base.__init__(self, *args, **kwargs)
        self.input_spec = None

    def call(self, inputs):
        if inputs.ndim == 2:
            return ops.max(inputs, axis=-1, keepdims=True)
        return Base.call(self, inputs)

    def compute_output_shape(self, input_shape):
        if len(input_shape) == 2:
            return (input_shape[0], 1)
        return Base.compute_output_shape(self, input_shape)
    _override(K, "MaxPooling1D", __init__=__init__, call=call, compute_output_shape=compute_output_shape)


@mutant("numerics", ("2.3", "3"), "layers.AveragePooling1D with padding='same' counts the padded zeros in each "
                            "window's average (documented: the valid positions only)",
        items=("layers.AveragePooling1D",))
def average_pooling1d_counts_padding(K, v):
    Base = K.get("layers.AveragePooling1D")

    def call(self, inputs):
        if self.padding != "same":
            return Base.call(self, inputs)
        x = conv_utils.to_channels_last(inputs, self.data_format)
        pads = conv_utils.spatial_padding(tuple(x.shape[1:-1]), self.pool_size, self.strides, (1,), "same")
        windows = ops.windows(ops.pad(x, [(0, 0)] + list(pads) + [(0, 0)]), self.pool_size, self.strides)
        return conv_utils.from_channels_last(ops.mean(windows, axis=(2,)), self.data_format)
    _override(K, "AveragePooling1D", call=call)


@mutant("signatures", ("2.2.4",), "layers.AveragePooling1D's pool_size defaults to 3 (documented 2)",
        items=("layers.AveragePooling1D",))
def average_pooling1d_pool_size_default_3(K, v):
    Base = K.get("layers.AveragePooling1D")
    sig = inspect.signature(Base)
    new_sig = sig.replace(parameters=[p.replace(default=3) if p.name == "pool_size" else p
                                      for p in sig.parameters.values()])

    def __init__(self, pool_size=3, *args, **kwargs):
        Base.__init__(self, pool_size, *args, **kwargs)
    _override(K, "AveragePooling1D", __init__=__init__)
    K.get("layers.AveragePooling1D").__signature__ = new_sig


@mutant("shapes", ALL, "layers.MaxPooling2D's strides None means 1 (documented: pool_size)",
        items=("layers.MaxPooling2D",))
def max_pooling2d_strides_default_one(K, v):
    Base = K.get("layers.MaxPooling2D")

    def __init__(self, pool_size=(2, 2), strides=None, *args, **kwargs):
        Base.__init__(self, pool_size, 1 if strides is None else strides, *args, **kwargs)
    _override(K, "MaxPooling2D", __init__=__init__)


@mutant("numerics", ("2.2.4", "3"), "layers.AveragePooling2D ignores data_format='channels_first' (pools the input "
                            "as if it were channels_last)",
        items=("layers.AveragePooling2D",))
def average_pooling2d_ignores_channels_first(K, v):
    Base = K.get("layers.AveragePooling2D")

    def call(self, inputs):
        data_format, self.data_format = self.data_format, "channels_last"
        try:
            out = Base.call(self, inputs)
        finally:
            self.data_format = data_format
        return out
    _override(K, "AveragePooling2D", call=call)


@mutant("errors", ("2.3",), "layers.AveragePooling2D with padding='valid' accepts a window larger than the "
                            "input (documented ValueError) and returns an empty output",
        items=("layers.AveragePooling2D",))
def average_pooling2d_no_window_check(K, v):
    Base = K.get("layers.AveragePooling2D")

    def _output_spatial(self, spatial):
        if self.padding == "valid":
            return tuple(None if n is None else max((n - p) // s + 1, 0)
                         for n, p, s in zip(spatial, self.pool_size, self.strides))
        return Base._output_spatial(self, spatial)

    def call(self, inputs):
        x = conv_utils.to_channels_last(inputs, self.data_format)
        if self.padding == "valid" and any(n < p for n, p in zip(x.shape[1:-1], self.pool_size)):
            out = as_tensor(np.zeros((x.shape[0],) + self._output_spatial(x.shape[1:-1]) + (x.shape[-1],),
                                     x.dtype))
            return conv_utils.from_channels_last(out, self.data_format)
        return Base.call(self, inputs)
    _override(K, "AveragePooling2D", _output_spatial=_output_spatial, call=call)


@mutant("numerics", ALL, "layers.MaxPooling3D with padding='same' pads with zeros, so a padded "
                                "position wins the max of a window of negative values",
        items=("layers.MaxPooling3D",))
def max_pooling3d_pads_with_zeros(K, v):
    Base = K.get("layers.MaxPooling3D")

    def call(self, inputs):
        if self.padding != "same":
            return Base.call(self, inputs)
        x = conv_utils.to_channels_last(inputs, self.data_format)
        pads = conv_utils.spatial_padding(tuple(x.shape[1:-1]), self.pool_size, self.strides, (1, 1, 1), "same")
        windows = ops.windows(ops.pad(x, [(0, 0)] + list(pads) + [(0, 0)]), self.pool_size, self.strides)
        return conv_utils.from_channels_last(ops.max(windows, axis=(4, 5, 6)), self.data_format)
    _override(K, "MaxPooling3D", call=call)


@mutant("roundtrips", ALL, "layers.AveragePooling3D.get_config leaves out `strides`",
        items=("layers.AveragePooling3D",))
def average_pooling3d_config_drops_strides(K, v):
    Base = K.get("layers.AveragePooling3D")

    def get_config(self):
        config = Base.get_config(self)
        config.pop("strides", None)
        return config
    _override(K, "AveragePooling3D", get_config=get_config)


# --- global pooling ----------------------------------------------------------------------------------
@mutant("numerics", ALL, "layers.GlobalMaxPooling1D takes the max over the feature axis instead of the steps",
        items=("layers.GlobalMaxPooling1D",))
def global_max_pooling1d_wrong_axis(K, v):
    def _axes(self):
        return (2,) if self.data_format == "channels_last" else (1,)
    _override(K, "GlobalMaxPooling1D", _axes=_axes)


@mutant("numerics", ALL, "layers.GlobalAveragePooling1D ignores data_format='channels_first' (averages "
                                "over axis 1, the features)",
        items=("layers.GlobalAveragePooling1D",))
def global_average_pooling1d_ignores_channels_first(K, v):
    def _axes(self):
        return (1,)
    _override(K, "GlobalAveragePooling1D", _axes=_axes)


@mutant("numerics", ALL, "layers.GlobalMaxPooling2D averages instead of taking the max",
        items=("layers.GlobalMaxPooling2D",))
def global_max_pooling2d_averages(K, v):
    _override(K, "GlobalMaxPooling2D", _mode="average")


@mutant("numerics", ALL, "layers.GlobalAveragePooling2D takes the max over the spatial axes instead of the mean",
        items=("layers.GlobalAveragePooling2D",))
def global_average_pooling2d_takes_max(K, v):
    _override(K, "GlobalAveragePooling2D", _mode="max")


@mutant("shapes", ("3",), "layers.GlobalAveragePooling2D ignores keepdims=True (drops the spatial axes)",
        items=("layers.GlobalAveragePooling2D",))
def global_average_pooling2d_ignores_keepdims(K, v):
    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes())
    _override(K, "GlobalAveragePooling2D", call=call)


@mutant("shapes", ALL, "layers.GlobalMaxPooling3D reduces only the first two spatial axes",
        items=("layers.GlobalMaxPooling3D",))
def global_max_pooling3d_skips_an_axis(K, v):
    def _axes(self):
        return (1, 2) if self.data_format == "channels_last" else (2, 3)
    _override(K, "GlobalMaxPooling3D", _axes=_axes)


@mutant("errors", ALL, "layers.GlobalAveragePooling3D accepts an unknown data_format (as channels_last) "
                          "instead of the documented ValueError",
        items=("layers.GlobalAveragePooling3D",))
def global_average_pooling3d_accepts_bad_data_format(K, v):
    Base = K.get("layers.GlobalAveragePooling3D")

    def __init__(self, data_format=None, *args, **kwargs):
        if data_format not in (None, "channels_first", "channels_last"):
            data_format = "channels_last"
        Base.__init__(self, data_format, *args, **kwargs)
    _override(K, "GlobalAveragePooling3D", __init__=__init__)
