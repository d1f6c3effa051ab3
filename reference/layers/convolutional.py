"""Convolution layers: Conv1D/2D/3D, SeparableConv1D/2D, DepthwiseConv1D/2D, Conv1D/2D/3DTranspose.

Every one is the windowing primitive (``ops.windows``: a strided view of the channels-last, padded input)
contracted with its kernel by one matmul, in the layouts real Keras keeps, so ``set_weights`` and files
move between the reference and Keras unchanged:

- Conv: ``kernel (*kernel_size, in_channels // groups, filters)``, ``bias (filters,)``;
- DepthwiseConv: ``depthwise_kernel (*kernel_size, in_channels, depth_multiplier)``; output channel
  ``c * depth_multiplier + m`` is input channel c filtered by its m-th kernel;
- SeparableConv: that depthwise kernel, then ``pointwise_kernel (1, ..., 1, in * depth_multiplier,
  filters)``;
- ConvTranspose: ``kernel (*kernel_size, filters, in_channels)`` (filters and inputs swapped: it is the
  gradient of a Conv with that kernel).

``channels_first`` inputs are moved to channels-last and back (conv_utils), the way TensorFlow on CPU
computes them. The spec (spec/layers/convolutional.yaml) cites each version's source.
"""
from __future__ import annotations

import numpy as np

from ..autodiff import ops
from .base import InputSpec, Layer, serialize_object
from .conv_utils import (from_channels_last, normalize_data_format, normalize_padding, normalize_tuple,
                         output_length, spatial_dims, spatial_padding, to_channels_last, with_spatial)
from .core import _activation_name, _check_positive_int, _get, _get_activation

__all__ = ["Conv1D", "Conv2D", "Conv3D", "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D",
           "DepthwiseConv2D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"]


def _padded(x, window, strides, dilation, padding):
    """x (channels-last) padded with zeros as ``padding`` asks, along its spatial axes."""
    pads = spatial_padding(x.shape[1:-1], window, strides, dilation, padding)
    if all(p == (0, 0) for p in pads):
        return x
    return ops.pad(x, [(0, 0)] + pads + [(0, 0)])


def _contract(windows, kernel, out_shape):
    """(batch, *out, *window, in) windows times a (prod(window) * in, filters) matrix."""
    rows = int(np.prod(out_shape[:-1]))
    flat = ops.reshape(windows, (rows, kernel.shape[0]))
    return ops.reshape(ops.matmul(flat, kernel), out_shape)


def _depthwise(x, kernel, window, strides, dilation, padding):
    """Each input channel c convolved with its own ``depth_multiplier`` kernels: output channel
    ``c * depth_multiplier + m`` (a batched matmul over the channels)."""
    w = ops.windows(_padded(x, window, strides, dilation, padding), window, strides, dilation)
    batch_out = w.shape[:1 + len(window)]
    channels, mult = kernel.shape[-2], kernel.shape[-1]
    k = int(np.prod(window))
    cols = ops.transpose(ops.reshape(w, (-1, k, channels)), (2, 0, 1))          # (in, rows, k)
    kern = ops.transpose(ops.reshape(kernel, (k, channels, mult)), (1, 0, 2))   # (in, k, mult)
    out = ops.transpose(ops.matmul(cols, kern), (1, 0, 2))                       # (rows, in, mult)
    return ops.reshape(out, tuple(batch_out) + (channels * mult,))


