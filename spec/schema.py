"""The schema of the spec YAML files, as data, plus a small validator.

``validate(raw, filename)`` checks one file's raw mapping (as read by ``read_yaml``) before any version
resolution and raises ``SpecError`` naming the file, the item and the field, e.g.
``spec/models.yaml: Model.fit: params[3]: unknown field 'defualt'``.

The allowed fields of each level are the ``*_FIELDS`` tables below: field name -> (required?, checker).
A checker is a small function ``(value) -> error text | None``. No third-party schema library.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

VERSIONS = ("2.2.4", "2.3", "3")
_ORDER = {v: i for i, v in enumerate(VERSIONS)}

KINDS = ("method", "class", "function")
PARAM_KINDS = ("positional_or_keyword", "keyword_only", "var_positional", "var_keyword")
# The vocabulary of executable raise triggers; the conformance suite implements each one.
# `trigger: null` (or the word `none`) = documented but not executable.
TRIGGERS = (
    "not_compiled",
    "input_shape_mismatch",
    "sample_count_mismatch",
    "invalid_loss",
    "invalid_optimizer",
    "get_layer_unknown_name",
    "get_layer_index_out_of_range",
    "sample_and_class_weight",
)
# Data triggers: a mapping instead of a name. `{construct: {units: 0}}` constructs the layer with those
# arguments (over a valid drawn configuration); `{call: {input_rank: 1}}` calls a validly constructed
# layer on an input of that rank (`input_count`: that many inputs; `input_dtype`: that dtype).
DATA_TRIGGERS = ("construct", "call")
CALL_TRIGGER_KEYS = ("input_rank", "input_count", "input_dtype")
# Names an expression may use besides `input_shape` and the item's own parameter names: exactly what the
# evaluator provides (spec/shapes.py), so an expression that validates can be evaluated.
from .shapes import EXPR_NAMES  # noqa: E402

EXPR_BUILTINS = frozenset(EXPR_NAMES)
# How a check may draw a parameter (`domain:`): exactly one of these keys.
# the modules an `objects` expression may build from (`layers.LSTMCell(units=2)`, `regularizers.l2(l=0.01)`)
OBJECT_MODULES = ("layers", "regularizers", "constraints", "initializers")
# The areas whose items' `examples` an `objects: <area>` domain draws from (a layer's *_regularizer,
# *_constraint and *_initializer arguments: every documented regularizer, constraint, initializer)
EXAMPLE_AREAS = ("regularizers", "constraints", "initializers")
DOMAIN_KINDS = ("choices", "ints", "floats", "permutation", "factorization", "lambda", "objects")
# What an input's values are drawn from (`input: {values: ...}`).
INPUT_VALUES = ("normal", "positive", "uniform", "integers")
INPUT_DTYPES = ("float32", "int32")
# The (y_true, y_pred) pairs a loss or metric is defined on (`targets:`), as the docs describe its
# arguments: sparse (integer labels, probability rows), categorical (one-hot, probability rows), binary
# (0/1, probabilities in (0, 1)), hinge (-1/1 labels, real scores), binary_scores (0/1 labels, real scores:
# the hinge losses of versions that convert 0/1 labels, scored on both sides of the margin), positive (both > 0: logarithms,
# poisson), nonzero (|y_true| bounded away from 0: percentages), labels (small integers both: exact
# match), real (any real numbers).
# The save-file formats a save / load item of a version writes or reads (`formats:`): "h5" (HDF5, a whole
# model or a Keras 2 weights file), "keras" (the keras 3 zip archive), "weights.h5" (keras 3's weights file).
FILE_FORMATS = ("h5", "keras", "weights.h5")

TARGET_KINDS = ("sparse", "categorical", "binary", "binary_scores", "hinge", "positive", "nonzero", "labels", "real")

# Training-mode behaviour a check verifies by statistics (`stochastic: {kind: ...}`).
STOCHASTIC_KINDS = ("dropout", "additive_gaussian", "multiplicative_gaussian", "alpha_dropout")

_NAME_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
_IDENT_RE = re.compile(r"^[A-Za-z_]\w*$")
_EXC_RE = re.compile(r"^[A-Za-z_][\w.]*$")


class SpecError(ValueError):
    """A malformed spec entry; the message names the file, the item and the field."""


# ----------------------------------------------------------------------------------------------------
# version strings
def norm_version(value: Any) -> str | None:
    """The canonical version string for a YAML scalar, or None when it is not a known version.

    YAML reads `2.3` as a float and `3` as an int; both are accepted and normalised ("2.3", "3").
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        value = str(value)
    if isinstance(value, str) and value in _ORDER:
        return value
    return None


