"""Compare an implementation's signature with the documented one (pure: no keras, no spec import).

Rules (the documented signature is the contract; an implementation may add to it, never take away):
- every documented parameter must be present by name; a documented name that only ``**kwargs`` would
  absorb is MISSING (a typo'd keyword would be swallowed silently too);
- documented positional parameters keep their relative order;
- kinds compatible: documented positional-or-keyword must not become keyword-only or positional-only;
  documented ``*args`` / ``**kwargs`` must exist;
- defaults equal, compared with care (0 == 0.0, True != 1, "auto" != 1, None != required,
  (1, 1) == [1, 1]); a documented required parameter may be given a default (calls still work);
- an extra *required* parameter the docs do not have breaks documented calls.
"""
from __future__ import annotations

import inspect
import math
import numbers

_EMPTY = inspect.Parameter.empty
P = inspect.Parameter
_POSITIONAL = (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)
_KIND_WORDS = {
    P.POSITIONAL_ONLY: "positional-only",
    P.POSITIONAL_OR_KEYWORD: "positional-or-keyword",
    P.VAR_POSITIONAL: "*args",
    P.KEYWORD_ONLY: "keyword-only",
    P.VAR_KEYWORD: "**kwargs",
}


def fmt(value) -> str:
    if value is _EMPTY:
        return "required"
    return repr(value)


def defaults_equal(documented, actual) -> bool:
    if documented is _EMPTY or actual is _EMPTY:
        return documented is actual
    if isinstance(documented, bool) or isinstance(actual, bool):
        return isinstance(documented, bool) and isinstance(actual, bool) and documented == actual
    if documented is None or actual is None:
        return documented is None and actual is None
    if isinstance(documented, numbers.Number) and isinstance(actual, numbers.Number):
        try:
            d, a = float(documented), float(actual)
        except (TypeError, ValueError):
            return documented == actual
        if math.isnan(d) and math.isnan(a):
            return True
        return d == a or math.isclose(d, a, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(documented, str) or isinstance(actual, str):
        return isinstance(documented, str) and isinstance(actual, str) and documented == actual
    if isinstance(documented, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(documented) == len(actual) and all(
            defaults_equal(d, a) for d, a in zip(documented, actual))
    if isinstance(documented, dict) and isinstance(actual, dict):
        return documented.keys() == actual.keys() and all(
            defaults_equal(documented[k], actual[k]) for k in documented)
    try:
        return bool(documented == actual)
    except Exception:  # noqa: BLE001 - exotic defaults (arrays, objects)
        return repr(documented) == repr(actual)


def compare(documented: inspect.Signature, actual: inspect.Signature,
            sources: dict[str, str] | None = None, default_source: str = "") -> list[str]:
    """Every difference between ``documented`` and ``actual`` as a readable phrase (empty: conforming).

    ``sources`` maps a parameter name to where the documented fact came from (``seed 001``).
    """
    sources = sources or {}
    problems: list[str] = []
    act = actual.parameters
    doc = documented.parameters

    def src(name):
        s = sources.get(name) or default_source
        return f" ({s})" if s else ""

    has_var_kw = any(p.kind is P.VAR_KEYWORD for p in act.values())
    has_var_pos = any(p.kind is P.VAR_POSITIONAL for p in act.values())

    missing = []
    for name, dp in doc.items():
        if dp.kind is P.VAR_KEYWORD:
            if not has_var_kw:
                problems.append(f"documented **{name} is not accepted{src(name)}")
            continue
        if dp.kind is P.VAR_POSITIONAL:
            if not has_var_pos:
                problems.append(f"documented *{name} is not accepted{src(name)}")
            continue
        ap = act.get(name)
        if ap is None or ap.kind in (P.VAR_KEYWORD, P.VAR_POSITIONAL):
            extra = "; only **kwargs would absorb it" if has_var_kw else ""
            where = sources.get(name) or default_source
            where = f"; {where}" if where else ""
            what = "required" if dp.default is _EMPTY else f"documented default {fmt(dp.default)}"
            missing.append(f"missing documented parameter {name!r} ({what}{extra}{where})")
            continue
        if dp.kind in _POSITIONAL and ap.kind is P.KEYWORD_ONLY:
            problems.append(f"parameter {name!r} is keyword-only, documented positional-or-keyword"
                            f"{src(name)}")
        elif dp.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY) and ap.kind is P.POSITIONAL_ONLY:
            problems.append(f"parameter {name!r} is positional-only, documented "
                            f"{_KIND_WORDS[dp.kind]}{src(name)}")
        if dp.default is not _EMPTY and not defaults_equal(dp.default, ap.default):
            if ap.default is _EMPTY:
                problems.append(f"parameter {name!r} is required, documented default "
                                f"{fmt(dp.default)}{src(name)}")
            else:
                problems.append(f"parameter {name!r} default is {fmt(ap.default)}, documented "
                                f"{fmt(dp.default)}{src(name)}")
    problems[:0] = missing

    # relative order of the documented positional parameters
    doc_pos = [n for n, p in doc.items() if p.kind in _POSITIONAL]
    act_pos = [n for n, p in act.items() if p.kind in _POSITIONAL]
    common = [n for n in doc_pos if n in act_pos]
    act_order = [n for n in act_pos if n in common]
    if common != act_order:
        problems.append(f"positional order is ({', '.join(act_order)}), documented "
                        f"({', '.join(common)})")

    # extra required parameters break documented calls
    for name, ap in act.items():
        if name not in doc and ap.default is _EMPTY and ap.kind in (
                P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY):
            problems.append(f"undocumented required parameter {name!r}")
    return problems


def drop_self(sig: inspect.Signature) -> inspect.Signature:
    params = list(sig.parameters.values())
    if params and params[0].name in ("self", "cls") and params[0].kind in _POSITIONAL:
        params = params[1:]
    return sig.replace(parameters=params)
