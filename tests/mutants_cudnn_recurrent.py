"""Mutants of the CuDNN recurrent layers (registered through mutants.mutant).

The reference computes these GPU-only layers on the CPU (the reference adapter, and so the mutant adapter, sets
``runs_gpu_only_layers``), so their checks run here. A layer builds its cell from its ``_cell_class``: a mutant
replaces that class by a subclass whose step is broken.
"""
from __future__ import annotations

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import ops


def _with_cell_class(K, cls_name, **methods):
    Base = K.get(f"layers.{cls_name}")
    cell_class = type(f"Mutant{Base._cell_class.__name__}", (Base._cell_class,), dict(methods))
    _override(K, cls_name, _cell_class=cell_class)


@mutant("numerics", KERAS2, "layers.CuDNNLSTM adds only the input half of its (8 * units,) bias, not the sum of "
        "the input and recurrent halves cuDNN adds", items=("layers.CuDNNLSTM",))
def cudnn_lstm_bias_not_summed(K, v):
    def _input_and_recurrent_bias(cell):
        half = cell._gates * cell.units
        return cell.bias[:half], ops.multiply(cell.bias[half:], 0.0)
    _with_cell_class(K, "CuDNNLSTM", _input_and_recurrent_bias=_input_and_recurrent_bias)


@mutant("numerics", KERAS2, "layers.CuDNNLSTM applies its kernels as LSTM's (x @ kernel, h @ recurrent_kernel), "
        "not in cuDNN's layout (each gate's input block read row-major as (units, input_dim), each recurrent "
        "block transposed), so weights from real CuDNNLSTM are misread", items=("layers.CuDNNLSTM",))
def cudnn_lstm_plain_kernel_layout(K, v):
    def _plain_kernels(cell):
        return cell.kernel, cell.recurrent_kernel
    _with_cell_class(K, "CuDNNLSTM", _plain_kernels=_plain_kernels)


@mutant("numerics", KERAS2, "layers.CuDNNGRU reads its (6 * units,) bias halves swapped (the recurrent biases as the "
        "input ones): the candidate's recurrent bias, which the reset gate scales, lands outside it",
        items=("layers.CuDNNGRU",))
def cudnn_gru_bias_halves_swapped(K, v):
    def _input_and_recurrent_bias(cell):
        half = cell._gates * cell.units
        return cell.bias[half:], cell.bias[:half]
    _with_cell_class(K, "CuDNNGRU", _input_and_recurrent_bias=_input_and_recurrent_bias)