def version_key(version: str) -> int:
    return _ORDER[version]


def alive(entry: Mapping[str, Any], version: str) -> bool:
    """Whether an entry with optional `since`/`until` (inclusive) exists in `version`."""
    v = _ORDER[version]
    since = norm_version(entry.get("since", VERSIONS[0]))
    until = norm_version(entry.get("until", VERSIONS[-1]))
    return _ORDER[since] <= v <= _ORDER[until]


# ----------------------------------------------------------------------------------------------------
# checkers: (value) -> error text or None
def _is_str(v):
    return None if isinstance(v, str) and v.strip() else f"expected a non-empty string, got {v!r}"


def _is_opt_str(v):
    return None if v is None else _is_str(v)


def _is_version(v):
    if norm_version(v) is None:
        return f"bad version {v!r}; allowed: {', '.join(VERSIONS)}"
    return None


def _is_kind(v):
    return None if v in KINDS else f"unknown kind {v!r}; allowed: {', '.join(KINDS)}"


def _is_param_kind(v):
    return None if v in PARAM_KINDS else f"unknown parameter kind {v!r}; allowed: {', '.join(PARAM_KINDS)}"


def _is_ident(v):
    return None if isinstance(v, str) and _IDENT_RE.match(v) else f"expected a Python identifier, got {v!r}"


def _is_exc_type(v):
    return None if isinstance(v, str) and _EXC_RE.match(v) else f"expected an exception class name, got {v!r}"


def _is_trigger(v):
    if v is None or v == "none" or v in TRIGGERS:
        return None
    if isinstance(v, dict):
        if len(v) != 1 or next(iter(v)) not in DATA_TRIGGERS:
            return (f"a data trigger is one of {{{', '.join(f'{k}: ...' for k in DATA_TRIGGERS)}}}, "
                    f"got {v!r}")
        kind, args = next(iter(v.items()))
        if not isinstance(args, dict) or not args:
            return f"{kind}: expected a non-empty mapping of arguments, got {args!r}"
        if kind == "call":
            bad = [k for k in args if k not in CALL_TRIGGER_KEYS]
            if bad:
                return f"call: unknown key(s) {bad}; allowed: {', '.join(CALL_TRIGGER_KEYS)}"
        return None
    return f"unknown trigger {v!r}; allowed: {', '.join(TRIGGERS)}, a data trigger {{construct: ...}} / " \
           f"{{call: ...}}, or null"


def _is_int_or_range(v):
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return None
    if (isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
            and 0 <= v[0] <= v[1]):
        return None
    return f"expected a non-negative int or an inclusive range [low, high], got {v!r}"


def _is_num_range(v):
    if (isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                     for x in v) and v[0] <= v[1]):
        return None
    return f"expected an inclusive range [low, high], got {v!r}"


def _is_expr_list(v):
    if not isinstance(v, list) or not v:
        return f"expected a non-empty list of Python expressions, got {v!r}"
    for e in v:
        err = _is_expr(e)
        if err:
            return err
    return None


def _is_one_of(options):
    def check(v):
        return None if v in options else f"unknown value {v!r}; allowed: {', '.join(options)}"
    return check


def _is_source(v):
    if isinstance(v, str):
        return _is_str(v)
    if isinstance(v, dict) and v:
        for k, s in v.items():
            if norm_version(k) is None:
                return f"bad version {k!r} in source map; allowed: {', '.join(VERSIONS)}"
            if _is_str(s):
                return f"source for {k}: {_is_str(s)}"
        return None
    return f"expected a string or a non-empty {{version: string}} map, got {v!r}"


def _is_one_of_list(options):
    def check(v):
        if not isinstance(v, list) or not v:
            return f"expected a non-empty list out of {', '.join(options)}, got {v!r}"
        bad = [x for x in v if x not in options]
        return f"unknown value(s) {bad}; allowed: {', '.join(options)}" if bad else None
    return check


def _is_str_list(v):
    if isinstance(v, list) and all(isinstance(s, str) and s for s in v):
        return None
    return f"expected a list of strings, got {v!r}"


