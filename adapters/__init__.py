"""How the suite reaches an implementation: the Adapter contract, the registry and expectations files.

```python
from keras_conformance import adapters
a = adapters.resolve("keras3-jax")      # AdapterUnavailable (a one-line .message) when it cannot be used
a.configure("3")                         # the API version this run checks; before `a.keras` is touched
a.keras.layers.Dense(3)                  # the implementation's keras namespace, loaded on first access
a.version_string                         # "keras 3.15.1 / jax 0.10.2"
a.to_numpy(x); a.seed(0); a.device; a.device_proof()
a.expectations("3")                      # {check_id: reason} from adapters/expectations/<name>.yaml
```
A third party subclasses `Adapter` (override `load_keras`, `version_string`, and where the defaults do
not fit `to_numpy`, `seed_framework`, `device`, `device_proof`), then runs the suite with
`--adapter mypkg.module:factory` or registers `factory` under the entry point group
`keras_conformance.adapters`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
import random
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import yaml

__all__ = [
    "VERSIONS", "DEVICE_ENV", "ENTRY_POINT_GROUP", "BUILTIN_ADAPTERS", "EXPECTATIONS_DIR",
    "Adapter", "AdapterUnavailable", "ExpectationsError",
    "resolve", "available_adapters", "require_packages", "forced_device", "hide_gpus_if_forced",
    "check_forced_device",
    "expectations_path", "load_expectations", "stale_expectations", "update_expectations",
]

#: The API versions, as in `spec.VERSIONS` (kept here too so adapters import without the spec).
VERSIONS = ("2.2.4", "2.3", "3")
#: `KERAS_CONFORMANCE_DEVICE=cpu` hides GPUs from the framework; `gpu` makes a missing GPU an error.
DEVICE_ENV = "KERAS_CONFORMANCE_DEVICE"
ENTRY_POINT_GROUP = "keras_conformance.adapters"
EXPECTATIONS_DIR = Path(__file__).resolve().parent / "expectations"

#: Built-in adapter name -> "module:factory".
BUILTIN_ADAPTERS = {
    "reference": "keras_conformance.adapters.reference:ReferenceAdapter",
    "keras3-tensorflow": "keras_conformance.adapters.keras3:keras3_tensorflow",
    "keras3-jax": "keras_conformance.adapters.keras3:keras3_jax",
    "keras3-torch": "keras_conformance.adapters.keras3:keras3_torch",
    "tf_keras": "keras_conformance.adapters.tf_keras:TfKerasAdapter",
}


class AdapterUnavailable(Exception):
    """An adapter cannot be used; `.message` (also `str()`) is one line: what is missing and what to do."""

    def __init__(self, message: str):
        self.message = " ".join(str(message).split())  # always exactly one line
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ExpectationsError(ValueError):
    """A malformed expectations file; the message names the file and the entry."""


# --------------------------------------------------------------------------------------------------
# The adapter contract
# --------------------------------------------------------------------------------------------------

class Adapter:
    """One implementation under test. Subclasses set `name`, `api_version`, `supported_versions` and
    override `load_keras` and `version_string`; the rest has working defaults."""

    name: str = ""
    #: The API version the implementation claims; the run's default `--api-version`.
    api_version: str = "3"
    #: The API versions it claims to implement; running against another one is allowed but reported.
    supported_versions: tuple[str, ...] = ("3",)
    #: Where its expectations live; None: `adapters/expectations/<name>.yaml` for a built-in, else none.
    expectations_file: str | os.PathLike | None = None

    _keras: Any = None
    _configured_version: str | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def configure(self, api_version: str) -> None:
        """Tell the adapter which API version this run checks; call before `keras` is touched."""
        api_version = str(api_version)
        if api_version not in VERSIONS:
            raise ValueError(f"unknown API version {api_version!r}: known versions are {', '.join(VERSIONS)}")
        if self._configured_version not in (None, api_version):
            self._keras = None  # a namespace that depends on the version is rebuilt on next access
        self._configured_version = api_version

    @property
    def active_version(self) -> str:
        """The API version in use: the configured one, else the claimed default."""
        return self._configured_version or self.api_version

    def supports(self, api_version: str) -> bool:
        return str(api_version) in self.supported_versions

    @property
    def keras(self) -> Any:
        """The implementation's keras namespace (`models`, `layers`, `losses`, ...), loaded once."""
        if self._keras is None:
            self._keras = self.load_keras()
        return self._keras

    def load_keras(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement load_keras()")

    # -- identity -------------------------------------------------------------------------------------
    @property
    def version_string(self) -> str:
        return f"{self.name} (keras {getattr(self.keras, '__version__', 'unknown version')})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} api_version={self.active_version!r}>"

    # -- values and randomness ------------------------------------------------------------------------
    def to_tensor(self, x: np.ndarray) -> Any:
        """An array as the implementation's tensor, for a documented function that takes "x: Input
        tensor" (the activations): the array itself where the implementation takes arrays."""
        return x

    def to_numpy(self, x: Any) -> np.ndarray:
        """Backend tensors, variables, scalars and (nested) lists of them -> ndarray."""
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, (list, tuple)):
            return np.asarray([self.to_numpy(e) for e in x])
        if hasattr(x, "numpy") and callable(x.numpy):
            return np.asarray(x.numpy())
        return np.asarray(x)

    def seed(self, n: int) -> None:
        """Seed Python, NumPy and the framework's own RNG."""
        n = int(n)
        random.seed(n)
        np.random.seed(n)
        self.seed_framework(n)

    def seed_framework(self, n: int) -> None:
        set_seed = getattr(getattr(self.keras, "utils", None), "set_random_seed", None)
        if set_seed is not None:
            set_seed(n)

    # -- device ---------------------------------------------------------------------------------------
    #: whether the implementation runs the layers documented to need a GPU (spec ``device: gpu``,
    #: CuDNNLSTM) on its device anyway; otherwise their checks are skipped off a GPU
    runs_gpu_only_layers: bool = False

    @property
    def device(self) -> str:
        """"cpu" or "gpu": where the implementation actually runs."""
        return "cpu"

    def device_proof(self) -> str:
        """A string that shows where a small operation ran."""
        return f"adapter {self.name!r} does not prove its device; it reports {self.device!r}"

    # -- expectations ---------------------------------------------------------------------------------
    def expectations(self, api_version: str | None = None) -> dict[str, str]:
        """Checks known to fail on this implementation for that API version: {check_id: reason}."""
        path = self.expectations_file
        if path is None and self.name in BUILTIN_ADAPTERS:
            path = expectations_path(self.name)
            if not path.is_file():  # silently empty would turn every known deviation into a failure
                raise ExpectationsError(f"{path}: missing; keras-conformance was installed without its "
                                        f"expectations files (package data adapters/expectations/*.yaml)")
        if path is None:
            return {}
        return load_expectations(path, api_version or self.active_version)


