"""Optimizers: the update rules, their state (``weights``) and their configs, per API version.

One class per Keras optimizer.  Each accepts the union of the keyword arguments of every version
(``lr`` and ``learning_rate``, ``decay``, ``clipnorm``/``clipvalue``/``global_clipnorm``,
``weight_decay``, ``name``, ...), all with defaults; ``None`` means "this version's default", and
``api_version=`` selects the semantics where versions differ.  The per-version surface
(``reference.keras(version)``) exposes exactly the documented signature on top.

Common behaviour:
- ``apply_gradients([(grad_ndarray, Variable), ...])`` updates the variables in place and
  increments ``iterations`` (the number of steps taken so far).
- Gradient clipping.  2.x (``Optimizer.get_gradients``): ``clipnorm`` scales *every* gradient by
  ``clipnorm / n`` when the global norm ``n`` of all gradients is ``>= clipnorm``; then
  ``clipvalue`` clips elementwise; both may be set.  3 (``BaseOptimizer._clip_gradients``): exactly
  one of ``clipnorm`` (each gradient by its own norm), ``global_clipnorm``, ``clipvalue``.
- 2.x learning-rate decay: ``lr_t = lr / (1 + decay * iterations)`` (iterations before the step).
- 3 (keras 3.15 ``BaseOptimizer.apply`` / ``_backend_apply_gradients``), per apply, in this order:
  the gradients divided by ``loss_scale_factor`` (the train step differentiated ``scale_loss(loss)``,
  the loss times the factor; ``train_on_batch`` reports the unscaled loss); with
  ``gradient_accumulation_steps`` = n, an apply that is not the n-th only adds its gradients to the
  accumulators, the n-th steps with their mean ``(g + acc) / n`` and zeroes them (``iterations`` then
  counts steps, ``applies // n``; the ``iteration`` weight counts applies); a step clips, applies
  ``weight_decay`` (decoupled: ``p -= p * weight_decay * lr`` before the update rule) and updates;
  then with ``use_ema`` every apply moves ``average = m * average + (1 - m) * p`` (m =
  ``ema_momentum``, 0 while ``iterations`` is 0) and, when ``(iterations + 1) %
  ema_overwrite_frequency == 0``, the variables take the averages (``finalize_variable_values``
  does that at the end of ``fit``); then the variables' constraints.
- ``weights`` in Keras order.  2.x: ``[iterations]`` then each slot kind for all variables in turn
  (Adam: ``[iterations, m_1..m_n, v_1..v_n, vhat_1..vhat_n]``, ``vhat`` of shape ``(1,)`` without
  amsgrad); 2.2.4's RMSprop/Adagrad/Adadelta have no ``iterations`` in ``weights``.  3:
  ``[iteration, learning_rate]``, then ``average`` per variable (use_ema), ``gradient_accumulator``
  per variable (gradient_accumulation_steps), then the slots interleaved per variable as ``build``
  creates them.
- ``set_weights`` before the first step stores the values and applies them when the slots are
  created (``build`` or the first ``apply_gradients``), as loading a saved model does.
"""
from __future__ import annotations

import re
import warnings

import numpy as np

from . import backend
from .autodiff import Variable

_VERSIONS = ("2.2.4", "2.3", "3")