def _is_bool(v):
    return None if isinstance(v, bool) else f"expected true or false, got {v!r}"


def _is_expr(v):
    if not isinstance(v, str) or not v.strip():
        return f"expected a Python expression string, got {v!r}"
    try:
        ast.parse(v, mode="eval")
    except SyntaxError as e:
        return f"not a valid Python expression {v!r}: {e.msg}"
    return None


def _is_list(v):
    return None if isinstance(v, list) else f"expected a list, got {type(v).__name__}"


def _is_map(v):
    return None if isinstance(v, dict) else f"expected a mapping, got {type(v).__name__}"


def _any(v):
    return None


def _is_accepts(v):
    if isinstance(v, str) and _NAME_RE.match(v):
        return None     # the documented keys of that item's **kwargs (defined once, e.g. layers.Layer)
    return _is_str_list(v)


def _is_qualified(v):
    return None if isinstance(v, str) and _NAME_RE.match(v) else f"expected a qualified name, got {v!r}"


# field name -> (required, checker). Nested lists (params, raises, weights) and `versions` maps are
# checked against their own tables below.
ITEM_FIELDS: dict[str, tuple[bool, Callable[[Any], str | None]]] = {
    "kind": (True, _is_kind),
    "doc": (True, _is_str),
    "source": (True, _is_source),
    "since": (False, _is_version),
    "until": (False, _is_version),
    "note": (False, _is_str),
    "params": (False, _is_list),
    "returns": (False, _is_opt_str),
    "raises": (False, _is_list),
    "aliases": (False, _is_str_list),
    "examples": (False, _is_str_list),      # constructor expressions an `objects: <area>` domain draws
    "strings": (False, _is_str_list),       # losses / metrics: further names compile and get resolve to it
    "formats": (False, _is_one_of_list(FILE_FORMATS)),  # save / load items: the file formats of the version
    "output_shape": (False, _is_expr),      # class items only
    "weights": (False, _is_list),           # class items only
    "input": (False, _is_map),              # layers: what the layer accepts (INPUT_FIELDS)
    "valid": (False, _is_expr_list),        # layers: constraints a drawn configuration and input must meet
    "config_keys": (False, _is_str_list),   # layers: the keys of get_config() besides the base ones
    "base_config_keys": (False, _is_str_list),  # layers: the base keys, where a layer has not layers.Layer's
    "config_keys_when_set": (False, _is_str_list),  # layers: keys get_config holds only when that argument is not None
    "stochastic": (False, _is_map),         # layers: training-mode behaviour (STOCHASTIC_FIELDS)
    "stateful": (False, _is_bool),          # layers: keeps states between calls (stateful=True, reset_states)
    "device": (False, _is_one_of(("gpu",))),  # documented to run only there (CuDNNLSTM): skipped elsewhere
    "targets": (False, _is_one_of(TARGET_KINDS)),  # losses / metrics: the (y_true, y_pred) they are defined on
    "abstract": (False, _is_bool),          # a base class: no behaviour of its own to check
    "carries_code": (False, _is_bool),      # its config holds Python code (Lambda): loading it needs an opt-in
    "form_of": (False, _is_qualified),      # a functional form (layers.add) of a layer class (layers.Add)
    "renamed_from": (False, _is_qualified), # the same item under its name in earlier versions
    "versions": (False, _is_map),
}
ITEM_OVERRIDABLE = ("doc", "note", "returns", "aliases", "examples", "strings", "formats", "output_shape", "input", "valid", "config_keys",
                    "base_config_keys", "config_keys_when_set", "stochastic", "stateful", "targets")
LAYER_ONLY = ("output_shape", "weights", "input", "valid", "config_keys", "base_config_keys",
              "config_keys_when_set", "stochastic",
              "stateful", "abstract", "carries_code")

INPUT_FIELDS = {
    "rank": (False, _is_int_or_range),      # rank with the batch dimension; default [2, 3]
    "size": (False, _is_int_or_range),      # size of each non-batch dimension; default [1, 4]
    "dtype": (False, _is_one_of(INPUT_DTYPES)),
    "values": (False, _is_one_of(INPUT_VALUES)),
    "count": (False, _is_int_or_range),     # several inputs (merge layers); default 1
    "vary_axis": (False, _is_ident),        # the parameter naming the axis along which inputs may differ
    "contract_axes": (False, _is_ident),    # the parameter naming the axes two inputs are contracted along
    "masked_by": (False, _is_ident),        # the parameter whose value fills some whole time steps
    "masking": (False, _is_bool),           # the layer consumes a mask: checks put a Masking(0.0) in front
}

