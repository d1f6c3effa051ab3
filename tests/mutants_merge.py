"""Mutants of the merge layers' functional forms (layers.add, subtract, ..., dot: spec/layers/merge.yaml),
registered through mutants.mutant.

Each form is documented as its class called on the inputs (``Concatenate(axis=axis, **kwargs)(inputs)``);
a mutant replaces the function in the namespace copy by a wrapper with one slip of that wiring (an argument
not passed on, the wrong class, the inputs taken in the wrong order or not all of them) around the
reference's function, which keeps the documented signature (``functools.wraps``). The layer checks build
the form's model with the function itself (conformance/layers.py ``build(form=...)``).
"""
from __future__ import annotations

import functools

from mutants import ALL, mutant


def _replace(K, name, make):
    pristine = K.get(f"layers.{name}")
    K.set(f"layers.{name}", functools.wraps(pristine)(make(pristine)))


@mutant("shapes", ALL, "layers.concatenate does not pass its axis on to Concatenate: it always concatenates "
        "along the last axis", items=("layers.concatenate",))
def concatenate_function_ignores_axis(K, v):
    def make(pristine):
        def concatenate(inputs, axis=-1, **kwargs):
            return pristine(inputs, **kwargs)
        return concatenate
    _replace(K, "concatenate", make)


@mutant("numerics", ALL, "layers.dot does not pass normalize on to Dot: the function form never L2-normalises "
        "its inputs (normalize=True gives the plain dot product)", items=("layers.dot",))
def dot_function_drops_normalize(K, v):
    def make(pristine):
        def dot(inputs, *args, **kwargs):
            kwargs.pop("normalize", None)
            return pristine(inputs, *args[:1], **kwargs)       # axes, without a positional normalize
        return dot
    _replace(K, "dot", make)


@mutant("numerics", ALL, "layers.average builds an Add layer (a copy-paste slip): the sum of the inputs, not "
        "their mean", items=("layers.average",))
def average_function_sums(K, v):
    add = K.get("layers.add")

    def make(pristine):
        def average(inputs, **kwargs):
            return add(inputs, **kwargs)
        return average
    _replace(K, "average", make)


@mutant("numerics", ALL, "layers.maximum takes the elementwise maximum of its first two inputs only (a third "
        "input is ignored)", items=("layers.maximum",))
def maximum_function_first_two(K, v):
    def make(pristine):
        def maximum(inputs, **kwargs):
            return pristine(list(inputs)[:2], **kwargs)
        return maximum
    _replace(K, "maximum", make)


@mutant("numerics", ALL, "layers.minimum builds a Maximum layer (a copy-paste slip): the elementwise maximum",
        items=("layers.minimum",))
def minimum_function_is_maximum(K, v):
    maximum = K.get("layers.maximum")

    def make(pristine):
        def minimum(inputs, **kwargs):
            return maximum(inputs, **kwargs)
        return minimum
    _replace(K, "minimum", make)


@mutant("numerics", ALL, "layers.multiply of three or more inputs multiplies only the first and the last",
        items=("layers.multiply",))
def multiply_function_first_and_last(K, v):
    def make(pristine):
        def multiply(inputs, **kwargs):
            inputs = list(inputs)
            return pristine([inputs[0], inputs[-1]] if len(inputs) > 2 else inputs, **kwargs)
        return multiply
    _replace(K, "multiply", make)


@mutant("numerics", ALL, "layers.subtract hands Subtract its inputs in reverse order: inputs[1] - inputs[0]",
        items=("layers.subtract",))
def subtract_function_reversed(K, v):
    def make(pristine):
        def subtract(inputs, **kwargs):
            return pristine(list(inputs)[::-1], **kwargs)
        return subtract
    _replace(K, "subtract", make)


@mutant("numerics", ALL, "layers.dot hands Dot a pair of axes in reverse order (axes=[1, 2] contracts axis 2 of "
        "the first input with axis 1 of the second)", items=("layers.dot",))
def dot_function_axes_pair_reversed(K, v):
    def make(pristine):
        def dot(inputs, *args, **kwargs):
            if args:
                args = (list(args[0])[::-1] if isinstance(args[0], (list, tuple)) else args[0],) + args[1:]
            elif isinstance(kwargs.get("axes"), (list, tuple)):
                kwargs["axes"] = list(kwargs["axes"])[::-1]
            return pristine(inputs, *args, **kwargs)
        return dot
    _replace(K, "dot", make)


@mutant("numerics", ALL, "layers.dot does not pass its axes on to Dot: it always contracts the last axis of "
        "both inputs (axes=-1)", items=("layers.dot",))
def dot_function_ignores_axes(K, v):
    def make(pristine):
        def dot(inputs, *args, **kwargs):
            kwargs.pop("axes", None)
            return pristine(inputs, -1, *args[1:], **kwargs)
        return dot
    _replace(K, "dot", make)
