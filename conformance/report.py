"""Outcomes of a conformance run: per check, rolled up per documented item and per category.

The JSON written by ``--report-json`` is the machine interface (the mutant suite and the HTML / matrix
reports read it):

```
{"schema": 1, "adapter": {"name", "version_string", "device", "device_proof"}, "api_version",
 "tolerances": {"float32/cpu/forward": "rtol=1e-05, atol=1e-06", ...},
 "totals": {outcome: n}, "categories": {category: {"checks": {outcome: n}, "items": {outcome: n}}},
 "items": {item: {"outcome", "categories": {category: outcome}}},
 "checks": [{"id", "nodeid", "category", "item", "outcome", "message", "reproducer", "duration",
             "exercises": {item: [param, ...]}, "tolerances": ["float32/cpu/forward", ...]}],
 "stale_expectations": {check_id: reason}, "exitstatus",
 "tolerances_table": {every entry for the run's device},
 "coverage": {item: {"kind", "params": [documented parameter names], "exercised": [those some check's
              call named], "categories": [categories with a check of the item], "checks": n}}}
```
Fields are only ever added (readers of an older report keep working): ``exercises``, the per-check
``tolerances``, ``tolerances_table`` and ``coverage`` came after schema 1 was first written. Since then
``tolerances`` lists exactly the entries some check looked up (empty when none compared numbers).
"""
from __future__ import annotations

import json
import os
from collections import Counter

OUTCOMES = ("passed", "failed", "not-implemented", "expected-fail", "unexpected-pass", "untested", "skipped",
            "crashed")
# worst first: how a documented item with several checks is scored (once). An item with an untested
# check is untested, never passed: the suite could not check all of it.
_SEVERITY = ("not-implemented", "crashed", "failed", "unexpected-pass", "untested", "expected-fail", "passed",
             "skipped")
FAILING = frozenset({"failed", "not-implemented", "unexpected-pass", "crashed"})


def worst(outcomes) -> str:
    outcomes = set(outcomes)
    for o in _SEVERITY:
        if o in outcomes:
            return o
    return "skipped"


