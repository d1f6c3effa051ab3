"""Mutants of the recurrent layers (registered through mutants.mutant).

A layer (LSTM, GRU, SimpleRNN) builds its own cell from the pristine reference, so a mutant of a layer
class changes that layer's cell after the layer built it; a mutant of a cell class (LSTMCell, GRUCell,
SimpleRNNCell, StackedRNNCells) is caught through layers.RNN, whose `cell` domain builds the cells from
the mutated namespace.
"""
from __future__ import annotations

import types

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import ops


def _with_cell_call(K, cls_name, call):
    """``layers.<cls_name>`` whose cell runs ``call(cell, inputs, states, training)`` instead of its own."""
    Base = K.get(f"layers.{cls_name}")

    def __init__(self, *args, **kwargs):
        Base.__init__(self, *args, **kwargs)
        self.cell.call = types.MethodType(call, self.cell)
    _override(K, cls_name, __init__=__init__)


@mutant("numerics", ALL, "layers.LSTM reads its fused kernels in the gate order i, c, f, o instead of Keras' i, f, "
        "c, o (the forget gate and the candidate swapped), so weights from real Keras are misread",
        items=("layers.LSTM",))
def lstm_gate_order_icfo(K, v):
    def call(cell, inputs, states, training=None):
        h_tm1, c_tm1 = states
        z = ops.matmul(inputs, cell.kernel) + ops.matmul(h_tm1, cell.recurrent_kernel)
        if cell.use_bias:
            z = z + cell.bias
        z_i, z_c, z_f, z_o = cell._split(z, 4)          # the slip: c before f
        i, f, o = cell.recurrent_activation(z_i), cell.recurrent_activation(z_f), cell.recurrent_activation(z_o)
        c = f * c_tm1 + i * cell.activation(z_c)
        h = o * cell.activation(c)
        return h, [h, c]
    _with_cell_call(K, "LSTM", call)


@mutant("numerics", ALL, "layers.GRU ignores reset_after: it always applies the reset gate before the recurrent "
        "matmul (and drops the recurrent bias row of a (2, 3 * units) bias)", items=("layers.GRU",))
def gru_ignores_reset_after(K, v):
    def call(cell, inputs, states, training=None):
        h_tm1 = states[0]
        u = cell.units
        bias = None
        if cell.use_bias:
            bias = cell.bias[0] if cell.reset_after else cell.bias
        x = ops.matmul(inputs, cell.kernel)
        if bias is not None:
            x = x + bias
        x_z, x_r, x_h = cell._split(x, 3)
        rec = ops.matmul(h_tm1, cell.recurrent_kernel[:, :2 * u])
        z = cell.recurrent_activation(x_z + rec[:, :u])
        r = cell.recurrent_activation(x_r + rec[:, u:])
        hh = cell.activation(x_h + ops.matmul(r * h_tm1, cell.recurrent_kernel[:, 2 * u:]))
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]
    _with_cell_call(K, "GRU", call)


@mutant("numerics", ALL, "layers.SimpleRNN with go_backwards=True returns its output sequence in the input's "
        "order (re-reversed) instead of the reversed order Keras returns", items=("layers.SimpleRNN",))
def simple_rnn_go_backwards_not_reversed(K, v):
    Base = K.get("layers.SimpleRNN")

    def _loop(self, x, states, keep, training):
        last, outputs, states = Base._loop(self, x, states, keep, training)
        if self.go_backwards:
            steps = outputs.shape[1]
            outputs = ops.stack([outputs[:, t] for t in range(steps - 1, -1, -1)], axis=1)
        return last, outputs, states
    _override(K, "SimpleRNN", _loop=_loop)


@mutant("numerics", ALL, "layers.RNN ignores the mask of its input (a Masking layer in front): masked steps update "
        "the states and give outputs like any other step", items=("layers.RNN",))
def rnn_ignores_mask(K, v):
    Base = K.get("layers.RNN")

    def call(self, inputs, mask=None, training=None, initial_state=None):
        return Base.call(self, inputs, mask=None, training=training, initial_state=initial_state)
    _override(K, "RNN", call=call)


@mutant("numerics", ("2.2.4",), "layers.RNN in keras 2.2.4 gives a masked step the previous output (the rule of "
        "2.3.1 and keras 3) instead of 2.2.4's symbolic loop rule: the previous step's first state (for a stack of "
        "cells the first cell's h)", items=("layers.RNN",))