# --------------------------------------------------------------------------------------------------
# Helpers for adapters
# --------------------------------------------------------------------------------------------------

def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require_packages(adapter_name: str, modules: Iterable[str], extra: str | None = None) -> None:
    """Raise AdapterUnavailable naming every module in `modules` that is not importable."""
    missing = [m for m in modules if not _installed(m)]
    if not missing:
        return
    names = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    raise AdapterUnavailable(
        f"adapter {adapter_name!r} needs {names}, which {verb} not installed: "
        f'pip install "keras-conformance[{extra or adapter_name}]"'
    )


def forced_device(adapter_name: str = "") -> str | None:
    """The device forced by KERAS_CONFORMANCE_DEVICE: "cpu", "gpu" or None (unset / "auto")."""
    value = os.environ.get(DEVICE_ENV, "").strip().lower()
    if value in ("", "auto"):
        return None
    if value not in ("cpu", "gpu"):
        who = f"adapter {adapter_name!r}: " if adapter_name else ""
        raise AdapterUnavailable(f"{who}{DEVICE_ENV}={value!r} is not one of cpu, gpu, auto")
    return value


def tensorflow_environment() -> None:
    """The environment TensorFlow reads when it is first imported, set unless the user set it: quiet C++
    logs, and its oneDNN CPU kernels on. TensorFlow turns those on by itself only on some x86 CPUs (the
    AVX-512 / AMX ones); without them its CPU convolution and pooling refuse channels_first
    (UnimplementedError: "only supports the NHWC tensor format on the CPU") where with them they compute,
    so the same certification would give different verdicts on two machines."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


def hide_gpus_if_forced(adapter_name: str) -> None:
    """With KERAS_CONFORMANCE_DEVICE=cpu, hide GPUs from frameworks not yet imported."""
    if forced_device(adapter_name) == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        os.environ["JAX_PLATFORMS"] = "cpu"


def check_forced_device(adapter: Adapter) -> None:
    """After loading: the device the framework uses must be the one KERAS_CONFORMANCE_DEVICE asked for."""
    wanted = forced_device(adapter.name)
    if wanted is not None and adapter.device != wanted:
        raise AdapterUnavailable(
            f"adapter {adapter.name!r}: {DEVICE_ENV}={wanted} but the implementation runs on "
            f"{adapter.device} (a framework imported before the adapter saw the GPUs, or no GPU is visible)"
        )


# --------------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------------

def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    try:
        eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    except Exception:  # a broken distribution in the environment must not break the suite
        return {}
    return {ep.name: ep for ep in eps}


def available_adapters() -> list[str]:
    """Built-in adapter names, then the names registered under the entry point group."""
    names = list(BUILTIN_ADAPTERS)
    names += sorted(n for n in _entry_points() if n not in BUILTIN_ADAPTERS)
    return names


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _load_factory(label: str, target: str) -> Callable[[], Any]:
    module_name, _, attr_path = target.partition(":")
    if not module_name or not attr_path:
        raise AdapterUnavailable(f"adapter {label!r}: expected 'package.module:factory', got {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except AdapterUnavailable:
        raise
    except Exception as exc:
        raise AdapterUnavailable(f"adapter {label!r}: cannot import module {module_name!r}: {_one_line(exc)}")
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AdapterUnavailable(f"adapter {label!r}: module {module_name!r} has no attribute {attr_path!r}")
    return obj


def _instantiate(label: str, factory: Any) -> Adapter:
    if isinstance(factory, Adapter):
        adapter = factory
    elif callable(factory):
        try:
            adapter = factory()
        except AdapterUnavailable:
            raise
        except Exception as exc:
            raise AdapterUnavailable(f"adapter {label!r}: its factory raised {_one_line(exc)}")
    else:
        raise AdapterUnavailable(f"adapter {label!r}: {type(factory).__name__} object is not callable")
    if not isinstance(adapter, Adapter):
        shown = repr(adapter)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise AdapterUnavailable(
            f"adapter {label!r}: factory returned {type(adapter).__name__} ({shown}), "
            f"not a keras_conformance.adapters.Adapter"
        )
    if not adapter.name:
        adapter.name = label
    return adapter


def resolve(name: str | Adapter) -> Adapter:
    """A built-in name, 'package.module:factory', or an entry point name -> an Adapter instance."""
    if isinstance(name, Adapter):
        return name
    if name in BUILTIN_ADAPTERS:
        return _instantiate(name, _load_factory(name, BUILTIN_ADAPTERS[name]))
    if ":" in name:
        return _instantiate(name, _load_factory(name, name))
    entry_point = _entry_points().get(name)
    if entry_point is not None:
        try:
            factory = entry_point.load()
        except Exception as exc:
            raise AdapterUnavailable(
                f"adapter {name!r}: entry point {entry_point.value!r} cannot be loaded: {_one_line(exc)}"
            )
        return _instantiate(name, factory)
    raise AdapterUnavailable(
        f"unknown adapter {name!r}: known adapters are {', '.join(available_adapters())}; "
        f"a third-party adapter is given as 'package.module:factory'"
    )


# --------------------------------------------------------------------------------------------------
# Expectations files: {api_version: {check_id: reason}}
# --------------------------------------------------------------------------------------------------

_DEFAULT_HEADER = (
    "# Checks known to fail on this adapter, per API version: check id -> reason (a link where there is one).\n"
    "# Rewritten by `keras-conformance update-expectations`; reasons already here are kept.\n"
)


def expectations_path(adapter_name: str) -> Path:
    """The built-in expectations file of an adapter."""
    return EXPECTATIONS_DIR / f"{adapter_name}.yaml"


def _read_expectations_file(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExpectationsError(f"{path}: not valid YAML: {_one_line(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ExpectationsError(f"{path}: expected a mapping of API version to checks, got {type(data).__name__}")
    result: dict[str, dict[str, str]] = {}
    for version, checks in data.items():
        version = str(version)  # `2.3:` and `3:` unquoted read as numbers
        if version not in VERSIONS:
            raise ExpectationsError(f"{path}: unknown API version {version!r} (known: {', '.join(VERSIONS)})")
        checks = checks or {}
        if not isinstance(checks, dict):
            raise ExpectationsError(f"{path}: version {version}: expected a mapping of check id to reason")
        entries = {}
        for check_id, value in checks.items():
            where = f"{path}: version {version}: {check_id}"
            if isinstance(value, dict):
                unknown = set(value) - {"reason", "match"}
                if unknown:
                    raise ExpectationsError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: reason, match")
                reason, match = value.get("reason"), value.get("match") or []
                if isinstance(match, str):
                    match = [match]
                if not isinstance(match, list) or not all(isinstance(m, str) and m for m in match):
                    raise ExpectationsError(f"{where}: match must be a pattern or a list of patterns")
                for m in match:
                    try:
                        re.compile(m)
                    except re.error as exc:
                        raise ExpectationsError(f"{where}: match {m!r} is not a regular expression: {exc}") from None
            else:
                reason, match = value, []
            if not isinstance(reason, str) or not reason.strip():
                raise ExpectationsError(f"{where}: the reason must be a non-empty string")
            entries[str(check_id)] = Expectation(reason, match)
        result[version] = entries
    return result


def _problems(text: str) -> list[str]:
    """A signature message's problems: split on ``; `` outside parentheses (a problem's own note, in
    parentheses, may hold ``;``)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0 and text[i + 1:i + 2] == " ":
            out.append(text[start:i].strip())
            start = i + 2
    out.append(text[start:].strip())
    return [p for p in out if p]


