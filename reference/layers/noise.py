"""Noise layers: GaussianNoise, GaussianDropout, AlphaDropout.

Identity at inference; in training (``training`` true) they draw from ``backend.rng(self.seed)``
(the global stream when ``seed`` is None, a fresh generator of that seed otherwise, as Dropout does)
and follow each version's formula (spec/layers/noise.yaml cites the sources):

- 2.x applies GaussianDropout and AlphaDropout only when ``0 < rate < 1`` (else the identity even in
  training), validates nothing, and has no ``seed`` for the two Gaussian layers;
- keras 3 refuses a rate / stddev outside ``[0, 1]`` and applies the noise when it is ``> 0``.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .base import Layer

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout"]

# SELU's constants (keras 2.2.4 / 2.3.1 layers/noise.py, keras 3.15 alpha_dropout.py)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_unit_interval(value, arg):
    if not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{arg}`. Expected a float value "
                         f"between 0 and 1. Received: {arg}={value}")


class GaussianNoise(Layer):
    """Training: ``x + N(0, stddev^2)`` elementwise; inference: ``x``."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if self._api_version == "3":
            _check_unit_interval(stddev, "stddev")
        self.stddev = stddev
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or (self._api_version == "3" and not self.stddev > 0):
            return inputs
        noise = backend.rng(self.seed).normal(0.0, self.stddev, size=inputs.shape)
        return inputs + noise.astype(inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["stddev"] = self.stddev
        if self._api_version == "3":
            config["seed"] = self.seed
        return config


class GaussianDropout(Layer):
    """Training: ``x * N(1, rate / (1 - rate))`` elementwise; inference: ``x``."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if self._api_version == "3":
            _check_unit_interval(rate, "rate")
        self.rate = rate
        self.seed = seed
        self.supports_masking = True

    def _active(self) -> bool:
        return self.rate > 0 if self._api_version == "3" else 0 < self.rate < 1

    def call(self, inputs, training=None):
        if not training or not self._active():
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))   # keras 3: rate == 1 divides by zero
        noise = backend.rng(self.seed).normal(1.0, stddev, size=inputs.shape)
        return inputs * noise.astype(inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        if self._api_version == "3":
            config["seed"] = self.seed
        return config


class AlphaDropout(Layer):
    """Training: a fraction ``rate`` of the inputs set to ``alpha' = -alpha * scale`` (SELU), then
    ``a * x + b`` with ``a = ((1 - rate) * (1 + rate * alpha'^2))^-0.5``, ``b = -a * alpha' * rate``;
    inference: ``x``."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if self._api_version == "3":
            _check_unit_interval(rate, "rate")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _active(self) -> bool:
        return self.rate > 0 if self._api_version == "3" else 0 < self.rate < 1

    def _mask_shape(self, shape):
        if self._api_version == "3":
            if self.noise_shape is None:
                return tuple(shape)
            return tuple(d if s is None else int(s) for s, d in zip(self.noise_shape, shape))
        # 2.x: the noise_shape as given when truthy, else the input's shape
        return tuple(self.noise_shape) if self.noise_shape else tuple(shape)

    def call(self, inputs, training=None):
        if not training or not self._active():
            return inputs
        rate = self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept = (backend.rng(self.seed).random(self._mask_shape(inputs.shape)) >= rate)
        kept = kept.astype(inputs.dtype)
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5   # keras 3: rate == 1 divides by zero
        b = -a * alpha_p * rate
        x = inputs * kept + (alpha_p * (1 - kept)).astype(inputs.dtype)
        return x * np.asarray(a, inputs.dtype) + np.asarray(b, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["rate"] = self.rate
        if self._api_version == "3":
            config.update({"seed": self.seed, "noise_shape": self.noise_shape})
        return config