def rnn_224_masked_output_previous(K, v):
    Base = K.get("layers.RNN")

    def _loop(self, x, states, keep, training):
        unroll = self.unroll
        self.unroll = True            # the unrolled loop's rule: the previous output, zeros at the first step
        try:
            return Base._loop(self, x, states, keep, training)
        finally:
            self.unroll = unroll
    _override(K, "RNN", _loop=_loop)


@mutant("numerics", ALL, "layers.LSTM with stateful=True does not keep its final states: every call starts again "
        "from zeros", items=("layers.LSTM",))
def lstm_stateful_forgets_states(K, v):
    Base = K.get("layers.LSTM")

    def call(self, inputs, mask=None, training=None, initial_state=None):
        out = Base.call(self, inputs, mask=mask, training=training, initial_state=initial_state)
        if self.stateful:
            self.reset_states()
        return out
    _override(K, "LSTM", call=call)


@mutant("numerics", ALL, "layers.LSTMCell outputs o * c instead of o * activation(c) (the cell state's tanh "
        "forgotten)", items=("layers.RNN",))
def lstm_cell_output_without_activation(K, v):
    def call(self, inputs, states, training=None):
        h_tm1, c_tm1 = states[0], states[1]
        z = ops.matmul(inputs, self.kernel) + ops.matmul(h_tm1, self.recurrent_kernel)
        if self.use_bias:
            z = z + self.bias
        z_i, z_f, z_c, z_o = self._split(z, 4)
        i, f, o = (self.recurrent_activation(t) for t in (z_i, z_f, z_o))
        c = f * c_tm1 + i * self.activation(z_c)
        h = o * c                                   # the slip: o * activation(c)
        return h, [h, c]
    _override(K, "LSTMCell", call=call)


def _gru_step(self, inputs, states, gate_order="zrh", update="keras"):
    """GRUCell's step written out (keras' fused kernel and bias, reset_after or not), with the gates read
    from the kernel in ``gate_order`` ("zrh" is Keras', "rzh" PyTorch's) and the new state mixed the
    ``update`` way ("keras": z * h_prev + (1 - z) * candidate; "torch": the other way round)."""
    h_tm1 = states[0]
    u = self.units
    input_bias = recurrent_bias = None
    if self.use_bias:
        input_bias, recurrent_bias = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
    x = ops.matmul(inputs, self.kernel)
    if input_bias is not None:
        x = x + input_bias
    parts = dict(zip(gate_order, self._split(x, 3)))
    x_z, x_r, x_h = parts["z"], parts["r"], parts["h"]
    if self.reset_after:
        inner = ops.matmul(h_tm1, self.recurrent_kernel)
        if recurrent_bias is not None:
            inner = inner + recurrent_bias
    else:
        inner = ops.matmul(h_tm1, self.recurrent_kernel[:, :2 * u])
    first, second = inner[:, :u], inner[:, u:2 * u]
    inner_z, inner_r = (first, second) if gate_order.index("z") == 0 else (second, first)
    z = self.recurrent_activation(x_z + inner_z)
    r = self.recurrent_activation(x_r + inner_r)
    if self.reset_after:
        hh = self.activation(x_h + r * inner[:, 2 * u:])
    else:
        hh = self.activation(x_h + ops.matmul(r * h_tm1, self.recurrent_kernel[:, 2 * u:]))
    h = z * h_tm1 + (1.0 - z) * hh if update == "keras" else (1.0 - z) * h_tm1 + z * hh
    return h, [h]


@mutant("numerics", ALL, "layers.GRUCell mixes the previous state and the candidate the other way round, "
        "h = (1 - z) * h_prev + z * candidate (PyTorch's convention), where Keras has z * h_prev + (1 - z) * "
        "candidate", items=("layers.RNN",))
def gru_cell_update_gate_inverted(K, v):
    def call(self, inputs, states, training=None):
        return _gru_step(self, inputs, states, update="torch")
    _override(K, "GRUCell", call=call)


@mutant("numerics", ALL, "layers.SimpleRNNCell multiplies the previous output by the transposed recurrent kernel "
        "(h @ U.T), so a recurrent kernel from real Keras is read transposed", items=("layers.RNN",))
def simple_rnn_cell_recurrent_kernel_transposed(K, v):
    Base = K.get("layers.SimpleRNNCell")

    def call(self, inputs, states, training=None):
        prev = states[0]
        h = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            h = h + self.bias
        out = self.activation(h + ops.matmul(prev, ops.transpose(self.recurrent_kernel)))
        return out, [out]
    _override(K, "SimpleRNNCell", call=call)


