"""``keras(version)``: the module-like namespace of one documented Keras version.

    K = keras("2.2.4")
    K.models.Sequential, K.models.Model, K.models.load_model, K.layers.Dense, K.losses.mse,
    K.optimizers.SGD(lr=0.1), K.callbacks.History, K.utils.to_categorical, K.backend, K.__version__

Each sub-module holds the version's view of a core module: the core's public functions with
``api_version`` bound, per-version subclasses of its classes, and, for every item the spec
documents, the spec's signature (``reference.surface``). Items the spec documents only for other
versions are left out (``K3.optimizers.SGD(lr=...)`` is a TypeError; ``fit_generator`` is absent
from Keras 3 models).
"""
from __future__ import annotations

import importlib
import inspect
import types

from . import backend as _backend
from . import surface, versions

__all__ = ["keras", "KERAS_VERSION", "MODULES"]

KERAS_VERSION = versions.KERAS_VERSION
MODULES = ("models", "layers", "losses", "metrics", "optimizers", "activations", "initializers",
           "regularizers", "constraints", "callbacks", "utils", "backend")

_CACHE: dict[str, types.ModuleType] = {}

# Documented for other versions only, yet present in the real Keras of this version: the seeds are
# silent about them rather than removing them, so they keep the core's signature instead of being
# hidden. (keras 3.15 source: models/model.py defines get_layer(name=None, index=None).)
_UNDOCUMENTED_BUT_PRESENT = {"2.2.4": set(), "2.3": set(), "3": {"Model.get_layer"}}


def keras(version) -> types.ModuleType:
    """The namespace of ``version`` ("2.2.4", "2.3" or "3"; "2.3.1"/"3.15.1" accepted), cached."""
    v = _backend.normalize_version(version)
    if v not in _CACHE:
        ns = types.ModuleType(f"keras_conformance.reference.keras_{v.replace('.', '_')}")
        _CACHE[v] = ns          # registered first: building may look classes up
        try:
            _build(ns, v)
        except BaseException:
            _CACHE.pop(v, None)
            raise
    return _CACHE[v]


versions.register_classes(keras)


def _spec_items(version):
    """(items alive in version by name, names documented in any version)."""
    try:
        from .. import spec
    except ImportError:   # the spec package is missing: the cores' own signatures
        return {}, set()
    alive = {}
    known = set()
    for v in spec.VERSIONS:
        s = spec.load(v)
        for name in s:
            known.add(name)
            if v == version:
                alive[name] = s[name]
    return alive, known


def _core_module(name):
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ImportError as exc:
        if exc.name and exc.name.endswith(name):
            return None
        raise


def _public(module):
    """The public names a core module defines (its ``__all__`` if any)."""
    if module is None:
        return {}
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                 and getattr(obj, "__module__", None) == module.__name__]
    return {n: getattr(module, n) for n in names if hasattr(module, n)}


