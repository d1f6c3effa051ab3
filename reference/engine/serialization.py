"""Layer and model (de)serialization in the Keras layout of each version.

``serialize_layer(layer)`` -> ``{"class_name", "config"}`` (Keras 3 adds ``module``,
``registered_name`` and ``build_config``); ``deserialize_layer(entry, api_version, custom_objects)``
finds the class (``custom_objects`` first, then that version's layers and models) and calls its
``from_config``. The saving module and ``model_from_json``/``model_from_yaml`` go through here.
"""
from __future__ import annotations

import contextlib

__all__ = ["serialize_layer", "legacy_config", "deserialize_layer", "model_from_config", "model_from_json",
           "model_from_yaml", "carried_code", "unsafe_deserialization"]


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


def unsafe_deserialization():
    """The caller's opt-in, for the loaders of API versions that document no ``safe_mode`` (2.2.4, 2.3):
    inside ``with reference.unsafe_deserialization():`` they rebuild the code a config carries (a Lambda's
    bytecode), as Keras 2 did unasked; keras 3's loaders take ``safe_mode=False`` instead."""
    return safe_mode_scope(False)


def carried_code(obj, trail="model_config"):
    """The location of the first serialized function / Lambda in a config, or None."""
    if isinstance(obj, dict):
        cn = obj.get("class_name")
        if cn in ("Lambda", "__lambda__"):
            name = (obj.get("config") or {}).get("name") if isinstance(obj.get("config"), dict) else None
            return f"a {cn} {'layer ' + repr(name) if name else 'object'}"
        if obj.get("function_type") == "lambda" or obj.get("output_shape_type") == "lambda":
            return f"serialized Python bytecode in {obj.get('name', trail)!r}"
        for k, v in obj.items():
            hit = carried_code(v, f"{trail}.{k}")
            if hit:
                return hit
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            hit = carried_code(v, f"{trail}[{i}]")
            if hit:
                return hit
    return None


def opt_in_hint(api_version, takes_safe_mode: bool) -> str:
    """How the caller of a loader opts in to running the code a config carries: ``safe_mode=False`` where
    the loader documents it (keras 3's load_model), else the reference's scope."""
    if takes_safe_mode and str(api_version) == "3":
        return "pass safe_mode=False to load it"
    return ("{}wrap the call in `with keras_conformance.reference.unsafe_deserialization():` to load it"
            .format("" if str(api_version) == "3" else f"API {api_version} documents no safe_mode: "))


def _refuse_code(config, api_version, what: str) -> None:
    """The loaders' one rule: a config carrying code is not rebuilt unless the caller opted in."""
    if not in_safe_mode():
        return
    hit = carried_code(config, "config")
    if hit:
        raise ValueError(f"Refusing to rebuild {what}: it contains {hit}, i.e. Python code that would run on "
                         f"load. This can execute arbitrary code; if you trust its source, "
                         f"{opt_in_hint(api_version, takes_safe_mode=False)}.")


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
    _refuse_code(config, api_version, "the model of `config`")
    return deserialize_layer(config, api_version, custom_objects)


def _parsed_entry(config, argument: str, language: str):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{argument} is not a {language} model configuration (a mapping with 'class_name' and "
                         f"'config', as Model.to_{language.lower()} writes): it holds {type(config).__name__} "
                         f"{config!r:.120}")
    return config


def model_from_json(json_string, custom_objects=None, *, api_version):
    """A model from ``Model.to_json``'s string. A string carrying code (a Lambda) is refused unless the caller
    opted in (reference.unsafe_deserialization; keras 3 has no safe_mode argument here either)."""
    import json
    if not isinstance(json_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json: json_string must be a str, got {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as exc:
        # the json module's own type, so callers catching it still do; the message names the argument
        raise json.JSONDecodeError(f"model_from_json: json_string is not valid JSON: {exc.msg}", exc.doc,
                                   exc.pos) from None
    config = _parsed_entry(config, "model_from_json: json_string", "JSON")
    _refuse_code(config, api_version, "the model of `json_string`")
    return deserialize_layer(config, api_version, custom_objects)


def model_from_yaml(yaml_string, custom_objects=None, *, api_version):
    """A model from ``Model.to_yaml``'s string, read with ``yaml.safe_load`` only (no Python tags); a string
    carrying code (a Lambda) is refused unless the caller opted in (reference.unsafe_deserialization)."""
    import yaml
    if not isinstance(yaml_string, (str, bytes, bytearray)):
        raise TypeError(f"model_from_yaml: yaml_string must be a str, got {type(yaml_string).__name__}")
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.YAMLError as exc:
        raise yaml.YAMLError(f"model_from_yaml: yaml_string is not valid YAML for yaml.safe_load (Python "
                             f"tags are refused): {exc}") from None
    config = _parsed_entry(config, "model_from_yaml: yaml_string", "YAML")
    _refuse_code(config, api_version, "the model of `yaml_string`")
    return deserialize_layer(config, api_version, custom_objects)
