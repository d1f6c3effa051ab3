"""Backend constants and the seeded random source of the reference.

Keras keeps three globals that the functional parts of the API read: the default float type
(``floatx``), the fuzz factor added to denominators and used to clip probabilities (``epsilon``),
and a source of randomness (for initializers, dropout, shuffling).  The reference keeps the same
three, plus a single ``numpy.random.Generator`` so that a whole run is reproducible from one seed.
"""
from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_DEFAULT_SEED = 1337
_rng = np.random.default_rng(_DEFAULT_SEED)


def floatx() -> str:
    """The default float type, ``"float32"`` unless changed with ``set_floatx``."""
    return _FLOATX


def set_floatx(value: str) -> None:
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            f"Unknown floatx type: {value!r}; expected one of 'float16', 'float32', 'float64'.")
    _FLOATX = str(value)


def epsilon() -> float:
    """The fuzz factor, 1e-7 as in every Keras version."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"`epsilon` must be a positive number, got {value!r}.")
    _EPSILON = float(value)


def image_data_format() -> str:
    """What a layer's ``data_format=None`` means: ``"channels_last"`` unless changed with
    ``set_image_data_format`` (keras.json's ``image_data_format`` in every version)."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = str(data_format)


def set_seed(seed: int) -> None:
    """Re-seed the global random generator (what ``keras.utils.set_random_seed`` does)."""
    global _rng
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}.")
    _rng = np.random.default_rng(int(seed))


def rng(seed: int | None = None) -> np.random.Generator:
    """The global generator, or a fresh one seeded with ``seed`` when given.

    A seeded initializer draws the same values every call (as a seeded Keras initializer does);
    an unseeded one draws from the shared global stream.
    """
    if seed is None:
        return _rng
    return np.random.default_rng(int(seed))


def cast_to_floatx(x, dtype: str | None = None) -> np.ndarray:
    return np.asarray(x, dtype=dtype or _FLOATX)


# --- API versions -------------------------------------------------------------------------------
# The functional modules (activations, losses, metrics, optimizers, initializers) hold one core
# whose behaviour differs by version in a few documented places; each such function takes a
# keyword-only ``api_version``.  ``bind_api_version`` fixes it, so the per-version namespace
# (``reference.keras(version)``) can expose functions with exactly Keras' signature.
import functools as _functools
import inspect as _inspect

DEFAULT_API_VERSION = "2.2.4"


def normalize_version(api_version) -> str:
    """``"2.2.4"``, ``"2.3"`` or ``"3"`` from any of those or a full version string (``"2.3.1"``)."""
    v = str(api_version if api_version is not None else DEFAULT_API_VERSION)
    if v.startswith("2.2"):
        return "2.2.4"
    if v.startswith("2."):
        return "2.3"
    if v.startswith("3"):
        return "3"
    raise ValueError(f"Unknown `api_version` {api_version!r}; expected '2.2.4', '2.3' or '3'.")


def is_keras3(api_version) -> bool:
    return normalize_version(api_version) == "3"


def bind_api_version(fn, api_version):
    """``fn`` with its keyword-only ``api_version`` fixed and removed from the signature."""
    sig = _inspect.signature(fn)
    if "api_version" not in sig.parameters:
        return fn
    version = normalize_version(api_version)

    @_functools.wraps(fn)
    def bound(*args, **kwargs):
        kwargs.setdefault("api_version", version)
        return fn(*args, **kwargs)

    bound.__signature__ = sig.replace(
        parameters=[p for p in sig.parameters.values() if p.name != "api_version"])
    bound.api_version = version
    return bound


# --- config dictionaries of the small configurable objects (regularizers, constraints) ------------
def serialize_object(obj, kind: str, keras3_module: str, api_version):
    """2.x ``{"class_name", "config"}``; Keras 3 adds ``"module"`` and ``"registered_name"``.
    A plain function serializes to its name; ``None`` to ``None``."""
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        name = getattr(obj, "__name__", None)
        if name is None:
            raise ValueError(f"Cannot serialize {kind} {obj!r}.")
        return name
    out = {"class_name": type(obj).__name__, "config": obj.get_config()}
    if is_keras3(api_version):
        out = {"module": keras3_module, **out, "registered_name": None}
    return out


def deserialize_object(config, kind: str, table: dict, build, custom_objects, api_version):
    """An object from a name or ``{"class_name", "config"}``: ``custom_objects`` first, then
    ``table``, built by ``build(entry, kwargs)``; an unknown name is a ValueError in the words of
    that Keras version."""
    if isinstance(config, str):
        name, kwargs = config, {}
    elif isinstance(config, dict) and "class_name" in config:
        name, kwargs = config["class_name"], dict(config.get("config") or {})
    else:
        raise ValueError(f"Could not interpret {kind} identifier: {config!r}")
    if custom_objects and name in custom_objects:
        obj = custom_objects[name]
        return obj.from_config(kwargs) if hasattr(obj, "from_config") else obj(**kwargs)
    entry = table.get(name)
    if entry is None:
        if is_keras3(api_version):
            raise ValueError(f"Could not interpret {kind} identifier: {name}")
        raise ValueError(f"Unknown {kind}: {name}")
    return build(entry, kwargs)


def get_object(identifier, kind: str, deserialize, api_version):
    """``None`` -> ``None``; a name or config -> ``deserialize(...)``; a callable -> itself;
    anything else -> ValueError naming it."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier, api_version=api_version)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
