"""Embedding: non-negative integer indices -> rows of an ``(input_dim, output_dim)`` matrix.

``output[..., :] = embeddings[int(inputs[...])]``: the output shape is ``input_shape + (output_dim,)``
for an integer input of any rank (the gather of keras 2.2.4 / 2.3.1 ``K.gather``, keras 3.15
``ops.take(embeddings, inputs, axis=0)``); the input is cast to int32 first (a float index truncates
toward zero, as ``K.cast`` / ``ops.cast`` do), so the cast has no gradient: only ``embeddings`` learns,
the rows an index picks several times summing their gradients. With ``mask_zero`` the output's mask is
``inputs != 0`` (``compute_mask``); without it the layer produces no mask.

Where the versions differ (spec/layers/embeddings.yaml cites the sources):

- 2.x: ``input_length`` (the constructor's own argument) becomes the layer's ``input_shape`` (``(None,)``
  when not given), so ``get_config`` always carries ``batch_input_shape``; ``compute_output_shape``
  checks it against the input's shape (ValueError). No argument is validated; ``input_dim`` and
  ``output_dim`` positional, the rest keyword-only (legacy_embedding_support).
- 3: ``input_dim`` / ``output_dim`` must be positive ints (ValueError); ``input_length`` is accepted and
  ignored (a deprecation warning); ``weights`` builds the layer at once and sets them; the config has
  ``quantization_config`` and no ``input_length``.

An index outside the table: real Keras does not agree with itself (tf.gather raises on CPU and gives
zeros on GPU; keras 3 on jax gives NaN rows, on torch an IndexError; keras 3 wraps a negative index
``-input_dim <= i < 0`` to ``input_dim + i`` on every backend, keras 2 / tf.gather refuses it). The
reference refuses what is out of range with an IndexError naming the index (and, as keras 3 does,
wraps negative indices in API 3), never a silently wrong row.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..autodiff import Tensor, ops
from .base import Layer, serialize_object
from .core import _get

__all__ = ["Embedding"]

def _initializer(identifier, api_version):
    return _get("initializers", identifier, api_version)


def _check_positive_int(value, arg):
    """keras 3.15 layers/core/embedding.py: a positive int, bools refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value} "
                         f"(of type {type(value).__name__}).")
    return int(value)


def _not_implemented(**given):
    """keras 3.15's LoRA and quantization: the reference has neither (the documented defaults pass)."""
    for name, value in given.items():
        if value is not None:
            raise NotImplementedError(f"Embedding(): the reference does not implement `{name}={value!r}` "
                                      "(documented, default None).")


def _as_list(value):
    """keras 2 ``to_list(x, allow_tuple=True)``: a list or tuple as a list, anything else in one."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Embedding(Layer):
    """Turns non-negative integers (indexes) into dense vectors of fixed size."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None, embeddings_constraint=None,
                 mask_zero=False, input_length=None, weights=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        _not_implemented(lora_rank=lora_rank, lora_alpha=lora_alpha, quantization_config=quantization_config)
        v3 = self._api_version == "3"
        if v3:
            input_dim = _check_positive_int(input_dim, "input_dim")
            output_dim = _check_positive_int(output_dim, "output_dim")
            if input_length is not None:
                warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
                input_length = None
        else:
            # keras 2.x: the layer's input shape is (input_length,) (None when not given)
            if "input_shape" not in kwargs:
                kwargs["input_shape"] = (input_length,) if input_length else (None,)
            if weights is not None:
                kwargs["weights"] = weights      # a base-layer keyword in 2.x: set when built
                weights = None
        super().__init__(activity_regularizer=_get("regularizers", activity_regularizer, self._api_version),
                         **kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = _initializer(embeddings_initializer, self._api_version)
        self.embeddings_regularizer = _get("regularizers", embeddings_regularizer, self._api_version)
        self.embeddings_constraint = _get("constraints", embeddings_constraint, self._api_version)
        self.mask_zero = mask_zero
        self.supports_masking = bool(mask_zero)
        self.input_length = input_length
        if weights is not None:                  # keras 3: built at once, then set
            self.build()
            self.built = True
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if getattr(self, "embeddings", None) is not None:
            return
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def _indices(self, inputs) -> np.ndarray:
        data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        idx = data if data.dtype.kind in "iu" else data.astype(np.int32)
        low = -self.input_dim if self._api_version == "3" else 0
        bad = (idx < low) | (idx >= self.input_dim)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise IndexError(f"Embedding {self.name}: index {int(idx[where])} at position {where} of the "
                             f"input is out of range [{low}, {self.input_dim}) (input_dim={self.input_dim}).")
        return idx

    def call(self, inputs):
        return ops.getitem(self.embeddings, self._indices(inputs))

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return data != 0

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        # keras 2.x: input_length may be a tuple for an input of rank 3 or more
        lengths = _as_list(self.input_length)
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape '
                             f"{input_shape}")
        for i, (s1, s2) in enumerate(zip(lengths, input_shape[1:])):
            if s1 is not None and s2 is not None and s1 != s2:
                raise ValueError(f'"input_length" is {self.input_length}, but received input has shape '
                                 f"{input_shape}")
            if s1 is None:
                lengths[i] = s2
        return (input_shape[0],) + tuple(lengths) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        v = self._api_version
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": serialize_object(self.embeddings_initializer, v),
            "embeddings_regularizer": serialize_object(self.embeddings_regularizer, v),
            "activity_regularizer": serialize_object(self.activity_regularizer, v),
            "embeddings_constraint": serialize_object(self.embeddings_constraint, v),
            "mask_zero": self.mask_zero,
        })
        if v == "3":
            config["quantization_config"] = None
        else:
            config["input_length"] = self.input_length
        return config
