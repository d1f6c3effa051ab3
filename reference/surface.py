"""The documented surface of one Keras version, generated from the spec.

For each documented callable the spec gives the signature of that version (``Item.signature()``).
The surface makes a wrapper whose ``__signature__`` is exactly that, binds the caller's arguments
against it (an undocumented keyword is a ``TypeError`` naming it; defaults come from the spec, as
onnx's ``OpRun`` fills attributes from the schema) and calls the version-agnostic core with keyword
arguments. Classes become per-version subclasses carrying the Keras class name and
``_api_version``; documented methods get the version's signature; methods documented only in other
versions are absent (``hasattr`` is False).

A spec parameter the core does not implement is dropped while it has its default value, and is a
``NotImplementedError`` naming it otherwise (``workers=4``), so nothing is silently ignored.
"""
from __future__ import annotations

import functools
import inspect

__all__ = ["wrap_function", "make_class", "Absent", "bind"]

_VAR_POS = inspect.Parameter.VAR_POSITIONAL
_VAR_KW = inspect.Parameter.VAR_KEYWORD


class Absent:
    """A class attribute that is not there: ``getattr`` raises AttributeError naming the version."""

    def __init__(self, name, version):
        self.name, self.version = name, version

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, owner=None):
        raise AttributeError(f"{owner.__name__ if owner else ''}.{self.name} is not part of the "
                             f"documented Keras {self.version} API")


@functools.lru_cache(maxsize=None)
def _accepts(fn):
    """(names the core accepts, whether it takes **kwargs). Cached: every documented call binds its
    arguments through here (a train step's inspect.signature calls cost more than its smallest products)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set(), True
    names = {p.name for p in params if p.kind not in (_VAR_POS, _VAR_KW)}
    return names, any(p.kind == _VAR_KW for p in params)


@functools.lru_cache(maxsize=None)
def _core_defaults(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _same(a, b) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd objects: not the same
        return False


def _kw_accepts(item):
    """The documented keys of the item's ``**kwargs`` (empty: any key goes to the core)."""
    for p in getattr(item, "params", ()) or ():
        if p.kind == "var_keyword":
            return tuple(getattr(p, "accepts", ()) or ())
    return ()


def _check_kwargs(extra, accepts, version, what):
    """Keys in ``**kwargs`` that the version does not document: 2.x TypeError (``Keyword
    argument not understood``), 3 ValueError (``Argument(s) not recognized``), as Keras does."""
    unknown = {k: v for k, v in extra.items() if k not in accepts}
    if not unknown:
        return
    if version == "3":
        raise ValueError(f"{what}(): Argument(s) not recognized: {unknown}")
    raise TypeError(f"{what}(): Keyword argument not understood: {next(iter(unknown))!r}")


def bind(sig: inspect.Signature, args, kwargs, core, what: str, accepts=(), version=None):
    """Bind against the documented signature; return (positional varargs, keyword arguments)."""
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{what}(): {exc}") from None
    given = set(bound.arguments)
    bound.apply_defaults()
    accepted, open_kwargs = _accepts(core)
    core_defaults = _core_defaults(core)
    aliased = any(sig.parameters[n].kind == _VAR_KW and bound.arguments[n] for n in given)
    varargs, named = (), {}
    for name, value in bound.arguments.items():
        param = sig.parameters[name]
        if name not in given and name in core_defaults and (
                _same(core_defaults[name], param.default)
                or (core_defaults[name] is None and aliased)):
            # Leave the default to the core when it is the documented one, or when the core
            # resolves it (None) and the caller passed **kwargs that may alias it (2.3
            # ``SGD(lr=0.1)``: ``lr`` is ``learning_rate``); the core then sees what was given.
            continue
        if param.kind == _VAR_POS:
            varargs = tuple(value)
        elif param.kind == _VAR_KW:
            if accepts:
                _check_kwargs(value, accepts, version, what)
            named.update(value)
        elif name in accepted or open_kwargs:
            named[name] = value
        elif value is not param.default and value != param.default:
            raise NotImplementedError(f"{what}(): the reference does not implement "
                                      f"`{name}={value!r}` (documented, default {param.default!r}).")
    return varargs, named


