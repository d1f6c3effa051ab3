"""Weight constraints: ``w_new = constraint(w)``, applied to a variable after each optimizer update.

Seed 003 (约束): the constraints module's functions set constraints on network parameters during
optimisation (e.g. non-negativity); ``Dense`` and the convolution layers take ``kernel_constraint``
and ``bias_constraint``.  A constraint maps an ndarray (or a Tensor/Variable, whose ``.data`` is
used) to a new ndarray of the same shape and float dtype; it is not differentiated.

The norms are L2 norms along ``axis`` (an int or a list/tuple of ints), kept as broadcastable
dimensions, and ``eps = backend.epsilon()`` is read at call time (as Keras 2.2.4 defines them):
- ``MaxNorm(max_value=2, axis=0)``: ``w * clip(norms, 0, max_value) / (eps + norms)``.
- ``NonNeg()``: negative entries set to 0 (2.x ``w * (w >= 0)``; Keras 3 ``maximum(w, 0)``).
- ``UnitNorm(axis=0)``: ``w / (eps + norms)``.
- ``MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)``:
  ``w * (rate * clip(norms, min_value, max_value) + (1 - rate) * norms) / (eps + norms)``.

Names ``get`` resolves: the class names and ``max_norm``, ``non_neg``, ``unit_norm``,
``min_max_norm`` in every version; 2.x also the legacy ``maxnorm``, ``nonneg``, ``unitnorm``;
Keras 3 also ``constraint``.
"""
from __future__ import annotations

import numpy as np

from . import backend

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "get", "serialize",
           "deserialize"]


def _as_float_array(w) -> np.ndarray:
    w = np.asarray(getattr(w, "data", w))
    if not np.issubdtype(w.dtype, np.floating):
        w = w.astype(backend.floatx())
    return w


def _axis(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class: the identity."""

    def __call__(self, w):
        return _as_float_array(w)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescale each weight vector along ``axis`` whose L2 norm exceeds ``max_value`` to that norm."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return (w * (desired / (backend.epsilon() + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Set negative weights to zero."""

    def __call__(self, w):
        w = _as_float_array(w)
        return w * (w >= 0).astype(w.dtype)   # 2.2.4's formula; NaN stays NaN


class UnitNorm(Constraint):
    """Divide each weight vector along ``axis`` by its L2 norm (plus epsilon)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        return (w / (backend.epsilon() + _norms(w, self.axis))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move each weight vector's L2 norm towards ``[min_value, max_value]`` by ``rate``
    (``rate=1.0``: clip strictly)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_float_array(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * np.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return (w * (desired / (backend.epsilon() + norms))).astype(w.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Aliases (the lower-case names are the classes themselves, as in Keras).
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_COMMON = {"Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
           "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm, "non_neg": NonNeg,
           "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm}
_BY_VERSION = {
    "2.2.4": {**_COMMON, "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm},
    "2.3": {**_COMMON, "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm},
    "3": {**_COMMON, "constraint": Constraint},
}


def for_version(api_version) -> dict:
    """``{name: object}`` that ``keras.constraints`` of ``api_version`` has, version bound."""
    v = backend.normalize_version(api_version)
    table = {n: c for n, c in _BY_VERSION[v].items() if n != "constraint"}
    for fn in (get, serialize, deserialize):
        table[fn.__name__] = backend.bind_api_version(fn, v)
    return table


def serialize(constraint, *, api_version=backend.DEFAULT_API_VERSION):
    """2.x ``{"class_name", "config"}``; Keras 3 adds ``"module"`` and ``"registered_name"``."""
    return backend.serialize_object(constraint, "constraint", "keras.constraints", api_version)


def deserialize(config, custom_objects=None, *, api_version=backend.DEFAULT_API_VERSION):
    """A constraint from ``{"class_name", "config"}`` or a name; unknown -> ValueError naming it."""
    v = backend.normalize_version(api_version)
    return backend.deserialize_object(config, "constraint", _BY_VERSION[v],
                                      lambda cls, kwargs: cls.from_config(kwargs), custom_objects, v)


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """``None`` -> ``None``; a name or ``{"class_name", "config"}`` -> a new constraint; a callable
    -> itself; anything else -> ValueError naming it."""
    return backend.get_object(identifier, "constraint", deserialize, api_version)
