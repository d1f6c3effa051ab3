"""Mutants of the local layers (registered through mutants.mutant)."""
from __future__ import annotations

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import ops


@mutant("numerics", KERAS2, "layers.LocallyConnected1D flattens a window channel-major (c, k) instead of "
        "step-major (k, c), so kernels from real Keras files are read wrongly",
        items=("layers.LocallyConnected1D",))
def locally_connected1d_window_channel_major(K, v):
    def call(self, inputs):
        k, s = self.kernel_size[0], self.strides[0]
        batch, steps = inputs.shape[0], inputs.shape[1]
        out = (steps - k) // s + 1
        w = ops.windows(inputs, (k,), (s,))                       # (batch, out, k, channels)
        w = ops.transpose(w, (0, 1, 3, 2))                        # the wrong order: (channels, k)
        w = ops.transpose(ops.reshape(w, (batch, out, -1)), (1, 0, 2))
        y = ops.transpose(ops.matmul(w, self.kernel), (1, 0, 2))
        if self.use_bias:
            y = y + self.bias
        return self.activation(y)
    _override(K, "LocallyConnected1D", call=call)


@mutant("numerics", KERAS2, "layers.LocallyConnected2D shares one kernel across every position (kernel[0] "
        "everywhere: a plain convolution), not a kernel per position",
        items=("layers.LocallyConnected2D",))
def locally_connected2d_shared_kernel(K, v):
    Base = K.get("layers.LocallyConnected2D")

    def call(self, inputs):
        positions = int(self.kernel.shape[0])
        first = ops.getitem(self.kernel, (slice(0, 1),))
        original = self.kernel
        self.kernel = ops.concatenate([first] * positions, axis=0)
        try:
            return Base.call(self, inputs)
        finally:
            self.kernel = original
    _override(K, "LocallyConnected2D", call=call)


@mutant("numerics", KERAS2, "layers.LocallyConnected2D, channels_first, adds its (rows, cols, filters) bias "
        "transposed to (filters, rows, cols) where Keras 2's K.bias_add reshapes it",
        items=("layers.LocallyConnected2D",))
def locally_connected2d_bias_transposed(K, v):
    Base = K.get("layers.LocallyConnected2D")

    def call(self, inputs):
        if not (self.use_bias and self.data_format == "channels_first"):
            return Base.call(self, inputs)
        activation, self.activation, self.use_bias = self.activation, (lambda t: t), False
        try:
            y = Base.call(self, inputs)        # linear, no bias
        finally:
            self.activation, self.use_bias = activation, True
        return self.activation(y + ops.transpose(self.bias, (2, 0, 1)))
    _override(K, "LocallyConnected2D", call=call)
