"""The documented Keras API as data: ``spec.load(version)`` -> ``Spec`` of ``Item``s.

See docs/internals.md, section "spec/". The YAML files next to this module are the only place where the
documented signatures, defaults, raises, output shapes and weights are stated; everything else reads them
from here.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from . import shapes
from .schema import (
    KINDS,
    PARAM_KINDS,
    TRIGGERS,
    VERSIONS,
    SpecError,
    alive,
    norm_version,
    parse_yaml,
    read_yaml,
    resolve_param,
    validate,
)

__all__ = [
    "VERSIONS", "REQUIRED", "SpecError", "load", "load_raw", "Spec", "Item", "Param", "Raise", "Weight",
    "KINDS", "PARAM_KINDS", "TRIGGERS", "ROOT", "shapes",
]

ROOT = Path(__file__).resolve().parent


class _Required:
    """Marker for a parameter without a default (``spec.REQUIRED``)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self):
        return "REQUIRED"

    def __reduce__(self):
        return (_Required, ())

    def __bool__(self):
        return False


REQUIRED = _Required()


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "positional_or_keyword"
    default: Any = REQUIRED
    note: str | None = None
    source: str | None = None
    accepts: tuple[str, ...] = ()       # var_keyword: the documented keys it takes (e.g. lr, clipnorm)
    domain: Any = None                  # mapping: the values a check may draw (schema.DOMAIN_FIELDS)
    domains: Any = None                 # var_keyword: {key: domain} for documented keys a check may draw
    renamed_from: str | None = None     # its name in earlier versions

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and self.kind in ("positional_or_keyword", "keyword_only")

    def to_inspect(self) -> inspect.Parameter:
        default = inspect.Parameter.empty if self.default is REQUIRED else self.default
        return inspect.Parameter(self.name, getattr(inspect.Parameter, self.kind.upper()), default=default)


@dataclass(frozen=True)
class Raise:
    type: str
    when: str
    trigger: Any = None                 # a TRIGGERS name, or a data trigger {construct: ...} / {call: ...}
    source: str | None = None

    @property
    def trigger_id(self) -> str | None:
        """The trigger as a short id for test ids: ``not_compiled``, ``construct(units=0)``,
        ``call(input_rank=1)``."""
        if self.trigger is None or isinstance(self.trigger, str):
            return self.trigger
        kind, args = next(iter(self.trigger.items()))
        return f"{kind}(" + ",".join(f"{k}={v!r}" for k, v in args.items()) + ")"


@dataclass(frozen=True)
class Weight:
    name: str
    shape: str
    when: str | None = None


@dataclass(frozen=True)
class Item:
    name: str
    kind: str
    area: str
    doc: str
    source: str
    version: str
    params: tuple[Param, ...] = ()
    returns: str | None = None
    raises: tuple[Raise, ...] = ()
    output_shape: str | None = None
    weights: tuple[Weight, ...] = ()
    note: str | None = None
    aliases: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()       # losses / metrics: names get / compile resolve besides attr and aliases
    examples: tuple[str, ...] = ()      # regularizers / constraints / initializers: constructor expressions
    formats: tuple[str, ...] = ()       # save / load items: the file formats (schema.FILE_FORMATS), default first
    since: str = VERSIONS[0]
    until: str = VERSIONS[-1]
    file: str = ""
    input: Any = None                   # layers: what the layer accepts (schema.INPUT_FIELDS)
    valid: tuple[str, ...] = ()         # layers: constraints on a drawn configuration and input
    config_keys: tuple[str, ...] | None = None
    base_config_keys: tuple[str, ...] | None = None   # where the layer lacks some of layers.Layer's
    config_keys_when_set: tuple[str, ...] = ()        # keys present only when that argument is not None
    stochastic: Any = None              # layers: training-mode behaviour (schema.STOCHASTIC_FIELDS)
    stateful: bool = False              # layers: keeps its states between calls (stateful=True)
    device: str | None = None           # "gpu": documented to run only on a GPU (CuDNNLSTM)
    targets: str = "real"               # losses / metrics: the (y_true, y_pred) they take (schema.TARGET_KINDS)
    abstract: bool = False
    carries_code: bool = False
    form_of: str | None = None
    renamed_from: str | None = None

    @property
    def is_layer(self) -> bool:
        """A concrete documented layer class: the layer checks (shapes, numerics, round trips) apply."""
        return self.kind == "class" and self.area.startswith("layers") and not self.abstract

    @property
    def owner(self) -> str:
        return self.name.rsplit(".", 1)[0]

    @property
    def attr(self) -> str:
        return self.name.rsplit(".", 1)[1]

    def signature(self) -> inspect.Signature:
        """The documented signature of this version, without ``self``/``cls``."""
        return inspect.Signature([p.to_inspect() for p in self.params])

    def defaults(self) -> dict[str, Any]:
        """{name: default} for every parameter that has one (var-parameters and required ones excluded)."""
        return {p.name: p.default for p in self.params if p.default is not REQUIRED}

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r} in API version {self.version}")


