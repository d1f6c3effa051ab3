"""Mutants of the convolutional-recurrent layers (registered through mutants.mutant).

A layer (ConvLSTM1D / 2D / 3D) builds its own cell from the pristine reference, so a mutant of a layer changes
that layer's cell after the layer built it (one method of the cell instance); ConvLSTM2DCell is abstract in the
spec (a one-step cell has no sequence checks of its own), so its mutant breaks its documented signature.
"""
from __future__ import annotations

import types

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401


def _with_cell_method(K, cls_name, name, method):
    """``layers.<cls_name>`` whose cell's ``name`` is ``method(cell, ...)`` instead of its own."""
    Base = K.get(f"layers.{cls_name}")

    def __init__(self, *args, **kwargs):
        Base.__init__(self, *args, **kwargs)
        setattr(self.cell, name, types.MethodType(method, self.cell))
    _override(K, cls_name, __init__=__init__)


@mutant("numerics", ALL, "layers.ConvLSTM2D reads its kernels and bias in the gate order i, c, f, o instead of "
        "Keras' i, f, c, o (the forget gate and the candidate swapped), so weights from real Keras are misread",
        items=("layers.ConvLSTM2D",))
def conv_lstm2d_gate_order_icfo(K, v):
    def _split(cell, w, n):
        u = cell.units
        parts = [w[..., k * u:(k + 1) * u] for k in range(n)]
        return [parts[0], parts[2], parts[1], parts[3]] if n == 4 else parts
    _with_cell_method(K, "ConvLSTM2D", "_split", _split)


@mutant("numerics", ALL, "layers.ConvLSTM2D's recurrent convolution uses the layer's padding (valid: the state "
        "shrinks) instead of Keras' stride-1 'same' convolution of the previous output",
        items=("layers.ConvLSTM2D",))
def conv_lstm2d_recurrent_conv_input_padding(K, v):
    def recurrent_conv(cell, h, kernel):
        return cell._conv(h, kernel, (1,) * cell.rank, cell.padding, (1,) * cell.rank)
    _with_cell_method(K, "ConvLSTM2D", "recurrent_conv", recurrent_conv)


@mutant("numerics", ("3",), "layers.ConvLSTM3D flips its input kernel along the spatial axes (a true convolution, "
        "not Keras' cross-correlation)", items=("layers.ConvLSTM3D",))
def conv_lstm3d_flipped_kernel(K, v):
    def input_conv(cell, x, kernel):
        flipped = kernel[(slice(None, None, -1),) * cell.rank]
        return cell._conv(x, flipped, cell.strides, cell.padding, cell.dilation_rate)
    _with_cell_method(K, "ConvLSTM3D", "input_conv", input_conv)


@mutant("numerics", ("3",), "layers.ConvLSTM1D's input convolution ignores strides (stride 1 whatever is given)",
        items=("layers.ConvLSTM1D",))
def conv_lstm1d_input_conv_ignores_strides(K, v):
    def input_conv(cell, x, kernel):
        return cell._conv(x, kernel, (1,) * cell.rank, cell.padding, cell.dilation_rate)
    _with_cell_method(K, "ConvLSTM1D", "input_conv", input_conv)


@mutant("signatures", KERAS2, "layers.ConvLSTM2DCell's recurrent_activation defaults to 'sigmoid' (LSTMCell's 2.3.1 "
        "default) instead of the documented 'hard_sigmoid'", items=("layers.ConvLSTM2DCell",))
def conv_lstm2d_cell_sigmoid_default(K, v):
    Base = K.get("layers.ConvLSTM2DCell")
    sig = Base.__signature__
    new_sig = sig.replace(parameters=[p.replace(default="sigmoid") if p.name == "recurrent_activation" else p
                                      for p in sig.parameters.values()])

    class ConvLSTM2DCell(Base):
        __signature__ = new_sig

        def __init__(self, *args, **kwargs):
            if "recurrent_activation" not in new_sig.bind(*args, **kwargs).arguments:
                kwargs["recurrent_activation"] = "sigmoid"
            super().__init__(*args, **kwargs)
    K.set("layers.ConvLSTM2DCell", ConvLSTM2DCell)
