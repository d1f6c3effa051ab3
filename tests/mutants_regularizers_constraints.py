"""Mutants of the regularizers and constraints (registered through mutants.mutant): drawn as Dense's
kernel_regularizer / kernel_constraint (spec/layers/core.yaml domains), caught by its numerics checks."""
from __future__ import annotations

import inspect

import numpy as np

from mutants import ALL, KERAS2, mutant

from keras_conformance.reference.autodiff import as_tensor, ops


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


# -- the regularizer and constraint items on their own (test_weight_object: each spec example on a drawn
# weight array, against the reference's penalty / projection)
@mutant("numerics", ALL, "regularizers.L1L2 adds its l2 term only when l1 is 0 (an if / elif): with both "
        "factors set the penalty is l1 * sum(|w|) alone", items=("regularizers.L1L2",))
def l1l2_elif_drops_l2(K, v):
    Base = K.get("regularizers.L1L2")

    class L1L2(Base):
        def __call__(self, x):
            x = as_tensor(x)
            if self.l1:
                return ops.sum(ops.abs(x)) * np.asarray(self.l1, dtype=x.dtype)
            elif self.l2:
                return ops.sum(ops.square(x)) * np.asarray(self.l2, dtype=x.dtype)
            return super().__call__(x)
    K.set("regularizers.L1L2", L1L2)


@mutant("numerics", KERAS2, "regularizers.l1(l) builds L1L2(l2=l): the squared (L2) penalty instead of "
        "l * sum(|w|)", items=("regularizers.l1",))
def l1_function_builds_l2(K, v):
    L1L2, original = K.get("regularizers.L1L2"), K.get("regularizers.l1")

    def l1(l=0.01):  # noqa: E741 - the Keras 2 name
        return L1L2(l2=l)
    l1.__signature__ = inspect.signature(original)
    K.set("regularizers.l1", l1)


@mutant("numerics", KERAS2, "regularizers.l2 takes half the penalty (tf.nn.l2_loss's 0.5 * l * sum(w ** 2)) "
        "instead of l * sum(w ** 2)", items=("regularizers.l2",))
def l2_function_half_penalty(K, v):
    Base, original = K.get("regularizers.L1L2"), K.get("regularizers.l2")

    class Halved(Base):
        def __call__(self, x):
            return super().__call__(x) * 0.5

    def l2(l=0.01):  # noqa: E741 - the Keras 2 name
        return Halved(l2=l)
    l2.__signature__ = inspect.signature(original)
    K.set("regularizers.l2", l2)


@mutant("numerics", KERAS2, "regularizers.l1_l2 passes only l1 on: L1L2(l1=l1), the l2 term lost",
        items=("regularizers.l1_l2",))
def l1_l2_function_drops_l2(K, v):
    L1L2, original = K.get("regularizers.L1L2"), K.get("regularizers.l1_l2")

    def l1_l2(l1=0.01, l2=0.01):
        return L1L2(l1=l1)
    l1_l2.__signature__ = inspect.signature(original)
    K.set("regularizers.l1_l2", l1_l2)


@mutant("numerics", ("3",), "regularizers.L1 takes the mean of |w| instead of its sum: l1 * mean(|w|)",
        items=("regularizers.L1",))
def keras3_l1_mean_not_sum(K, v):
    Base = K.get("regularizers.L1")

    class L1(Base):
        def __call__(self, x):
            return super().__call__(x) / float(max(1, int(np.prod(np.shape(getattr(x, "data", x))))))
    K.set("regularizers.L1", L1)


@mutant("numerics", ("3",), "regularizers.L2 penalises the norm, not its square: l2 * sqrt(sum(w ** 2)) "
        "instead of l2 * sum(w ** 2)", items=("regularizers.L2",))
def keras3_l2_norm_not_squared(K, v):
    Base = K.get("regularizers.L2")

    class L2(Base):
        def __call__(self, x):
            x = as_tensor(x)
            return ops.sqrt(ops.sum(ops.square(x))) * np.asarray(self.l2, dtype=x.dtype)
    K.set("regularizers.L2", L2)


def _weight(w) -> np.ndarray:
    """The weight a constraint is given, as a float array (a Tensor / Variable's ``.data``)."""
    w = np.asarray(getattr(w, "data", w))
    return w if np.issubdtype(w.dtype, np.floating) else w.astype("float32")


def _norms(w, axis):
    """L2 norms of the weight vectors along ``axis`` (an int or a tuple of ints), kept broadcastable."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


@mutant("numerics", ALL, "constraints.MinMaxNorm ignores min_value (MaxNorm's clip to [0, max_value]): "
        "weight vectors with a norm under min_value are not scaled up", items=("constraints.MinMaxNorm",))
def min_max_norm_ignores_min_value(K, v):
    Base = K.get("constraints.MinMaxNorm")

    class MinMaxNorm(Base):
        def __call__(self, w):
            w = _weight(w)
            norms = _norms(w, self.axis)
            desired = self.rate * np.clip(norms, 0.0, self.max_value) + (1 - self.rate) * norms
            return (w * (desired / (1e-7 + norms))).astype(w.dtype, copy=False)
    K.set("constraints.MinMaxNorm", MinMaxNorm)


@mutant("numerics", ALL, "constraints.NonNeg takes abs(w): negative weights are flipped positive instead of "
        "set to zero", items=("constraints.NonNeg",))
def non_neg_takes_abs(K, v):
    Base = K.get("constraints.NonNeg")

    class NonNeg(Base):
        def __call__(self, w):
            return np.abs(_weight(w))
    K.set("constraints.NonNeg", NonNeg)


@mutant("numerics", ALL, "constraints.UnitNorm divides by the squared norm (sum(w ** 2), the sqrt forgotten) "
        "instead of the L2 norm", items=("constraints.UnitNorm",))
def unit_norm_without_sqrt(K, v):
    Base = K.get("constraints.UnitNorm")

    class UnitNorm(Base):
        def __call__(self, w):
            w = _weight(w)
            return (w / (1e-7 + _norms(w, self.axis) ** 2)).astype(w.dtype, copy=False)
    K.set("constraints.UnitNorm", UnitNorm)