class _Conv(Layer):
    """What every convolution shares: its arguments, validated up front, bias and activation."""

    rank = 2
    _causal_ok = False

    def _forbids_strided_dilation(self) -> bool:
        return True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        v, n = self._api_version, self.rank
        layer = type(self).__name__
        self.filters = None if filters is None else _check_positive_int(filters, "filters", layer)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size", v)
        self.strides = normalize_tuple(strides, n, "strides", v)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate", v)
        # keras 3 refuses "causal" outside Conv1D when constructed; keras 2 accepted the string and its
        # backend refused it when the layer was called (the reference refuses at once).
        self.padding = normalize_padding(padding, ("valid", "same", "causal") if self._causal_ok
                                         else ("valid", "same"))
        self.data_format = normalize_data_format(data_format)
        self.groups = _check_positive_int(groups, "groups", layer)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={self.groups}, filters={self.filters}.")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1 and self._forbids_strided_dilation():
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}")
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"`use_bias` of {layer} must be a bool, got {use_bias!r}.")
        self.activation = _get_activation(activation, v)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _get("initializers", kernel_initializer, v)
        self.bias_initializer = _get("initializers", bias_initializer, v)
        self.kernel_regularizer = _get("regularizers", kernel_regularizer, v)
        self.bias_regularizer = _get("regularizers", bias_regularizer, v)
        self.kernel_constraint = _get("constraints", kernel_constraint, v)
        self.bias_constraint = _get("constraints", bias_constraint, v)
        # keras 2: InputSpec(ndim=rank + 2); keras 3: min_ndim, but its backends' convolutions take
        # exactly rank + 2 dimensions too, so a longer input fails in both.
        self.input_spec = InputSpec(ndim=n + 2)

    # -- shapes ---------------------------------------------------------------------------------------
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _in_channels(self, input_shape):
        c = input_shape[self._channel_axis()]
        if c is None:
            raise ValueError(f"The channel dimension of the inputs to {type(self).__name__} should be "
                             f"defined. Found None (input shape {tuple(input_shape)}).")
        return int(c)

    def _spatial(self, input_shape):
        return spatial_dims(input_shape, self.data_format)

    def _out_channels(self, in_channels):
        return self.filters

    def compute_output_shape(self, input_shape):
        out = [output_length(n, k, self.padding, s, d) for n, k, s, d in
               zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate)]
        return with_spatial(input_shape, self.data_format, out,
                            self._out_channels(self._in_channels(input_shape)))

    def _check_fits(self, input_shape):
        shape = self.compute_output_shape(input_shape)
        if any(d is not None and d <= 0 for d in self._spatial(shape)):
            raise ValueError(f"Computed output size would be negative or zero: {tuple(shape)} for "
                             f"layer {self.name} (input shape {tuple(input_shape)}, kernel_size "
                             f"{self.kernel_size}, dilation_rate {self.dilation_rate}, padding "
                             f"{self.padding!r}): the kernel does not fit the input.")

    # -- weights ----------------------------------------------------------------------------------------
    def _add_bias(self, size):
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(size,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        else:
            self.bias = None

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"The number of input channels must be evenly divisible by the number of "
                             f"groups. Received groups={self.groups}, but the input has {channels} "
                             f"channels (full input shape is {tuple(input_shape)}).")
        self._check_fits(input_shape)
        self.kernel = self.add_weight(name="kernel",
                                      shape=self.kernel_size + (channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})
        self.built = True

    # -- forward ----------------------------------------------------------------------------------------
    def _finish(self, out):
        if self.use_bias:
            out = out + self.bias
        return from_channels_last(self.activation(out), self.data_format)

    def _convolve(self, x):
        """The convolution of a channels-last input, before bias and activation."""
        x = _padded(x, self.kernel_size, self.strides, self.dilation_rate, self.padding)
        w = ops.windows(x, self.kernel_size, self.strides, self.dilation_rate)
        k = int(np.prod(self.kernel_size))
        out_shape = tuple(w.shape[:1 + self.rank])
        if self.groups == 1:
            kernel = ops.reshape(self.kernel, (-1, self.filters))
            return _contract(w, kernel, out_shape + (self.filters,))
        # Group j sees input channels [j * in/g, (j + 1) * in/g) and makes filters [j * f/g, ...).
        g, cin, fout = self.groups, self.kernel.shape[-2], self.filters // self.groups
        cols = ops.transpose(ops.reshape(w, (-1, k, g, cin)), (2, 0, 1, 3))           # (g, rows, k, cin)
        cols = ops.reshape(cols, (g, -1, k * cin))
        kern = ops.transpose(ops.reshape(self.kernel, (k, cin, g, fout)), (2, 0, 1, 3))
        out = ops.matmul(cols, ops.reshape(kern, (g, k * cin, fout)))                 # (g, rows, fout)
        return ops.reshape(ops.transpose(out, (1, 0, 2)), out_shape + (self.filters,))

    def call(self, inputs):
        if self.padding == "causal" and self.data_format == "channels_first" and self._api_version != "3":
            raise ValueError('When using causal padding in `conv1d`, `data_format` must be "channels_last" '
                             '(temporal data).')
        return self._finish(self._convolve(to_channels_last(inputs, self.data_format)))

    # -- config -----------------------------------------------------------------------------------------
    def _base_config(self):
        v = self._api_version
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                       "padding": self.padding, "data_format": self.data_format,
                       "dilation_rate": self.dilation_rate})
        if v == "3":
            config["groups"] = self.groups
        config.update({"activation": _activation_name(self.activation), "use_bias": self.use_bias})
        return config

    def _serialized(self, **objects):
        return {k: serialize_object(o, self._api_version) for k, o in objects.items()}

    def get_config(self):
        config = self._base_config()
        config.update(self._serialized(kernel_initializer=self.kernel_initializer,
                                       bias_initializer=self.bias_initializer,
                                       kernel_regularizer=self.kernel_regularizer,
                                       bias_regularizer=self.bias_regularizer,
                                       activity_regularizer=self.activity_regularizer,
                                       kernel_constraint=self.kernel_constraint,
                                       bias_constraint=self.bias_constraint))
        return config


