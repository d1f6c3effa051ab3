"""Recurrent layers: RNN (over a cell or a stack of cells), SimpleRNN, GRU, LSTM, and the cells
SimpleRNNCell, GRUCell, LSTMCell, StackedRNNCells.

A cell is one time step: ``cell.call(x_t, states) -> (output_t, new_states)`` on (batch, features)
Tensors, written with ``ops`` so that gradients through time come from the autodiff core. ``RNN`` loops
over the time axis (the only Python loop; batch and units are vectorised) the way each version's
``K.rnn`` does (keras 2.2.4 backend/tensorflow_backend.py ``rnn``; keras 2.3.1 delegates to
``tf.keras.backend.rnn``; keras 3.15 backend/tensorflow/rnn.py): ``go_backwards`` walks the steps from
the last and returns the outputs in that (reversed) order; a masked step keeps every state and gives
as output what that version gives (``_MASKED_OUTPUT`` below); ``unroll`` computes the same numbers.

Weight layouts are Keras': one ``kernel`` (input_dim, gates * units), one ``recurrent_kernel``
(units, gates * units), one ``bias`` (gates * units,), the gates concatenated along the last axis in
Keras' order: LSTM i, f, c, o; GRU z, r, h (``reset_after``: bias (2, 3 * units), row 0 the input bias,
row 1 the recurrent bias); SimpleRNN one gate. The layer's weights are its cell's (the cells' of a
stack, in order), named as Keras names them: 2.x ``"lstm_1/kernel:0"`` (the layer's scope; a second
``kernel`` in a stack ``"rnn_1/kernel_1:0"``, TensorFlow's unique-name rule), keras 3 ``"kernel"`` with
path ``"lstm/lstm_cell/kernel"``.

Dropout (training only): the masks are drawn once per call of the layer and reused at every time step
(``dropout`` on the inputs, ``recurrent_dropout`` on the previous output), as Keras' cells cache them;
at inference neither has any effect. ``stateful=True`` keeps the final states of each call (NumPy
arrays, no gradient through them) as the next call's initial states; ``reset_states()`` zeroes them.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autodiff import Tensor, as_tensor, ops
from .base import InputSpec, KerasTensor, Layer, serialize_object
from .core import _activation_name, _get, _get_activation

__all__ = ["RNN", "SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell", "LSTMCell", "StackedRNNCells"]


# --- what differs by version ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Behaviour:
    #: the output of a masked step in the symbolic loop (unroll=False): "first_state" (keras 2.2.4 K.rnn:
    #: the previous step's states[0], the initial state at the first step) or "previous_output" (the
    #: previous step's output, zeros at the first step: tf.keras.backend.rnn, keras 3 tensorflow/torch).
    #: Every version's unrolled loop gives the previous output (zeros at the first step).
    masked_output: str
    #: unroll=True refuses these numbers of time steps (2.2.4: undefined or 1; later: undefined)
    unroll_refuses_one_step: bool
    #: keras 3: dropout masks only when training and 0 < rate < 1, GRU/LSTM implementation 2 draws one
    #: mask (and recurrent_dropout forces implementation 1); keras 2 draws `count` masks and
    #: implementation 2 uses the first
    keras3: bool


_BEHAVIOUR = {
    "2.2.4": _Behaviour("first_state", True, False),
    "2.3": _Behaviour("previous_output", False, False),
    "3": _Behaviour("previous_output", False, True),
}


def _behaviour(layer) -> _Behaviour:
    return _BEHAVIOUR[backend.normalize_version(layer._api_version)]


class _VersionDefault:
    """The default of an argument whose documented default differs by version (the surface passes the
    documented one; a subclass calling ``super().__init__`` without it gets the same from ``_DEFAULTS``)."""

    def __repr__(self):
        return "<the version's default>"


_VERSION_DEFAULT = _VersionDefault()

#: keras 2.2.4 / 2.3.1 layers/recurrent.py, keras 3.15 layers/rnn/{gru,lstm}.py (implementation in keras 3:
#: kwargs.pop("implementation", 2))
_DEFAULTS = {
    "2.2.4": {"recurrent_activation": "hard_sigmoid", "implementation": 1, "reset_after": False},
    "2.3": {"recurrent_activation": "sigmoid", "implementation": 2, "reset_after": False},
    "3": {"recurrent_activation": "sigmoid", "implementation": 2, "reset_after": True},
}


def _default(layer, name, value):
    if value is _VERSION_DEFAULT:
        return _DEFAULTS[backend.normalize_version(layer._api_version)][name]
    return value


def _data(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _check_units(units, cls):
    """keras 3.15 (layers/rnn/*.py cells): ``if units <= 0: raise ValueError``. Keras 2 checks nothing
    (a zero-size kernel); the reference refuses a non-positive or non-integer ``units`` in every version."""
    if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units` of {cls}, expected a positive "
                         f"integer, got {units!r}.")
    return int(units)


def _serialize_cell(cell, api_version):
    """A cell as an RNN config holds it: 2.x ``{"class_name", "config"}``; keras 3
    ``serialize_keras_object``: ``{"module", "class_name", "config", "registered_name"}`` plus the
    ``build_config`` of a built cell (the step input shape it was built with)."""
    if api_version != "3":
        return {"class_name": type(cell).__name__, "config": cell.get_config()}
    entry = {"module": "keras.layers", "class_name": type(cell).__name__, "config": cell.get_config(),
             "registered_name": None}
    shape = getattr(cell, "_build_input_shape", None)
    if cell.built and shape is not None:
        entry["build_config"] = {"input_shape": tuple(shape)}
    return entry


def _deserialize_cell(entry, api_version):
    from ..engine.serialization import deserialize_layer
    if isinstance(entry, Layer):
        return entry
    return deserialize_layer(entry, api_version)


# --- cells --------------------------------------------------------------------------------------------

class _Cell(Layer):
    """What the three cells share: arguments, weights, dropout masks (drawn once per layer call)."""

    _gates = 1
    _mask_count = 1        # keras 2 draws this many input / recurrent masks (one per gate)

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        v = self._api_version
        self.units = _check_units(units, type(self).__name__)
        self.activation = _get_activation(activation, v)
        self.use_bias = use_bias
        self.kernel_initializer = _get("initializers", kernel_initializer, v)
        self.recurrent_initializer = _get("initializers", recurrent_initializer, v)
        self.bias_initializer = _get("initializers", bias_initializer, v)
        self.kernel_regularizer = _get("regularizers", kernel_regularizer, v)
        self.recurrent_regularizer = _get("regularizers", recurrent_regularizer, v)
        self.bias_regularizer = _get("regularizers", bias_regularizer, v)
        self.kernel_constraint = _get("constraints", kernel_constraint, v)
        self.recurrent_constraint = _get("constraints", recurrent_constraint, v)
        self.bias_constraint = _get("constraints", bias_constraint, v)
        # every version clamps the rates into [0, 1] (min(1., max(0., rate)))
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._generator = None
        self._dropout_mask = None
        self._recurrent_dropout_mask = None
        self._build_input_shape = None

    # -- sizes --
    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _state_sizes(self) -> list[int]:
        return [self.units]

    # -- weights --
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        input_dim = tuple(input_shape)[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to {type(self).__name__} should be "
                             f"defined. Found None (input shape {tuple(input_shape)}).")
        self._build_input_shape = tuple(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self._gates * self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel",
                                                shape=(self.units, self._gates * self.units),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(),
                                        initializer=self._bias_initializer(),
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    # -- dropout masks --
    def _draw(self, like, rate, count):
        """``count`` masks (one array when count is None) of ``like``'s shape: 0 with probability
        ``rate``, else ``1 / (1 - rate)`` (K.dropout of ones; keras 3 backend.random.dropout)."""
        shape, dtype = tuple(like.shape), like.dtype

        def one():
            if rate >= 1.0:
                return np.zeros(shape, dtype)
            keep = self._rng().random(shape) >= rate
            return (keep / (1.0 - rate)).astype(dtype)
        return one() if count is None else [one() for _ in range(count)]

    def _mask_counts(self):
        """(how many masks to draw, or None for one array): keras 2 draws one per gate (SimpleRNN: one
        array); keras 3 one per gate in implementation 1, a single array otherwise."""
        if self._gates == 1:
            return None
        if _behaviour(self).keras3 and getattr(self, "implementation", 1) != 1:
            return None
        return self._mask_count

    def _masks(self, inputs, h_tm1, training):
        """(input masks, recurrent masks), each None when that dropout is off: only in training, only
        for 0 < rate < 1 (keras 3 SimpleRNNCell: any rate > 0), drawn at the first step of a call and
        reused at every step (reset_dropout_mask at the start of each layer call)."""
        if not training:
            return None, None

        def active(rate):
            if _behaviour(self).keras3 and self._gates == 1:
                return rate > 0
            return 0.0 < rate < 1.0
        count = self._mask_counts()
        if active(self.dropout) and self._dropout_mask is None:
            self._dropout_mask = self._draw(inputs, self.dropout, count)
        if active(self.recurrent_dropout) and self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = self._draw(h_tm1, self.recurrent_dropout, count)
        dp = self._dropout_mask if active(self.dropout) else None
        rdp = self._recurrent_dropout_mask if active(self.recurrent_dropout) else None
        return dp, rdp

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _reset_masks(self):
        self.reset_dropout_mask()
        self.reset_recurrent_dropout_mask()

    # -- calling --
    def _split(self, w, n):
        """w[..., k * units:(k + 1) * units] for k < n: the gates of a fused kernel or bias."""
        u = self.units
        return [w[..., k * u:(k + 1) * u] for k in range(n)]

    def __call__(self, inputs, states=None, training=None, **kwargs):
        """``cell(x_t, states)`` on arrays or Tensors: one step, ``(output, new_states)``."""
        if states is None:
            raise ValueError(f"{type(self).__name__} is one time step: call it as cell(inputs, states) "
                             "(or wrap it: layers.RNN(cell)).")
        x = inputs if isinstance(inputs, Tensor) else as_tensor(np.asarray(inputs, dtype=self.dtype))
        single = not isinstance(states, (list, tuple))
        states = [states] if single else list(states)
        states = [s if isinstance(s, Tensor) else as_tensor(np.asarray(s, dtype=self.dtype)) for s in states]
        if not self.built:
            self.build(tuple(x.shape))
        out, new = self.call(x, states, training=training)
        return out, (new[0] if single and len(new) == 1 else new)

    def _config(self):
        return {
            "units": self.units,
            "activation": _activation_name(self.activation),
        }

    def _initializer_config(self):
        v = self._api_version
        return {
            "kernel_initializer": serialize_object(self.kernel_initializer, v),
            "recurrent_initializer": serialize_object(self.recurrent_initializer, v),
            "bias_initializer": serialize_object(self.bias_initializer, v),
        }

    def _penalty_config(self):
        v = self._api_version
        return {
            "kernel_regularizer": serialize_object(self.kernel_regularizer, v),
            "recurrent_regularizer": serialize_object(self.recurrent_regularizer, v),
            "bias_regularizer": serialize_object(self.bias_regularizer, v),
            "kernel_constraint": serialize_object(self.kernel_constraint, v),
            "recurrent_constraint": serialize_object(self.recurrent_constraint, v),
            "bias_constraint": serialize_object(self.bias_constraint, v),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        }


def _keras3_implementation(implementation, recurrent_dropout):
    """keras 3.15 GRUCell / LSTMCell: ``implementation = kwargs.pop("implementation", 2)`` (an undocumented
    keyword there), forced to 1 by a non-zero recurrent_dropout."""
    implementation = 2 if implementation in (None, _VERSION_DEFAULT) else implementation
    if min(1.0, max(0.0, float(recurrent_dropout))) != 0.0:
        implementation = 1
    return implementation


class SimpleRNNCell(_Cell):
    """``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)``; output and state h_t.
    kernel (input_dim, units), recurrent_kernel (units, units), bias (units,)."""

    _gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)

    def call(self, inputs, states, training=None):
        prev = states[0]
        dp, rdp = self._masks(inputs, prev, training)
        h = ops.matmul(inputs * dp if dp is not None else inputs, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        if rdp is not None:
            prev = prev * rdp
        output = self.activation(h + ops.matmul(prev, self.recurrent_kernel))
        return output, [output]

    def get_config(self):
        config = super().get_config()
        config.update(self._config())
        config["use_bias"] = self.use_bias
        config.update(self._initializer_config())
        config.update(self._penalty_config())
        if self._api_version == "3":
            config["seed"] = self.seed
        return config


class GRUCell(_Cell):
    """Gated recurrent unit, gates z (update), r (reset), h (candidate) in that order along the kernels'
    last axis: ``z = ra(x W_z + b_z + h U_z)``, ``r = ra(x W_r + b_r + h U_r)``, candidate
    ``hh = a(x W_h + b_h + (r * h) U_h)`` (reset_after=False) or ``a(x W_h + b_h + r * (h U_h + b'_h))``
    (reset_after=True, bias (2, 3 * units): row 0 input, row 1 recurrent), ``h_t = z * h + (1 - z) * hh``.
    reset_after defaults to False in 2.x, True in keras 3."""

    _gates = 3
    _mask_count = 3

    def __init__(self, units, activation="tanh", recurrent_activation=_VERSION_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, implementation=_VERSION_DEFAULT,
                 reset_after=_VERSION_DEFAULT, seed=None, **kwargs):
        if self._api_version == "3":
            implementation = _keras3_implementation(implementation, recurrent_dropout)
        implementation = _default(self, "implementation", implementation)
        recurrent_activation = _default(self, "recurrent_activation", recurrent_activation)
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = _get_activation(recurrent_activation, self._api_version)
        self.implementation = 1 if implementation in (None, 0) else implementation
        self.reset_after = _default(self, "reset_after", reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=None):
        h_tm1 = states[0]
        dp, rdp = self._masks(inputs, h_tm1, training)
        keras3 = _behaviour(self).keras3
        input_bias = recurrent_bias = None
        if self.use_bias:
            if self.reset_after:
                input_bias, recurrent_bias = self.bias[0], self.bias[1]
            else:
                input_bias = self.bias
        u = self.units
        k_z, k_r, k_h = self._split(self.kernel, 3)
        rk_z, rk_r, rk_h = self._split(self.recurrent_kernel, 3)
        if self.implementation == 1:
            x_z, x_r, x_h = (inputs * dp[i] if dp is not None else inputs for i in range(3))
            x_z, x_r, x_h = ops.matmul(x_z, k_z), ops.matmul(x_r, k_r), ops.matmul(x_h, k_h)
            if self.use_bias:
                b_z, b_r, b_h = self._split(input_bias, 3)
                x_z, x_r, x_h = x_z + b_z, x_r + b_r, x_h + b_h
            h_z, h_r, h_h = (h_tm1 * rdp[i] if rdp is not None else h_tm1 for i in range(3))
            rec_z, rec_r = ops.matmul(h_z, rk_z), ops.matmul(h_r, rk_r)
            if self.reset_after and self.use_bias:
                rb_z, rb_r, rb_h = self._split(recurrent_bias, 3)
                rec_z, rec_r = rec_z + rb_z, rec_r + rb_r
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            if self.reset_after:
                rec_h = ops.matmul(h_h, rk_h)
                if self.use_bias:
                    rec_h = rec_h + rb_h
                rec_h = r * rec_h
            else:
                rec_h = ops.matmul(r * h_h, rk_h)
            hh = self.activation(x_h + rec_h)
        else:
            x = inputs
            if dp is not None:
                x = x * (dp if keras3 else dp[0])
            matrix_x = ops.matmul(x, self.kernel)
            if self.use_bias:
                matrix_x = matrix_x + input_bias
            x_z, x_r, x_h = self._split(matrix_x, 3)
            if rdp is not None and not keras3:
                # keras 2 (layers/recurrent.py GRUCell, implementation 2): `h_tm1 *= rec_dp_mask[0]`
                # rebinds h_tm1, so the dropped previous state also enters h = z * h_tm1 + (1 - z) * hh
                h_tm1 = h_tm1 * rdp[0]
            if self.reset_after:
                matrix_inner = ops.matmul(h_tm1, self.recurrent_kernel)
                if self.use_bias:
                    matrix_inner = matrix_inner + recurrent_bias
            else:
                matrix_inner = ops.matmul(h_tm1, self.recurrent_kernel[:, :2 * u])
            rec_z, rec_r = matrix_inner[:, :u], matrix_inner[:, u:2 * u]
            z = self.recurrent_activation(x_z + rec_z)
            r = self.recurrent_activation(x_r + rec_r)
            if self.reset_after:
                rec_h = r * matrix_inner[:, 2 * u:]
            else:
                rec_h = ops.matmul(r * h_tm1, rk_h)
            hh = self.activation(x_h + rec_h)
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        v = self._api_version
        config = super().get_config()
        config.update(self._config())
        config["recurrent_activation"] = _activation_name(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        config.update(self._initializer_config())
        config.update(self._penalty_config())
        if v == "3":
            config["reset_after"] = self.reset_after
            config["seed"] = self.seed
        else:
            config["implementation"] = self.implementation
            config["reset_after"] = self.reset_after
        return config


class LSTMCell(_Cell):
    """Long short-term memory, gates i, f, c, o in that order along the kernels' last axis:
    ``i = ra(x W_i + b_i + h U_i)``, ``f = ra(x W_f + b_f + h U_f)``,
    ``c_t = f * c + i * a(x W_c + b_c + h U_c)``, ``o = ra(x W_o + b_o + h U_o)``, ``h_t = o * a(c_t)``;
    states [h, c]. ``unit_forget_bias``: the bias is initialised as (init(units), ones(units),
    init(2 * units)), the forget gate's slice at 1."""

    _gates = 4
    _mask_count = 4

    def __init__(self, units, activation="tanh", recurrent_activation=_VERSION_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=_VERSION_DEFAULT, seed=None, **kwargs):
        if self._api_version == "3":
            implementation = _keras3_implementation(implementation, recurrent_dropout)
        implementation = _default(self, "implementation", implementation)
        recurrent_activation = _default(self, "recurrent_activation", recurrent_activation)
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                         kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
        self.recurrent_activation = _get_activation(recurrent_activation, self._api_version)
        self.unit_forget_bias = unit_forget_bias
        self.implementation = 1 if implementation in (None, 0) else implementation

    @property
    def state_size(self):
        if self._api_version == "3":
            return [self.units, self.units]
        return (self.units, self.units)

    def _state_sizes(self) -> list[int]:
        return [self.units, self.units]

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def bias_initializer(shape, dtype=None):
            parts = [np.asarray(base((units,), dtype=dtype)), np.ones((units,), dtype=dtype),
                     np.asarray(base((2 * units,), dtype=dtype))]
            return np.concatenate(parts).astype(dtype)
        return bias_initializer

    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        dp, rdp = self._masks(inputs, h_tm1, training)
        keras3 = _behaviour(self).keras3
        if self.implementation == 1:
            xs = [inputs * dp[i] if dp is not None else inputs for i in range(4)]
            ks = self._split(self.kernel, 4)
            x_i, x_f, x_c, x_o = (ops.matmul(x, k) for x, k in zip(xs, ks))
            if self.use_bias:
                b_i, b_f, b_c, b_o = self._split(self.bias, 4)
                x_i, x_f, x_c, x_o = x_i + b_i, x_f + b_f, x_c + b_c, x_o + b_o
            hs = [h_tm1 * rdp[i] if rdp is not None else h_tm1 for i in range(4)]
            rk_i, rk_f, rk_c, rk_o = self._split(self.recurrent_kernel, 4)
            i = self.recurrent_activation(x_i + ops.matmul(hs[0], rk_i))
            f = self.recurrent_activation(x_f + ops.matmul(hs[1], rk_f))
            c = f * c_tm1 + i * self.activation(x_c + ops.matmul(hs[2], rk_c))
            o = self.recurrent_activation(x_o + ops.matmul(hs[3], rk_o))
        else:
            x = inputs
            if dp is not None:
                x = x * (dp if keras3 else dp[0])
            h = h_tm1
            if rdp is not None and not keras3:
                h = h * rdp[0]
            z = ops.matmul(x, self.kernel) + ops.matmul(h, self.recurrent_kernel)
            if self.use_bias:
                z = z + self.bias
            z0, z1, z2, z3 = self._split(z, 4)
            i = self.recurrent_activation(z0)
            f = self.recurrent_activation(z1)
            c = f * c_tm1 + i * self.activation(z2)
            o = self.recurrent_activation(z3)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        v = self._api_version
        config = super().get_config()
        config.update(self._config())
        config["recurrent_activation"] = _activation_name(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        if v == "3":
            config["unit_forget_bias"] = self.unit_forget_bias
            config.update(self._initializer_config())
        else:
            config.update(self._initializer_config())
            config["unit_forget_bias"] = self.unit_forget_bias
        config.update(self._penalty_config())
        if v == "3":
            config["seed"] = self.seed
        else:
            config["implementation"] = self.implementation
        return config


class StackedRNNCells(Layer):
    """A list of cells as one cell: each cell's output is the next cell's input; the states are the cells'
    states in order, flat (keras 2 ``state_size`` is the flat tuple; keras 3's is the nested list
    ``[c.state_size for c in cells]``); the output is the last cell's."""

    def __init__(self, cells, **kwargs):
        v = self._api_version
        if not isinstance(cells, (list, tuple)):
            raise ValueError(f"StackedRNNCells expects a list of cells, got {cells!r}")
        for cell in cells:
            if not hasattr(cell, "call") or "call" not in dir(cell):
                raise ValueError(("All cells must have a `call` method. " + (
                    f"Received cell without a `call` method: {cell}" if v == "3" else f"received cells: {cells}")))
            if "state_size" not in dir(cell):
                raise ValueError(("All cells must have a `state_size` attribute. " + (
                    f"Received cell without a `state_size`: {cell}" if v == "3"
                    else f"received cells: {cells}")))
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        if self._api_version == "3":
            return [c.state_size for c in self.cells]
        return tuple(self._state_sizes())

    def _state_sizes(self) -> list[int]:
        return [s for c in self.cells for s in _flat_state_sizes(c)]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell.build(shape)
                cell.built = True
            shape = (shape[0], _output_size(cell))
        self._build_input_shape = tuple(input_shape)
        self.built = True

    @property
    def trainable_weights(self):
        return [w for c in self.cells for w in c.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return [w for c in self.cells for w in c.non_trainable_weights]
        return [w for c in self.cells for w in c.weights]

    @property
    def weights(self):
        return [w for c in self.cells for w in c.weights]

    def call(self, inputs, states, training=None):
        new_states, k = [], 0
        for cell in self.cells:
            n = len(_flat_state_sizes(cell))
            inputs, cell_states = _cell_step(cell, inputs, list(states[k:k + n]), training)
            new_states += list(cell_states)
            k += n
        return inputs, new_states

    def __call__(self, inputs, states=None, training=None, **kwargs):
        return _Cell.__call__(self, inputs, states, training=training)

    def _reset_masks(self):
        for cell in self.cells:
            if hasattr(cell, "_reset_masks"):
                cell._reset_masks()

    def get_config(self):
        config = super().get_config()
        config["cells"] = [_serialize_cell(c, self._api_version) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cells = [_deserialize_cell(c, cls._api_version) for c in config.pop("cells")]
        if cls._api_version == "3" and isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(cells, **config)


def _flat_state_sizes(cell) -> list[int]:
    sizes = getattr(cell, "_state_sizes", None)
    if callable(sizes):
        return list(sizes())
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


def _output_size(cell) -> int:
    size = getattr(cell, "output_size", None)
    return int(size) if size is not None else _flat_state_sizes(cell)[0]


def _fuses(cell, training) -> bool:
    """Is ``cell`` the reference's own LSTMCell step with tanh and the logistic sigmoid, no dropout mask
    drawn (not training, or both rates 0)? Then RNN runs its steps as the one ``ops.lstm`` primitive. A
    subclass with its own ``call``, another activation, or an active dropout keeps the loop of cell steps."""
    from .. import activations
    return (isinstance(cell, LSTMCell) and type(cell).call is LSTMCell.call
            and cell.activation is activations.tanh and cell.recurrent_activation is activations.sigmoid
            and (not training or (cell.dropout == 0 and cell.recurrent_dropout == 0)))


def _cell_step(cell, x, states, training):
    from .base import _parameters
    if "training" in _parameters(cell.call):
        out, new = cell.call(x, states, training=training)
    else:
        out, new = cell.call(x, states)
    return out, (list(new) if isinstance(new, (list, tuple)) else [new])


def _versioned(core_cls, api_version, *args, **kwargs):
    """An instance of the per-version class of ``core_cls`` (``K.layers.LSTMCell``), built with the core
    constructor and the arguments as given: a layer makes its own cell this way, as Keras does, without
    going through the documented signature a user's call is bound against."""
    from .. import versions
    cls = getattr(versions.classes(api_version).layers, core_cls.__name__)
    obj = cls.__new__(cls)
    core_cls.__init__(obj, *args, **kwargs)
    return obj


_UNROLL_MESSAGE = ("Cannot unroll a RNN if the time dimension is undefined{}. \n- If using a Sequential model, "
                   "specify the time dimension by passing an `input_shape` or `batch_input_shape` argument to "
                   "your first layer.\n- If using the functional API, specify the time dimension by passing a "
                   "`shape` or `batch_shape` argument to your Input layer.")


class RNN(Layer):
    """The recurrent loop over a cell (or a list of cells, stacked): (batch, time, features) ->
    (batch, units) or, with ``return_sequences``, (batch, time, units); with ``return_state`` the list
    ``[output, *final states]``.

    Per version (keras 2.2.4 / 2.3.1 layers/recurrent.py RNN and the backends' ``rnn``; keras 3.15
    layers/rnn/rnn.py): the output of a masked step is ``_BEHAVIOUR[v].masked_output`` (2.2.4's
    symbolic loop: the previous step's first state; otherwise the previous output, zeros at the first
    step; keras 3 ``zero_output_for_mask=True``: zeros); 2.2.4 refuses ``unroll=True`` on one time step;
    ``stateful=True`` needs a known batch size (ValueError at build)."""

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        v = self._api_version
        if isinstance(cell, (list, tuple)):
            cell = _versioned(StackedRNNCells, v, list(cell))
        if not hasattr(cell, "call") or "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}" if v == "3"
                             else f"`cell` should have a `call` method. The RNN was passed: {cell}")
        if "state_size" not in dir(cell):
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer or list of "
                             f"integers, one integer per RNN state). Received: cell={cell}" if v == "3" else
                             "The RNN cell should have an attribute `state_size` (tuple of integers, one "
                             "integer per RNN state).")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._states = None
        self._input_dim = None

    # -- sizes and shapes --
    def _state_sizes(self) -> list[int]:
        return _flat_state_sizes(self.cell)

    @property
    def state_size(self):
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    @property
    def states(self):
        """The kept states of a stateful layer (NumPy arrays); 2.x ``[None] * n`` before any,
        keras 3 None."""
        if self._states is None:
            return None if self._api_version == "3" else [None] * len(self._state_sizes())
        return [np.array(s, copy=True) for s in self._states]

    @states.setter
    def states(self, value):
        self._states = None if value is None else [np.asarray(_data(s)) for s in value]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        units = _output_size(self.cell)
        out = (shape[0], shape[1], units) if self.return_sequences else (shape[0], units)
        if self.return_state:
            return [out] + [(shape[0], s) for s in self._state_sizes()]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self._state_sizes())
        return out

    # -- building --
    def _maybe_build(self, input_shape):
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        self._check_input(shape)
        super()._maybe_build(input_shape)

    def _check_input(self, shape):
        InputSpec(ndim=3).check(self, shape)
        if self._input_dim is not None and shape[-1] is not None and shape[-1] != self._input_dim:
            raise ValueError(f"Input 0 is incompatible with layer {self.name}: expected axis -1 of input shape "
                             f"to have value {self._input_dim} but got shape {tuple(shape)}")

    def build(self, input_shape):
        shape = tuple(input_shape[0] if isinstance(input_shape, list) else input_shape)
        if self.stateful and shape[0] is None:
            if self._api_version == "3":
                raise ValueError("When using `stateful=True` in a RNN, the batch size must be static. Found "
                                 f"dynamic batch size: sequence.shape={shape}")
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size of "
                             "your input tensors: \n- If using a Sequential model, specify the batch size by "
                             "passing a `batch_input_shape` argument to your first layer.\n- If using the "
                             "functional API, specify the batch size by passing a `batch_shape` argument to "
                             "your Input layer.")
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell.build((shape[0],) + shape[2:])
            self.cell.built = True
        self._input_dim = shape[-1]
        self._name_weights()
        if self.stateful:
            self._batch_size = shape[0]
            self.reset_states()
        self.built = True

    def _cells(self):
        return list(self.cell.cells) if isinstance(self.cell, StackedRNNCells) else [self.cell]

    def _name_weights(self):
        """Keras' names for the cells' weights: 2.x ``"<layer>/<weight>:0"`` in the layer's scope (a name
        used twice gets TensorFlow's ``_1`` suffix); keras 3 path ``"<layer>/[<stack>/]<cell>/<weight>"``."""
        from .. import versions
        scoped = versions.traits(self._api_version).scoped_weight_names
        stack = f"{self.cell.name}/" if isinstance(self.cell, StackedRNNCells) else ""
        used: dict[str, int] = {}
        for cell in self._cells():
            for var in getattr(cell, "weights", []):
                base = (getattr(var, "path", None) or var.name).split("/")[-1].split(":")[0]
                if getattr(var, "_rnn_scoped", False):
                    continue
                n = used.get(base, 0)
                used[base] = n + 1
                if scoped:
                    var.name = f"{self.name}/{base}{'' if n == 0 else f'_{n}'}:0"
                var.path = f"{self.name}/{stack}{cell.name}/{base}"
                var._rnn_scoped = True

    # -- weights: the cell's --
    @property
    def trainable_weights(self):
        if not self.trainable or not isinstance(self.cell, Layer):
            return []
        return list(self.cell.trainable_weights)

    @property
    def non_trainable_weights(self):
        if not isinstance(self.cell, Layer):
            return []
        return list(self.cell.weights) if not self.trainable else list(self.cell.non_trainable_weights)

    @property
    def weights(self):
        return self.trainable_weights + self.non_trainable_weights

    # -- states --
    def reset_states(self, states=None):
        """Zero the kept states (or set them to ``states``, 2.x); 2.x AttributeError when not stateful."""
        if not self.stateful:
            if self._api_version == "3":
                return
            raise AttributeError("Layer must be stateful.")
        batch = getattr(self, "_batch_size", None)
        if batch is None:
            if self._api_version == "3":
                return
            raise ValueError("If a RNN is stateful, it needs to know its batch size. Specify the batch size "
                             "of your input tensors.")
        shapes = self._state_shapes(batch)
        if states is None:
            self._states = [np.zeros(shape, dtype=self.dtype) for shape in shapes]
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != len(shapes):
            raise ValueError(f"Layer {self.name} expects {len(shapes)} states, but it received {len(states)} "
                             f"state values. Input received: {states}")
        values = []
        for index, (value, shape) in enumerate(zip(states, shapes)):
            value = np.asarray(_data(value), dtype=self.dtype)
            if value.shape != shape:
                raise ValueError(f"State {index} is incompatible with layer {self.name}: expected "
                                 f"shape={shape}, found shape={value.shape}")
            values.append(value)
        self._states = values

    def _state_shapes(self, batch) -> list[tuple]:
        """The full shape of each state for a batch of ``batch``: (batch, size) per state size."""
        return [(batch, s) for s in self._state_sizes()]

    def reset_state(self):
        """keras 3 ``reset_state()``: zero the kept states."""
        self.reset_states()

    # -- calling --
    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        """``layer(x)``, ``layer(x, initial_state=[h, c])`` or ``layer([x, h, c])`` (how a saved 2.x graph
        calls it again): the initial states of a symbolic call become extra inputs of the layer's node,
        as keras 2 ``RNN.__call__`` makes them."""
        if isinstance(inputs, (list, tuple)):
            if initial_state is not None and len(inputs) > 1:
                raise ValueError("Layer was passed initial state via both kwarg and inputs list)")
            inputs, rest = inputs[0], list(inputs[1:])
            initial_state = rest or initial_state
        if initial_state is None:
            return super().__call__(inputs, training=training, **kwargs)
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        symbolic = [isinstance(t, KerasTensor) for t in [inputs, *initial_state]]
        if any(symbolic) and not all(symbolic):
            raise ValueError("The initial state or constants of an RNN layer cannot be specified with a mix of "
                             "Keras tensors and non-Keras tensors (a \"Keras tensor\" is a tensor that was "
                             "returned by a Keras layer, or by `Input`)")
        return super().__call__([inputs, *initial_state], training=training, **kwargs)

    def _initial_states(self, x):
        batch = x.shape[0]
        if self.stateful:
            if self._states is None:
                self.reset_states()
            if self._states[0].shape[0] != batch:
                raise ValueError("If an RNN is stateful, the batch size of the input sequences must be the same "
                                 f"as the batch size of the initial state. \n- Expected batch size: "
                                 f"{self._states[0].shape[0]}\n- Received batch size: {batch}")
            return [as_tensor(np.asarray(s, dtype=x.dtype)) for s in self._states]
        return [as_tensor(np.zeros(shape, dtype=x.dtype)) for shape in self._state_shapes(batch)]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, rest = inputs[0], list(inputs[1:])
            if rest:
                initial_state = rest
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        x = inputs
        timesteps = x.shape[1]
        if self.unroll and (timesteps is None or (_behaviour(self).unroll_refuses_one_step and timesteps == 1)):
            raise ValueError(_UNROLL_MESSAGE.format(" or equal to 1" if _behaviour(self).unroll_refuses_one_step
                                                    else ""))
        if initial_state is not None:
            states = [s if isinstance(s, Tensor) else as_tensor(np.asarray(s, dtype=x.dtype))
                      for s in (initial_state if isinstance(initial_state, (list, tuple)) else [initial_state])]
        else:
            states = self._initial_states(x)
        n = len(self._state_sizes())
        if len(states) != n:
            raise ValueError(f"Layer has {n} states but was passed {len(states)} initial states.")
        keep = None if mask is None else self._step_mask(x, mask)
        if hasattr(self.cell, "_reset_masks"):
            self.cell._reset_masks()
        if keep is None and _fuses(self.cell, training):
            last, outputs, states = self._lstm_sequence(x, states)
        else:
            last, outputs, states = self._loop(x, states, keep, training)
        if hasattr(self.cell, "_reset_masks"):
            self.cell._reset_masks()
        if self.stateful:
            self._states = [np.array(s.data, copy=True) for s in states]
        output = outputs if self.return_sequences else last
        if self.return_state:
            return [output] + list(states)
        return output

    def _step_mask(self, x, mask):
        """The (batch, time) mask as (batch, time, 1): step t's slice broadcasts against its output and
        states."""
        return np.asarray(_data(mask), dtype=bool).reshape(x.shape[0], x.shape[1], 1)

    def _loop(self, x, states, keep, training):
        """The loop over time steps: (last output, outputs (batch, time, units) in processing order,
        final states). A masked step keeps every state; its output is the version's masked output."""
        steps = range(x.shape[1] - 1, -1, -1) if self.go_backwards else range(x.shape[1])
        first_state = _behaviour(self).masked_output == "first_state" and not self.unroll
        outputs, previous = [], None
        for t in steps:
            out, new = _cell_step(self.cell, x[:, t], states, training)
            if keep is not None:
                k = keep[:, t]
                if self.zero_output_for_mask:
                    fallback = np.zeros(out.shape, out.dtype)
                elif first_state:
                    fallback = states[0]
                    if tuple(fallback.shape) != tuple(out.shape):
                        # keras 2.2.4 K.rnn: tf.where(mask, output, states[0]) needs equal shapes
                        raise ValueError(f"Dimensions must be equal: the output of a masked step is the previous "
                                         f"states[0] in keras 2.2.4, of shape {tuple(fallback.shape)}, and the "
                                         f"cell's output has shape {tuple(out.shape)}")
                else:
                    fallback = previous if previous is not None else np.zeros(out.shape, out.dtype)
                out = ops.where(k, out, fallback)
                new = [ops.where(k, s_new, s_old) for s_new, s_old in zip(new, states)]
            outputs.append(out)
            previous, states = out, list(new)
        return outputs[-1], ops.stack(outputs, axis=1), states

    def _lstm_sequence(self, x, states):
        """``_loop`` for an LSTMCell as documented (tanh, sigmoid, no dropout active): the same steps as
        one primitive (autodiff/recurrent.py), whose backward runs through time without a node per step."""
        cell, u = self.cell, self.cell.units
        bias = cell.bias if cell.use_bias else np.zeros((4 * u,), dtype=x.dtype)
        hc = ops.lstm(x, states[0], states[1], cell.kernel, cell.recurrent_kernel, bias,
                      go_backwards=self.go_backwards)
        last = hc[:, -1]
        h = last[:, :u]
        return h, hc[..., :u], [h, last[:, u:2 * u]]

    # -- configuration --
    def _rnn_config(self):
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll}
        if self._api_version == "3":
            config["zero_output_for_mask"] = self.zero_output_for_mask
        return config

    def get_config(self):
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = _serialize_cell(self.cell, self._api_version)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        cell = _deserialize_cell(config.pop("cell"), cls._api_version)
        config.pop("num_constants", None)
        if cls._api_version == "3" and isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(cell, **config)


class _Recurrent(RNN):
    """SimpleRNN, GRU and LSTM: an RNN over its own cell, whose arguments the layer takes (and serialises)
    flat. 2.x (legacy_recurrent_support) also takes ``input_dim`` / ``input_length`` (-> ``input_shape``);
    keras 3 also takes ``zero_output_for_mask`` (RNN's) and, GRU / LSTM, ``implementation`` (the cell's)."""

    _cell_class = None
    _cell_args: tuple = ()
    _cell_name = None

    def _make(self, cell_kwargs, rnn_kwargs, kwargs):
        v = self._api_version
        if v != "3" and "input_dim" in kwargs:
            input_length = kwargs.pop("input_length", None)
            kwargs["input_shape"] = (input_length, kwargs.pop("input_dim"))
        extra = {}
        if v == "3":
            extra = {"dtype": kwargs.get("dtype"), "trainable": kwargs.get("trainable", True),
                     "name": self._cell_name}
            rnn_kwargs["zero_output_for_mask"] = kwargs.pop("zero_output_for_mask", False)
        cell = _versioned(self._cell_class, v, **cell_kwargs, **extra)
        return cell, kwargs

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        config.update(self._layer_config(cell_config))
        return config

    def _layer_config(self, cell_config):
        """The cell's arguments in the layer's config order, with the layer's own activity_regularizer."""
        out = {}
        for key, value in cell_config.items():
            out[key] = value
            if key == "bias_regularizer":
                out["activity_regularizer"] = serialize_object(self.activity_regularizer, self._api_version)
        return out

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls._api_version != "3" and config.get("implementation") == 0:
            config["implementation"] = 1
        if cls._api_version == "3" and isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)

    def __getattr__(self, name):
        # units, activation, use_bias, the initializers, ...: the cell's (keras' read-only properties)
        if name in type(self)._cell_args and "cell" in self.__dict__:
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_COMMON_CELL_ARGS = ("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                     "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                     "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                     "recurrent_dropout")


def _check_use_cudnn(use_cudnn):
    """keras 3.15 GRU / LSTM: ``use_cudnn`` in ("auto", True, False), else ValueError. The reference has
    no cuDNN: any accepted value computes the same."""
    if use_cudnn not in ("auto", True, False) or (not isinstance(use_cudnn, (bool, str))):
        raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, "
                         f"False}}. Received: use_cudnn={use_cudnn}")
    return use_cudnn


class SimpleRNN(_Recurrent):
    """A fully-connected RNN whose output is fed back: RNN(SimpleRNNCell(...))."""

    _cell_class = SimpleRNNCell
    _cell_args = _COMMON_CELL_ARGS + ("seed",)
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, seed=None, **kwargs):
        if self._api_version != "3":
            kwargs.pop("implementation", None)     # 2.x: deprecated, warned about and dropped
        cell_kwargs = dict(units=units, activation=activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout)
        if self._api_version == "3":
            cell_kwargs["seed"] = seed
        rnn_kwargs = {}
        cell, kwargs = self._make(cell_kwargs, rnn_kwargs, kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **rnn_kwargs, **kwargs)
        # keras 3.15 SimpleRNN never hands activity_regularizer to RNN (its config says None); 2.x keeps it
        self.activity_regularizer = (None if self._api_version == "3"
                                     else _get("regularizers", activity_regularizer, self._api_version))

    def _layer_config(self, cell_config):
        cell_config.pop("seed", None)    # keras 3.15 SimpleRNN.get_config has no seed
        return super()._layer_config(cell_config)


class GRU(_Recurrent):
    """Gated recurrent unit: RNN(GRUCell(...)); reset_after defaults to False in 2.x, True in keras 3."""

    _cell_class = GRUCell
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "implementation", "reset_after", "seed")
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation=_VERSION_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=_VERSION_DEFAULT, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=_VERSION_DEFAULT, seed=None, use_cudnn="auto", **kwargs):
        v = self._api_version
        recurrent_activation = _default(self, "recurrent_activation", recurrent_activation)
        cell_kwargs = dict(units=units, activation=activation, recurrent_activation=recurrent_activation,
                           use_bias=use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                           dropout=dropout, recurrent_dropout=recurrent_dropout,
                           reset_after=_default(self, "reset_after", reset_after))
        if v == "3":
            cell_kwargs.update(seed=seed, implementation=kwargs.pop("implementation", 2))
            use_cudnn = _check_use_cudnn(use_cudnn)
        else:
            implementation = _default(self, "implementation", implementation)
            cell_kwargs["implementation"] = 1 if implementation in (None, 0) else implementation
        rnn_kwargs = {}
        cell, kwargs = self._make(cell_kwargs, rnn_kwargs, kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=_get("regularizers", activity_regularizer, v), **rnn_kwargs, **kwargs)
        self.use_cudnn = use_cudnn


class LSTM(_Recurrent):
    """Long short-term memory: RNN(LSTMCell(...)); gates i, f, c, o along the kernels' last axis."""

    _cell_class = LSTMCell
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "unit_forget_bias", "implementation", "seed")
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation=_VERSION_DEFAULT, use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=_VERSION_DEFAULT, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, use_cudnn="auto", **kwargs):
        v = self._api_version
        recurrent_activation = _default(self, "recurrent_activation", recurrent_activation)
        cell_kwargs = dict(units=units, activation=activation, recurrent_activation=recurrent_activation,
                           use_bias=use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                           unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout,
                           recurrent_dropout=recurrent_dropout)
        if v == "3":
            cell_kwargs.update(seed=seed, implementation=kwargs.pop("implementation", 2))
            use_cudnn = _check_use_cudnn(use_cudnn)
        else:
            implementation = _default(self, "implementation", implementation)
            cell_kwargs["implementation"] = 1 if implementation in (None, 0) else implementation
        rnn_kwargs = {}
        cell, kwargs = self._make(cell_kwargs, rnn_kwargs, kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=_get("regularizers", activity_regularizer, v), **rnn_kwargs, **kwargs)
        self.use_cudnn = use_cudnn
