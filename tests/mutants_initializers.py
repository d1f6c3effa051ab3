"""Mutants of the deterministic initializers (registered through mutants.mutant): caught by
``test_weight_object[initializers.X]`` (conformance/test_weight_objects.py), which builds the item's spec
example in the implementation and in the reference and compares the arrays each returns for a drawn shape
(the shape first, then the values)."""
from __future__ import annotations

import numpy as np

from mutants import ALL, mutant


@mutant("numerics", ALL, "initializers.Ones fills zeros (the body of Zeros copied under the new name)",
        items=("initializers.Ones",))
def ones_initializer_fills_zeros(K, v):
    Base = K.get("initializers.Ones")

    class Ones(Base):
        def _draw(self, shape, rng):
            return np.zeros(shape)
    K.set("initializers.Ones", Ones)


@mutant("numerics", ALL, "initializers.Zeros returns a scalar 0 (left to broadcasting) instead of an array of "
        "the requested shape", items=("initializers.Zeros",))
def zeros_initializer_returns_scalar(K, v):
    Base = K.get("initializers.Zeros")

    class Zeros(Base):
        def _draw(self, shape, rng):
            return np.zeros(())
    K.set("initializers.Zeros", Zeros)