def wrap_function(core, item, version, name=None, extra=None):
    """``core`` behind the documented signature of ``item`` (a spec Item, or None: unchanged)."""
    extra = dict(extra or {})
    accepted, open_kwargs = _accepts(core)
    if "api_version" in accepted and "api_version" not in extra:
        extra["api_version"] = version
    if item is None and not extra:
        return core
    name = name or getattr(core, "__name__", "function")
    sig = item.signature() if item is not None else None
    accepts = _kw_accepts(item)

    @functools.wraps(core)
    def wrapper(*args, **kwargs):
        if sig is None:
            return core(*args, **kwargs, **extra)
        varargs, named = bind(sig, args, kwargs, core, name, accepts, version)
        return core(*varargs, **named, **extra)

    if sig is not None:
        wrapper.__signature__ = sig
        wrapper.__doc__ = item.doc or core.__doc__
    else:
        core_sig = inspect.signature(core)
        wrapper.__signature__ = core_sig.replace(
            parameters=[p for p in core_sig.parameters.values() if p.name not in extra])
    wrapper.__name__ = name
    wrapper.__qualname__ = name
    wrapper.__wrapped__ = None
    del wrapper.__wrapped__
    return wrapper


def _method(core_cls, attr, item, version):
    static = inspect.getattr_static(core_cls, attr)
    core = getattr(core_cls, attr)
    sig = item.signature()
    what = f"{item.owner}.{attr}"
    accepts = _kw_accepts(item)
    if isinstance(static, classmethod):
        func = static.__func__

        def cm(cls, *args, **kwargs):
            varargs, named = bind(sig, args, kwargs, core, what, accepts, version)
            return func(cls, *varargs, **named)
        # The signature of the plain function, with ``cls`` first: ``inspect.signature`` of the
        # bound classmethod drops that first parameter, leaving the documented ones.
        cls_param = inspect.Parameter("cls", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        cm.__signature__ = sig.replace(parameters=[cls_param, *sig.parameters.values()])
        cm.__name__ = cm.__qualname__ = attr
        cm.__doc__ = item.doc or func.__doc__
        return classmethod(cm)

    def method(self, *args, **kwargs):
        varargs, named = bind(sig, args, kwargs, core, what, accepts, version)
        return core(self, *varargs, **named)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    method.__signature__ = sig.replace(parameters=[self_param, *sig.parameters.values()])
    method.__name__ = method.__qualname__ = attr
    method.__doc__ = item.doc or core.__doc__
    return method


def make_class(core_cls, version, item=None, bases=(), methods=None, absent=(), module=None,
               init_extra=None):
    """The per-version class: ``type(core_cls.__name__, (core_cls, *bases), ...)``.

    item: the spec Item of the class (its constructor signature) or None (core signature).
    methods: {attr: spec Item} documented for this version; absent: attrs to hide.
    init_extra: keyword arguments added to every core ``__init__`` call (``api_version``).
    """
    init_extra = dict(init_extra or {})
    cls_ref = {}
    accepted, _ = _accepts(core_cls.__init__)
    if "api_version" in accepted:
        init_extra.setdefault("api_version", version)
    ns = {"_api_version": version, "__module__": module or core_cls.__module__,
          "__doc__": (item.doc if item is not None and item.doc else core_cls.__doc__),
          "_core_class": classmethod(lambda cls, _c=core_cls: _c)}
    if item is not None or init_extra:
        sig = item.signature() if item is not None else None
        core_init = core_cls.__init__
        what = f"{core_cls.__name__}"
        accepts = _kw_accepts(item)

        def __init__(self, *args, **kwargs):
            for key, value in init_extra.items():
                kwargs.setdefault(key, value)
            if sig is None or type(self) is not cls_ref["cls"]:
                # Through super() from a subclass (a core subclass's chain, or a user's
                # ``class MLP(keras.Model)``): the subclass's own arguments, passed on as given.
                return core_init(self, *args, **kwargs)
            extra = {k: kwargs.pop(k) for k in init_extra}
            varargs, named = bind(sig, args, kwargs, core_init, what, accepts, version)
            return core_init(self, *varargs, **named, **extra)

        if sig is not None:
            self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
            __init__.__signature__ = sig.replace(parameters=[self_param, *sig.parameters.values()])
            ns["__signature__"] = sig
        __init__.__qualname__ = f"{core_cls.__name__}.__init__"
        ns["__init__"] = __init__
    for attr, method_item in (methods or {}).items():
        if hasattr(core_cls, attr):
            ns[attr] = _method(core_cls, attr, method_item, version)
    for attr in absent:
        if attr not in ns:
            ns[attr] = Absent(attr, version)
    cls = type(core_cls.__name__, (core_cls, *bases), ns)
    cls_ref["cls"] = cls
    cls.__qualname__ = core_cls.__name__
    return cls
