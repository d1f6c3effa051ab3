"""Locally-connected layers: LocallyConnected1D, LocallyConnected2D (keras 2.2.4 / 2.3.1 only; Keras 3
has none, spec/layers/local.yaml cites where).

A convolution whose weights are not shared: output position p multiplies its own flattened window by
its own kernel[p]. The windows come from one strided view (``ops.windows``) of the channels-last input;
each window is flattened in the order Keras 2's backend flattens it (tensorflow_backend.py
local_conv1d / local_conv2d reshape the slice ``inputs[:, rows, cols, :]`` or, channels_first,
``inputs[:, :, rows, cols]``), and all positions are contracted at once by a matmul batched over the
positions, as ``K.batch_dot`` does. So kernels and biases taken from real Keras files give the same
outputs. Forward math only, on autodiff Tensors; gradients come from the primitives' VJPs.
"""
from __future__ import annotations

import numbers

from ..autodiff import ops
from ..autodiff.windows import output_lengths
from . import conv_utils
from .base import InputSpec, Layer, serialize_object
from .core import _activation_name, _get, _get_activation

__all__ = ["LocallyConnected1D", "LocallyConnected2D"]


class _LocallyConnected(Layer):
    """What both locally-connected layers share: argument validation, weights, the contraction.

    keras 2.2.4 / 2.3.1 layers/local.py: ``kernel_size`` / ``strides`` through
    conv_utils.normalize_tuple, ``padding`` through normalize_padding and then only ``"valid"`` (any
    other value: ValueError 'Invalid border mode'), ``data_format`` through K.normalize_data_format.
    Keras 2 does not check ``filters``; the reference asks for a positive int (ValueError) rather than
    build an empty kernel."""

    _rank = None          # number of spatial axes
    _uses_data_format = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        version = self._api_version
        cls = type(self).__name__
        if isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters <= 0:
            raise ValueError(f"The `filters` argument of {cls} must be a positive integer. "
                             f"Received: filters={filters!r}")
        self.filters = int(filters)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, self._rank, "kernel_size", version)
        self.strides = conv_utils.normalize_tuple(strides, self._rank, "strides", version)
        self.padding = conv_utils.normalize_padding(padding, allowed=("valid", "same", "causal"))
        if self.padding != "valid":
            raise ValueError(f'Invalid border mode for {cls} (only "valid" is supported): {padding}')
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.activation = _get_activation(activation, version)
        self.use_bias = use_bias
        self.kernel_initializer = _get("initializers", kernel_initializer, version)
        self.bias_initializer = _get("initializers", bias_initializer, version)
        self.kernel_regularizer = _get("regularizers", kernel_regularizer, version)
        self.bias_regularizer = _get("regularizers", bias_regularizer, version)
        self.activity_regularizer = _get("regularizers", activity_regularizer, version)
        self.kernel_constraint = _get("constraints", kernel_constraint, version)
        self.bias_constraint = _get("constraints", bias_constraint, version)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    # -- layout ------------------------------------------------------------------------------------
    def _channels_first(self) -> bool:
        return self._uses_data_format and self.data_format == "channels_first"

    def _split(self, input_shape):
        """(spatial dims, channels) of an input shape in this layer's layout."""
        shape = tuple(input_shape)
        if self._channels_first():
            return shape[2:], shape[1]
        return shape[1:-1], shape[-1]

    def _output_spatial(self, spatial):
        return tuple(conv_utils.output_length(n, k, "valid", s)
                     for n, k, s in zip(spatial, self.kernel_size, self.strides))

    def compute_output_shape(self, input_shape):
        spatial, _ = self._split(input_shape)
        out = self._output_spatial(spatial)
        if self._channels_first():
            return (input_shape[0], self.filters) + out
        return (input_shape[0],) + out + (self.filters,)

    # -- weights -----------------------------------------------------------------------------------
    def build(self, input_shape):
        spatial, channels = self._split(input_shape)
        cls = type(self).__name__
        if channels is None or any(d is None for d in spatial):
            raise ValueError(f"The spatial and channel dimensions of the inputs to {cls} should be "
                             f"fully-defined, but the layer received the input shape "
                             f"{tuple(input_shape)}.")
        out = self._output_spatial(spatial)
        if any(o <= 0 for o in out):
            raise ValueError(f"The window kernel_size={self.kernel_size} of {cls} does not fit the "
                             f"input: input shape {tuple(input_shape)} gives output length(s) {out}.")
        positions = 1
        for o in out:
            positions *= o
        window = 1
        for k in self.kernel_size:
            window *= k
        self.kernel = self.add_weight(name="kernel", shape=(positions, window * channels, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=out + (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        axis = 1 if self._channels_first() else self._rank + 1
        self.input_spec = InputSpec(ndim=self._rank + 2, axes={axis: int(channels)})
        self.built = True

    # -- forward -----------------------------------------------------------------------------------
    def call(self, inputs):
        fmt = "channels_first" if self._channels_first() else "channels_last"
        x = conv_utils.to_channels_last(inputs, fmt)                  # (batch, *spatial, channels)
        batch, spatial, channels = x.shape[0], tuple(x.shape[1:-1]), x.shape[-1]
        out = output_lengths(spatial, self.kernel_size, self.strides, (1,) * self._rank)
        w = ops.windows(x, self.kernel_size, self.strides)             # (batch, *out, *window, channels)
        n = self._rank
        if fmt == "channels_first":
            # the window flattened as inputs[:, :, rows, cols] is: channel-major, then rows, then cols
            w = ops.transpose(w, tuple(range(1 + n)) + (1 + 2 * n,) + tuple(range(1 + n, 1 + 2 * n)))
        positions = 1
        for o in out:
            positions *= o
        w = ops.reshape(w, (batch, positions, -1))                    # (batch, positions, window*ch)
        w = ops.transpose(w, (1, 0, 2))                                # (positions, batch, window*ch)
        y = ops.matmul(w, self.kernel)                                 # (positions, batch, filters)
        y = ops.transpose(y, (1, 0, 2))
        y = ops.reshape(y, (batch,) + tuple(out) + (self.filters,))   # channels-last output
        if self.use_bias and fmt == "channels_last":
            y = y + self.bias
        y = conv_utils.from_channels_last(y, fmt)
        if self.use_bias and fmt == "channels_first":
            # K.bias_add reshapes (not transposes) the (*out, filters) bias to (filters, *out)
            y = y + ops.reshape(self.bias, (self.filters,) + tuple(out))
        return self.activation(y)

    # -- config ------------------------------------------------------------------------------------
    def get_config(self):
        v = self._api_version
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size,
                       "strides": self.strides, "padding": self.padding})
        if self._uses_data_format:
            config["data_format"] = self.data_format
        config.update({
            "activation": _activation_name(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_object(self.kernel_initializer, v),
            "bias_initializer": serialize_object(self.bias_initializer, v),
            "kernel_regularizer": serialize_object(self.kernel_regularizer, v),
            "bias_regularizer": serialize_object(self.bias_regularizer, v),
            "activity_regularizer": serialize_object(self.activity_regularizer, v),
            "kernel_constraint": serialize_object(self.kernel_constraint, v),
            "bias_constraint": serialize_object(self.bias_constraint, v),
        })
        return config


class LocallyConnected1D(_LocallyConnected):
    """(batch, steps, input_dim) -> (batch, new_steps, filters); kernel (new_steps, kernel_size *
    input_dim, filters), a window flattened step-major; bias (new_steps, filters).

    keras 2.2.4 / 2.3.1: ``data_format`` is validated and stored but unused (build reads
    ``input_shape[2]``, K.local_conv1d gets no data_format) and left out of get_config."""

    _rank = 1
    _uses_data_format = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, **kwargs)


class LocallyConnected2D(_LocallyConnected):
    """(batch, rows, cols, channels) -> (batch, new_rows, new_cols, filters) (channels_first: channels
    and filters on axis 1); kernel (new_rows * new_cols, kh * kw * channels, filters), positions
    row-major, a window flattened (row, col, channel) channels_last or (channel, row, col)
    channels_first; bias (new_rows, new_cols, filters), added reshaped to (filters, new_rows,
    new_cols) when channels_first (K.bias_add)."""

    _rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, **kwargs)
