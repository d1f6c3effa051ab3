"""Mutants of the normalization layers (registered through mutants.mutant)."""
from __future__ import annotations

import numpy as np
from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import ops


@mutant("numerics", ALL, "layers.BatchNormalization normalises with the batch's statistics at inference too "
        "(predict ignores moving_mean / moving_variance)", items=("layers.BatchNormalization",))
def batchnorm_batch_statistics_at_inference(K, v):
    Base = K.get("layers.BatchNormalization")

    def call(self, inputs, training=None, mask=None):
        if training:
            return Base.call(self, inputs, training=training, mask=mask)
        _, reduction, broadcast = self._layout(inputs.ndim)
        mean, variance = self._moments(inputs, reduction, None)
        return self._normalize(inputs, mean, variance, broadcast)
    _override(K, "BatchNormalization", call=call)


@mutant("numerics", ALL, "layers.BatchNormalization adds epsilon after the square root: "
        "(x - mean) / (sqrt(variance) + epsilon)", items=("layers.BatchNormalization",))
def batchnorm_epsilon_outside_sqrt(K, v):
    def _normalize(self, inputs, mean, variance, broadcast):
        inv = 1.0 / (ops.sqrt(variance) + np.asarray(self.epsilon, dtype=inputs.dtype))
        if self.scale:
            inv = inv * ops.reshape(self.gamma, broadcast)
        shift = -(mean * inv)
        if self.center:
            shift = ops.reshape(self.beta, broadcast) + shift
        return inputs * inv + shift
    _override(K, "BatchNormalization", _normalize=_normalize)


# 2.2.4's zero-debiased average forgets its start: after one step both ways give the batch statistic
@mutant("numerics", ("2.3", "3"), "layers.BatchNormalization applies momentum the wrong way round: moving = "
        "moving * (1 - momentum) + batch statistic * momentum", items=("layers.BatchNormalization",))
def batchnorm_momentum_swapped(K, v):
    Base = K.get("layers.BatchNormalization")

    def _update(self, *args):
        momentum = self.momentum
        self.momentum = 1.0 - momentum
        try:
            Base._update(self, *args)
        finally:
            self.momentum = momentum
    _override(K, "BatchNormalization", _update=_update)
