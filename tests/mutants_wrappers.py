"""Mutants of the wrappers layers (registered through mutants.mutant)."""
from __future__ import annotations

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

import numpy as np

from keras_conformance.reference.autodiff import Tensor, ops


@mutant("numerics", ALL, "layers.TimeDistributed folds (batch, time) time-major: the input is transposed to "
        "(time, batch, ...) before the reshape but the output is unfolded batch-major, so samples and steps "
        "are scrambled whenever both are above 1", items=("layers.TimeDistributed",))
def time_distributed_time_major(K, v):
    Base = K.get("layers.TimeDistributed")

    def call(self, inputs, training=None, mask=None):
        rest = tuple(range(2, len(inputs.shape)))
        swapped = ops.transpose(inputs, (1, 0) + rest)
        y = Base.call(self, swapped, training=training, mask=None)   # (time, batch, ...) through the layer
        return ops.reshape(y, (int(inputs.shape[0]), int(inputs.shape[1])) + tuple(y.shape[2:]))
    _override(K, "TimeDistributed", call=call)


@mutant("numerics", ALL, "layers.TimeDistributed drops the input's mask (compute_mask returns None), so masked "
        "time steps count in the loss", items=("layers.TimeDistributed",))
def time_distributed_mask_dropped(K, v):
    _override(K, "TimeDistributed", compute_mask=lambda self, inputs, mask=None: None)


@mutant("numerics", ALL, "layers.Bidirectional does not reverse the backward layer's output sequence in time "
        "before merging (step t of the backward output then reads input step T-1-t)",
        items=("layers.Bidirectional",))
def bidirectional_backward_not_reversed(K, v):
    Base = K.get("layers.Bidirectional")

    def call(self, inputs, training=None, mask=None, initial_state=None):
        original = self.return_sequences
        self.return_sequences = False          # the merge then skips the reversal
        try:
            return Base.call(self, inputs, training=training, mask=mask, initial_state=initial_state)
        finally:
            self.return_sequences = original
    _override(K, "Bidirectional", call=call)


@mutant("numerics", ALL, "layers.Bidirectional concatenates backward then forward (merge_mode='concat')",
        items=("layers.Bidirectional",))
def bidirectional_concat_swapped(K, v):
    Base = K.get("layers.Bidirectional")

    def call(self, inputs, training=None, mask=None, initial_state=None):
        if self.merge_mode != "concat":
            return Base.call(self, inputs, training=training, mask=mask, initial_state=initial_state)
        self.forward_layer, self.backward_layer = self.backward_layer, self.forward_layer
        try:
            out = Base.call(self, inputs, training=training, mask=mask, initial_state=initial_state)
        finally:
            self.forward_layer, self.backward_layer = self.backward_layer, self.forward_layer
        return out
    _override(K, "Bidirectional", call=call)


@mutant("numerics", ALL, "layers.Bidirectional merge_mode='ave' sums instead of averaging",
        items=("layers.Bidirectional",))
def bidirectional_ave_as_sum(K, v):
    Base = K.get("layers.Bidirectional")

    def call(self, inputs, training=None, mask=None, initial_state=None):
        out = Base.call(self, inputs, training=training, mask=mask, initial_state=initial_state)
        if self.merge_mode != "ave":
            return out
        return [o * 2 for o in out[:1]] + list(out[1:]) if isinstance(out, list) else out * 2
    _override(K, "Bidirectional", call=call)
