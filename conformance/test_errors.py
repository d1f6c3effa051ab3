"""Errors: each documented ``raises`` entry that has a trigger, with its exception type.

``test_raises[Model.fit-RuntimeError-not_compiled]``: perform the documented misuse and require the
documented exception type (a subclass counts). Another exception type, or none, fails with the
reproducer.
"""
from __future__ import annotations

import builtins

import pytest

from keras_conformance.conformance import triggers
from keras_conformance.conformance.context import Case, one_line

CONFORMANCE_CATEGORY = "errors"


def conformance_cases(ctx, function_name):
    cases, seen = [], set()
    for item in ctx.spec.items():
        for r in item.raises:
            if not r.trigger:
                continue
            cid = f"{item.name}-{r.type}-{r.trigger}"
            if cid in seen:
                continue
            seen.add(cid)
            needs = triggers.NEEDS.get(r.trigger, ("construct",))
            if item.name == "Model.compile":
                # compile's own documented errors: when the compile probe failed, a compile that raises
                # anything would "pass" them, so they are reported blocked by Model.compile instead
                needs = ("construct", "compile")
            cases.append(Case(id=cid, item=item.name, category=CONFORMANCE_CATEGORY, needs=needs,
                              data={"type": r.type, "trigger": r.trigger, "when": r.when,
                                    "source": r.source}))
    return cases


def _exception_type(name: str):
    exc = getattr(builtins, name.rsplit(".", 1)[-1], None)
    return exc if isinstance(exc, type) and issubclass(exc, BaseException) else None


def test_raises(conformance, case, conformance_check):
    ctx = conformance
    item = ctx.spec[case.item]
    d = case.data
    make = triggers.TRIGGERS.get(d["trigger"])
    if make is None:
        pytest.skip(f"no trigger implementation for {d['trigger']!r}")
    expected = _exception_type(d["type"])
    if expected is None:
        pytest.skip(f"exception type {d['type']!r} is not a Python builtin")
    ctx.locate(item.name)
    action, code = make(ctx, item)
    conformance_check.reproducer = code
    conformance_check.exercise(item.name, *triggers.params(d["trigger"], item))
    documented = f"documented {d['type']} when {d['when']} ({d['source']})"
    try:
        action()
    except expected:
        return
    except Exception as exc:  # noqa: BLE001 - the wrong type is the finding
        raise AssertionError(f"{item.name}: raised {one_line(exc)}; {documented}"
                             f"\nreproducer:\n{code}") from None
    raise AssertionError(f"{item.name}: raised nothing; {documented}\nreproducer:\n{code}")