class Spec:
    """The items alive in one API version, in file order."""

    def __init__(self, version: str, items: list[Item], absent: dict[str, str]):
        self.version = version
        self._items = {i.name: i for i in items}
        self._absent = absent   # name -> why it is not in this version

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __getitem__(self, name: str) -> Item:
        try:
            return self._items[name]
        except KeyError:
            why = self._absent.get(name, "not a documented item")
            raise KeyError(f"{name!r} is not in API version {self.version}: {why}") from None

    def get(self, name: str, default: Any = None) -> Item | None:
        return self._items.get(name, default)

    def items(self, kind: str | None = None, area: str | None = None) -> list[Item]:
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
        return [i for i in self._items.values()
                if (kind is None or i.kind == kind) and (area is None or i.area == area)]

    def areas(self) -> list[str]:
        return list(dict.fromkeys(i.area for i in self._items.values()))

    def __repr__(self) -> str:
        return f"<Spec {self.version}: {len(self)} items>"


# ----------------------------------------------------------------------------------------------------
def _check_version(version: Any) -> str:
    v = norm_version(version) if not isinstance(version, str) else (version if version in VERSIONS else None)
    if v is None:
        raise ValueError(f"unknown API version {version!r}; allowed: {', '.join(VERSIONS)}")
    return v


def _display_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return f"spec/{rel}" if root == ROOT else str(path)


@functools.lru_cache(maxsize=None)
def _read_valid(text: bytes, filename: str) -> dict:
    """One spec file's contents, parsed and validated once per process (every version's load reads every
    file; nothing downstream modifies what this returns). Keyed by the bytes themselves, so an edited file
    is read again however quickly it was rewritten."""
    raw = parse_yaml(text, filename)
    validate(raw, filename)
    return raw


def load_raw(root: str | Path | None = None) -> list[tuple[str, str, dict]]:
    """Read and validate every ``*.yaml`` under ``root`` (default: the shipped spec).

    Returns ``[(area, filename, raw_mapping)]`` in a stable order (sorted relative paths). An item name
    defined in two files is a SpecError naming both.
    """
    root = Path(root).resolve() if root is not None else ROOT
    if not root.is_dir():
        raise SpecError(f"{root}: spec directory not found")
    out = []
    where: dict[str, str] = {}
    for path in sorted(root.rglob("*.yaml"), key=lambda p: p.relative_to(root).as_posix()):
        filename = _display_name(path, root)
        raw = _read_valid(path.read_bytes(), filename)
        for name in raw:
            if name in where:
                raise SpecError(f"{filename}: {name}: defined again (first in {where[name]})")
            where[name] = filename
        area = path.relative_to(root).with_suffix("").as_posix()
        out.append((area, filename, raw))
    return out


def _source_for(src: Any, version: str) -> str | None:
    if src is None or isinstance(src, str):
        return src
    for k, s in src.items():
        if norm_version(k) == version:
            return s
    return None


def _resolve_item(name: str, raw: dict, area: str, filename: str, version: str) -> Item:
    overrides: dict = {}
    for k, o in (raw.get("versions") or {}).items():
        if norm_version(k) == version:
            overrides = o
    merged = {**raw, **overrides}
    source = _source_for(raw["source"], version)
    params = []
    for p in raw.get("params") or []:
        if not alive(p, version):
            continue
        rp = resolve_param(p, version)
        params.append(Param(
            name=rp["name"],
            kind=rp.get("kind", "positional_or_keyword"),
            default=rp["default"] if "default" in rp else REQUIRED,
            note=rp.get("note"),
            source=_source_for(rp.get("source"), version) or source,
            accepts=rp.get("accepts") if isinstance(rp.get("accepts"), str) else tuple(rp.get("accepts") or ()),
            domain=_frozen(rp.get("domain")),
            domains=_frozen(rp.get("domains")),
            renamed_from=rp.get("renamed_from"),
        ))
    raises = []
    for r in raw.get("raises") or []:
        if not alive(r, version):
            continue
        trig = r.get("trigger")
        raises.append(Raise(type=r["type"], when=r["when"], trigger=None if trig in (None, "none") else _frozen(trig),
                            source=_source_for(r.get("source"), version) or source))
    weights = tuple(Weight(w["name"], w["shape"], w.get("when")) for w in raw.get("weights") or []
                    if alive(w, version))
    return Item(
        name=name, kind=raw["kind"], area=area, doc=merged["doc"], source=source, version=version,
        params=tuple(params), returns=merged.get("returns"), raises=tuple(raises),
        output_shape=merged.get("output_shape"), weights=weights, note=merged.get("note"),
        aliases=tuple(merged.get("aliases") or ()), strings=tuple(merged.get("strings") or ()),
        examples=tuple(merged.get("examples") or ()),
        formats=tuple(merged.get("formats") or ()),
        since=norm_version(raw.get("since", VERSIONS[0])), until=norm_version(raw.get("until", VERSIONS[-1])),
        file=filename, input=_frozen(merged.get("input")), valid=tuple(merged.get("valid") or ()),
        config_keys=tuple(merged["config_keys"]) if merged.get("config_keys") is not None else None,
        base_config_keys=tuple(merged["base_config_keys"]) if merged.get("base_config_keys") is not None else None,
        config_keys_when_set=tuple(merged.get("config_keys_when_set") or ()),
        stochastic=_frozen(merged.get("stochastic")), abstract=bool(merged.get("abstract", False)),
        stateful=bool(merged.get("stateful", False)), device=merged.get("device"),
        targets=merged.get("targets", "real"),
        carries_code=bool(merged.get("carries_code", False)),
        form_of=merged.get("form_of"), renamed_from=merged.get("renamed_from"),
    )


