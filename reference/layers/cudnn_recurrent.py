"""CuDNNGRU and CuDNNLSTM (keras 2.2.4 / 2.3.1 keras/layers/cudnn_recurrent.py; removed in keras 3).

In Keras they run only on a GPU, through TensorFlow's cuDNN kernels: ``_process_batch`` flattens each
gate's slice of the Keras weights (``tf.reshape(w, (-1,))``, row-major) into cuDNN's parameter buffer,
whose canonical matrices are (units, input_dim) and (units, units) applied as ``W x``. So cuDNN reads
a gate's input block K_g (input_dim, units) as the (units, input_dim) matrix ``K_g.reshape(units,
input_dim)`` and its recurrent block R_g as R_g itself (``R_g h``, i.e. ``h R_g.T`` in Keras' row
convention). The reference computes the same numbers on the CPU as the documented equivalents, over
the weights keras 2's own converter makes of the CuDNN ones (engine/saving.py ``_convert_rnn_weights``,
``from_cudnn=True``: input kernels per gate ``k.T.reshape(k.shape, order='F')``, recurrent kernels per
gate ``k.T``; tests/test_model_saving.py ``test_load_weights_between_noncudnn_rnn`` checks that the
converted plain layer predicts as the CuDNN one):

- CuDNNGRU is GRU(reset_after=True, recurrent_activation='sigmoid', activation='tanh'): kernel
  (input_dim, 3 * units), recurrent_kernel (units, 3 * units), gates z, r, h along the last axis (the
  layer hands cuDNN the slices in the order r, z, h), and one flat ``bias (6 * units,)``: the input biases
  of z, r, h, then the recurrent biases of z, r, h (GRU's (2, 3 * units) bias, flattened)::

      z = sigmoid(x W_z + b_z + h U_z + b'_z)     r = sigmoid(x W_r + b_r + h U_r + b'_r)
      hh = tanh(x W_h + b_h + r * (h U_h + b'_h))  h' = z * h + (1 - z) * hh

- CuDNNLSTM is LSTM(recurrent_activation='sigmoid', activation='tanh'): kernel (input_dim, 4 * units),
  recurrent_kernel (units, 4 * units), gates i, f, c, o, and ``bias (8 * units,)``: the input biases of
  i, f, c, o, then the recurrent ones; cuDNN adds both, so LSTM's bias is ``bias[:4u] + bias[4u:]``.
  ``unit_forget_bias`` initialises it as bias_initializer(5u), ones(u), bias_initializer(2u): the
  forget gate's RECURRENT half at 1.

(W, U above are the converted, LSTM/GRU-layout kernels.) Always a bias, no dropout, no masking (a mask
is a ValueError when the layer is called), no unroll; ``return_sequences``, ``return_state``,
``stateful`` are arguments and ``go_backwards`` comes through **kwargs (``_CuDNNRNN``). The time loop
and the states are RNN's (recurrent.py); get_config is ``_CuDNNRNN``'s: the base keys,
return_sequences, return_state, go_backwards, stateful, then the layer's own (no unroll, no cell).
"""
from __future__ import annotations

import numpy as np

from ..autodiff import ops
from .base import Layer, serialize_object
from .convolutional_recurrent import _private_cell
from .core import _get
from .recurrent import RNN, _Cell

__all__ = ["CuDNNGRU", "CuDNNLSTM"]


class _CuDNNCell(_Cell):
    """The step of a CuDNN layer: tanh and sigmoid, always a bias, no dropout; the weights live here and
    are named in the layer's scope (RNN._name_weights), as the layer's own in Keras."""

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(units, activation="tanh", use_bias=True, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, **kwargs)

    def _bias_shape(self):
        return (2 * self._gates * self.units,)

    def _input_and_recurrent_bias(self):
        half = self._gates * self.units
        return self.bias[:half], self.bias[half:]

    def _plain_kernels(self):
        """(kernel, recurrent_kernel) in GRU / LSTM's layout, the matrices cuDNN applies: per gate g the
        input block K_g read as the row-major (units, input_dim) matrix, transposed back, and the
        recurrent block transposed (keras 2 ``_convert_rnn_weights(from_cudnn=True)``), as ops so the
        gradients reach the CuDNN-layout weights."""
        g, u = self._gates, self.units
        n = int(self.kernel.shape[0])
        blocks = ops.transpose(ops.reshape(self.kernel, (n, g, u)), (1, 0, 2))           # (g, in, u): K_g
        cudnn = ops.reshape(blocks, (g, u, n))                                            # cuDNN's W_g (u, in)
        kernel = ops.reshape(ops.transpose(cudnn, (2, 0, 1)), (n, g * u))                 # [:, g, :] = W_g.T
        rblocks = ops.transpose(ops.reshape(self.recurrent_kernel, (u, g, u)), (1, 0, 2))  # (g, u, u): R_g
        recurrent = ops.reshape(ops.transpose(rblocks, (2, 0, 1)), (u, g * u))             # [:, g, :] = R_g.T
        return kernel, recurrent