DOMAIN_FIELDS = {
    "choices": (False, _is_list),
    "ints": (False, _is_num_range),
    "floats": (False, _is_num_range),
    "permutation": (False, _is_expr),       # a permutation of the list the expression gives
    "factorization": (False, _is_expr),     # a tuple of ints whose product is the expression's value
    "unknown": (False, _is_bool),           # factorization: one entry may be -1
    "lambda": (False, _is_str_list),        # bodies of `lambda x: <body>` (Lambda's function)
    # constructor expressions over OBJECT_MODULES (a cell, a regularizer), or one of EXAMPLE_AREAS: the
    # `examples` of that area's items alive in the version
    "objects": (False, lambda v: None if isinstance(v, str) and v in EXAMPLE_AREAS else _is_str_list(v)),
    "inference_only": (False, _is_bool),    # training-mode checks leave it at its default (random there)
    "omit": (False, _is_bool),              # may be left out so the default applies (default: true)
    "every": (False, _is_bool),             # choices: every one is checked on every example
}

STOCHASTIC_FIELDS = {
    "kind": (True, _is_one_of(STOCHASTIC_KINDS)),
    "rate": (False, _is_expr),
    "stddev": (False, _is_expr),
    "shared_axes": (False, _is_expr),       # axes along which one random draw is shared (spatial dropout)
}

PARAM_FIELDS = {
    "name": (True, _is_ident),
    "kind": (False, _is_param_kind),        # default positional_or_keyword
    "default": (False, _any),               # absent = required
    "note": (False, _is_str),
    "source": (False, _is_source),
    "since": (False, _is_version),
    "until": (False, _is_version),
    "accepts": (False, _is_accepts),        # var_keyword only: the documented keys it takes, or an item
    "domain": (False, _is_map),             # the values a check may draw (DOMAIN_FIELDS)
    "domains": (False, _is_map),            # var_keyword only: {key: domain} for keys of `accepts` a check may draw
    "renamed_from": (False, _is_ident),     # the same parameter under its name in earlier versions
    "versions": (False, _is_map),
}
PARAM_OVERRIDABLE = ("default", "note", "source", "kind", "accepts", "domain", "domains")

RAISE_FIELDS = {
    "type": (True, _is_exc_type),
    "when": (True, _is_str),
    "trigger": (False, _is_trigger),
    "source": (False, _is_source),
    "since": (False, _is_version),
    "until": (False, _is_version),
}

WEIGHT_FIELDS = {
    "name": (True, _is_ident),
    "shape": (True, _is_expr),
    "when": (False, _is_expr),
    "since": (False, _is_version),
    "until": (False, _is_version),
}


# ----------------------------------------------------------------------------------------------------
# reading
# libyaml's parser where PyYAML was built with it: the pure-Python one took ~0.9 s to read the spec once,
# and every suite process (each mutant's kill run, each certification) reads it on start; the constructor,
# and so the duplicate-key check below, is the same Python code on either parser.
class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe loader that refuses duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader, node, deep=False):
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise SpecError(
                f"duplicate key {key!r} (line {seen[key] + 1} and line {key_node.start_mark.line + 1})")
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path, filename: str | None = None) -> dict:
    """Read one spec file; SpecError naming the file on a YAML error, duplicate key or non-mapping top."""
    with open(path, "rb") as f:
        return parse_yaml(f.read(), filename or str(path))


