"""The state of one conformance run: adapter x API version, the spec, the reference oracle, the probes.

Created once per pytest session by the plugin (only when conformance checks are collected), handed to
the checks as the ``conformance`` fixture. Imports of keras / the reference happen lazily here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CATEGORIES = ("capabilities", "signatures", "shapes", "errors", "numerics", "training", "roundtrips", "safety")


class NotImplementedByAdapter(AssertionError):
    """A documented name is absent from the implementation's namespace (outcome: not-implemented)."""


class Blocked(Exception):
    """A capability the check needs is broken (its probe failed)."""


@dataclass
class Case:
    """One generated conformance check: ``id`` is the pytest parameter id (reads as the spec name)."""
    id: str
    item: str                      # the documented item it belongs to (report roll-up key)
    category: str
    needs: tuple[str, ...] = ()    # capabilities (probes) it depends on
    data: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Case({self.id})"


class CheckRecord:
    """Per-check scratch the report reads: the reproducer and what was compared."""

    def __init__(self, case: Case | None):
        self.case = case
        self.reproducer: str = ""
        self.notes: list[str] = []
        self.exercised: dict[str, set[str]] = {}    # documented item -> parameters this check passed

    def exercise(self, item: str, *params: str) -> None:
        """Record that the check called the documented ``item`` naming ``params`` (the coverage table
        keeps only names the spec documents for that item, so extras such as ``input_shape`` are harmless)."""
        self.exercised.setdefault(item, set()).update(params)


def one_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Conformance:
    """Everything a check needs; one per session."""

    def __init__(self, adapter_name: str, api_version: str | None, use_expectations: bool = True,
                 spec_root: str | None = None):
        from .. import adapters, spec  # cheap: no keras

        self.adapter_name = adapter_name
        self.adapter = adapters.resolve(adapter_name)        # AdapterUnavailable propagates
        version = str(api_version) if api_version else self.adapter.api_version
        if version not in spec.VERSIONS:
            raise adapters.AdapterUnavailable(
                f"unknown API version {version!r}: known versions are {', '.join(spec.VERSIONS)}")
        self.api_version = version
        configure = getattr(self.adapter, "configure", None)
        if configure is not None:
            configure(version)
        self.spec = spec.load(version, root=spec_root)
        self.expectations: dict[str, str] = {}
        try:
            if use_expectations:
                self.expectations = dict(self.adapter.expectations(version) or {})
        except Exception as exc:  # noqa: BLE001 - a broken expectations file is a usage error
            raise adapters.AdapterUnavailable(
                f"adapter {adapter_name!r}: cannot read its expectations: {one_line(exc)}") from None
        self._probes = None

    # -- the two namespaces ---------------------------------------------------------------------------
    @functools.cached_property
    def K(self) -> Any:
        """The implementation under test."""
        return self.adapter.keras

    @functools.cached_property
    def R(self) -> Any:
        """The oracle: the NumPy reference at the same API version."""
        from .. import reference
        return reference.keras(self.api_version)

    @functools.cached_property
    def _ref_adapter(self):
        from .. import adapters
        a = adapters.resolve("reference")
        a.configure(self.api_version)
        return a

    def k_numpy(self, x) -> np.ndarray:
        return np.asarray(self.adapter.to_numpy(x))

    def r_numpy(self, x) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x
        if hasattr(x, "numpy") and callable(x.numpy):
            return np.asarray(x.numpy())
        if hasattr(x, "data") and isinstance(getattr(x, "data"), np.ndarray):
            return x.data
        if isinstance(x, (list, tuple)):
            return np.asarray([self.r_numpy(e) for e in x])
        return np.asarray(x)

    @property
    def device(self) -> str:
        try:
            return self.adapter.device
        except Exception:  # noqa: BLE001
            return "cpu"

    def seed(self, n: int) -> None:
        try:
            self.adapter.seed(n)
        except Exception:  # noqa: BLE001 - seeding is best effort; numerics use set_weights anyway
            np.random.seed(n)

    # -- probes ---------------------------------------------------------------------------------------
    @property
    def probes(self):
        if self._probes is None:
            from .probes import Probes
            self._probes = Probes(self)
        return self._probes

    def require(self, needs) -> None:
        """Skip (blocked) when a capability the check needs is broken."""
        for cap in needs:
            result = self.probes.result(cap)
            if not result.ok:
                raise Blocked(f"blocked by {result.blocker_label}: {result.message}")

    # -- reproducers ----------------------------------------------------------------------------------
    def preamble(self, with_reference: bool = False) -> str:
        lines = [
            "import numpy as np",
            "from keras_conformance import adapters",
            f"a = adapters.resolve({self.adapter_name!r}); a.configure({self.api_version!r}); K = a.keras",
        ]
        if with_reference:
            lines.append(f"from keras_conformance import reference; R = reference.keras({self.api_version!r})")
        return "\n".join(lines)

    # -- locating documented names --------------------------------------------------------------------
    def locate(self, name: str, namespace: Any = None) -> Any:
        """The object a documented dotted name denotes in a keras namespace (default: under test).

        ``Model.fit`` -> ``models.Model.fit``; ``layers.Dense`` -> ``layers.Dense``. Raises
        NotImplementedByAdapter naming the first missing part.
        """
        return locate(namespace if namespace is not None else self.K, name)

    def optimizer_lr_name(self, optimizer: str) -> str | None:
        """The learning-rate argument of a documented optimizer in this version (``lr`` in 2.2.4)."""
        item = self.spec.get(f"optimizers.{optimizer}")
        if item is None:
            return None
        # the one documented parameter that is, or was renamed from, the learning rate (spec renamed_from)
        for p in item.params:
            if p.name == "learning_rate" or p.renamed_from == "learning_rate":
                return p.name
        for p in item.params:
            if p.name == "lr" and p.kind != "var_keyword":
                return p.name
        return None


# the documented home module of a class whose methods the spec names bare (Model.fit, Layer.get_weights)
_HOMES = {"Model": "models", "Sequential": "models", "Layer": "layers"}


def documented_path(K: Any, name: str) -> str:
    """The attribute path of a documented name in a keras namespace: ``Model.fit`` -> ``models.Model.fit``,
    ``Layer.get_weights`` -> ``layers.Layer.get_weights`` where that module holds the class; else as is."""
    head = name.split(".", 1)[0]
    home = _HOMES.get(head)
    if home is not None and getattr(getattr(K, home, None), head, None) is not None:
        return f"{home}.{name}"
    return name


def locate(K: Any, name: str) -> Any:
    obj, walked = K, []
    for part in documented_path(K, name).split("."):
        nxt = getattr(obj, part, None) if part else None
        if nxt is None:
            where = ".".join(walked) if walked else "the keras namespace"
            raise NotImplementedByAdapter(f"{name}: not implemented ({where} has no attribute {part!r})")
        walked.append(part)
        obj = nxt
    return obj