def _f32(x) -> float:
    """The value as Keras reports a hyper-parameter kept in a float32 variable."""
    return float(np.float32(x))


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _check_number(name, value, low=0.0, high=None, allow_none=False, high_open=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"`{name}` must be a number, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"`{name}` must be >= {low}, got {value!r}.")
    if high is not None and (value >= high if high_open else value > high):
        bound = f"< {high}" if high_open else f"<= {high}"
        raise ValueError(f"`{name}` must be {bound}, got {value!r}.")
    return value


class Optimizer:
    """Base class.  Subclasses define ``_defaults`` (per version), ``_slots(version)``,
    ``_update(...)`` and ``_hyper_config(version)``."""

    _defaults: dict = {}
    _no_iterations_in_weights_224 = False  # RMSprop, Adagrad, Adadelta in 2.2.4

    def __init__(self, learning_rate=None, lr=None, decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, weight_decay=None, name=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, api_version=backend.DEFAULT_API_VERSION):
        self.api_version = backend.normalize_version(api_version)
        defaults = self._defaults[self.api_version]
        self.keras3 = self.api_version == "3"

        if lr is not None and learning_rate is not None and lr != learning_rate:
            raise ValueError(f"Both `lr` ({lr!r}) and `learning_rate` ({learning_rate!r}) were given; "
                             "`lr` is the 2.x name of `learning_rate`: give one.")
        rate = lr if lr is not None else learning_rate
        rate = defaults["learning_rate"] if rate is None else rate
        if not (self.keras3 and callable(rate)):
            _check_number("learning_rate", rate)
        self.learning_rate = rate
        if self.keras3 and decay is not None:
            # keras 3.15 BaseOptimizer.__init__ pops `decay` from **kwargs, warns and ignores it
            warnings.warn("Argument `decay` is no longer supported and will be ignored.", stacklevel=2)
            decay = None
        self.decay = self._variable_value(_check_number("decay", 0.0 if decay is None else decay))
        self.clipnorm = _check_number("clipnorm", clipnorm, allow_none=True)
        self.clipvalue = _check_number("clipvalue", clipvalue, allow_none=True)
        self.global_clipnorm = _check_number("global_clipnorm", global_clipnorm, allow_none=True)
        if self.keras3:
            given = [k for k in ("clipnorm", "clipvalue", "global_clipnorm")
                     if getattr(self, k) is not None]
            if len(given) > 1:
                raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                                 f"set; got {', '.join(given)}.")
        elif global_clipnorm is not None:
            raise ValueError("`global_clipnorm` is a Keras 3 argument; 2.x has `clipnorm`.")
        self.weight_decay = _check_number("weight_decay", weight_decay, allow_none=True)
        if self.weight_decay is not None and not self.keras3:
            raise ValueError("`weight_decay` is a Keras 3 optimizer argument.")
        if not self.keras3 and (use_ema or gradient_accumulation_steps is not None
                                or loss_scale_factor is not None):
            raise ValueError("`use_ema`, `gradient_accumulation_steps` and `loss_scale_factor` are "
                             "Keras 3 optimizer arguments.")
        # keras 3.15 BaseOptimizer.__init__: the accumulation steps are checked when given (truthy), the
        # EMA arguments only with use_ema
        if gradient_accumulation_steps and not gradient_accumulation_steps >= 2:
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                                 f"ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, (int, np.integer))
                                            or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                 f"ema_overwrite_frequency={ema_overwrite_frequency}")
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.name = name if name is not None else (
            _snake_case(type(self).__name__) if self.keras3 else type(self).__name__)

        self._iterations = Variable(np.zeros((), np.int64), name="iterations", trainable=False)
        self._lr_variable = Variable(np.asarray(0.0 if callable(rate) else rate, np.float32),
                                     name="learning_rate", trainable=False)
        self._slots: dict = {}           # kind -> [Variable per model variable]
        self._base_slots: dict = {}      # keras 3 "average" (use_ema), "gradient_accumulator"
        self._extra: dict = {}           # optimizer-wide state (m_schedule, u_product)
        self._variables: list | None = None
        self._pending_weights = None

    # ----- state ---------------------------------------------------------------------------
    @property
    def iterations(self) -> int:
        """The number of steps taken; Keras 3 with ``gradient_accumulation_steps`` counts the applied
        (accumulated) steps, ``applies // gradient_accumulation_steps`` (BaseOptimizer.iterations)."""
        applied = int(self._iterations.data)
        if self.keras3 and self.gradient_accumulation_steps:
            return applied // self.gradient_accumulation_steps
        return applied

    @property
    def lr(self):
        return self.learning_rate

    def _slot_groups(self):
        """Slot kinds in creation order: a list of groups; kinds in a group are interleaved per
        variable in Keras 3 and, in 2.x, every group has one kind."""
        raise NotImplementedError

    def _base_slot_groups(self):
        """The base optimizer's own per-variable state, created before the subclass's slots (keras 3.15
        BaseOptimizer.build, which every subclass's build calls first): the EMA ``average`` of each
        variable, then one ``gradient_accumulator`` per variable."""
        if not self.keras3:
            return []
        return ([["average"]] if self.use_ema else []) + \
            ([["gradient_accumulator"]] if self.gradient_accumulation_steps else [])

    def _slot_shape(self, kind, shape):
        return shape

    def _slot_initial(self, kind):
        return 0.0

    def _extra_state(self):
        """Optimizer-wide scalars: ``{name: initial value}``."""
        return {}

    def build(self, var_list):
        """Create the slots for ``var_list`` (Variables), then apply any pending ``set_weights``."""
        if self._variables is not None:
            if [id(v) for v in var_list] != [id(v) for v in self._variables]:
                raise ValueError("This optimizer was built for other variables; "
                                 "create a new optimizer for a new model.")
            return
        self._variables = list(var_list)
        for group in self._base_slot_groups():
            for kind in group:      # zeros, as add_optimizer_variables creates them
                self._base_slots[kind] = [
                    Variable(np.zeros(v.shape, dtype=v.dtype), name=f"{v.name}_{kind}", trainable=False)
                    for v in self._variables]
        for group in self._slot_groups():
            for kind in group:
                self._slots[kind] = [
                    Variable(np.full(self._slot_shape(kind, v.shape), self._slot_initial(kind),
                                     dtype=v.dtype), name=f"{v.name}_{kind}", trainable=False)
                    for v in self._variables]
        for key, value in self._extra_state().items():
            self._extra[key] = Variable(np.asarray(value, np.float32), name=key, trainable=False)
        if self._pending_weights is not None:
            pending, self._pending_weights = self._pending_weights, None
            self.set_weights(pending)

    @property
    def weights(self) -> list:
        """The optimizer's state Variables in Keras order (empty before the first step in 2.x,
        ``[iteration, learning_rate]`` in 3, then the EMA averages and the gradient accumulators, each
        per variable, then the slots)."""
        if self.keras3:
            out = [self._iterations, self._lr_variable]
            if self._variables is None:
                return out
            for slots, groups in ((self._base_slots, self._base_slot_groups()),
                                  (self._slots, self._slot_groups())):
                for group in groups:
                    for i in range(len(self._variables)):
                        out.extend(slots[kind][i] for kind in group)
            return out + list(self._extra.values())
        if self._variables is None:
            return []
        out = [] if (self.api_version == "2.2.4" and self._no_iterations_in_weights_224) \
            else [self._iterations]
        if self.api_version == "2.3":
            out.extend(self._extra.values())
        for group in self._slot_groups():
            for kind in group:
                out.extend(self._slots[kind])
        return out

    variables = weights

    def get_weights(self) -> list:
        return [np.array(w.data, copy=True) for w in self.weights]

    def _upgrade_weights(self, weights):
        """2.3 accepts the weight list of 2.2.4 (one entry shorter); see subclasses."""
        return weights

    def set_weights(self, weights):
        weights = [np.asarray(w) for w in weights]
        if self._variables is None and not (self.keras3 and len(weights) == 2):
            self._pending_weights = weights
            return
        params = self.weights
        if self.api_version == "2.3" and len(params) == len(weights) + 1:
            weights = self._upgrade_weights(weights)
        if len(params) != len(weights):
            raise ValueError(f"Length of the specified weight list ({len(weights)}) does not match "
                             f"the number of weights of the optimizer ({len(params)}).")
        for p, w in zip(params, weights):
            if p.shape != w.shape:
                raise ValueError(f"Optimizer weight shape {p.shape} not compatible with provided "
                                 f"weight shape {w.shape}.")
        for p, w in zip(params, weights):
            p.assign(w)
        if self.keras3:
            self.learning_rate = float(self._lr_variable.data) if not callable(
                self.learning_rate) else self.learning_rate

    # ----- the step ------------------------------------------------------------------------
    def _current_lr(self) -> float:
        # a schedule sees every apply, accumulated or not (keras 3.15: `self._iterations`)
        step = int(self._iterations.data)
        if callable(self.learning_rate):
            return float(self.learning_rate(step))
        lr = float(np.float32(self.learning_rate))
        if self.decay > 0:
            lr = lr * (1.0 / (1.0 + self.decay * step))
        return lr

    def _clip(self, grads):
        if self.keras3:
            if self.clipnorm:
                return [self._clip_by_norm(g, self.clipnorm) for g in grads]
            if self.global_clipnorm:
                return self._clip_by_global_norm(grads, self.global_clipnorm)
            if self.clipvalue:
                return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
            return grads
        if self.clipnorm is not None and self.clipnorm > 0:
            norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
            if norm >= self.clipnorm:
                grads = [g * (self.clipnorm / norm) for g in grads]
        if self.clipvalue is not None and self.clipvalue > 0:
            grads = [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    @staticmethod
    def _clip_by_norm(g, clipnorm):
        """Keras 3 ``clipnorm``: each gradient by its own L2 norm, ``g * c / max(||g||, c)``."""
        norm = np.sqrt(np.sum(np.square(g)))
        return g * clipnorm / max(norm, clipnorm)

    @staticmethod
    def _clip_by_global_norm(grads, clipnorm):
        """Keras 3 ``global_clipnorm``: every gradient by the one norm of all of them together."""
        norm = np.sqrt(sum(np.sum(np.square(g)) for g in grads))
        return [g * (clipnorm / max(norm, clipnorm)) for g in grads]

    def scale_loss(self, loss):
        """Keras 3: the loss times ``loss_scale_factor`` (the train step differentiates this; the
        gradients are divided by the factor again in ``apply_gradients``); else the loss itself."""
        if self.loss_scale_factor is not None:
            return loss * self.loss_scale_factor
        return loss

    def _unscale(self, grads):
        """Keras 3 ``apply``: the gradients of the scaled loss divided by ``loss_scale_factor``."""
        if self.loss_scale_factor is None:
            return grads
        return [g / np.asarray(self.loss_scale_factor, g.dtype) for g in grads]

    def _apply_weight_decay(self, variables, lr):
        """Keras 3: decoupled weight decay, ``p = p - p * weight_decay * lr``, on the variables before
        the update (so the update rule sees the decayed value)."""
        if self.weight_decay is None:
            return
        for v in variables:
            v.assign(v.data - v.data * np.asarray(self.weight_decay, v.dtype) * np.asarray(lr, v.dtype))

    def apply_gradients(self, grads_and_vars):
        """One step: ``grads_and_vars`` is a list of ``(ndarray gradient, Variable)``."""
        pairs = list(grads_and_vars)
        for g, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(f"apply_gradients expects (gradient, Variable) pairs; got {v!r}.")
            if g is None:
                raise ValueError(f"Variable {v.name!r} has no gradient (None).")
            if np.shape(g) != v.shape:
                raise ValueError(f"Gradient of shape {np.shape(g)} for variable {v.name!r} of shape "
                                 f"{v.shape}.")
        if self._variables is None:
            self.build([v for _, v in pairs])
        index = {id(v): i for i, v in enumerate(self._variables)}
        for _, v in pairs:
            if id(v) not in index:
                raise ValueError(f"Unknown variable {v.name!r}: the optimizer was built for "
                                 f"{[w.name for w in self._variables]}.")
        variables = [v for _, v in pairs]
        grads = [np.asarray(g, dtype=v.dtype) for g, v in pairs]
        lr = self._current_lr()
        if not self.keras3:
            self._step(grads, variables, index, lr)
        else:
            # keras 3.15 BaseOptimizer.apply / _backend_apply_gradients: unscale; accumulate or step
            # (clip, weight decay, update); EMA; then the variables' constraints; then count the apply
            self._lr_variable.assign(np.float32(lr))
            grads = self._unscale(grads)
            if self.gradient_accumulation_steps:
                self._accumulate_or_step(grads, variables, index, lr)
            else:
                self._step(grads, variables, index, lr)
            if self.use_ema:
                self._update_moving_average()
                if self.ema_overwrite_frequency and \
                        (self.iterations + 1) % self.ema_overwrite_frequency == 0:
                    self._overwrite_with_moving_average(self._variables)
        for v in variables:
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                v.assign(constraint(v.data))
        self._iterations.assign(self._iterations.data + 1)
        return int(self._iterations.data)

    def _step(self, grads, variables, index, lr):
        """The update proper: clip, (keras 3) weight decay, the optimizer-wide step, each variable."""
        grads = self._clip(grads)
        if self.keras3:
            self._apply_weight_decay(variables, lr)
        self._before_step(lr)
        t = self.iterations + 1
        for g, v in zip(grads, variables):
            slots = {kind: values[index[id(v)]] for kind, values in self._slots.items()}
            v.assign(self._update(g, v.data, slots, lr, t))

    def _accumulate_or_step(self, grads, variables, index, lr):
        """Keras 3 ``gradient_accumulation_steps`` = n: the applies that are not the n-th add their
        gradients to the accumulators and change nothing else; the n-th steps with the mean
        ``(g + accumulated) / n`` of the n gradients and zeroes the accumulators."""
        steps = self.gradient_accumulation_steps
        accumulators = [self._base_slots["gradient_accumulator"][index[id(v)]] for v in variables]
        if (int(self._iterations.data) + 1) % steps == 0:
            self._step([(g + a.data) / np.asarray(steps, g.dtype) for g, a in zip(grads, accumulators)],
                       variables, index, lr)
            for a in accumulators:
                a.assign(np.zeros_like(a.data))
        else:
            for g, a in zip(grads, accumulators):
                a.assign(a.data + g)

    def _update_moving_average(self):
        """Keras 3 ``use_ema``: after every apply, ``average = m * average + (1 - m) * variable`` over
        all the optimizer's variables, with m = ema_momentum, except m = 0 while ``iterations`` is 0
        (the average starts as the variable)."""
        momentum = np.float32(self.ema_momentum if self.iterations != 0 else 0.0)
        for v, average in zip(self._variables, self._base_slots["average"]):
            average.assign(momentum * average.data + (np.float32(1.0) - momentum) * v.data)

    def _overwrite_with_moving_average(self, var_list):
        averages = self._base_slots["average"]
        if len(var_list) != len(averages):
            raise ValueError(f"The length of model variables ({len(var_list)}) to override does not "
                             f"match the length of model variables stored in the optimizer "
                             f"({len(averages)}). Please check if the optimizer was called on your model.")
        for v, average in zip(var_list, averages):
            v.assign(np.array(average.data, copy=True))

    def finalize_variable_values(self, var_list):
        """Keras 3: with ``use_ema``, the variables take their moving averages (``fit`` does this after
        its last epoch; ``train_on_batch`` never does)."""
        if self.keras3 and self.use_ema and self._variables is not None:
            self._overwrite_with_moving_average(list(var_list))

    def _before_step(self, lr):
        """Optimizer-wide updates done once per step (Nadam's momentum schedule)."""

    def _update(self, g, p, slots, lr, t):
        """Return the new value of ``p`` and assign the slots; ``t`` is the 1-based step."""
        raise NotImplementedError

    def minimize(self, loss_fn, var_list):
        """``apply_gradients(zip(grad(scale_loss(loss_fn()), var_list), var_list))``."""
        from .autodiff import grad
        grads = grad(self.scale_loss(loss_fn()), var_list)   # apply_gradients unscales them
        return self.apply_gradients(zip(grads, var_list))

    def _variable_value(self, value):
        """2.x keeps hyper-parameters in float32 backend variables and computes with those; keeping
        the rounded value means an optimizer rebuilt from its config steps exactly as the original."""
        return value if self.keras3 else _f32(value)

    # ----- config --------------------------------------------------------------------------
    def _hyper_config(self) -> dict:
        raise NotImplementedError

    def get_config(self) -> dict:
        if self.keras3:
            lr = (self.learning_rate if callable(self.learning_rate)
                  else _f32(self.learning_rate))
            config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                      "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                      "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                      "ema_momentum": self.ema_momentum,
                      "ema_overwrite_frequency": self.ema_overwrite_frequency,
                      "loss_scale_factor": self.loss_scale_factor,
                      "gradient_accumulation_steps": self.gradient_accumulation_steps}
            config.update(self._hyper_config())
            return config
        config = {}
        if self.clipnorm is not None:
            config["clipnorm"] = self.clipnorm
        if self.clipvalue is not None:
            config["clipvalue"] = self.clipvalue
        key = "lr" if self.api_version == "2.2.4" else "learning_rate"
        config[key] = _f32(self.learning_rate)
        config.update(self._hyper_config())
        return config

    @classmethod
    def from_config(cls, config, *, api_version=None):
        """``cls(**config)``; the version is inferred from the keys when not given (``lr`` ->
        2.2.4, ``name`` -> 3, else 2.3)."""
        config = dict(config)
        if api_version is None:
            api_version = "2.2.4" if "lr" in config else ("3" if "name" in config else "2.3")
        return cls(**config, api_version=api_version)

    def __repr__(self):
        return f"<{type(self).__name__} api_version={self.api_version} lr={self.learning_rate}>"