def parse_yaml(text: bytes, filename: str) -> dict:
    """One spec file's contents (UTF-8); SpecError naming the file on a YAML error, duplicate key or
    non-mapping top."""
    try:
        raw = yaml.load(text.decode("utf-8"), Loader=_UniqueKeyLoader)
    except UnicodeDecodeError as e:
        raise SpecError(f"{filename}: not UTF-8 text: {e}") from None
    except SpecError as e:
        raise SpecError(f"{filename}: {e}") from None
    except yaml.YAMLError as e:
        raise SpecError(f"{filename}: invalid YAML: {e}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpecError(f"{filename}: the top level must be a mapping from qualified name to entry")
    return raw


# ----------------------------------------------------------------------------------------------------
# validation
def _check_fields(entry, table, where):
    if not isinstance(entry, dict):
        raise SpecError(f"{where}: expected a mapping, got {type(entry).__name__}")
    for field in entry:
        if field not in table:
            raise SpecError(f"{where}: unknown field {field!r}; allowed: {', '.join(table)}")
    for field, (required, check) in table.items():
        if field not in entry:
            if required:
                raise SpecError(f"{where}: missing required field {field!r}")
            continue
        err = check(entry[field])
        if err:
            raise SpecError(f"{where}: field {field!r}: {err}")
    if "since" in entry and "until" in entry:
        s, u = norm_version(entry["since"]), norm_version(entry["until"])
        if _ORDER[s] > _ORDER[u]:
            raise SpecError(f"{where}: field 'since': since {s} is after until {u}")


def _check_versions_map(entry, allowed, where):
    vmap = entry.get("versions")
    if vmap is None:
        return
    for key, override in vmap.items():
        v = norm_version(key)
        if v is None:
            raise SpecError(f"{where}: field 'versions': bad version {key!r}; allowed: {', '.join(VERSIONS)}")
        if not alive(entry, v):
            raise SpecError(f"{where}: field 'versions': override for {v}, where the entry does not exist")
        if not isinstance(override, dict) or not override:
            raise SpecError(f"{where}: field 'versions': {v}: expected a non-empty mapping of overrides")
        for field, value in override.items():
            if field not in allowed:
                raise SpecError(f"{where}: field 'versions': {v}: field {field!r} cannot be overridden; "
                                f"allowed: {', '.join(allowed)}")


def resolve_param(raw: dict, version: str) -> dict:
    """The raw param with the `versions` override of `version` applied (fields only)."""
    out = {k: v for k, v in raw.items() if k != "versions"}
    for key, override in (raw.get("versions") or {}).items():
        if norm_version(key) == version:
            out.update(override)
    return out


def _free_names(expr: str) -> set[str]:
    """The names an expression reads, less those it binds itself (comprehension targets, lambda args)."""
    tree = ast.parse(expr, mode="eval")
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def _keywords_only(code: str) -> bool:
    """Every call in a constructor expression passes its arguments by keyword."""
    tree = ast.parse(code, mode="eval")
    return all(not n.args for n in ast.walk(tree) if isinstance(n, ast.Call))


def validate_item(name: Any, entry: Any, filename: str) -> None:
    where = f"{filename}: {name}"
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SpecError(f"{filename}: {name}: field 'name': bad qualified name {name!r} (expected e.g. 'Model.fit' or 'layers.Dense')")
    _check_fields(entry, ITEM_FIELDS, where)
    _check_versions_map(entry, ITEM_OVERRIDABLE, where)
    for v, override in (entry.get("versions") or {}).items():
        for field, value in override.items():
            err = ITEM_FIELDS[field][1](value)
            if err:
                raise SpecError(f"{where}: field 'versions': {norm_version(v)}: {field!r}: {err}")
    item_versions = [v for v in VERSIONS if alive(entry, v)]

    src = entry["source"]
    if isinstance(src, dict):
        covered = {norm_version(k) for k in src}
        missing = [v for v in item_versions if v not in covered]
        if missing:
            raise SpecError(f"{where}: field 'source': no source for version(s) {', '.join(missing)}")

    if entry["kind"] != "class":
        for field in LAYER_ONLY:
            if field in entry:
                raise SpecError(f"{where}: field {field!r}: only class items (layers) have {field}")
    if "form_of" in entry and entry["kind"] != "function":
        raise SpecError(f"{where}: field 'form_of': only a function item is the functional form of a class")
    for label, sub in [("examples", entry.get("examples"))] + [
            (f"versions: {norm_version(v)}: examples", o.get("examples")) for v, o in (entry.get("versions") or {}).items()]:
        if sub:
            if name.split(".")[0] not in EXAMPLE_AREAS:
                raise SpecError(f"{where}: field {label!r}: only items of {', '.join(EXAMPLE_AREAS)} have examples")
            _check_domain({"objects": sub}, f"{where}: field {label!r}")
    param_names = {p["name"] for p in (entry.get("params") or []) if isinstance(p, dict) and "name" in p}
    for label, sub in [("input", entry.get("input"))] + [
            (f"versions: {norm_version(v)}: input", o.get("input")) for v, o in (entry.get("versions") or {}).items()]:
        if sub is None:
            continue
        _check_fields(sub, INPUT_FIELDS, f"{where}: field {label!r}")
        for key in ("vary_axis", "contract_axes", "masked_by"):
            if key in sub and sub[key] not in param_names:
                raise SpecError(f"{where}: field {label!r}: {key} {sub[key]!r} is not a parameter of the item")
    for label, sub in [("stochastic", entry.get("stochastic"))] + [
            (f"versions: {norm_version(v)}: stochastic", o.get("stochastic"))
            for v, o in (entry.get("versions") or {}).items()]:
        if sub is not None:
            _check_fields(sub, STOCHASTIC_FIELDS, f"{where}: field {label!r}")

    params = entry.get("params") or []
    for i, p in enumerate(params):
        pw = f"{where}: params[{i}]"
        _check_fields(p, PARAM_FIELDS, pw)
        _check_versions_map(p, PARAM_OVERRIDABLE, pw)
        pw = f"{where}: params[{i}] ({p['name']})"
        for v, override in (p.get("versions") or {}).items():
            for field, value in override.items():
                err = PARAM_FIELDS[field][1](value)
                if err:
                    raise SpecError(f"{pw}: field 'versions': {norm_version(v)}: {field!r}: {err}")
        if not any(alive(p, v) for v in item_versions):
            raise SpecError(f"{pw}: field 'since': the parameter exists in no version where the item exists")
        for v in item_versions:
            if alive(p, v) and "domain" in resolve_param(p, v):
                _check_domain(resolve_param(p, v)["domain"], f"{pw}: field 'domain'")
        if "renamed_from" in p and p["renamed_from"] not in param_names:
            raise SpecError(f"{pw}: field 'renamed_from': no parameter {p['renamed_from']!r} in the item "
                            f"(it must be documented for the versions before the rename)")
        for v in item_versions:
            if not alive(p, v):
                continue
            rp = resolve_param(p, v)
            kind = rp.get("kind", "positional_or_keyword")
            if kind in ("var_positional", "var_keyword") and "default" in rp:
                raise SpecError(f"{pw}: field 'default': a {kind} parameter has no default (version {v})")
            if "accepts" in rp and kind != "var_keyword":
                raise SpecError(f"{pw}: field 'accepts': only a var_keyword parameter accepts keys (version {v})")
            if rp.get("domains"):
                if kind != "var_keyword":
                    raise SpecError(f"{pw}: field 'domains': only a var_keyword parameter has domains per key "
                                    f"(version {v}); a named parameter has one 'domain'")
                keys = rp.get("accepts")
                for key, dom in rp["domains"].items():
                    if not isinstance(keys, list) or key not in keys:
                        raise SpecError(f"{pw}: field 'domains': {key!r} is not one of the keys it accepts "
                                        f"({keys!r}) in version {v}")
                    _check_domain(dom, f"{pw}: field 'domains': {key}")

    # per-version checks on the resolved parameter list
    for v in item_versions:
        live = [(i, resolve_param(p, v)) for i, p in enumerate(params) if alive(p, v)]
        seen: dict[str, int] = {}
        defaulted_positional: str | None = None
        sig_params = []
        for i, rp in live:
            pw = f"{where}: params[{i}] ({rp['name']})"
            if rp["name"] in seen:
                raise SpecError(f"{pw}: field 'name': duplicate parameter name {rp['name']!r} in version {v} "
                                f"(also params[{seen[rp['name']]}])")
            seen[rp["name"]] = i
            kind = rp.get("kind", "positional_or_keyword")
            if kind == "positional_or_keyword":
                if "default" in rp:
                    defaulted_positional = defaulted_positional or rp["name"]
                elif defaulted_positional:
                    raise SpecError(f"{pw}: field 'default': required parameter after the defaulted positional "
                                    f"parameter {defaulted_positional!r} in version {v}")
            sig_params.append(inspect.Parameter(
                rp["name"], getattr(inspect.Parameter, kind.upper()),
                default=rp.get("default", inspect.Parameter.empty)))
        try:
            inspect.Signature(sig_params)
        except (ValueError, TypeError) as e:
            raise SpecError(f"{where}: field 'params': not a valid signature in version {v}: {e}") from None

    for i, r in enumerate(entry.get("raises") or []):
        rw = f"{where}: raises[{i}]"
        _check_fields(r, RAISE_FIELDS, rw)
        if not any(alive(r, v) for v in item_versions):
            raise SpecError(f"{rw}: field 'since': the raise exists in no version where the item exists")
        trig = r.get("trigger")
        if isinstance(trig, dict) and "construct" in trig:
            bad = [k for k in trig["construct"] if k not in param_names]
            if bad:
                raise SpecError(f"{rw}: field 'trigger': construct: {bad} are not parameters of the item")

    names_ok = {"input_shape"} | {p["name"] for p in params} | EXPR_BUILTINS
    exprs = [("output_shape", entry.get("output_shape"))]
    exprs += [(f"valid[{i}]", e) for i, e in enumerate(entry.get("valid") or [])]
    exprs += [(f"stochastic.{k}", e) for k, e in (entry.get("stochastic") or {}).items() if k != "kind"]
    for v, o in (entry.get("versions") or {}).items():
        exprs.append((f"versions: {norm_version(v)}: output_shape", o.get("output_shape")))
        exprs += [(f"versions: {norm_version(v)}: valid[{i}]", e) for i, e in enumerate(o.get("valid") or [])]
    for i, p in enumerate(params):
        for v in item_versions:
            dom = resolve_param(p, v).get("domain") if alive(p, v) else None
            for k in ("permutation", "factorization"):
                if dom and k in dom:
                    exprs.append((f"params[{i}] ({p['name']}): domain.{k}", dom[k]))
    for label, expr in exprs:
        if expr is None:
            continue
        bad = _free_names(expr) - names_ok
        if bad:
            raise SpecError(f"{where}: field {label!r}: unknown name(s) {sorted(bad)} (use input_shape, "
                            f"the constructor's parameter names and {', '.join(sorted(EXPR_BUILTINS))})")
    for i, w in enumerate(entry.get("weights") or []):
        ww = f"{where}: weights[{i}]"
        _check_fields(w, WEIGHT_FIELDS, ww)
        for field in ("shape", "when"):
            if field in w:
                bad = _free_names(w[field]) - names_ok
                if bad:
                    raise SpecError(f"{ww}: field {field!r}: unknown name(s) {sorted(bad)} "
                                    f"(use input_shape and the constructor's parameter names)")


def _check_domain(dom, where) -> None:
    _check_fields(dom, DOMAIN_FIELDS, where)
    kinds = [k for k in DOMAIN_KINDS if k in dom]
    if len(kinds) != 1:
        raise SpecError(f"{where}: exactly one of {', '.join(DOMAIN_KINDS)} (got {', '.join(kinds) or 'none'})")
    if "choices" in dom and not dom["choices"]:
        raise SpecError(f"{where}: choices: expected a non-empty list")
    if dom.get("every") and "choices" not in dom:
        raise SpecError(f"{where}: every: only a choices domain can be checked choice by choice")
    if "unknown" in dom and "factorization" not in dom:
        raise SpecError(f"{where}: unknown: only a factorization may have an unknown (-1) entry")
    for body in dom.get("lambda") or ():
        err = _is_expr(body)
        if err:
            raise SpecError(f"{where}: lambda: {err}")
        bad = _free_names(body) - {"x"} - EXPR_BUILTINS
        if bad:
            raise SpecError(f"{where}: lambda: {body!r} uses {sorted(bad)}; a body may use only x")
    objects = dom.get("objects")
    for code in () if isinstance(objects, str) else objects or ():
        err = _is_expr(code)
        if err:
            raise SpecError(f"{where}: objects: {err}")
        bad = _free_names(code) - set(OBJECT_MODULES) - EXPR_BUILTINS
        if bad:
            raise SpecError(f"{where}: objects: {code!r} uses {sorted(bad)}; an object is built from "
                            f"{', '.join(OBJECT_MODULES)} only")
        if not _keywords_only(code):
            raise SpecError(f"{where}: objects: {code!r}: give constructor arguments by keyword (the checks "
                            f"read them by name)")


def validate(raw: Any, filename: str) -> None:
    """Validate one file's raw top-level mapping; SpecError names file, item and field."""
    if not isinstance(raw, dict):
        raise SpecError(f"{filename}: the top level must be a mapping from qualified name to entry")
    for name, entry in raw.items():
        validate_item(name, entry, filename)
