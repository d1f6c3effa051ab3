"""Weight initializers: ``init(shape, dtype=None) -> ndarray``, drawing from ``backend.rng()``
(or from their own ``seed``), with Keras' ``get_config`` keys.

Fans (``_compute_fans``): a 2-D shape is ``(fan_in, fan_out)``; a convolution kernel
``(*receptive_field, in, out)`` has ``fan_in = in * prod(receptive_field)``, ``fan_out = out *
prod(receptive_field)``; a 1-D shape ``(n,)`` has both ``n`` (Keras 3; 2.x uses ``sqrt(n)``) and a
scalar shape has both 1.

``VarianceScaling(scale, mode, distribution)``: ``n`` is ``fan_in``, ``fan_out`` or their mean; then
``uniform``: ``U(-limit, limit)``, ``limit = sqrt(3 * scale / n)`` (so ``glorot_uniform``:
``sqrt(6 / (fan_in + fan_out))``); ``truncated_normal`` (2.x ``normal``): a normal with
``stddev = sqrt(scale / n) / 0.87962566103423978`` truncated at two standard deviations;
``untruncated_normal``: ``N(0, sqrt(scale / n))``.
"""
from __future__ import annotations

import numpy as np

from . import backend

_TRUNCATED_STD = 0.87962566103423978  # std of a standard normal truncated to [-2, 2]


def _compute_fans(shape, api_version=backend.DEFAULT_API_VERSION, input_axes=None, output_axes=None):
    shape = tuple(int(d) for d in shape)
    if input_axes is not None and output_axes is not None:
        # Keras 3.15: the caller names which axes hold the input and the output units.
        return (int(np.prod([shape[a] for a in input_axes])),
                int(np.prod([shape[a] for a in output_axes])))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        n = shape[0] if backend.is_keras3(api_version) else int(np.sqrt(shape[0]))
        return n, n
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
    """Base: subclasses implement ``_draw(shape, rng) -> float64 ndarray``."""

    seed = None

    def __call__(self, shape, dtype=None):
        dtype = dtype or backend.floatx()
        return np.asarray(self._draw(tuple(shape), backend.rng(self.seed)), dtype=dtype)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValueError(f"`seed` must be an integer or None, got {seed!r}.")
    return seed


class Zeros(Initializer):
    def _draw(self, shape, rng):
        return np.zeros(shape)