def _build(ns, v):
    alive, known = _spec_items(v)
    aliases = {f"{name.split('.')[0]}.{a}" for name, item in alive.items() for a in item.aliases}
    ns.__version__ = KERAS_VERSION[v]
    ns.api_version = v
    ns.__doc__ = f"The reference implementation of the documented Keras {v} API."

    from . import engine, layers as core_layers
    from .engine import serialization

    modules = {m: types.ModuleType(f"{ns.__name__}.{m}") for m in MODULES}
    for m, mod in modules.items():
        setattr(ns, m, mod)

    # 1. what each sub-module holds, before the spec is applied
    contents: dict[str, dict] = {m: {} for m in MODULES}
    contents["layers"].update(_public(core_layers))
    contents["models"].update({"Model": engine.Model, "Sequential": engine.Sequential})
    # the callback classes of this version (keras 3's EarlyStopping is its own); the spec leaves out
    # those it documents for other versions only (BaseLogger in 3)
    from .engine import callbacks as core_callbacks
    contents["callbacks"].update(core_callbacks.for_version(v))
    contents["utils"].update({"to_categorical": engine.to_categorical, "Sequence": engine.Sequence})
    for m in ("losses", "metrics", "optimizers", "activations", "initializers", "regularizers",
              "constraints", "backend"):
        module = _core_module(m)
        if module is None:
            continue
        public = _public(module)
        if hasattr(module, "for_version"):
            table = module.for_version(v)
            public = {n: obj for n, obj in public.items() if inspect.isclass(obj)
                      or n in ("get", "serialize", "deserialize")}
            public.update(table)
        contents[m].update(public)

    # 2. classes: per-version subclasses, bases first so subclasses inherit the versioned bases
    classes = {}
    for m, table in contents.items():
        for n, obj in table.items():
            if inspect.isclass(obj) and not issubclass(obj, BaseException):
                classes.setdefault(obj, []).append((m, n))
    versioned: dict[type, type] = {}
    owners_all = {name.split(".")[0] for name in known if name.split(".")[0][:1].isupper()}
    # callback hooks are documented under the module (callbacks.Callback.on_epoch_begin): their owner
    # is the qualified class name
    owners_all |= {name.rsplit(".", 1)[0] for name in known
                   if name.startswith("callbacks.") and name.count(".") == 2}
    for core_cls in sorted(classes, key=lambda c: len(c.__mro__)):
        where = classes[core_cls]
        item = None
        for m, n in where:
            item = alive.get(f"{m}.{n}") or item
        extra_bases = []
        for base in core_cls.__mro__[1:]:
            if base in versioned:
                extra_bases.append(versioned[base])
                break
        # documented methods: this class's own (e.g. Sequential.add) over inherited (Model.fit)
        methods, absent = {}, set()
        owner_names = [o for c in reversed(core_cls.__mro__) for o in (c.__name__, f"callbacks.{c.__name__}")
                       if o in owners_all]
        for owner in owner_names:
            prefix = owner + "."
            for name in known:
                if name.startswith(prefix):
                    attr = name[len(prefix):]
                    if name in alive:
                        methods[attr] = alive[name]
                        absent.discard(attr)
                    elif attr not in methods and name not in _UNDOCUMENTED_BUT_PRESENT[v]:
                        absent.add(attr)
        module_name = f"{ns.__name__}.{where[0][0]}"
        versioned[core_cls] = surface.make_class(core_cls, v, item=item, bases=tuple(extra_bases),
                                                 methods=methods, absent=absent,
                                                 module=module_name)

    # 3. fill the sub-modules: classes, functions with api_version bound and spec signatures
    for m, table in contents.items():
        mod = modules[m]
        for n, obj in table.items():
            qualified = f"{m}.{n}"
            if qualified in known and qualified not in alive and qualified not in aliases:
                continue          # documented, but not in this version (keras 3's l1 is L1's alias)
            if inspect.isclass(obj) and obj in versioned:
                setattr(mod, n, versioned[obj])
            elif callable(obj):
                setattr(mod, n, surface.wrap_function(obj, alive.get(qualified), v, name=n))
            else:
                setattr(mod, n, obj)

    # 4. the functions that need the versioned classes
    input_layer = modules["layers"].InputLayer
    modules["layers"].Input = surface.wrap_function(
        core_layers.Input, alive.get("layers.Input"), v, name="Input",
        extra={"_input_layer_class": input_layer})
    modules["layers"].serialize = serialization.serialize_layer

    def deserialize(config, custom_objects=None):
        """A layer from ``{"class_name", "config"}`` (classes of this version)."""
        return serialization.deserialize_layer(config, v, custom_objects)
    modules["layers"].deserialize = deserialize
    models = modules["models"]
    models.model_from_json = _bind_version(serialization.model_from_json, v)
    models.model_from_config = _bind_version(serialization.model_from_config, v)
    if v != "3":
        models.model_from_yaml = _bind_version(serialization.model_from_yaml, v)
    _add_saving(models, alive, v)
    if "optimizers" in contents and hasattr(modules["optimizers"], "SGD"):
        modules["optimizers"].get = _optimizer_getter(modules["optimizers"], v)
    _add_backend(modules["backend"], v)

    # 5. top-level aliases (``keras.Model``, ``keras.Sequential``, ``keras.Input``)
    ns.Model = models.Model
    ns.Sequential = models.Sequential
    ns.Input = modules["layers"].Input
    ns.Layer = modules["layers"].Layer


def _bind_version(fn, v):
    def bound(*args, **kwargs):
        return fn(*args, **kwargs, api_version=v)
    bound.__name__ = bound.__qualname__ = fn.__name__
    bound.__doc__ = fn.__doc__
    sig = inspect.signature(fn)
    bound.__signature__ = sig.replace(
        parameters=[p for p in sig.parameters.values() if p.name != "api_version"])
    return bound


def _add_saving(models, alive, v):
    try:
        from .saving import hdf5, saving_api
    except ImportError as exc:
        err = exc

        def load_model(*args, **kwargs):
            raise NotImplementedError(f"reference.saving.hdf5 is unavailable: {err}")
        models.load_model = load_model
        return
    models.load_model = surface.wrap_function(saving_api.load_model, alive.get("models.load_model"), v,
                                              name="load_model", extra={"api_version": v})
    if v != "3":
        def save_model(model, filepath, overwrite=True, include_optimizer=True):
            return hdf5.save_model(model, filepath, overwrite=overwrite,
                                   include_optimizer=include_optimizer)
        models.save_model = surface.wrap_function(save_model, alive.get("models.save_model"), v,
                                                  name="save_model")


def _optimizer_getter(optimizers, v):
    from .engine.training import _OPTIMIZER_NAMES
    core_get = getattr(optimizers, "get", None)

    def get(identifier):
        """A name -> a new optimizer of this version (``"sgd"`` -> ``SGD()``); an instance -> it."""
        if isinstance(identifier, str) and identifier.lower() in _OPTIMIZER_NAMES:
            return getattr(optimizers, _OPTIMIZER_NAMES[identifier.lower()])()
        if core_get is not None:
            return core_get(identifier)
        raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
    return get


def _add_backend(mod, v):
    """``keras.backend`` as the seed snippets use it (``K.mean(y_pred)`` in a custom metric)."""
    from .autodiff import ops
    from .layers.base import reset_uids

    def clear_session():
        """Reset the layer-name counters (``dense_1`` again) of this version."""
        reset_uids(v)
    mod.clear_session = clear_session
    for name in ("mean", "sum", "max", "min", "square", "sqrt", "exp", "log", "abs", "maximum",
                 "minimum", "clip", "cast", "reshape", "transpose", "concatenate", "stack",
                 "relu", "sigmoid", "tanh", "softplus", "softmax", "stop_gradient",
                 "expand_dims", "squeeze"):
        if not hasattr(mod, name) and hasattr(ops, name):
            setattr(mod, name, getattr(ops, name))
    if not hasattr(mod, "dot"):
        mod.dot = ops.matmul
    if not hasattr(mod, "backend"):
        mod.backend = lambda: "numpy"
