"""Mutants of the optimizers (registered through mutants.mutant).

Each replaces one optimizer class of the namespace copy by a subclass that breaks one documented update rule
(spec/optimizers.yaml); the documented signature and get_config stay as they are, so only the numbers tell.
"""
from __future__ import annotations

import numpy as np

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401


@mutant("numerics", ALL, "optimizers.Adam swaps beta_1 and beta_2: m decays at 0.999 and v at 0.9, and the "
        "bias corrections use the swapped betas", items=("optimizers.Adam",))
def adam_betas_swapped(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def _update(self, g, p, slots, lr, t):
            # swapped for the update only, so get_config still reports the documented values
            self.beta_1, self.beta_2 = self.beta_2, self.beta_1
            try:
                return super()._update(g, p, slots, lr, t)
            finally:
                self.beta_1, self.beta_2 = self.beta_2, self.beta_1
    K.set("optimizers.Adam", Adam)


@mutant("numerics", ALL, "optimizers.Adam corrects only the first moment: lr_t = lr / (1 - beta_1^t), "
        "documented lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)", items=("optimizers.Adam",))
def adam_first_moment_correction_only(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def _update(self, g, p, slots, lr, t):
            return super()._update(g, p, slots, lr / np.sqrt(1.0 - self.beta_2 ** t), t)
    K.set("optimizers.Adam", Adam)


@mutant("numerics", KERAS2, "optimizers.RMSprop (2.x) puts epsilon inside the square root: "
        "p - lr * g / sqrt(a + epsilon), documented p - lr * g / (sqrt(a) + epsilon)",
        items=("optimizers.RMSprop",))
def rmsprop_2x_epsilon_inside_sqrt(K, v):
    Base = K.get("optimizers.RMSprop")

    class RMSprop(Base):
        def _update(self, g, p, slots, lr, t):
            a = slots["accumulator"]
            a.assign(self.rho * a.data + (1.0 - self.rho) * np.square(g))
            return p - lr * g / np.sqrt(a.data + self.epsilon)
    K.set("optimizers.RMSprop", RMSprop)


@mutant("numerics", ("3",), "optimizers.RMSprop (3) puts epsilon outside the square root: "
        "p - lr * g / (sqrt(v) + epsilon), documented p - lr * g / sqrt(v + epsilon)",
        items=("optimizers.RMSprop",))
def rmsprop_3_epsilon_outside_sqrt(K, v):
    Base = K.get("optimizers.RMSprop")

    class RMSprop(Base):
        def _update(self, g, p, slots, lr, t):
            if self.momentum > 0 or self.centered:
                return super()._update(g, p, slots, lr, t)
            velocity = slots["velocity"]
            velocity.assign(self.rho * velocity.data + (1.0 - self.rho) * np.square(g))
            return p - lr * g / (np.sqrt(velocity.data) + self.epsilon)
    K.set("optimizers.RMSprop", RMSprop)


@mutant("numerics", ("3",), "optimizers.Adagrad (3) starts its accumulators at 0 (the 2.x rule), documented "
        "initial_accumulator_value (0.1)", items=("optimizers.Adagrad",))
def adagrad_3_accumulator_starts_at_zero(K, v):
    Base = K.get("optimizers.Adagrad")

    class Adagrad(Base):
        def _slot_initial(self, kind):
            return 0.0
    K.set("optimizers.Adagrad", Adagrad)


@mutant("numerics", ALL, "optimizers.Adagrad replaces its accumulator by the last squared gradient (a = g^2) "
        "instead of adding it (a += g^2), so the step no longer shrinks as gradients accumulate",
        items=("optimizers.Adagrad",))
def adagrad_accumulator_not_summed(K, v):
    Base = K.get("optimizers.Adagrad")

    class Adagrad(Base):
        def _update(self, g, p, slots, lr, t):
            a = slots["accumulator"]
            a.assign(np.zeros_like(a.data))
            return super()._update(g, p, slots, lr, t)
    K.set("optimizers.Adagrad", Adagrad)


@mutant("numerics", ALL, "optimizers.Adadelta updates its delta accumulator before the step and uses the new "
        "one: u = g * sqrt(d_new + epsilon) / sqrt(a + epsilon), documented the old d",
        items=("optimizers.Adadelta",))
def adadelta_uses_new_delta_accumulator(K, v):
    Base = K.get("optimizers.Adadelta")

    class Adadelta(Base):
        def _update(self, g, p, slots, lr, t):
            a = slots.get("accumulated_grad", slots.get("accumulator"))
            d = slots.get("accumulated_delta_var", slots.get("delta_accumulator"))
            a.assign(self.rho * a.data + (1.0 - self.rho) * np.square(g))
            first = g * np.sqrt(d.data + self.epsilon) / np.sqrt(a.data + self.epsilon)
            d.assign(self.rho * d.data + (1.0 - self.rho) * np.square(first))
            update = g * np.sqrt(d.data + self.epsilon) / np.sqrt(a.data + self.epsilon)
            return p - lr * update
    K.set("optimizers.Adadelta", Adadelta)


@mutant("numerics", ALL, "optimizers.Adadelta ignores the learning rate: p - u (Zeiler's original rule), "
        "documented p - lr * u", items=("optimizers.Adadelta",))
def adadelta_ignores_learning_rate(K, v):
    Base = K.get("optimizers.Adadelta")

    class Adadelta(Base):
        def _update(self, g, p, slots, lr, t):
            return super()._update(g, p, slots, 1.0, t)
    K.set("optimizers.Adadelta", Adadelta)


@mutant("numerics", ALL, "optimizers.Adamax drops its bias correction: p - lr * m / (u + epsilon), documented "
        "p - lr / (1 - beta_1^t) * m / (u + epsilon)", items=("optimizers.Adamax",))
def adamax_without_bias_correction(K, v):
    Base = K.get("optimizers.Adamax")

    class Adamax(Base):
        def _update(self, g, p, slots, lr, t):
            return super()._update(g, p, slots, lr * (1.0 - self.beta_1 ** t), t)
    K.set("optimizers.Adamax", Adamax)


@mutant("numerics", KERAS2, "optimizers.Nadam (2.x) ignores schedule_decay in its momentum schedule: "
        "mu_t = beta_1 * (1 - 0.5 * 0.96^t) (the keras 3 rule), documented 0.96^(t * schedule_decay)",
        items=("optimizers.Nadam",))
def nadam_2x_schedule_without_schedule_decay(K, v):
    Base = K.get("optimizers.Nadam")

    class Nadam(Base):
        def _mu(self, t):
            return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)
    K.set("optimizers.Nadam", Nadam)


@mutant("numerics", ("3",), "optimizers.Nadam (3) decays its momentum schedule by 2.x's schedule_decay: "
        "mu_t = beta_1 * (1 - 0.5 * 0.96^(0.004 t)), documented 0.96^t", items=("optimizers.Nadam",))
def nadam_3_schedule_with_schedule_decay(K, v):
    Base = K.get("optimizers.Nadam")

    class Nadam(Base):
        def _mu(self, t):
            return self.beta_1 * (1.0 - 0.5 * 0.96 ** (t * 0.004))
    K.set("optimizers.Nadam", Nadam)


@mutant("numerics", ALL, "optimizers.SGD flips the sign of the momentum term: v = -momentum * v - lr * g, "
        "documented momentum * v - lr * g", items=("optimizers.SGD",))
def sgd_momentum_sign_flipped(K, v):
    Base = K.get("optimizers.SGD")

    class SGD(Base):
        def _update(self, g, p, slots, lr, t):
            self.momentum = -self.momentum
            try:
                return super()._update(g, p, slots, lr, t)
            finally:
                self.momentum = -self.momentum
    K.set("optimizers.SGD", SGD)


@mutant("numerics", KERAS2, "optimizers.SGD (2.x) ignores decay: every step uses lr, documented "
        "lr / (1 + decay * iterations)", items=("optimizers.SGD",))
def sgd_2x_decay_ignored(K, v):
    Base = K.get("optimizers.SGD")

    class SGD(Base):
        def _current_lr(self):
            return float(np.float32(self.learning_rate))
    K.set("optimizers.SGD", SGD)


@mutant("numerics", KERAS2, "optimizers.SGD (2.x) scales each gradient by its own norm under clipnorm (the keras 3 "
        "rule), documented every gradient by clipnorm / n for the global norm n of all of them",
        items=("optimizers.SGD", "optimizers.Adam"))
def sgd_2x_clipnorm_per_variable(K, v):
    for name in ("SGD", "Adam"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _clip(self, grads):
                if self.clipnorm:
                    grads = [self._clip_by_norm(g, self.clipnorm) for g in grads]
                if self.clipvalue:
                    grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
                return grads
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", KERAS2, "optimizers.RMSprop (2.x) ignores clipvalue, documented each gradient clipped "
        "elementwise to [-clipvalue, clipvalue]", items=("optimizers.RMSprop",))
def rmsprop_2x_clipvalue_ignored(K, v):
    Base = K.get("optimizers.RMSprop")

    class RMSprop(Base):
        def _clip(self, grads):
            keep, self.clipvalue = self.clipvalue, None
            try:
                return super()._clip(grads)
            finally:
                self.clipvalue = keep
    K.set("optimizers.RMSprop", RMSprop)


@mutant("numerics", ("2.3",), "optimizers.Adam (2.3) ignores the epsilon given through **kwargs and uses "
        "K.epsilon() = 1e-7, documented epsilon popped from **kwargs", items=("optimizers.Adam",))
def adam_23_kwargs_epsilon_ignored(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def __init__(self, *args, **kwargs):
            kwargs.pop("epsilon", None)
            super().__init__(*args, **kwargs)
    K.set("optimizers.Adam", Adam)


@mutant("numerics", ("3",), "optimizers.Adam (3) applies the decay it is given (2.x's lr / (1 + decay * "
        "iterations)); keras 3 documents decay as accepted and ignored", items=("optimizers.Adam",))
def adam_3_applies_decay(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def __init__(self, *args, decay=None, **kwargs):
            super().__init__(*args, **kwargs)
            if decay is not None:
                self.decay = self._variable_value(float(decay))
    K.set("optimizers.Adam", Adam)


# -- keras 3 base-optimizer arguments (keras 3.15 BaseOptimizer; spec/optimizers.yaml) ----------------------
@mutant("numerics", ("3",), "optimizers.SGD (3) never applies weight_decay, documented p = p - p * weight_decay "
        "* lr before the update", items=("optimizers.SGD", "optimizers.RMSprop"))
def opt3_weight_decay_not_applied(K, v):
    for name in ("SGD", "RMSprop"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _apply_weight_decay(self, variables, lr):
                return None
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", ("3",), "optimizers.Adam (3) couples weight_decay into the gradient (L2: g + weight_decay * p "
        "through the moments), documented decoupled p = p - p * weight_decay * lr before the update",
        items=("optimizers.Adam",))
def opt3_weight_decay_coupled(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def _apply_weight_decay(self, variables, lr):
            return None

        def _update(self, g, p, slots, lr, t):
            if self.weight_decay is not None:
                g = g + np.asarray(self.weight_decay, g.dtype) * p
            return super()._update(g, p, slots, lr, t)
    K.set("optimizers.Adam", Adam)


@mutant("numerics", ("3",), "optimizers.SGD (3) ignores clipnorm, documented each gradient scaled to norm at "
        "most clipnorm", items=("optimizers.SGD", "optimizers.Adagrad"))
def opt3_clipnorm_ignored(K, v):
    for name in ("SGD", "Adagrad"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            @staticmethod
            def _clip_by_norm(g, clipnorm):
                return g
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", ("3",), "optimizers.SGD (3) applies global_clipnorm per variable (each gradient by its own "
        "norm), documented every gradient by the global norm of all of them",
        items=("optimizers.SGD", "optimizers.Adamax"))
def opt3_global_clipnorm_per_variable(K, v):
    for name in ("SGD", "Adamax"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _clip_by_global_norm(self, grads, clipnorm):
                return [self._clip_by_norm(g, clipnorm) for g in grads]
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", ("3",), "optimizers.SGD (3) with gradient_accumulation_steps steps on every apply, documented "
        "a step every n-th apply with the mean of the n gradients", items=("optimizers.SGD", "optimizers.Adam"))
def opt3_gradient_accumulation_every_step(K, v):
    for name in ("SGD", "Adam"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _accumulate_or_step(self, grads, variables, index, lr):
                self._step(grads, variables, index, lr)
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", ("3",), "optimizers.SGD (3) with use_ema never writes the averages into the variables at "
        "ema_overwrite_frequency, documented every ema_overwrite_frequency steps",
        items=("optimizers.SGD", "optimizers.Adam", "optimizers.RMSprop"))
def opt3_ema_not_applied_at_overwrite(K, v):
    for name in ("SGD", "Adam", "RMSprop"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _overwrite_with_moving_average(self, var_list):
                return None
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)


@mutant("numerics", ("3",), "optimizers.SGD (3) does not divide the gradients by loss_scale_factor, documented "
        "the gradients of the scaled loss times 1 / loss_scale_factor", items=("optimizers.SGD", "optimizers.Adagrad"))
def opt3_loss_scale_not_unscaled(K, v):
    for name in ("SGD", "Adagrad"):
        Base = K.get(f"optimizers.{name}")

        class Mutant(Base):
            def _unscale(self, grads):
                return grads
        Mutant.__name__ = Mutant.__qualname__ = name
        K.set(f"optimizers.{name}", Mutant)
