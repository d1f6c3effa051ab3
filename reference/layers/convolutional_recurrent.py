"""Convolutional-recurrent layers: ConvLSTM2D (every version), ConvLSTM1D / ConvLSTM3D (keras 3), and the
2.x cell ConvLSTM2DCell.

An LSTM whose input and recurrent transformations are convolutions (keras 2.2.4 / 2.3.1
layers/convolutional_recurrent.py ConvRNN2D, ConvLSTM2DCell, ConvLSTM2D; keras 3.15
layers/rnn/conv_lstm.py ConvLSTMCell, ConvLSTM and conv_lstm{1,2,3}d.py). One step, gates i, f, c, o in
that order along the kernels' last axis, as LSTMCell's::

    i = ra(conv(x, W_i) + b_i + rconv(h, U_i))      f = ra(conv(x, W_f) + b_f + rconv(h, U_f))
    c' = f * c + i * a(conv(x, W_c) + b_c + rconv(h, U_c))
    o = ra(conv(x, W_o) + b_o + rconv(h, U_o))      h' = o * a(c')

``conv`` is the layer's convolution (its ``strides``, ``padding``, ``dilation_rate``), ``rconv`` the
recurrent one, always stride 1, ``"same"`` padding and no dilation, so the states keep the output's
spatial shape. Weights: ``kernel (*kernel_size, in_channels, 4 * filters)``, ``recurrent_kernel
(*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)`` (``unit_forget_bias``: the forget slice
initialised at 1). The states h and c are (batch, *out_spatial, filters) in ``data_format``'s layout.

Both convolutions are the windowing primitive times the reshaped kernel, as Conv2D computes them
(convolutional.py ``_padded`` / ``_contract``), on channels-last arrays (``channels_first`` steps are
moved to channels-last and back). The time loop, the states, ``stateful``, ``go_backwards`` and the
dropout masks (4 per call, one per gate, reused at every step) are the recurrent family's
(recurrent.py ``RNN``, ``_Cell``); what is spatial here is the state shape, the input rank and masks.

Masks (keras 2.3.1 tf.keras.backend.rnn, keras 3 backends): a mask (batch, time) masks whole steps; the
mask a ``Masking`` layer makes of a 5D input is (batch, time, rows, cols) (it reduces the channel axis
only), and the loop expands it with trailing axes against each step's output and state: it masks pixel
by pixel, and it only fits when its spatial axes are the output's leading ones (``same`` padding, stride
1), else ValueError. keras 2.2.4's K.rnn cannot mask inputs of rank 5 at all (ValueError).
"""
from __future__ import annotations

import re

import numpy as np

from .. import backend
from ..autodiff import ops
from .base import InputSpec
from .conv_utils import (from_channels_last, normalize_data_format, normalize_padding, normalize_tuple,
                         output_length, to_channels_last, with_spatial)
from .convolutional import _contract, _padded
from .core import _activation_name, _check_positive_int, _get, _get_activation
from .recurrent import LSTMCell, _Cell, _data, _Recurrent, _versioned

