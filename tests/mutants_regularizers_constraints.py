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


# -- the weight arguments of every layer (spec domains `objects: regularizers / constraints / initializers`)
def _override_init(Base, change):
    """A subclass of layer class ``Base`` whose constructor passes its arguments through ``change(kwargs)``
    (documented signature kept)."""
    class Mutated(Base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **change(dict(kwargs)))
    Mutated.__init__.__signature__ = inspect.signature(Base.__init__)
    Mutated.__name__ = Mutated.__qualname__ = Base.__name__
    return Mutated


@mutant("numerics", ALL, "a layer's activity_regularizer is accepted but its penalty never reaches the loss",
        items=("layers.Conv1D",))
def activity_regularizer_ignored(K, v):
    Base = K.get("layers.Conv1D")

    class Conv1D(Base):
        def _activity_penalties(self, outputs):
            return []
    K.set("layers.Conv1D", Conv1D)


@mutant("numerics", ("3",), "keras 3's activity penalty is not divided by the batch size (2.x's sum)",
        items=("layers.Conv2D",))
def keras3_activity_penalty_not_divided(K, v):
    Base = K.get("layers.Conv2D")

    class Conv2D(Base):
        def _activity_penalties(self, outputs):
            return [p * outputs.shape[0] for p in super()._activity_penalties(outputs)]
    K.set("layers.Conv2D", Conv2D)


@mutant("numerics", ALL, "LSTM drops its recurrent_regularizer: the recurrent kernel's penalty is missing",
        items=("layers.LSTM",))
def lstm_recurrent_regularizer_ignored(K, v):
    def change(kwargs):
        kwargs.pop("recurrent_regularizer", None)
        return kwargs
    K.set("layers.LSTM", _override_init(K.get("layers.LSTM"), change))


@mutant("numerics", ALL, "Conv2D drops its bias_constraint: the bias is not projected after the update",
        items=("layers.Conv2D",))
def conv2d_bias_constraint_ignored(K, v):
    def change(kwargs):
        kwargs.pop("bias_constraint", None)
        return kwargs
    K.set("layers.Conv2D", _override_init(K.get("layers.Conv2D"), change))


@mutant("numerics", ALL, "Dense ignores its bias_initializer: the bias is built with zeros",
        items=("layers.Dense",))
def dense_bias_initializer_ignored(K, v):
    def change(kwargs):
        kwargs.pop("bias_initializer", None)
        return kwargs
    K.set("layers.Dense", _override_init(K.get("layers.Dense"), change))


@mutant("numerics", ALL, "initializers.Constant fills value + 0.25", items=("initializers.Constant",))
def constant_initializer_shifted(K, v):
    Base = K.get("initializers.Constant")

    class Constant(Base):
        def _draw(self, shape, rng):
            return super()._draw(shape, rng) + 0.25
    K.set("initializers.Constant", Constant)


@mutant("numerics", ALL, "constraints.MaxNorm takes the norms over the last axis instead of the documented axis 0",
        items=("constraints.MaxNorm",))
def max_norm_last_axis(K, v):
    Base = K.get("constraints.MaxNorm")

    class MaxNorm(Base):
        def __init__(self, max_value=2, axis=0):
            super().__init__(max_value=max_value, axis=-1 if axis == 0 else axis)
    K.set("constraints.MaxNorm", MaxNorm)