class Report:
    def __init__(self):
        self.checks: dict[str, dict] = {}     # nodeid -> record (the last phase that decided it)

    def add(self, record: dict) -> None:
        """Phases in order: setup decides unless it passed; then call; a teardown error only turns a
        pass into a crash."""
        nodeid = record["nodeid"]
        prev = self.checks.get(nodeid)
        if prev is None or record["phase"] == "setup":
            self.checks[nodeid] = record
        elif record["phase"] == "call":
            if prev["phase"] == "setup" and prev["outcome"] == "passed":
                self.checks[nodeid] = record
        elif record["outcome"] != "passed" and prev["outcome"] == "passed":
            self.checks[nodeid] = record

    # -- roll-ups -------------------------------------------------------------------------------------
    def totals(self) -> dict[str, int]:
        c = Counter(r["outcome"] for r in self.checks.values())
        return {o: c[o] for o in OUTCOMES if c[o]}

    def items(self, uncovered=()) -> dict[str, dict]:
        by_item: dict[str, dict[str, list[str]]] = {}
        for r in self.checks.values():
            by_item.setdefault(r["item"], {}).setdefault(r["category"], []).append(r["outcome"])
        out = {}
        for item, cats in by_item.items():
            per_cat = {c: worst(v) for c, v in cats.items()}
            out[item] = {"outcome": worst(per_cat.values()), "categories": per_cat}
        for item in uncovered:
            out.setdefault(item, {"outcome": "untested", "categories": {}})
        return out

    def categories(self, order=()) -> dict[str, dict]:
        cats: dict[str, dict] = {}
        for r in self.checks.values():
            cats.setdefault(r["category"], {"checks": Counter(), "items": {}})
            cats[r["category"]]["checks"][r["outcome"]] += 1
            cats[r["category"]]["items"].setdefault(r["item"], []).append(r["outcome"])
        out = {}
        for cat in sorted(cats, key=lambda c: (order.index(c) if c in order else len(order), c)):
            d = cats[cat]
            item_outcomes = Counter(worst(v) for v in d["items"].values())
            out[cat] = {"checks": {o: d["checks"][o] for o in OUTCOMES if d["checks"][o]},
                        "items": {o: item_outcomes[o] for o in OUTCOMES if item_outcomes[o]}}
        return out

    def to_json(self, *, header: dict, stale: dict, exitstatus: int, order=()) -> dict:
        items = self.items(header.get("uncovered", ()))
        return {
            "schema": 1,
            **header,
            "exitstatus": int(exitstatus),
            "totals": self.totals(),
            "items_totals": dict(Counter(v["outcome"] for v in items.values())),
            "categories": self.categories(order),
            "items": items,
            "checks": [{k: v for k, v in r.items() if k != "phase"} for r in self.checks.values()],
            "stale_expectations": stale,
        }

    def write_json(self, path: str, data: dict) -> None:
        path = os.path.abspath(path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, default=str)
            f.write("\n")
        os.replace(tmp, path)

    # -- terminal -------------------------------------------------------------------------------------
    def summary_lines(self, *, header: dict, stale: dict, order=()) -> list[str]:
        a = header.get("adapter", {})
        lines = [
            f"adapter {a.get('name')}: {a.get('version_string')}; API version {header.get('api_version')}",
            f"device {a.get('device')}: {a.get('device_proof')}",
        ]
        if header.get("examples_cap"):
            lines.append(f"quick run: at most {header['examples_cap']} hypothesis examples per check (--examples); "
                         f"a certification runs them all")
        if header.get("layers_per_family") is not None or header.get("layer_shard"):
            left = header.get("layers_sampled_out") or []
            parts = []
            if header.get("layers_per_family") is not None:
                parts.append(f"the first {header['layers_per_family']} layer classes of each family "
                             f"(--layers-per-family)")
            if header.get("layer_shard"):
                parts.append(f"the layer families of shard {header['layer_shard']} (--layer-shard)")
            lines.append(f"quick run: {', in '.join(parts)}; "
                         f"{len(left)} layer classes left out, a certification runs them all")
        cols = ("passed", "failed", "not-implemented", "expected-fail", "unexpected-pass", "untested",
                "skipped", "crashed")
        short = ("pass", "fail", "not-impl", "xfail", "xpass", "untested", "skip", "crash")
        head = f"{'category':<13}{'checks':>7} " + "".join(f"{s:>9}" for s in short) + "   items passing"
        lines.append(head)
        cats = self.categories(order)
        for cat, d in cats.items():
            n = sum(d["checks"].values())
            nitems = sum(d["items"].values())
            ok = d["items"].get("passed", 0) + d["items"].get("expected-fail", 0)
            lines.append(f"{cat:<13}{n:>7} " + "".join(f"{d['checks'].get(c, 0):>9}" for c in cols)
                         + f"   {ok}/{nitems}")
        totals = self.totals()
        lines.append(f"{'total':<13}{sum(totals.values()):>7} " + "".join(f"{totals.get(c, 0):>9}" for c in cols))
        uncovered = header.get("uncovered") or []
        items = self.items(uncovered)
        ic = Counter(v["outcome"] for v in items.values())
        lines.append(f"documented items: {len(items)} ("
                     + ", ".join(f"{ic[o]} {o}" for o in OUTCOMES if ic[o]) + ")")
        for name in uncovered:
            lines.append(f"{'UNTESTED':>16} {name}: no check of the suite covers this documented item")
        if ic["untested"] and not header.get("allow_untested"):
            lines.append(f"the run fails: {ic['untested']} documented items are untested "
                         f"(--allow-untested to accept that)")
        tol = header.get("tolerances") or {}
        lines.append("tolerances used: " + ("; ".join(f"{k} {v}" for k, v in tol.items()) if tol else
                                            "none (no check compared numbers)"))
        bad = [r for r in self.checks.values() if r["outcome"] in FAILING or r["outcome"] == "untested"]
        for r in bad:
            msg = (r.get("message") or "").splitlines()
            lines.append(f"{r['outcome'].upper():>16} {r['id']}: {msg[0] if msg else ''}"[:400])
        selfref = sum(1 for r in self.checks.values() if r.get("self_referential"))
        if selfref:
            lines.append(f"self-referential: {selfref} checks compare the implementation with the spec it is "
                         f"generated from (they cannot fail on it; counted, not evidence)")
        for cid, reason in stale.items():
            lines.append(f"WARNING stale expectation (matches no collected check): {cid}: {reason}")
        return lines


def coverage(spec, report: Report) -> dict[str, dict]:
    """Which documented items, and which of their documented parameters, the run's checks exercise.

    A parameter counts as exercised when some check's call named it (``CheckRecord.exercise``, recorded
    per check as ``exercises``), whatever that check's outcome; names a check passes that the spec does
    not document for the item are ignored. Every documented item of the version is listed, checked or not.
    """
    named: dict[str, set[str]] = {}
    cats: dict[str, set[str]] = {}
    counts: Counter = Counter()
    for r in report.checks.values():
        counts[r["item"]] += 1
        cats.setdefault(r["item"], set()).add(r["category"])
        for item, params in (r.get("exercises") or {}).items():
            named.setdefault(item, set()).update(params)
    out = {}
    for item in spec.items():
        params = [p.name for p in item.params if p.kind not in ("var_positional", "var_keyword")]
        out[item.name] = {"kind": item.kind, "params": params,
                          "exercised": [p for p in params if p in named.get(item.name, ())],
                          "categories": sorted(cats.get(item.name, ())), "checks": counts[item.name]}
    return out