class _CuDNNGRUCell(_CuDNNCell):
    _gates = 3

    def call(self, inputs, states, training=None):
        h_tm1 = states[0]
        kernel, recurrent_kernel = self._plain_kernels()
        input_bias, recurrent_bias = self._input_and_recurrent_bias()
        x_z, x_r, x_h = self._split(ops.matmul(inputs, kernel) + input_bias, 3)
        h_z, h_r, h_h = self._split(ops.matmul(h_tm1, recurrent_kernel) + recurrent_bias, 3)
        z = ops.sigmoid(x_z + h_z)
        r = ops.sigmoid(x_r + h_r)
        hh = ops.tanh(x_h + r * h_h)
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]


class _CuDNNLSTMCell(_CuDNNCell):
    _gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return (self.units, self.units)

    def _state_sizes(self):
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def bias_initializer(shape, dtype=None):
            parts = [np.asarray(base((5 * units,), dtype=dtype)), np.ones((units,), dtype=dtype),
                     np.asarray(base((2 * units,), dtype=dtype))]
            return np.concatenate(parts).astype(dtype)
        return bias_initializer

    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        kernel, recurrent_kernel = self._plain_kernels()
        input_bias, recurrent_bias = self._input_and_recurrent_bias()
        z = ops.matmul(inputs, kernel) + ops.matmul(h_tm1, recurrent_kernel) + input_bias + recurrent_bias
        z_i, z_f, z_c, z_o = self._split(z, 4)
        i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_f), ops.sigmoid(z_o)
        c = f * c_tm1 + i * ops.tanh(z_c)
        h = o * ops.tanh(c)
        return h, [h, c]


class _CuDNNRNN(RNN):
    """What CuDNNGRU and CuDNNLSTM share (keras 2 ``_CuDNNRNN``)."""

    _cell_class = None
    _cell_args: tuple = ()

    def __init__(self, cell_kwargs, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, activity_regularizer=None, **kwargs):
        v = self._api_version
        cell = _private_cell(self._cell_class, v, name=f"{self._name_prefix()}_cell", dtype=kwargs.get("dtype"),
                             **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=_get("regularizers", activity_regularizer, v), **kwargs)
        self.supports_masking = False

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        if mask is not None:
            raise ValueError("Masking is not supported for CuDNN RNNs.")
        return super().call(inputs, training=training, initial_state=initial_state)

    def __getattr__(self, name):
        # units and the initializers, regularizers, constraints: the cell's
        if name in type(self)._cell_args and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = Layer.get_config(self)
        config.update({"return_sequences": self.return_sequences, "return_state": self.return_state,
                       "go_backwards": self.go_backwards, "stateful": self.stateful})
        config.update(self._own_config())
        return config

    def _serialized(self, *names):
        return {n: serialize_object(getattr(self, n), self._api_version) for n in names}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class CuDNNGRU(_CuDNNRNN):
    """Fast GRU backed by cuDNN (GPU only in Keras): GRU(reset_after=True, recurrent_activation='sigmoid')
    with a flat (6 * units,) bias."""

    _cell_class = _CuDNNGRUCell
    _cell_args = ("units", "kernel_initializer", "recurrent_initializer", "bias_initializer",
                  "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
                  "recurrent_constraint", "bias_constraint")

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, return_sequences=False, return_state=False,
                 stateful=False, **kwargs):
        cell_kwargs = dict(units=units, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint)
        super().__init__(cell_kwargs, return_sequences=return_sequences, return_state=return_state,
                         stateful=stateful, activity_regularizer=activity_regularizer, **kwargs)

    def _own_config(self):
        config = {"units": self.units}
        config.update(self._serialized("kernel_initializer", "recurrent_initializer", "bias_initializer",
                                       "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                                       "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                                       "bias_constraint"))
        return config


class CuDNNLSTM(_CuDNNRNN):
    """Fast LSTM backed by cuDNN (GPU only in Keras): LSTM(recurrent_activation='sigmoid') with an
    (8 * units,) bias, input half plus recurrent half."""

    _cell_class = _CuDNNLSTMCell
    _cell_args = CuDNNGRU._cell_args + ("unit_forget_bias",)

    def __init__(self, units, kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, return_sequences=False,
                 return_state=False, stateful=False, **kwargs):
        cell_kwargs = dict(units=units, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint)
        super().__init__(cell_kwargs, return_sequences=return_sequences, return_state=return_state,
                         stateful=stateful, activity_regularizer=activity_regularizer, **kwargs)

    def _own_config(self):
        config = {"units": self.units}
        config.update(self._serialized("kernel_initializer", "recurrent_initializer", "bias_initializer"))
        config["unit_forget_bias"] = self.unit_forget_bias
        config.update(self._serialized("kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                                       "activity_regularizer", "kernel_constraint", "recurrent_constraint",
                                       "bias_constraint"))
        return config
