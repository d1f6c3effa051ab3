"""Layer and model (de)serialization in the Keras layout of each version.

``serialize_layer(layer)`` -> ``{"class_name", "config"}`` (Keras 3 adds ``module``,
``registered_name`` and ``build_config``); ``deserialize_layer(entry, api_version, custom_objects)``
finds the class (``custom_objects`` first, then that version's layers and models) and calls its
``from_config``. The saving module and ``model_from_json``/``model_from_yaml`` go through here.
"""
from __future__ import annotations

import contextlib

__all__ = ["serialize_layer", "legacy_config", "deserialize_layer", "model_from_config", "model_from_json",
           "model_from_yaml"]


_LEGACY = [False]
_SAFE_MODE = [True]


@contextlib.contextmanager
def safe_mode_scope(safe_mode):
    """While active, ``in_safe_mode()`` is ``safe_mode``: a loader called with ``safe_mode=False`` lets the
    layers it rebuilds (Lambda) load code (keras 3.15 serialization_lib.SafeModeScope)."""
    before = _SAFE_MODE[0]
    _SAFE_MODE[0] = bool(safe_mode)
    try:
        yield
    finally:
        _SAFE_MODE[0] = before


def in_safe_mode() -> bool:
    return _SAFE_MODE[0]


@contextlib.contextmanager
def legacy_config():
    """While active, Keras 3 layer entries take the legacy layout that keras 3's H5 writer uses
    (``use_legacy_config``: ``{"class_name", "config"}`` without ``module``, ``registered_name``
    and ``build_config``; keras.src.legacy.saving.legacy_h5_format.save_model_to_hdf5)."""
    before = _LEGACY[0]
    _LEGACY[0] = True
    try:
        yield
    finally:
        _LEGACY[0] = before


def serialize_layer(layer, nested=False) -> dict:
    """A layer's entry; `nested`: the layer is held inside another layer (a wrapper's `layer`), which keras 3
    serializes in full even inside the legacy layout (its models' get_config alone switches to the legacy
    serializer for their layer entries: keras 3.15 Functional / Sequential get_config)."""
    entry = {"class_name": type(layer).__name__, "config": layer.get_config()}
    if layer._api_version == "3":
        from .training import Model
        from ..layers.core import InputLayer
        class_name, module, registered = entry["class_name"], "keras.layers", None
        if isinstance(layer, Model):
            json_name = getattr(layer, "_json_class_name", None)
            class_name = json_name() if callable(json_name) else class_name
            # keras 3.15 serialize_keras_object: Sequential is exported as keras.Sequential;
            # Functional is not exported, so its module is the source one and it is "registered"
            # under its own name.
            if class_name == "Functional":
                module, registered = "keras.src.models.functional", "Functional"
            else:
                module = "keras"
        if _LEGACY[0] and not nested:
            return {"class_name": class_name, "config": entry["config"]}
        entry = {"module": module, "class_name": class_name, "config": entry["config"],
                 "registered_name": registered}
        if not isinstance(layer, (InputLayer, Model)) and layer.built:
            try:
                entry["build_config"] = {"input_shape": layer.input_shape}
            except AttributeError:
                pass
    return entry


def _find_class(class_name, api_version, custom_objects=None):
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name]
    from .. import versions
    K = versions.classes(api_version)
    if class_name in ("Functional", "Model"):
        return K.models.Model
    for module in (K.layers, K.models):
        cls = getattr(module, class_name, None)
        if isinstance(cls, type):
            return cls
    raise ValueError(f"Unknown layer: {class_name}. Please ensure this object is passed to the "
                     "`custom_objects` argument.")


def deserialize_layer(entry, api_version, custom_objects=None):
    """A layer (or model) from ``{"class_name", "config"}``."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"Improper config format: {entry!r}")
    cls = _find_class(entry["class_name"], api_version, custom_objects)
    from .training import Model
    config = entry.get("config", {})
    if isinstance(cls, type) and issubclass(cls, Model):
        return cls.from_config(config, custom_objects=custom_objects)
    return cls.from_config(config)


def model_from_config(config, custom_objects=None, *, api_version):
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Maybe you meant to "
                        "use `Sequential.from_config(config)`?")
    return deserialize_layer(config, api_version, custom_objects)


def model_from_json(json_string, custom_objects=None, *, api_version):
    import json
    return deserialize_layer(json.loads(json_string), api_version, custom_objects)


def model_from_yaml(yaml_string, custom_objects=None, *, api_version):
    import yaml
    return deserialize_layer(yaml.safe_load(yaml_string), api_version, custom_objects)
