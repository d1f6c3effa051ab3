"""Weight and activity regularizers: ``penalty = regularizer(x)``, a scalar Tensor added to the loss.

A regularizer is called on an autodiff Tensor (a layer's kernel, bias or output) and returns a
scalar Tensor built from recorded ops, so the penalty is differentiable and its gradient reaches
the weights through the same ``grad`` as the loss (seed 003, 正则化: "the loss function the network
optimizes also includes these penalties"; "any function that takes a weight matrix and returns a
loss-contribution tensor can be used as a regularizer").

Version differences implemented here:
- 2.x (keras 2.2.4 / 2.3.1 source): one class ``L1L2(l1=0., l2=0.)``; ``l1(l=0.01)``,
  ``l2(l=0.01)``, ``l1_l2(l1=0.01, l2=0.01)`` are functions returning an ``L1L2``.  The factors are
  stored cast to floatx, so ``get_config`` reports float32-rounded values
  (``l1(0.01).get_config() == {"l1": 0.009999999776482582, "l2": 0.0}``).  2.2.4 computes
  ``sum(l1 * |x|) + sum(l2 * x**2)``, 2.3 ``l1 * sum(|x|) + l2 * sum(x**2)`` (equal in exact
  arithmetic), each term only when its factor is non-zero.
- Keras 3: classes ``L1(l1=0.01)``, ``L2(l2=0.01)``, ``L1L2(l1=0.0, l2=0.0)``,
  ``OrthogonalRegularizer(factor=0.01, mode="rows")``; ``l1``/``l2``/``l1_l2``/
  ``orthogonal_regularizer`` are aliases of those classes (so ``l1_l2()`` has zero factors).
  Factors must be non-negative finite numbers (``None`` means 0 for ``L1L2``), else ``ValueError``.
  ``L1`` and ``OrthogonalRegularizer`` keep their factor as a float32 scalar (config
  ``0.009999999776482582``); ``L2`` and ``L1L2`` keep Python floats (config ``0.01``).
  ``get`` accepts the class names and their snake-case forms (``"l1"``, ``"l1l2"``,
  ``"orthogonal_regularizer"``); ``serialize`` adds ``module`` and ``registered_name``.

``OrthogonalRegularizer`` (Keras 3): for a rank-2 input, normalise the rows (``mode="rows"``) or
columns to unit L2 norm (norm floored at ``backend.epsilon()``), form the Gram matrix ``G`` of
those vectors, and return ``factor * 0.5 * sum(|G - diag(G)|) / (n * (n - 1) / 2)`` with ``n`` the
number of vectors.
"""
from __future__ import annotations

import math

import numpy as np

from . import backend
from .autodiff import Tensor, as_tensor, ops

__all__ = ["Regularizer", "get", "serialize", "deserialize"]


def _zero(x) -> Tensor:
    return Tensor(np.zeros((), dtype=x.dtype))


def _factor(value, dtype):
    """A factor as a 0-d array of the penalised tensor's dtype (Keras casts it to ``x.dtype``)."""
    return np.asarray(value, dtype=dtype)


def _validate_float_arg(value, name):
    """Keras 3: a non-negative, finite int or float, returned as a float."""
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer))
            or math.isinf(value) or math.isnan(value) or value < 0):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float. "
                         f"Received: {name}={value!r}")
    return float(value)


