"""Mutants of the convolution layers (registered through mutants.mutant): each breaks one documented
behaviour of one layer, the way a convolution goes wrong (a flipped or transposed kernel, channels_first
ignored, the causal or "same" padding on the wrong side, a kernel layout that is not Keras')."""
from __future__ import annotations

import inspect

from mutants import _override, mutant

from keras_conformance.reference.autodiff import ops


def _replace(layer, weight, shape):
    """A new weight of ``shape`` where ``weight`` was in the layer's weight list (same position)."""
    stored = layer.add_weight(name=weight.path.rsplit("/", 1)[-1], shape=shape)
    layer._trainable_weights.remove(stored)
    layer._trainable_weights[layer._trainable_weights.index(weight)] = stored
    return stored


def _ignore_channels_first(K, name):
    """``layers.<name>`` that computes every input as channels_last, whatever its data_format says."""
    Base = K.get(f"layers.{name}")

    def __init__(self, *args, **kwargs):
        Base.__init__(self, *args, **kwargs)
        self.claimed_data_format, self.data_format = self.data_format, "channels_last"

    def get_config(self):
        return {**Base.get_config(self), "data_format": self.claimed_data_format}
    __init__.__signature__ = inspect.signature(Base.__init__)
    _override(K, name, __init__=__init__, get_config=get_config)


def _flip_kernel(K, name, attr):
    """``layers.<name>`` whose ``_convolve`` sees its ``attr`` kernel reversed along every spatial axis."""
    Base = K.get(f"layers.{name}")

    def _convolve(self, x):
        kernel = getattr(self, attr)
        setattr(self, attr, kernel[(slice(None, None, -1),) * self.rank])
        try:
            return Base._convolve(self, x)
        finally:
            setattr(self, attr, kernel)
    _override(K, name, _convolve=_convolve)


@mutant("numerics", ("2.3",), "layers.Conv1D convolves with the flipped kernel (a true convolution, "
        "documented: cross-correlation, as every Keras backend computes)", items=("layers.Conv1D",))
def conv1d_flipped_kernel(K, v):
    _flip_kernel(K, "Conv1D", "kernel")


@mutant("shapes", ("2.3",), "layers.Conv2D keeps its kernel as (cols, rows, in, filters), documented "
        "(rows, cols, in, filters)", items=("layers.Conv2D",))
def conv2d_transposed_kernel(K, v):
    Base = K.get("layers.Conv2D")

    def build(self, input_shape):
        Base.build(self, input_shape)
        self.kernel_storage = _replace(self, self.kernel, self.kernel.shape[1::-1] + self.kernel.shape[2:])

    def _convolve(self, x):
        self.kernel = ops.transpose(self.kernel_storage, (1, 0, 2, 3))
        return Base._convolve(self, x)
    _override(K, "Conv2D", build=build, _convolve=_convolve)


@mutant("numerics", ("2.2.4", "2.3", "3"), "layers.Conv3D ignores data_format='channels_first' (computes as channels_last; "
        "get_config still says channels_first)", items=("layers.Conv3D",))
def conv3d_channels_first_ignored(K, v):
    _ignore_channels_first(K, "Conv3D")


@mutant("numerics", ("2.2.4", "2.3", "3"), "layers.SeparableConv1D flips its depthwise kernel (a convolution, not a "
        "cross-correlation)", items=("layers.SeparableConv1D",))
def separable_conv1d_flipped_depthwise(K, v):
    _flip_kernel(K, "SeparableConv1D", "depthwise_kernel")


@mutant("shapes", ("2.2.4", "2.3", "3"), "layers.SeparableConv2D keeps its pointwise kernel as (1, 1, filters, "
        "in * depth_multiplier), documented (1, 1, in * depth_multiplier, filters)",
        items=("layers.SeparableConv2D",))
def separable_conv2d_pointwise_transposed(K, v):
    Base = K.get("layers.SeparableConv2D")

    def build(self, input_shape):
        Base.build(self, input_shape)
        shape = self.pointwise_kernel.shape
        self.pointwise_storage = _replace(self, self.pointwise_kernel, shape[:2] + (shape[3], shape[2]))

    def _convolve(self, x):
        self.pointwise_kernel = ops.transpose(self.pointwise_storage, (0, 1, 3, 2))
        return Base._convolve(self, x)
    _override(K, "SeparableConv2D", build=build, _convolve=_convolve)


@mutant("numerics", ("3",), "layers.DepthwiseConv1D ignores data_format='channels_first' (computes as "
        "channels_last)", items=("layers.DepthwiseConv1D",))
def depthwise_conv1d_channels_first_ignored(K, v):
    _ignore_channels_first(K, "DepthwiseConv1D")


@mutant("shapes", ("2.2.4", "2.3", "3"), "layers.DepthwiseConv2D keeps its depthwise kernel as (cols, rows, in, "
        "depth_multiplier), documented (rows, cols, in, depth_multiplier)", items=("layers.DepthwiseConv2D",))
def depthwise_conv2d_transposed_kernel(K, v):
    Base = K.get("layers.DepthwiseConv2D")

    def build(self, input_shape):
        Base.build(self, input_shape)
        shape = self.depthwise_kernel.shape
        self.depthwise_storage = _replace(self, self.depthwise_kernel, (shape[1], shape[0]) + shape[2:])

    def _convolve(self, x):
        self.depthwise_kernel = ops.transpose(self.depthwise_storage, (1, 0, 2, 3))
        return Base._convolve(self, x)
    _override(K, "DepthwiseConv2D", build=build, _convolve=_convolve)


@mutant("numerics", ("3",), "layers.Conv1DTranspose does not flip its kernel (spreads each input entry "
        "with the kernel reversed)", items=("layers.Conv1DTranspose",))
def conv1d_transpose_unflipped(K, v):
    _flip_kernel(K, "Conv1DTranspose", "kernel")


@mutant("shapes", ("2.2.4", "2.3", "3"), "layers.Conv2DTranspose keeps its kernel as (rows, cols, in, filters), "
        "documented (rows, cols, filters, in)", items=("layers.Conv2DTranspose",))
def conv2d_transpose_kernel_layout(K, v):
    Base = K.get("layers.Conv2DTranspose")

    def build(self, input_shape):
        Base.build(self, input_shape)
        shape = self.kernel.shape
        self.kernel_storage = _replace(self, self.kernel, shape[:2] + (shape[3], shape[2]))

    def _convolve(self, x):
        self.kernel = ops.transpose(self.kernel_storage, (0, 1, 3, 2))
        return Base._convolve(self, x)
    _override(K, "Conv2DTranspose", build=build, _convolve=_convolve)


@mutant("numerics", ("2.2.4", "2.3", "3"), "layers.Conv3DTranspose ignores data_format='channels_first' (computes "
        "as channels_last)", items=("layers.Conv3DTranspose",))
def conv3d_transpose_channels_first_ignored(K, v):
    _ignore_channels_first(K, "Conv3DTranspose")
