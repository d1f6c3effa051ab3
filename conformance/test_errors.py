"""Errors: each documented ``raises`` entry that has a trigger, with its exception type.

``test_raises[Model.fit-RuntimeError-not_compiled]``: perform the documented misuse and require the
documented exception type (a subclass counts). Another exception type, or none, fails with the
reproducer.
"""
from __future__ import annotations

import builtins

from hypothesis import given, settings
from hypothesis import strategies as st

from keras_conformance.conformance import layers as harness
from keras_conformance.conformance import strategies, triggers
from keras_conformance.conformance.context import Case, one_line

CONFORMANCE_CATEGORY = "errors"


def conformance_cases(ctx, function_name):
    cases, seen = [], set()
    for item in ctx.spec.items():
        for r in item.raises:
            if not r.trigger:
                continue
            cid = f"{item.name}-{r.type}-{r.trigger_id}"
            if cid in seen:
                continue
            seen.add(cid)
            needs = triggers.NEEDS.get(r.trigger, ("construct",)) if isinstance(r.trigger, str) \
                else ("construct", "call")
            if item.name == "Model.compile":
                # compile's own documented errors: when the compile probe failed, a compile that raises
                # anything would "pass" them, so they are reported blocked by Model.compile instead
                needs = ("construct", "compile")
            cases.append(Case(id=cid, item=item.name, category=CONFORMANCE_CATEGORY, needs=needs,
                              data={"type": r.type, "trigger": r.trigger_id, "data_trigger": None if isinstance(
                                  r.trigger, str) else r.trigger, "when": r.when,
                                    "source": r.source}))
    return cases


def _exception_type(name: str):
    exc = getattr(builtins, name.rsplit(".", 1)[-1], None)
    return exc if isinstance(exc, type) and issubclass(exc, BaseException) else None


@given(data=st.data())
@settings(strategies.SETTINGS, max_examples=strategies.examples(1))
def test_raises(conformance, case, conformance_check, data):
    ctx = conformance
    item = ctx.spec[case.item]
    d = case.data
    if d.get("data_trigger") is not None:
        return _data_trigger(ctx, item, d, conformance_check, data)
    make = triggers.TRIGGERS.get(d["trigger"])
    if make is None:
        harness.untested(f"no trigger implementation for {d['trigger']!r}")
    expected = _exception_type(d["type"])
    if expected is None:
        harness.untested(f"exception type {d['type']!r} is not a Python builtin")
    ctx.locate(item.name)
    action, code = make(ctx, item)
    conformance_check.reproducer = code
    conformance_check.exercise(item.name, *triggers.params(d["trigger"], item))
    expect_raise(item, d, expected, action, code)


def expect_raise(item, d, expected, action, reproducer) -> None:
    """``action()`` must raise ``expected`` (a subclass counts); another exception, or none, is the finding."""
    documented = f"documented {d['type']} when {d['when']} ({d['source']})"
    try:
        action()
    except expected:
        return
    except Exception as exc:  # noqa: BLE001 - the wrong type is the finding
        raise AssertionError(f"{item.name}: raised {one_line(exc)}; {documented}"
                             f"\nreproducer:\n{reproducer}") from None
    raise AssertionError(f"{item.name}: raised nothing; {documented}\nreproducer:\n{reproducer}")


def _data_trigger(ctx, item, d, check, data):
    """``{construct: {arg: value}}``: a valid drawn configuration with those arguments replaced must be
    refused by the time the layer has been built and called once; ``{call: {input_rank: n}}`` (or
    ``input_count`` / ``input_dtype``): a validly constructed layer called on such an input must raise."""
    expected = _exception_type(d["type"])
    if expected is None:
        harness.untested(f"exception type {d['type']!r} is not a Python builtin")
    lc = harness.draw_case(data, item)
    kind, args = next(iter(d["data_trigger"].items()))
    ctx.locate(item.name)
    K = ctx.K
    if kind == "construct":
        bad = lc.with_kwargs(**dict(args))
        check.exercise(item.name, *bad.kwargs)
        check.reproducer = "\n".join([ctx.preamble(), harness.build_code(item, bad),
                                       harness.inputs_code(bad),
                                       f"model.predict({'xs' if bad.multi else 'xs[0]'}, verbose=0)"])

        def action():
            model, _ = harness.build(K, item, bad)
            model.predict(harness.feed(bad, harness.inputs(bad)), verbose=0)
    else:
        rank = int(args.get("input_rank", len(lc.shapes[0])))
        count = int(args.get("input_count", len(lc.shapes)))
        dtype = args.get("input_dtype", lc.dtype)
        shape = tuple(lc.shapes[0][1:rank]) + (2,) * max(0, rank - len(lc.shapes[0]))
        check.exercise(item.name, *lc.kwargs)
        ins = ", ".join([f"K.layers.Input(shape={shape!r}, dtype={dtype!r})"] * count)
        check.reproducer = "\n".join([ctx.preamble(), f"layer = K.layers.{item.attr}({lc.kwargs_code()})",
                                       f"ins = [{ins}]", f"layer(ins{'' if count > 1 else '[0]'})"])

        def action():
            layer = harness.construct(K, item, lc)
            tensors = [K.layers.Input(shape=shape, dtype=dtype) for _ in range(count)]
            layer(tensors if count > 1 else tensors[0])
    expect_raise(item, d, expected, action, check.reproducer)