@mutant("shapes", ALL, "layers.StackedRNNCells does not chain its cells: every cell is built on and fed the "
        "stack's input instead of the previous cell's output (kernels of the wrong shape)", items=("layers.RNN",))
def stacked_cells_not_chained(K, v):
    RNNBase = K.get("layers.RNN")

    def build(self, input_shape):
        for cell in self.cells:
            if not cell.built:
                cell.build(tuple(input_shape))
                cell.built = True
        self._build_input_shape = tuple(input_shape)
        self.built = True

    def call(self, inputs, states, training=None):
        from keras_conformance.reference.layers.recurrent import _cell_step, _flat_state_sizes
        new_states, k, out = [], 0, None
        for cell in self.cells:
            n = len(_flat_state_sizes(cell))
            out, cell_states = _cell_step(cell, inputs, list(states[k:k + n]), training)
            new_states += list(cell_states)
            k += n
        return out, new_states
    _override(K, "StackedRNNCells", build=build, call=call)
    Mutated = K.get("layers.StackedRNNCells")

    def __init__(self, cell, *args, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = Mutated(cells=list(cell))
        RNNBase.__init__(self, cell, *args, **kwargs)
    _override(K, "RNN", __init__=__init__)


@mutant("roundtrips", ALL, "layers.GRU.get_config leaves out reset_after, so a GRU rebuilt from its config takes "
        "the version's default", items=("layers.GRU",))
def gru_config_drops_reset_after(K, v):
    Base = K.get("layers.GRU")

    def get_config(self):
        config = Base.get_config(self)
        config.pop("reset_after", None)
        return config
    _override(K, "GRU", get_config=get_config)


# -- the cells themselves (layers.RNN's `cell` domain builds them from the namespace) ----------------------
@mutant("numerics", ALL, "layers.LSTMCell returns its new states in the order [c, h] (documented [h, c]): the "
        "next step reads the carry as the previous output, and return_state gives them swapped",
        items=("layers.LSTMCell", "layers.RNN"))
def lstm_cell_states_c_before_h(K, v):
    Base = K.get("layers.LSTMCell")

    def call(self, inputs, states, training=None):
        h, (h_again, c) = Base.call(self, inputs, states, training=training)
        return h, [c, h_again]
    _override(K, "LSTMCell", call=call)


@mutant("numerics", ALL, "layers.GRUCell reads the gates from its fused kernels and bias in the order r, z, h "
        "(PyTorch's reset-first layout) instead of Keras' z, r, h", items=("layers.GRUCell", "layers.RNN"))
def gru_cell_gate_order_rzh(K, v):
    def call(self, inputs, states, training=None):
        return _gru_step(self, inputs, states, gate_order="rzh")
    _override(K, "GRUCell", call=call)


@mutant("numerics", ALL, "layers.SimpleRNNCell leaves its bias out of the step: activation(x @ kernel + h @ "
        "recurrent_kernel)", items=("layers.SimpleRNNCell", "layers.RNN"))
def simple_rnn_cell_ignores_bias(K, v):
    def call(self, inputs, states, training=None):
        out = self.activation(ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel))
        return out, [out]
    _override(K, "SimpleRNNCell", call=call)


@mutant("numerics", ALL, "layers.StackedRNNCells returns its first cell's output instead of its last cell's "
        "(the states are right); an RNN given a list of cells stacks them with it",
        items=("layers.StackedRNNCells", "layers.RNN"))
def stacked_cells_first_output(K, v):
    RNNBase = K.get("layers.RNN")

    def call(self, inputs, states, training=None):
        from keras_conformance.reference.layers.recurrent import _cell_step, _flat_state_sizes
        new_states, k, first = [], 0, None
        for cell in self.cells:
            n = len(_flat_state_sizes(cell))
            inputs, cell_states = _cell_step(cell, inputs, list(states[k:k + n]), training)
            first = inputs if first is None else first
            new_states += list(cell_states)
            k += n
        return first, new_states
    _override(K, "StackedRNNCells", call=call)
    Mutated = K.get("layers.StackedRNNCells")

    def __init__(self, cell, *args, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = Mutated(cells=list(cell))
        RNNBase.__init__(self, cell, *args, **kwargs)
    _override(K, "RNN", __init__=__init__)