class Expectation(str):
    """An expected failure's reason (a str), with ``match``: the patterns (regular expressions) of the
    deviation it covers. Each pattern must be found in the failure message, and, for a signature check
    (whose message lists one problem per ``;``), every listed problem must be matched by some pattern;
    a failure that does not match is a new failure, reported as such."""

    match: tuple[str, ...]

    def __new__(cls, reason: str, match=()):
        obj = super().__new__(cls, reason)
        obj.match = tuple(match)
        return obj

    def mismatch(self, message: str, category: str = "") -> str | None:
        """None when ``message`` is the deviation this entry covers (or it names no pattern); else why not."""
        if not self.match:
            return None
        text = re.split(r"\n\s*reproducer:", message, maxsplit=1)[0]
        missing = [m for m in self.match if not re.search(m, text)]
        if missing:
            return f"the failure no longer matches {missing}"
        if category == "signatures":
            problems = [p for line in text.splitlines() if re.match(r"[\w.]+: ", line)
                        for p in _problems(line.split(": ", 1)[1])]
            new = [p for p in problems if not any(re.search(m, p) for m in self.match)]
            if new:
                return f"the failure has problems no pattern covers: {new}"
        return None


def load_expectations(path: str | os.PathLike, api_version: str) -> dict[str, str]:
    """{check_id: reason} for one API version; {} when the file or the version is absent."""
    return dict(_read_expectations_file(Path(path)).get(str(api_version), {}))