class SGD(Optimizer):
    """``v = momentum * v - lr * g``; ``p += v`` (Nesterov: ``p += momentum * v - lr * g``)."""

    _defaults = {v: {"learning_rate": 0.01} for v in _VERSIONS}
    _no_iterations_in_weights_224 = False

    def __init__(self, learning_rate=None, momentum=0.0, nesterov=False, lr=None, decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, weight_decay=None,
                 name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        self.momentum = self._variable_value(
            _check_number("momentum", momentum, 0.0, 1.0 if self.keras3 else None))
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ValueError(f"`nesterov` must be a bool, got {nesterov!r}.")
        self.nesterov = bool(nesterov)

    def _slot_groups(self):
        if self.keras3:
            return [["momentum"]] if self.momentum != 0 else []
        return [["moment"]]

    def _update(self, g, p, slots, lr, t):
        m = slots.get("momentum", slots.get("moment"))
        if m is None:  # Keras 3 without momentum keeps no slot
            return p - lr * g
        velocity = self.momentum * m.data - lr * g
        m.assign(velocity)
        if self.nesterov:
            return p + self.momentum * velocity - lr * g
        return p + velocity

    def _hyper_config(self):
        if self.keras3:
            return {"momentum": self.momentum, "nesterov": self.nesterov}
        return {"momentum": _f32(self.momentum), "decay": _f32(self.decay),
                "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """2.x: ``a = rho a + (1 - rho) g^2``; ``p -= lr g / (sqrt(a) + eps)``.
    3: ``p -= lr g / sqrt(a + eps)`` (centered: ``a - mean_g^2``), optionally with momentum."""

    _defaults = {"2.2.4": {"learning_rate": 0.001}, "2.3": {"learning_rate": 0.001},
                 "3": {"learning_rate": 0.001}}
    _no_iterations_in_weights_224 = True

    def __init__(self, learning_rate=None, rho=0.9, momentum=0.0, epsilon=None, centered=False,
                 lr=None, decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        # 2.x RMSprop keeps rho in a float32 variable (Adadelta keeps it as given)
        self.rho = self._variable_value(_check_number("rho", rho, 0.0))
        self.momentum = _check_number("momentum", momentum, 0.0)
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)
        self.centered = bool(centered)
        if not self.keras3 and (self.momentum or self.centered):
            raise ValueError("`momentum` and `centered` are Keras 3 RMSprop arguments.")

    def _slot_groups(self):
        if not self.keras3:
            return [["accumulator"]]
        groups = [["velocity"]]
        if self.momentum > 0:
            groups.append(["momentum"])
        if self.centered:
            groups.append(["average_gradient"])
        return groups

    def _update(self, g, p, slots, lr, t):
        if not self.keras3:
            a = slots["accumulator"]
            a.assign(self.rho * a.data + (1.0 - self.rho) * np.square(g))
            return p - lr * g / (np.sqrt(a.data) + self.epsilon)
        v = slots["velocity"]
        v.assign(self.rho * v.data + (1.0 - self.rho) * np.square(g))
        if self.centered:
            avg = slots["average_gradient"]
            avg.assign(self.rho * avg.data + (1.0 - self.rho) * g)
            denominator = v.data - np.square(avg.data) + self.epsilon
        else:
            denominator = v.data + self.epsilon
        increment = lr * g / np.sqrt(denominator)
        if self.momentum > 0:
            mom = slots["momentum"]
            mom.assign(self.momentum * mom.data + increment)
            return p - mom.data
        return p - increment

    def _upgrade_weights(self, weights):
        return [np.asarray(0, np.int64)] + list(weights)

    def _hyper_config(self):
        if self.keras3:
            return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                    "centered": self.centered}
        return {"rho": _f32(self.rho), "decay": _f32(self.decay), "epsilon": self.epsilon}


class Adagrad(Optimizer):
    """2.x: ``a += g^2``; ``p -= lr g / (sqrt(a) + eps)``.
    3: ``a`` starts at ``initial_accumulator_value``; ``p -= lr g / sqrt(a + eps)``."""

    _defaults = {"2.2.4": {"learning_rate": 0.01}, "2.3": {"learning_rate": 0.01},
                 "3": {"learning_rate": 0.001}}
    _no_iterations_in_weights_224 = True

    def __init__(self, learning_rate=None, initial_accumulator_value=None, epsilon=None, lr=None,
                 decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        if initial_accumulator_value is not None and not self.keras3:
            raise ValueError("`initial_accumulator_value` is a Keras 3 Adagrad argument.")
        default_initial = 0.1 if self.keras3 else 0.0
        self.initial_accumulator_value = _check_number(
            "initial_accumulator_value",
            default_initial if initial_accumulator_value is None else initial_accumulator_value)
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)

    def _slot_groups(self):
        return [["accumulator"]]

    def _slot_initial(self, kind):
        return self.initial_accumulator_value

    def _update(self, g, p, slots, lr, t):
        a = slots["accumulator"]
        a.assign(a.data + np.square(g))
        if self.keras3:
            return p - lr * g / np.sqrt(a.data + self.epsilon)
        return p - lr * g / (np.sqrt(a.data) + self.epsilon)

    def _upgrade_weights(self, weights):
        return [np.asarray(0, np.int64)] + list(weights)

    def _hyper_config(self):
        if self.keras3:
            return {"initial_accumulator_value": self.initial_accumulator_value,
                    "epsilon": self.epsilon}
        return {"decay": _f32(self.decay), "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """``a = rho a + (1 - rho) g^2``; ``u = g sqrt(d + eps) / sqrt(a + eps)``; ``p -= lr u``;
    ``d = rho d + (1 - rho) u^2``."""

    _defaults = {"2.2.4": {"learning_rate": 1.0}, "2.3": {"learning_rate": 1.0},
                 "3": {"learning_rate": 0.001}}
    _no_iterations_in_weights_224 = True

    def __init__(self, learning_rate=None, rho=0.95, epsilon=None, lr=None, decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, weight_decay=None,
                 name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        self.rho = _check_number("rho", rho, 0.0)
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)

    def _slot_groups(self):
        if self.keras3:
            return [["accumulated_grad", "accumulated_delta_var"]]
        return [["accumulator"], ["delta_accumulator"]]

    def _update(self, g, p, slots, lr, t):
        a = slots.get("accumulated_grad", slots.get("accumulator"))
        d = slots.get("accumulated_delta_var", slots.get("delta_accumulator"))
        a.assign(self.rho * a.data + (1.0 - self.rho) * np.square(g))
        update = g * np.sqrt(d.data + self.epsilon) / np.sqrt(a.data + self.epsilon)
        d.assign(self.rho * d.data + (1.0 - self.rho) * np.square(update))
        return p - lr * update

    def _upgrade_weights(self, weights):
        return [np.asarray(0, np.int64)] + list(weights)

    def _hyper_config(self):
        if self.keras3:
            return {"rho": self.rho, "epsilon": self.epsilon}
        return {"rho": self.rho, "decay": _f32(self.decay), "epsilon": self.epsilon}


class Adam(Optimizer):
    """``m = b1 m + (1 - b1) g``; ``v = b2 v + (1 - b2) g^2``;
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``; ``p -= lr_t m / (sqrt(v) + eps)``
    (amsgrad: ``vhat = max(vhat, v)`` in place of ``v``)."""

    _defaults = {v: {"learning_rate": 0.001} for v in _VERSIONS}

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=None, amsgrad=False,
                 lr=None, decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        self.beta_1 = self._variable_value(_check_number("beta_1", beta_1, 0.0, 1.0, high_open=True))
        self.beta_2 = self._variable_value(_check_number("beta_2", beta_2, 0.0, 1.0, high_open=True))
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)
        if not isinstance(amsgrad, (bool, np.bool_)):
            raise ValueError(f"`amsgrad` must be a bool, got {amsgrad!r}.")
        self.amsgrad = bool(amsgrad)

    def _slot_groups(self):
        if self.keras3:
            return [["momentum", "velocity"]] + ([["velocity_hat"]] if self.amsgrad else [])
        return [["m"], ["v"], ["vhat"]]

    def _slot_shape(self, kind, shape):
        # 2.x keeps a (1,) placeholder per variable when amsgrad is off.
        return shape if (kind != "vhat" or self.amsgrad) else (1,)

    def _update(self, g, p, slots, lr, t):
        m = slots.get("momentum", slots.get("m"))
        v = slots.get("velocity", slots.get("v"))
        lr_t = lr * np.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
        m.assign(self.beta_1 * m.data + (1.0 - self.beta_1) * g)
        v.assign(self.beta_2 * v.data + (1.0 - self.beta_2) * np.square(g))
        second_moment = v.data
        if self.amsgrad:
            vhat = slots.get("velocity_hat", slots.get("vhat"))
            vhat.assign(np.maximum(vhat.data, v.data))
            second_moment = vhat.data
        return p - lr_t * m.data / (np.sqrt(second_moment) + self.epsilon)

    def _hyper_config(self):
        if self.keras3:
            return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                    "amsgrad": self.amsgrad}
        return {"beta_1": _f32(self.beta_1), "beta_2": _f32(self.beta_2),
                "decay": _f32(self.decay), "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class Adamax(Optimizer):
    """``m = b1 m + (1 - b1) g``; ``u = max(b2 u, |g|)``; ``p -= lr / (1 - b1^t) * m / (u + eps)``."""

    _defaults = {"2.2.4": {"learning_rate": 0.002}, "2.3": {"learning_rate": 0.002},
                 "3": {"learning_rate": 0.001}}

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=None, lr=None,
                 decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 weight_decay=None, name=None, api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, decay=decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        self.beta_1 = self._variable_value(_check_number("beta_1", beta_1, 0.0, 1.0, high_open=True))
        self.beta_2 = self._variable_value(_check_number("beta_2", beta_2, 0.0, 1.0, high_open=True))
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)

    def _slot_groups(self):
        return [["momentum", "norm"]] if self.keras3 else [["m"], ["u"]]

    def _update(self, g, p, slots, lr, t):
        m = slots.get("momentum", slots.get("m"))
        u = slots.get("norm", slots.get("u"))
        m.assign(self.beta_1 * m.data + (1.0 - self.beta_1) * g)
        u.assign(np.maximum(self.beta_2 * u.data, np.abs(g)))
        return p - lr / (1.0 - self.beta_1 ** t) * m.data / (u.data + self.epsilon)

    def _hyper_config(self):
        if self.keras3:
            return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
        return {"beta_1": _f32(self.beta_1), "beta_2": _f32(self.beta_2),
                "decay": _f32(self.decay), "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum and the momentum schedule
    ``mu_t = b1 (1 - 0.5 * 0.96^(t * schedule_decay))`` (Keras 3: ``0.96^t``)."""

    _defaults = {"2.2.4": {"learning_rate": 0.002}, "2.3": {"learning_rate": 0.002},
                 "3": {"learning_rate": 0.001}}

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=None,
                 schedule_decay=None, lr=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, weight_decay=None, name=None,
                 api_version=backend.DEFAULT_API_VERSION, **kwargs):
        super().__init__(learning_rate=learning_rate, lr=lr, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         weight_decay=weight_decay, name=name, api_version=api_version, **kwargs)
        self.beta_1 = self._variable_value(_check_number("beta_1", beta_1, 0.0, 1.0, high_open=True))
        self.beta_2 = self._variable_value(_check_number("beta_2", beta_2, 0.0, 1.0, high_open=True))
        self.epsilon = backend.epsilon() if epsilon is None else _check_number("epsilon", epsilon)
        if schedule_decay is not None and self.keras3:
            raise ValueError("`schedule_decay` is a 2.x Nadam argument.")
        self.schedule_decay = _check_number(
            "schedule_decay", 0.004 if schedule_decay is None else schedule_decay)

    def _slot_groups(self):
        return [["momentum", "velocity"]] if self.keras3 else [["m"], ["v"]]

    def _extra_state(self):
        return {"u_product" if self.keras3 else "m_schedule": 1.0}

    def _mu(self, t):
        exponent = t if self.keras3 else t * self.schedule_decay
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** exponent)

    def _before_step(self, lr):
        key = "u_product" if self.keras3 else "m_schedule"
        t = self.iterations + 1
        self._schedule_prev = float(self._extra[key].data)
        self._extra[key].assign(np.float32(self._schedule_prev * self._mu(t)))

    def _update(self, g, p, slots, lr, t):
        m = slots.get("momentum", slots.get("m"))
        v = slots.get("velocity", slots.get("v"))
        mu_t, mu_next = self._mu(t), self._mu(t + 1)
        schedule = self._schedule_prev * mu_t          # prod of mu_1..mu_t
        schedule_next = schedule * mu_next             # prod of mu_1..mu_{t+1}
        m.assign(self.beta_1 * m.data + (1.0 - self.beta_1) * g)
        v.assign(self.beta_2 * v.data + (1.0 - self.beta_2) * np.square(g))
        m_bar = (1.0 - mu_t) * g / (1.0 - schedule) + mu_next * m.data / (1.0 - schedule_next)
        v_hat = v.data / (1.0 - self.beta_2 ** t)
        return p - lr * m_bar / (np.sqrt(v_hat) + self.epsilon)

    def _upgrade_weights(self, weights):
        return [weights[0], np.asarray(1.0, np.float32)] + list(weights[1:])

    def _hyper_config(self):
        if self.keras3:
            return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
        return {"beta_1": _f32(self.beta_1), "beta_2": _f32(self.beta_2),
                "epsilon": self.epsilon, "schedule_decay": self.schedule_decay}


_CLASSES = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "adam": Adam, "adamax": Adamax, "nadam": Nadam}
sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = (
    SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam)


def serialize(optimizer) -> dict:
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None, *, api_version=backend.DEFAULT_API_VERSION):
    name = config["class_name"]
    if custom_objects and name in custom_objects:
        return custom_objects[name].from_config(config.get("config", {}))
    cls = _CLASSES.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}. Valid optimizers are "
                         f"{sorted(c.__name__ for c in set(_CLASSES.values()))} "
                         f"(or their lower-case names {sorted(_CLASSES)}).")
    return cls(**config.get("config", {}), api_version=api_version)


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """A name (``"adam"``) -> a new optimizer with that version's defaults; a config dict ->
    ``deserialize``; an Optimizer -> itself; anything else -> ``ValueError`` naming it."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, api_version=api_version)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}}, api_version=api_version)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