def _as_float_tensor(x) -> Tensor:
    x = as_tensor(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = ops.cast(x, backend.floatx())
    return x


class Regularizer:
    """Base class: ``__call__(x)`` returns a scalar penalty Tensor (zero for the base)."""

    def __call__(self, x):
        return _zero(_as_float_tensor(x))

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``."""

    def __init__(self, l1=0.0, l2=0.0, *, api_version=backend.DEFAULT_API_VERSION):
        self.api_version = backend.normalize_version(api_version)
        if backend.is_keras3(self.api_version):
            self.l1 = _validate_float_arg(0.0 if l1 is None else l1, "l1")
            self.l2 = _validate_float_arg(0.0 if l2 is None else l2, "l2")
        else:
            # 2.x: ``K.cast_to_floatx`` -- a floatx scalar.
            self.l1 = backend.cast_to_floatx(l1)[()]
            self.l2 = backend.cast_to_floatx(l2)[()]

    def __call__(self, x):
        x = _as_float_tensor(x)
        penalty = _zero(x)
        per_element = self.api_version == "2.2.4"   # 2.2.4: sum(l * |x|); later: l * sum(|x|)
        for factor, term in ((self.l1, ops.abs), (self.l2, ops.square)):
            if factor:
                f = _factor(factor, x.dtype)
                penalty = penalty + (ops.sum(term(x) * f) if per_element else ops.sum(term(x)) * f)
        return penalty

    def get_config(self):
        return {"l1": float(self.l1), "l2": float(self.l2)}


class L1(Regularizer):
    """``l1 * sum(|x|)`` (Keras 3)."""

    def __init__(self, l1=0.01):
        l1 = _validate_float_arg(0.01 if l1 is None else l1, "l1")
        self.l1 = np.float32(l1)   # Keras 3 keeps it as a float32 tensor

    def __call__(self, x):
        x = _as_float_tensor(x)
        return ops.sum(ops.abs(x)) * _factor(self.l1, x.dtype)

    def get_config(self):
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """``l2 * sum(x ** 2)`` (Keras 3)."""

    def __init__(self, l2=0.01):
        self.l2 = _validate_float_arg(0.01 if l2 is None else l2, "l2")

    def __call__(self, x):
        x = _as_float_tensor(x)
        return ops.sum(ops.square(x)) * _factor(self.l2, x.dtype)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Mean absolute cosine similarity between the rows (or columns) of a rank-2 input, times
    ``factor * 0.5`` (Keras 3)."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = np.float32(_validate_float_arg(factor, "factor"))
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, x):
        x = _as_float_tensor(x)
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. "
                             f"Received: inputs.shape={x.shape}")
        axis = 1 if self.mode == "rows" else 0
        norms = ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True))
        unit = x / ops.maximum(norms, backend.epsilon())
        gram = unit @ unit.T if self.mode == "rows" else unit.T @ unit
        size = x.shape[0] if self.mode == "rows" else x.shape[1]
        off_diagonal = gram * (1.0 - np.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.sum(ops.abs(off_diagonal)) * _factor(self.factor * 0.5 / num_pairs, x.dtype)

    def get_config(self):
        return {"factor": float(self.factor), "mode": self.mode}


# --- 2.x helper functions -----------------------------------------------------------------------

def l1(l=0.01, *, api_version=backend.DEFAULT_API_VERSION):  # noqa: E741 - the Keras 2 name
    """``L1L2(l1=l)`` (Keras 2.x)."""
    return L1L2(l1=l, api_version=api_version)


def l2(l=0.01, *, api_version=backend.DEFAULT_API_VERSION):  # noqa: E741
    """``L1L2(l2=l)`` (Keras 2.x)."""
    return L1L2(l2=l, api_version=api_version)


def l1_l2(l1=0.01, l2=0.01, *, api_version=backend.DEFAULT_API_VERSION):
    """``L1L2(l1=l1, l2=l2)`` (Keras 2.x)."""
    return L1L2(l1=l1, l2=l2, api_version=api_version)


_V2_NAMES = {"Regularizer": Regularizer, "L1L2": L1L2, "l1": l1, "l2": l2, "l1_l2": l1_l2}
# Keras 3's public aliases, and (separately) the names its ``get`` resolves: class names and their
# snake-case forms -- ``"l1_l2"`` is an attribute of ``keras.regularizers`` but not a ``get`` name.
_V3_NAMES = {"Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
             "OrthogonalRegularizer": OrthogonalRegularizer, "l1": L1, "l2": L2, "l1_l2": L1L2,
             "orthogonal_regularizer": OrthogonalRegularizer}
_V3_GET_NAMES = {"Regularizer": Regularizer, "regularizer": Regularizer, "L1": L1, "l1": L1,
                 "L2": L2, "l2": L2, "L1L2": L1L2, "l1l2": L1L2,
                 "OrthogonalRegularizer": OrthogonalRegularizer,
                 "orthogonal_regularizer": OrthogonalRegularizer}


def _build(obj, config, api_version):
    if obj in (L1L2, l1, l2, l1_l2):
        return obj(**config, api_version=api_version)
    if isinstance(obj, type) and hasattr(obj, "from_config"):
        return obj.from_config(config)
    return obj(**config)


def for_version(api_version) -> dict:
    """``{name: object}`` that ``keras.regularizers`` of ``api_version`` documents, version bound."""
    v = backend.normalize_version(api_version)
    table = dict(_V3_NAMES if v == "3" else _V2_NAMES)
    for name in ("l1", "l2", "l1_l2"):
        if not isinstance(table[name], type):
            table[name] = backend.bind_api_version(table[name], v)
    for fn in (get, serialize, deserialize):
        table[fn.__name__] = backend.bind_api_version(fn, v)
    return table


def serialize(regularizer, *, api_version=backend.DEFAULT_API_VERSION):
    """2.x ``{"class_name", "config"}``; Keras 3 adds ``"module"`` and ``"registered_name"``."""
    return backend.serialize_object(regularizer, "regularizer", "keras.regularizers", api_version)


def deserialize(config, custom_objects=None, *, api_version=backend.DEFAULT_API_VERSION):
    """A regularizer from ``{"class_name", "config"}`` or a name; unknown -> ValueError naming it."""
    v = backend.normalize_version(api_version)
    table = _V3_GET_NAMES if v == "3" else _V2_NAMES
    return backend.deserialize_object(config, "regularizer", table,
                                      lambda obj, kwargs: _build(obj, kwargs, v), custom_objects, v)


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """``None`` -> ``None``; a name or ``{"class_name", "config"}`` -> a new regularizer; a callable
    -> itself; anything else -> ValueError naming it."""
    return backend.get_object(identifier, "regularizer", deserialize, api_version)