def stale_expectations(expectations: Mapping[str, str], seen_check_ids: Iterable[str]) -> dict[str, str]:
    """The entries that name a check no run produced."""
    seen = set(seen_check_ids)
    return {check_id: reason for check_id, reason in sorted(expectations.items()) if check_id not in seen}


def _first_line(message: str, limit: int = 200) -> str:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    text = lines[0] if lines else "fails (no message)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def update_expectations(
    path: str | os.PathLike,
    api_version: str,
    failed: Mapping[str, str],
    seen: Iterable[str] | None = None,
) -> dict[str, str]:
    """Rewrite one API version's entries from a run: every failed check is expected to fail, keeping the
    reason already written for it (else the first line of the failure message); other entries are dropped.
    With `seen` (the check ids the run produced), entries for checks the run did not produce are kept,
    so a partial run (`-k ...`) does not erase them. Other API versions are untouched. Returns the new
    entries of that version."""
    path = Path(path)
    api_version = str(api_version)
    if api_version not in VERSIONS:
        raise ValueError(f"unknown API version {api_version!r}: known versions are {', '.join(VERSIONS)}")
    data = _read_expectations_file(path)
    old = data.get(api_version, {})
    new = {check_id: old.get(check_id) or Expectation(_first_line(message)) for check_id, message in failed.items()}
    if seen is not None:
        seen = set(seen)
        new.update({check_id: reason for check_id, reason in old.items() if check_id not in seen and check_id not in new})
    data[api_version] = dict(sorted(new.items()))
    data = {v: {k: ({"reason": str(e), "match": list(e.match)} if getattr(e, "match", ()) else str(e))
                for k, e in entries.items()} for v, entries in data.items()}
    data = {v: data[v] for v in VERSIONS if data.get(v)}

    header = ""
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if not line.startswith("#"):
                break
            header += line
    header = header or _DEFAULT_HEADER
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000) if data else "{}\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(header + body, encoding="utf-8")
    os.replace(tmp, path)
    return dict(data.get(api_version, {}))