class Conv1D(_Conv):
    """1D convolution (temporal): ``padding`` may also be ``causal`` (left-padded by (k - 1) *
    dilation, so output t sees inputs up to t only)."""
    rank = 1
    _causal_ok = True


class Conv2D(_Conv):
    """2D convolution (spatial, over images)."""
    rank = 2


class Conv3D(_Conv):
    """3D convolution (over volumes)."""
    rank = 3


# --- depthwise and separable -------------------------------------------------------------------------

class _DepthwiseConv(_Conv):
    """Each input channel convolved with ``depth_multiplier`` kernels of its own, no mixing."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint,
                         **kwargs)
        self.depth_multiplier = _check_positive_int(depth_multiplier, "depth_multiplier",
                                                    type(self).__name__)
        v = self._api_version
        self.depthwise_initializer = _get("initializers", depthwise_initializer, v)
        self.depthwise_regularizer = _get("regularizers", depthwise_regularizer, v)
        self.depthwise_constraint = _get("constraints", depthwise_constraint, v)

    def _out_channels(self, in_channels):
        return in_channels * self.depth_multiplier

    def _add_depthwise_kernel(self, channels):
        name = "kernel" if self._api_version == "3" else "depthwise_kernel"
        self.depthwise_kernel = self.add_weight(
            name=name, shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self._check_fits(input_shape)
        self._add_depthwise_kernel(channels)
        self._add_bias(channels * self.depth_multiplier)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})
        self.built = True

    def _convolve(self, x):
        return _depthwise(x, self.depthwise_kernel, self.kernel_size, self.strides, self.dilation_rate,
                          self.padding)

    def get_config(self):
        config = self._base_config()
        config.pop("filters")
        config.pop("groups", None)
        config["depth_multiplier"] = self.depth_multiplier
        config.update(self._serialized(depthwise_initializer=self.depthwise_initializer,
                                       bias_initializer=self.bias_initializer,
                                       depthwise_regularizer=self.depthwise_regularizer,
                                       bias_regularizer=self.bias_regularizer,
                                       activity_regularizer=self.activity_regularizer,
                                       depthwise_constraint=self.depthwise_constraint,
                                       bias_constraint=self.bias_constraint))
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1D convolution (keras 3)."""
    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2D convolution: the first step of a separable convolution alone."""
    rank = 2


class _SeparableConv(_DepthwiseConv):
    """A depthwise convolution, then a pointwise (1 x ... x 1) one that mixes the channels."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding,
                         depth_multiplier=depth_multiplier, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        self.filters = _check_positive_int(filters, "filters", type(self).__name__)
        v = self._api_version
        self.pointwise_initializer = _get("initializers", pointwise_initializer, v)
        self.pointwise_regularizer = _get("regularizers", pointwise_regularizer, v)
        self.pointwise_constraint = _get("constraints", pointwise_constraint, v)

    def _out_channels(self, in_channels):
        return self.filters

    def _forbids_strided_dilation(self) -> bool:
        # keras 3's separable convolutions compute it (documented "incompatible", no error)
        return self._api_version != "3"

    def _add_depthwise_kernel(self, channels):
        # keras 3 names the separable layer's kernels like keras 2 does (unlike its DepthwiseConv).
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self._check_fits(input_shape)
        self._add_depthwise_kernel(channels)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})
        self.built = True

    def _convolve(self, x):
        deep = super()._convolve(x)
        pointwise = ops.reshape(self.pointwise_kernel, (-1, self.filters))
        return ops.matmul(deep, pointwise)

    def get_config(self):
        config = super().get_config()
        # filters comes first, as in Keras' config (a dict: the order is cosmetic)
        config = {"filters": self.filters, **config}
        config["pointwise_initializer"] = serialize_object(self.pointwise_initializer, self._api_version)
        config["pointwise_regularizer"] = serialize_object(self.pointwise_regularizer, self._api_version)
        config["pointwise_constraint"] = serialize_object(self.pointwise_constraint, self._api_version)
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1D convolution."""
    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2D convolution."""
    rank = 2