__all__ = ["ConvLSTM2DCell", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"]

#: recurrent_activation's default: keras 2.2.4 / 2.3.1 ConvLSTM2D(Cell) 'hard_sigmoid' (2.3.1 did not
#: move it to 'sigmoid' as it did for LSTM), keras 3.15 ConvLSTMCell 'sigmoid'
_RECURRENT_ACTIVATION = {"2.2.4": "hard_sigmoid", "2.3": "hard_sigmoid", "3": "sigmoid"}
_DEFAULT = object()


def _keras3_snake_case(name: str) -> str:
    """keras 3.15 utils/naming.py to_snake_case: ``ConvLSTM2D`` -> ``conv_lstm2d`` (keras 2's rule,
    base.to_snake_case, splits before a capital followed by a digit too: ``conv_lst_m2d``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _private_cell(cls, api_version, **kwargs):
    """A cell of a class no version exports (keras 3's ConvLSTMCell) built for ``api_version``."""
    cell = cls.__new__(cls)
    cell._api_version = api_version
    cls.__init__(cell, **kwargs)
    return cell


# --- the cell -------------------------------------------------------------------------------------------

class _ConvLSTMCell(_Cell):
    """One step of a convolutional LSTM of any spatial rank (keras 3 ConvLSTMCell(rank, ...)); the 2.x
    ConvLSTM2DCell is its rank-2 form. Arguments validated up front, naming the argument."""

    _gates = 4
    _mask_count = 4     # every version draws one input and one recurrent mask per gate
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation=_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, rank=None, **kwargs):
        if rank is not None:
            self.rank = int(rank)
        v, n, cls = self._api_version, self.rank, type(self).__name__
        filters = _check_positive_int(filters, "filters", cls)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size", v)
        self.strides = normalize_tuple(strides, n, "strides", v)
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate", v)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            # keras 3.15 ConvLSTMCell.__init__; keras 2 tf.nn.convolution when the layer is called
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        if recurrent_activation is _DEFAULT:
            recurrent_activation = _RECURRENT_ACTIVATION[backend.normalize_version(v)]
        super().__init__(filters, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                         seed=seed, **kwargs)
        self.filters = filters
        self.recurrent_activation = _get_activation(recurrent_activation, v)
        self.unit_forget_bias = unit_forget_bias
        self.input_spec = InputSpec(ndim=n + 2)

    # states [h, c], filters channels each; the bias initialiser puts the forget slice at 1: LSTMCell's
    _state_sizes = LSTMCell._state_sizes
    _bias_initializer = LSTMCell._bias_initializer

    @property
    def state_size(self):
        # 2.x (filters, filters); keras 3.15 -1 ("custom, defined in methods": get_initial_state)
        return -1 if self._api_version == "3" else (self.filters, self.filters)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def output_spatial(self, spatial):
        """The spatial shape of the output (and of the states) of a step whose input has ``spatial``."""
        return tuple(output_length(d, k, self.padding, s, r) for d, k, s, r in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape):
        """``input_shape``: one step's, (batch, *spatial, channels) or (batch, channels, *spatial)."""
        shape = tuple(input_shape)
        channels = shape[self._channel_axis()]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. Found `None` (input shape "
                             f"{shape}).")
        self._build_input_shape = shape
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, 4 * self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                shape=self.kernel_size + (self.filters, 4 * self.filters),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(4 * self.filters,),
                                        initializer=self._bias_initializer(), regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    # -- one step --
    def _conv(self, x, kernel, strides, padding, dilation):
        """A channels-last ``x`` convolved with ``kernel`` (*kernel_size, in, out): the windows of the
        padded input times the kernel reshaped to (prod(kernel_size) * in, out), as Conv2D computes."""
        w = ops.windows(_padded(x, self.kernel_size, strides, dilation, padding), self.kernel_size, strides,
                        dilation)
        out = int(kernel.shape[-1])
        return _contract(w, ops.reshape(kernel, (-1, out)), tuple(w.shape[:1 + self.rank]) + (out,))

    def input_conv(self, x, kernel):
        return self._conv(x, kernel, self.strides, self.padding, self.dilation_rate)

    def recurrent_conv(self, h, kernel):
        return self._conv(h, kernel, (1,) * self.rank, "same", (1,) * self.rank)

    def _per_gate(self, x, masks, kernel, conv):
        """The four gates' convolutions of ``x``: one convolution with the fused kernel, split, or, with
        dropout masks (one per gate), each gate's masked input with its slice of the kernel."""
        if masks is None:
            return self._split(conv(x, kernel), 4)
        return [conv(x * m, k) for m, k in zip(masks, self._split(kernel, 4))]

    def call(self, inputs, states, training=None):
        df = self.data_format
        x = to_channels_last(inputs, df)
        h_tm1, c_tm1 = to_channels_last(states[0], df), to_channels_last(states[1], df)
        dp, rdp = self._masks(x, h_tm1, training)
        x_i, x_f, x_c, x_o = self._per_gate(x, dp, self.kernel, self.input_conv)
        if self.use_bias:
            b_i, b_f, b_c, b_o = self._split(self.bias, 4)
            x_i, x_f, x_c, x_o = x_i + b_i, x_f + b_f, x_c + b_c, x_o + b_o
        h_i, h_f, h_c, h_o = self._per_gate(h_tm1, rdp, self.recurrent_kernel, self.recurrent_conv)
        i = self.recurrent_activation(x_i + h_i)
        f = self.recurrent_activation(x_f + h_f)
        c = f * c_tm1 + i * self.activation(x_c + h_c)
        o = self.recurrent_activation(x_o + h_o)
        h = o * self.activation(c)
        h, c = from_channels_last(h, df), from_channels_last(c, df)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
                       "padding": self.padding, "data_format": self.data_format,
                       "dilation_rate": self.dilation_rate, "activation": _activation_name(self.activation),
                       "recurrent_activation": _activation_name(self.recurrent_activation),
                       "use_bias": self.use_bias})
        config.update(self._initializer_config())
        config["unit_forget_bias"] = self.unit_forget_bias
        config.update(self._penalty_config())
        if self._api_version == "3":
            config["seed"] = self.seed
        return config


