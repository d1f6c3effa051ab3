"""Mutants of the regularizers and constraints (registered through mutants.mutant): drawn as Dense's
kernel_regularizer / kernel_constraint (spec/layers/core.yaml domains), caught by its numerics checks."""
from __future__ import annotations

import inspect

from mutants import ALL, KERAS2, mutant


@mutant("numerics", KERAS2, "regularizers.l2 adds twice its penalty to the loss (2 * l * sum(w ** 2))",
        items=("layers.Dense",))
def l2_penalty_doubled(K, v):
    Base = K.get("regularizers.L1L2")
    original = K.get("regularizers.l2")

    class Doubled(Base):
        def __call__(self, x):
            return super().__call__(x) * 2.0

    def l2(l=0.01):  # noqa: E741 - the Keras 2 name
        return Doubled(l2=l)
    l2.__signature__ = inspect.signature(original)
    K.set("regularizers.l2", l2)


@mutant("numerics", ("3",), "regularizers.L2 adds twice its penalty to the loss (2 * l2 * sum(w ** 2))",
        items=("layers.Dense",))
def keras3_l2_penalty_doubled(K, v):
    Base = K.get("regularizers.L2")

    class L2(Base):
        def __call__(self, x):
            return super().__call__(x) * 2.0
    K.set("regularizers.L2", L2)


@mutant("numerics", ALL, "constraints.NonNeg is not applied: negative kernel entries survive the update",
        items=("layers.Dense",))
def non_neg_not_applied(K, v):
    Base = K.get("constraints.NonNeg")

    class NonNeg(Base):
        def __call__(self, w):
            return w
    K.set("constraints.NonNeg", NonNeg)