# --- transposed -----------------------------------------------------------------------------------------

class _ConvTranspose(_Conv):
    """The transpose (gradient) of a convolution: each input position spreads ``kernel`` over the
    output, ``strides`` apart. Computed as a stride-1 convolution of the input with zeros inserted
    between its entries (``strides - 1`` of them), padded, by the spatially flipped kernel."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(output_padding, self.rank, "output_padding",
                                                  self._api_version, allow_zero=True)
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(f"Strides must be greater than output padding. Received strides="
                                     f"{self.strides}, output_padding={self.output_padding}.")

    def _lengths(self, spatial):
        out = []
        pads = (None,) * self.rank if self.output_padding is None else self.output_padding
        for n, k, s, d, p in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pads):
            if n is None:
                out.append(None)
                continue
            dilated = (k - 1) * d + 1
            if p is None:
                out.append(n * s + max(dilated - s, 0) if self.padding == "valid" else n * s)
            else:
                half = dilated // 2 if self.padding == "same" else 0
                out.append((n - 1) * s + dilated - 2 * half + p)
        return out

    def compute_output_shape(self, input_shape):
        return with_spatial(input_shape, self.data_format, self._lengths(self._spatial(input_shape)),
                            self.filters)

    def build(self, input_shape):
        channels = self._in_channels(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (self.filters, channels),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._add_bias(self.filters)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis(): channels})
        self.built = True

    def _convolve(self, x):
        n = self.rank
        spatial = x.shape[1:-1]
        lengths = self._lengths(spatial)
        # 1. strides - 1 zeros after every entry along each axis (then the trailing ones cut off)
        for axis, s in enumerate(self.strides, start=1):
            if s > 1:
                widths = [(0, 0)] * (x.ndim + 1)
                widths[axis + 1] = (0, s - 1)
                grown = ops.pad(ops.expand_dims(x, axis + 1), widths)
                shape = list(x.shape)
                shape[axis] = x.shape[axis] * s
                x = ops.reshape(grown, shape)
                index = [slice(None)] * x.ndim
                index[axis] = slice(0, (spatial[axis - 1] - 1) * s + 1)
                x = x[tuple(index)]
        # 2. pad so that a stride-1 correlation yields exactly `lengths`, starting where TensorFlow's
        #    conv_transpose starts: the forward convolution's "same" padding before the input
        pads, crops = [], []
        for i in range(n):
            dilated = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
            full = (spatial[i] - 1) * self.strides[i] + dilated
            crop = max(full - lengths[i], 0) // 2 if self.padding == "same" else 0
            before = dilated - 1 - crop
            after = lengths[i] + dilated - 1 - before - x.shape[1 + i]
            pads.append((max(before, 0), max(after, 0)))
            crops.append(slice(max(-before, 0), x.shape[1 + i] + max(before, 0) + max(after, 0)
                               - max(-after, 0)))
        x = ops.pad(x, [(0, 0)] + pads + [(0, 0)])
        if any(c.start or c.stop != x.shape[1 + i] for i, c in enumerate(crops)):
            x = x[(slice(None),) + tuple(crops) + (slice(None),)]
        # 3. the flipped kernel, as (*k, in, filters), correlated at stride 1
        flipped = self.kernel[(slice(None, None, -1),) * n]
        kernel = ops.reshape(ops.transpose(flipped, tuple(range(n)) + (n + 1, n)), (-1, self.filters))
        w = ops.windows(x, self.kernel_size, 1, self.dilation_rate)
        return _contract(w, kernel, tuple(w.shape[:1 + n]) + (self.filters,))

    def _base_config(self):
        config = super()._base_config()
        config.pop("groups", None)
        return config

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1D convolution (keras 3)."""
    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution (deconvolution)."""
    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution. keras 2.2.4 / 2.3.1 have no ``dilation_rate`` for it (always 1) and
    leave it out of the config."""
    rank = 3

    def get_config(self):
        config = super().get_config()
        if self._api_version != "3":
            config.pop("dilation_rate")
        return config