class FrozenDict(dict):
    """A read-only mapping (spec data is immutable once loaded)."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("spec data is read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly

    def __hash__(self):
        return hash(tuple(sorted(self.items(), key=repr)))


def _frozen(value):
    if isinstance(value, dict):
        return FrozenDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _resolve_accepts(items: list[Item]) -> list[Item]:
    """A ``**kwargs`` whose ``accepts`` names an item (``accepts: layers.Layer``) takes that item's keys:
    the keyword arguments every layer accepts are written once."""
    by_name = {i.name: i for i in items}
    out = []
    for item in items:
        params = list(item.params)
        for k, p in enumerate(params):
            if isinstance(p.accepts, str):
                base = by_name.get(p.accepts)
                keys = next((q.accepts for q in (base.params if base else ()) if q.kind == "var_keyword"), None)
                if base is None or keys is None or isinstance(keys, str):
                    raise SpecError(f"{item.file}: {item.name}: params[{k}] ({p.name}): field 'accepts': "
                                    f"{p.accepts!r} has no **kwargs with documented keys in version {item.version}")
                params[k] = dataclasses.replace(p, accepts=tuple(keys))
        out.append(dataclasses.replace(item, params=tuple(params)) if params != list(item.params) else item)
    return out


def _resolve_objects(items: list[Item]) -> list[Item]:
    """A domain ``objects: regularizers`` (an area of schema.EXAMPLE_AREAS) becomes the ``examples`` of
    that area's items alive in the version, in spec order, with ``of: <area>`` kept: a layer's
    ``kernel_regularizer`` draws every documented regularizer, written once where the regularizer is."""
    examples: dict[str, list[str]] = {}
    for item in items:
        examples.setdefault(item.area, []).extend(item.examples)
    out = []
    for item in items:
        params = list(item.params)
        for k, p in enumerate(params):
            area = p.domain.get("objects") if p.domain is not None else None
            if isinstance(area, str):
                if not examples.get(area):
                    raise SpecError(f"{item.file}: {item.name}: params[{k}] ({p.name}): field 'domain': no item "
                                    f"of {area} has examples in version {item.version}")
                params[k] = dataclasses.replace(p, domain=FrozenDict(
                    {**p.domain, "objects": tuple(examples[area]), "of": area}))
        out.append(dataclasses.replace(item, params=tuple(params)) if params != list(item.params) else item)
    return out


@functools.lru_cache(maxsize=None)
def _load(version: str, root: str | None) -> Spec:
    items, absent = [], {}
    for area, filename, raw in load_raw(root):
        for name, entry in raw.items():
            if alive(entry, version):
                items.append(_resolve_item(name, entry, area, filename, version))
            else:
                absent[name] = (f"documented since {norm_version(entry.get('since', VERSIONS[0]))} "
                                f"until {norm_version(entry.get('until', VERSIONS[-1]))} ({filename})")
    return Spec(version, _resolve_objects(_resolve_accepts(items)), absent)


def load(version: str, root: str | Path | None = None) -> Spec:
    """The spec of one API version ("2.2.4", "2.3" or "3"); cached per (version, root).

    ``root`` is a directory of spec YAML files (default: the shipped one, this package's folder).
    ValueError for an unknown version; SpecError (file, item, field) for a malformed entry.
    """
    v = _check_version(version)
    return _load(v, None if root is None else str(Path(root).resolve()))
