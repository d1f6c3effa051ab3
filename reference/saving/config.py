"""A model's architecture in a save file: the version it is written for, and rebuilding it from its config
(refusing a config that carries code unless the caller opted in)."""
from __future__ import annotations

import inspect

from .. import backend, versions
from .files import SaveFileError
from ..engine.serialization import carried_code as _contains_code  # noqa: F401 - the loaders' name for it

#: The `keras_version` string written per API version.
KERAS_VERSION_STRINGS = versions.KERAS_VERSION
#: The `backend` string written: what real Keras files say and every real Keras reads.
BACKEND = "tensorflow"


# ----------------------------------------------------------------------------------------------
# versions
# ----------------------------------------------------------------------------------------------

def _normalize_version(api_version):
    return None if api_version is None else backend.normalize_version(str(api_version).strip())


def _model_api_version(model, api_version=None):
    """The API version a reference model was built with."""
    if api_version is not None:
        return _normalize_version(api_version)
    for attr in ("_api_version", "api_version", "_keras_api_version"):
        v = getattr(model, attr, None)
        if isinstance(v, str):
            return _normalize_version(v)
    ns = getattr(model, "_keras", None) or getattr(model, "_namespace", None)
    v = getattr(ns, "api_version", None) or getattr(ns, "__version__", None)
    if isinstance(v, str):
        return _normalize_version(v)
    raise ValueError(
        f"Cannot tell which Keras API version the model {getattr(model, 'name', model)!r} was built "
        "with (no `_api_version` attribute); pass api_version='2.2.4', '2.3' or '3'."
    )


def _keras_version_string(version):
    try:
        s = getattr(_namespace(version), "__version__", None)
        if isinstance(s, str) and _normalize_version(s) == version:
            return s
    except Exception:  # the namespace is optional for writing
        pass
    return KERAS_VERSION_STRINGS[version]


def _namespace(version):
    return versions.classes(version)


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _model_from_config(K, version, model_config, custom_objects, path):
    if not isinstance(model_config, dict) or "class_name" not in model_config or "config" not in model_config:
        raise SaveFileError(path, "'model_config' is not a {\"class_name\", \"config\"} mapping.")
    cn, cfg = model_config["class_name"], model_config["config"]
    try:
        from ..engine.serialization import deserialize_layer
    except ImportError:
        deserialize_layer = None
    if deserialize_layer is not None:
        return deserialize_layer(model_config, version, custom_objects or None)
    if custom_objects and cn in custom_objects:
        cls = custom_objects[cn]
    elif cn == "Sequential":
        cls = K.models.Sequential
    elif cn in ("Model", "Functional"):
        cls = K.models.Model
    else:
        fn = getattr(K.models, "model_from_config", None)
        if fn is None:
            raise SaveFileError(path, f"the model class {cn!r} is unknown to the reference; pass it in custom_objects.")
        return fn(model_config, custom_objects=custom_objects) if _accepts(fn, "custom_objects") else fn(model_config)
    if custom_objects and _accepts(cls.from_config, "custom_objects"):
        return cls.from_config(cfg, custom_objects=custom_objects)
    return cls.from_config(cfg)
