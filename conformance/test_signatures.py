"""Signatures: parameter names, order, kinds and defaults of every documented callable.

``test_signature[Model.fit]`` compares ``inspect.signature`` of the implementation's ``Model.fit`` (and of
``Sequential.fit`` where that is a different function) with the spec's signature for the run's API
version; every difference is reported in one message. A documented name that the implementation's
namespace lacks is *not-implemented*.
"""
from __future__ import annotations

import inspect

from keras_conformance.conformance.context import Case, documented_path
from keras_conformance.conformance.signatures import compare, drop_self

CONFORMANCE_CATEGORY = "signatures"


def conformance_cases(ctx, function_name):
    return [Case(id=item.name, item=item.name, category=CONFORMANCE_CATEGORY)
            for item in ctx.spec.items() if item.kind in ("method", "class", "function")]


def actual_signature(obj, kind: str) -> inspect.Signature:
    if kind == "class":
        sig = getattr(obj, "__signature__", None)
        if isinstance(sig, inspect.Signature):
            return drop_self(sig)
        return drop_self(inspect.signature(obj.__init__))
    if inspect.ismethod(obj):  # a classmethod seen through its class: judge the function itself
        return drop_self(inspect.signature(obj.__func__))
    return drop_self(inspect.signature(obj))


def _targets(ctx, item):
    """[(shown name, object)]: the documented callable, plus Sequential's own override of a Model
    method (users call fit on a Sequential too)."""
    obj = ctx.locate(item.name)
    out = [(item.name, obj)]
    if item.kind == "method" and item.owner == "Model":
        seq = getattr(getattr(ctx.K, "models", None), "Sequential", None)
        seq_fn = getattr(seq, item.attr, None) if seq is not None else None
        if seq_fn is not None and getattr(seq_fn, "__func__", seq_fn) is not getattr(obj, "__func__", obj):
            out.append((f"Sequential.{item.attr}", seq_fn))
    return out


def test_signature(conformance, case, conformance_check):
    item = conformance.spec[case.item]
    documented = item.signature()
    sources = {p.name: p.source for p in item.params if p.source}
    conformance_check.reproducer = "\n".join([
        conformance.preamble(),
        "import inspect",
        f"print(inspect.signature(K.{_path(conformance, item)}))",
        f"# documented ({item.source}): {item.name}{documented}",
    ])
    messages = []
    for shown, obj in _targets(conformance, item):
        problems = compare(documented, actual_signature(obj, item.kind), sources, item.source or "")
        if problems:
            messages.append(f"{shown}: " + "; ".join(problems))
    assert not messages, "\n".join(messages) + "\nreproducer:\n" + conformance_check.reproducer


def _path(ctx, item) -> str:
    name = documented_path(ctx.K, item.name)
    if item.kind == "class":
        name += ".__init__"
    return name
