"""Activation functions, written as the documentation's formulas on autodiff Tensors.

Each takes a Tensor (or anything ``as_tensor`` accepts) and returns a Tensor, so gradients flow
through layers that use them.  Where the meaning differs by API version the function takes a
keyword-only ``api_version``; ``for_version(v)`` returns the functions of one version with it bound.

Version differences implemented here:
- ``hard_sigmoid``: 2.x (seed 003): ``0`` for ``x < -2.5``, ``1`` for ``x > 2.5``, else
  ``0.2 * x + 0.5``.  Keras 3: ``relu6(x + 3) / 6`` = ``clip(x / 6 + 0.5, 0, 1)``.
- ``softmax`` of a 1-D tensor raises ``ValueError`` in 2.x; Keras 3 normalises along the axis.
- ``relu``'s negative slope is called ``alpha`` in 2.x and ``negative_slope`` in Keras 3; both are
  accepted (the version surface exposes the right one).
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autodiff import as_tensor, ops

# The SELU constants (Klambauer et al. 2017), as Keras defines them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def linear(x):
    """Identity: ``f(x) = x``."""
    return as_tensor(x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0, *, negative_slope=None):
    """Rectified linear unit (seed 003):

    ``f(x) = max_value`` for ``x >= max_value``, ``f(x) = x`` for ``threshold <= x < max_value``,
    ``f(x) = alpha * (x - threshold)`` otherwise.  With the defaults, ``max(x, 0)``.
    """
    x = as_tensor(x)
    slope = alpha if negative_slope is None else negative_slope
    if not slope and not threshold and max_value is None:
        return ops.relu(x)        # the plain max(x, 0): one primitive, no graph of three
    below = x.data < threshold
    y = ops.where(below, (x - threshold) * slope, x)
    if max_value is not None:
        y = ops.minimum(y, max_value)
    return y


def relu6(x):
    """``min(max(x, 0), 6)`` (Keras 3)."""
    return relu(x, max_value=6.0)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise (Keras 3)."""
    return relu(x, negative_slope=negative_slope)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return ops.sigmoid(as_tensor(x))


def hard_sigmoid(x, *, api_version=backend.DEFAULT_API_VERSION):
    """Piecewise-linear sigmoid.  2.x: ``clip(0.2 x + 0.5, 0, 1)``; 3: ``clip(x / 6 + 0.5, 0, 1)``."""
    x = as_tensor(x)
    slope = 1.0 / 6.0 if backend.is_keras3(api_version) else 0.2
    return ops.clip(x * slope + 0.5, 0.0, 1.0)


def tanh(x):
    """Hyperbolic tangent."""
    return ops.tanh(as_tensor(x))


def softmax(x, axis=-1, *, api_version=backend.DEFAULT_API_VERSION):
    """``exp(x) / sum(exp(x), axis)`` (computed with the maximum subtracted)."""
    x = as_tensor(x)
    if x.ndim == 1 and not backend.is_keras3(api_version):
        raise ValueError("Cannot apply softmax to a tensor that is 1D. "
                         f"Received input with shape {x.shape}.")
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """``x - log(sum(exp(x), axis))`` (Keras 3)."""
    return ops.log_softmax(as_tensor(x), axis=axis)


def softplus(x):
    """``log(exp(x) + 1)``."""
    return ops.softplus(as_tensor(x))


def softsign(x):
    """``x / (abs(x) + 1)``."""
    x = as_tensor(x)
    return x / (ops.abs(x) + 1.0)


def elu(x, alpha=1.0):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""
    x = as_tensor(x)
    # exp of the non-positive part only, so the branch that is not taken cannot overflow.
    negative = (ops.exp(ops.minimum(x, 0.0)) - 1.0) * alpha
    return ops.where(x.data > 0, x, negative)


def selu(x):
    """``scale * elu(x, alpha)`` with the fixed SELU constants."""
    return elu(x, alpha=SELU_ALPHA) * SELU_SCALE


def exponential(x):
    """``exp(x)``."""
    return ops.exp(as_tensor(x))


def silu(x):
    """``x * sigmoid(x)`` (Keras 3; also called swish)."""
    x = as_tensor(x)
    return x * ops.sigmoid(x)


swish = silu

# Which names each API version documents.
_COMMON = ("softmax", "elu", "selu", "softplus", "softsign", "relu", "tanh", "sigmoid",
           "hard_sigmoid", "exponential", "linear")
_BY_VERSION = {
    "2.2.4": _COMMON,
    "2.3": _COMMON,
    "3": _COMMON + ("relu6", "leaky_relu", "silu", "swish", "log_softmax"),
}


def for_version(api_version) -> dict:
    """``{name: function}`` for the activations that ``api_version`` documents, version bound."""
    names = _BY_VERSION[backend.normalize_version(api_version)]
    return {name: backend.bind_api_version(globals()[name], api_version) for name in names}


def serialize(activation) -> str:
    """The name a config stores for ``activation`` (``"relu"``)."""
    name = getattr(activation, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {activation!r}: it has no `__name__`.")
    return name


def deserialize(name, custom_objects=None, *, api_version=backend.DEFAULT_API_VERSION):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    table = for_version(api_version)
    if name not in table:
        raise ValueError(f"Unknown activation function: {name!r}. "
                         f"Valid names for Keras {backend.normalize_version(api_version)} are "
                         f"{sorted(table)}.")
    return table[name]


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """``None`` -> ``linear``; a name -> that function; a callable -> itself; else ValueError."""
    if identifier is None:
        return backend.bind_api_version(linear, api_version)
    if isinstance(identifier, str):
        return deserialize(identifier, api_version=api_version)
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier["class_name"], api_version=api_version)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")