class Ones(Initializer):
    def _draw(self, shape, rng):
        return np.ones(shape)


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def _draw(self, shape, rng):
        return np.broadcast_to(np.asarray(self.value, dtype=np.float64), shape).copy()

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if stddev < 0:
            raise ValueError(f"`stddev` must be >= 0, got {stddev!r}.")
        self.mean, self.stddev, self.seed = mean, stddev, _check_seed(seed)

    def _draw(self, shape, rng):
        return rng.normal(self.mean, self.stddev, size=shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if maxval < minval:
            raise ValueError(f"`maxval` ({maxval!r}) must be >= `minval` ({minval!r}).")
        self.minval, self.maxval, self.seed = minval, maxval, _check_seed(seed)

    def _draw(self, shape, rng):
        return rng.uniform(self.minval, self.maxval, size=shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng, mean, stddev, shape):
    """Normal samples redrawn until within two standard deviations of the mean."""
    out = rng.normal(size=shape)
    bad = np.abs(out) > 2.0
    while np.any(bad):
        out[bad] = rng.normal(size=int(bad.sum()))
        bad = np.abs(out) > 2.0
    return mean + stddev * out


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if stddev < 0:
            raise ValueError(f"`stddev` must be >= 0, got {stddev!r}.")
        self.mean, self.stddev, self.seed = mean, stddev, _check_seed(seed)

    def _draw(self, shape, rng):
        return _truncated_normal(rng, self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(Initializer):
    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None, *, api_version=backend.DEFAULT_API_VERSION):
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise ValueError(f"`scale` must be a positive float, got {scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"`mode` must be one of {self._MODES}, got {mode!r}.")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"`distribution` must be one of {self._DISTRIBUTIONS}, "
                             f"got {distribution!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.seed = _check_seed(seed)
        self.api_version = backend.normalize_version(api_version)
        if (input_axes is not None or output_axes is not None) and not backend.is_keras3(api_version):
            raise ValueError("`input_axes` and `output_axes` exist in Keras 3 only.")
        self.input_axes, self.output_axes = input_axes, output_axes

    def _axes_config(self):
        if not backend.is_keras3(self.api_version):
            return {}
        return {"input_axes": self.input_axes, "output_axes": self.output_axes}

    def _draw(self, shape, rng):
        fan_in, fan_out = _compute_fans(shape, self.api_version, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            return _truncated_normal(rng, 0.0, np.sqrt(variance) / _TRUNCATED_STD, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, np.sqrt(variance), size=shape)
        limit = np.sqrt(3.0 * variance)
        return rng.uniform(-limit, limit, size=shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed, **self._axes_config()}


def _variance_scaling_class(class_name, scale, mode, distribution):
    """A named VarianceScaling (``GlorotUniform`` ...): Keras 3 config ``{"seed"}``."""

    def __init__(self, seed=None, input_axes=None, output_axes=None, *,
                 api_version=backend.DEFAULT_API_VERSION):
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes,
                                 api_version=api_version)

    def get_config(self):
        return {"seed": self.seed, **self._axes_config()}

    return type(class_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                                 "__doc__": f"VarianceScaling(scale={scale}, "
                                                            f"mode={mode!r}, "
                                                            f"distribution={distribution!r})."})


GlorotUniform = _variance_scaling_class("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _variance_scaling_class("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeNormal = _variance_scaling_class("HeNormal", 2.0, "fan_in", "truncated_normal")
HeUniform = _variance_scaling_class("HeUniform", 2.0, "fan_in", "uniform")
LecunNormal = _variance_scaling_class("LecunNormal", 1.0, "fan_in", "truncated_normal")
LecunUniform = _variance_scaling_class("LecunUniform", 1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """``gain * Q`` of the QR decomposition of a normal matrix ``(prod(shape[:-1]), shape[-1])``
    (signs fixed by ``diag(R)``), reshaped."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, _check_seed(seed)

    def _draw(self, shape, rng):
        if len(shape) < 2:
            raise ValueError(f"The Orthogonal initializer needs a shape of rank >= 2, got {shape}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = rng.normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def _draw(self, shape, rng):
        if len(shape) != 2:
            raise ValueError(f"The Identity initializer needs a 2-D shape, got {shape}.")
        return self.gain * np.eye(*shape)

    def get_config(self):
        return {"gain": self.gain}


# Functional names (2.x style): glorot_uniform(seed=None) -> an initializer.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
orthogonal, identity = Orthogonal, Identity
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
variance_scaling = VarianceScaling

_BY_NAME = {name: cls for name, cls in globals().items()
            if isinstance(cls, type) and issubclass(cls, Initializer) and cls is not Initializer}
# the short names (keras 2.2.4 / 2.3.1 initializers.py ``zero = zeros = Zeros``, ``uniform =
# random_uniform = RandomUniform``, ...; keras 3.15 initializers/__init__.py ALL_OBJECTS_DICT): Embedding's
# default embeddings_initializer is "uniform"
_BY_NAME.update({alias: _BY_NAME[name] for alias, name in
                 (("uniform", "random_uniform"), ("normal", "random_normal"), ("zero", "zeros"), ("one", "ones"))
                 if name in _BY_NAME})


def serialize(initializer) -> dict:
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """``None`` -> ``None``; a name (``"glorot_uniform"``, ``"GlorotUniform"``) -> a new instance;
    ``{"class_name", "config"}`` -> that; a callable -> itself; else ``ValueError`` naming it."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {})
    elif isinstance(identifier, str):
        name, config = identifier, {}
    elif callable(identifier):
        return identifier
    else:
        raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
    cls = _BY_NAME.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer: {name!r}. Valid names are {sorted(_BY_NAME)}.")
    if issubclass(cls, VarianceScaling):
        return cls(**config, api_version=api_version)
    return cls(**config)