class ConvLSTM2DCell(_ConvLSTMCell):
    """The cell of ConvLSTM2D (exported by keras 2.2.4 / 2.3.1; keras 3 exports no ConvLSTM cell)."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), activation="tanh", recurrent_activation="hard_sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation,
                         recurrent_activation=recurrent_activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                         kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                         dropout=dropout, recurrent_dropout=recurrent_dropout, **kwargs)


# --- the layers -----------------------------------------------------------------------------------------

_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
              "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed")

_NO_UNROLL = "Unrolling isn't possible with convolutional RNNs."


class _ConvLSTM(_Recurrent):
    """An RNN over its own convolutional LSTM cell, the cell's arguments taken (and serialised) flat as
    LSTM's are; input (batch, time, *spatial, channels) (channels_last) or (batch, time, channels,
    *spatial). 2.x (ConvRNN2D): ``unroll=True`` is a TypeError, ``return_state`` and ``unroll`` come
    through **kwargs; keras 3 (ConvLSTM): ``unroll`` and ``zero_output_for_mask`` through **kwargs."""

    rank = 2
    _cell_args = _CELL_ARGS
    _cell_name = "conv_lstm_cell"

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation=_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        v = self._api_version
        unroll = kwargs.pop("unroll", False)
        if v != "3" and unroll:
            raise TypeError(_NO_UNROLL)
        cell_kwargs = dict(filters=filters, kernel_size=kernel_size, strides=strides, padding=padding,
                           data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                           recurrent_activation=recurrent_activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                           dropout=dropout, recurrent_dropout=recurrent_dropout)
        if recurrent_activation is _DEFAULT:
            cell_kwargs["recurrent_activation"] = _RECURRENT_ACTIVATION[backend.normalize_version(v)]
        rnn_kwargs = {}
        if v == "3":
            rnn_kwargs["zero_output_for_mask"] = kwargs.pop("zero_output_for_mask", False)
            cell = _private_cell(_ConvLSTMCell, v, rank=self.rank, seed=seed, name=self._cell_name,
                                 dtype=kwargs.get("dtype"), **cell_kwargs)
        else:
            cell = _versioned(ConvLSTM2DCell, v, **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=_get("regularizers", activity_regularizer, v), **rnn_kwargs,
                         **kwargs)
        self._state_shape = None     # one state without the batch: (*out_spatial, filters) in data_format

    @classmethod
    def _name_prefix(cls) -> str:
        return _keras3_snake_case(cls.__name__) if cls._api_version == "3" else super()._name_prefix()

    # -- shapes --
    def _step_state_shape(self, shape):
        """(*out_spatial, filters) in data_format's layout, of a step whose input shape (no time) is
        ``shape`` (batch first)."""
        cell = self.cell
        spatial = shape[1:-1] if cell.data_format == "channels_last" else shape[2:]
        return with_spatial(shape, cell.data_format, cell.output_spatial(spatial), cell.filters)[1:]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        state = (shape[0],) + self._step_state_shape((shape[0],) + shape[2:])
        out = (shape[0], shape[1]) + state[1:] if self.return_sequences else state
        if self.return_state:
            return [out, state, state]
        return out

    def _check_input(self, shape):
        InputSpec(ndim=self.rank + 3).check(self, shape)
        built = getattr(self, "_built_shape", None)
        if built is not None and tuple(shape[2:]) != built:
            raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected shape=(None, None) + "
                             f"{built}, found shape={tuple(shape)}")

    def build(self, input_shape):
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        cell = self.cell
        spatial = shape[2:-1] if cell.data_format == "channels_last" else shape[3:]
        if self._api_version == "3" and None in spatial:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial dimension. "
                             f"Received invalid input shape: input_shape={shape}")
        out = cell.output_spatial(spatial)
        if any(d is not None and d <= 0 for d in out):
            raise ValueError(f"Computed output size would be negative or zero: {out} for layer {self.name} "
                             f"(input shape {shape}, kernel_size {cell.kernel_size}, dilation_rate "
                             f"{cell.dilation_rate}, padding {cell.padding!r}): the kernel does not fit the input.")
        self._state_shape = self._step_state_shape((shape[0],) + shape[2:])
        super().build(input_shape)
        self._built_shape = tuple(shape[2:])

    # -- states: spatial --
    def _state_shapes(self, batch) -> list[tuple]:
        """Two states (h, c) of (batch, *out_spatial, filters) in data_format's layout, once built."""
        if self._state_shape is None or None in self._state_shape:
            return super()._state_shapes(batch)
        return [(batch,) + self._state_shape] * 2

    # -- masks --
    def _step_mask(self, x, mask):
        """The mask as (batch, time, ...) broadcasting against a step's output: a (batch, time) mask masks
        whole steps, a (batch, time, *dims) one (a Masking layer's) pixel by pixel where ``dims`` are the
        leading axes of a step's output (tf.keras.backend.rnn / keras 3 ``_expand_mask``)."""
        if self._api_version == "2.2.4":
            raise ValueError("keras 2.2.4 K.rnn cannot mask an input of rank 5 (a (batch, time) mask is "
                             "transposed with the input's 5 axes, a Masking layer's (batch, time, rows, cols) one "
                             f"tiled along one axis): layer {self.name} was passed a mask")
        keep = np.asarray(_data(mask), dtype=bool)
        dims = keep.shape[2:]
        if keep.shape[:2] != tuple(x.shape[:2]) or dims != self._state_shape[:len(dims)]:
            raise ValueError(f"Dimensions must be equal: layer {self.name} was passed a mask of shape "
                             f"{keep.shape}, which does not fit its steps' output (batch, "
                             f"{', '.join(map(str, self._state_shape))})")
        return keep.reshape(keep.shape + (1,) * (len(self._state_shape) - len(dims)))


class ConvLSTM2D(_ConvLSTM):
    """2D convolutional LSTM: (batch, time, rows, cols, channels) -> (batch, [time,] new_rows, new_cols,
    filters) (channels_last)."""

    rank = 2


class ConvLSTM1D(_ConvLSTM):
    """1D convolutional LSTM (keras 3): (batch, time, steps, channels) -> (batch, [time,] new_steps,
    filters) (channels_last)."""

    rank = 1


class ConvLSTM3D(_ConvLSTM):
    """3D convolutional LSTM (keras 3): (batch, time, dim1, dim2, dim3, channels) -> (batch, [time,]
    new_dim1, new_dim2, new_dim3, filters) (channels_last)."""

    rank = 3
