"""Mutant implementations: the NumPy reference with ONE documented behaviour broken.

The conformance suite has teeth only if it catches each of these (ARCHITECTURE.md, "How we know the suite
has teeth"); tests/test_mutants.py runs the suite on every mutant and fails on a survivor.

Each mutant is a module-level factory, so it runs like any third-party adapter, with tests/ on PYTHONPATH:

    PYTHONPATH=tests python3 -m pytest conformance --adapter mutants:sgd_half_step --api-version 2.3

How a mutant is made (never by patching the reference itself: the suite's numerics oracle is the pristine
``reference.keras(v)`` in the same process, and a global patch would break the oracle too):
``MutantAdapter.load_keras()`` takes ``reference.keras(active_version)``, makes a shallow copy of the
top-level namespace (a new ``types.ModuleType``) and of each sub-module it changes, and replaces one thing
in the copy: a subclass of the per-version class (``K.layers.Dense``, ``K.models.Sequential``,
``K.optimizers.SGD``) overriding one method, or a wrapper around one function. Overridden methods keep the
documented signature (``_same_signature``) unless the signature is what the mutant breaks.

``MUTANTS = {name: (category, api versions, description, factory)}``; the category is the conformance
check module (``CONFORMANCE_CATEGORY``) that must catch it.
"""
from __future__ import annotations

import functools
import inspect
import os
import types

import numpy as np

from keras_conformance.adapters.reference import ReferenceAdapter
from keras_conformance.reference.autodiff import ops

ALL = ("2.2.4", "2.3", "3")
KERAS2 = ("2.2.4", "2.3")

#: name -> (category, versions, description, factory)
MUTANTS: dict[str, tuple[str, tuple[str, ...], str, object]] = {}
#: name -> the documented items whose checks must catch it
TARGETS: dict[str, tuple[str, ...]] = {}


# --------------------------------------------------------------------------------------------------
# The adapter and the copy-on-write namespace
# --------------------------------------------------------------------------------------------------
class Namespace:
    """A shallow copy of a reference namespace; ``K.set("layers.Dense", cls)`` copies the sub-module it
    touches (once) and replaces one attribute there. ``K.pristine`` is the untouched reference."""

    def __init__(self, pristine: types.ModuleType):
        self.pristine = pristine
        self.module = _copy_module(pristine)
        self._copied: set[str] = set()

    def get(self, dotted: str):
        obj = self.module
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    def set(self, dotted: str, value) -> None:
        sub, _, attr = dotted.rpartition(".")
        if sub not in self._copied:
            setattr(self.module, sub, _copy_module(getattr(self.pristine, sub)))
            self._copied.add(sub)
        setattr(getattr(self.module, sub), attr, value)
        if sub == "models" and attr in ("Model", "Sequential"):
            setattr(self.module, attr, value)        # the top-level aliases keras.Model / keras.Sequential


def _copy_module(module: types.ModuleType) -> types.ModuleType:
    copy = types.ModuleType(module.__name__, module.__doc__)
    vars(copy).update(vars(module))
    return copy


class MutantAdapter(ReferenceAdapter):
    """The reference adapter with one thing replaced in a copy of its namespace."""

    def __init__(self, name: str, mutate):
        self.name = f"mutants:{name}"
        self.mutant = name
        self._mutate = mutate

    def load_keras(self):
        K = Namespace(super().load_keras())
        self._mutate(K, self.active_version)
        return K.module

    @property
    def version_string(self) -> str:
        return f"mutant {self.mutant!r} of the reference (API {self.active_version})"


def mutant(category: str, versions: tuple[str, ...], description: str, items: tuple[str, ...]):
    """Register ``mutate(K, version)`` under its name; the module attribute becomes the adapter factory.
    ``items``: the documented items whose checks must catch it (the item it breaks first; where that item
    has no check of its own in the category, the items whose checks exercise it). Its kill test runs only
    those items' checks of the category, and only their failures count."""
    def register(mutate):
        name = mutate.__name__
        if name in MUTANTS:     # a second module's mutant of the same name would silently replace the first
            raise ValueError(f"mutant {name!r} is registered twice ({mutate.__module__})")

        def factory():
            return MutantAdapter(name, mutate)
        factory.__name__ = factory.__qualname__ = name
        factory.__doc__ = description
        MUTANTS[name] = (category, tuple(versions), description, factory)
        TARGETS[name] = tuple(items)
        return factory
    return register


#: (mutant, version) -> why the suite does not catch it (a suite gap, reported; never a weakened mutant)
SURVIVORS: dict[tuple[str, str], str] = {
}


def catalogue():
    """Every mutant of this folder, of the reference and of a real Keras (tests/mutants_real.py), as the
    kill command (``keras-conformance mutants``, keras_conformance/mutation.py) and tests/test_mutants.py
    read them."""
    from keras_conformance.mutation import Mutant
    from mutants_real import REAL_MUTANTS, REAL_SURVIVORS, real_adapter_name
    out = [Mutant(name, "reference", f"mutants:{name}", category, versions, description, TARGETS[name],
                  {v: why for (n, v), why in SURVIVORS.items() if n == name})
           for name, (category, versions, description, _) in MUTANTS.items()]
    out += [Mutant(name, real_adapter_name(), f"mutants_real:{name}", category, ("3",), description, items,
                   {v: why for (n, v), why in REAL_SURVIVORS.items() if n == name}, REAL_SUITE_ARGS)
            for name, (category, description, items, _) in REAL_MUTANTS.items()]
    return out


#: a real-Keras kill needs one failing example, and each of those mutants breaks its item on every input;
#: fewer examples keep each run (keras' tracing and compiling) short
REAL_SUITE_ARGS = ("--examples", "3")


# --------------------------------------------------------------------------------------------------
# Small helpers for honest overrides
# --------------------------------------------------------------------------------------------------
def _same_signature(base_method):
    """Give an override the documented signature of the method it overrides."""
    def decorate(fn):
        fn.__signature__ = inspect.signature(base_method)
        return fn
    return decorate


def _call_by_name(method, self, sig: inspect.Signature, bound: inspect.BoundArguments):
    args, kwargs = [], {}
    for name, value in bound.arguments.items():
        kind = sig.parameters[name].kind
        if name == "self":
            continue
        if kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(value)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            kwargs.update(value)
        else:
            kwargs[name] = value
    return method(self, *args, **kwargs)


def _with_default(base_method, param: str, value):
    """``base_method`` whose ``param`` defaults to ``value`` (in its signature and in what it does)."""
    sig = inspect.signature(base_method)
    new_sig = sig.replace(parameters=[p.replace(default=value) if p.name == param else p
                                      for p in sig.parameters.values()])

    def method(self, *args, **kwargs):
        bound = new_sig.bind(self, *args, **kwargs)
        bound.arguments.setdefault(param, value)
        return _call_by_name(base_method, self, new_sig, bound)
    method.__signature__ = new_sig
    method.__name__ = method.__qualname__ = base_method.__name__
    return method


def _without_param(base_method, param: str):
    """``base_method`` without the documented parameter ``param`` (passing it is a TypeError)."""
    sig = inspect.signature(base_method)
    new_sig = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != param])

    def method(self, *args, **kwargs):
        if param in kwargs:
            raise TypeError(f"{base_method.__name__}() got an unexpected keyword argument {param!r}")
        bound = new_sig.bind(self, *args, **kwargs)
        return _call_by_name(base_method, self, new_sig, bound)
    method.__signature__ = new_sig
    method.__name__ = method.__qualname__ = base_method.__name__
    return method


def _lr_name(version: str) -> str:
    return "lr" if version == "2.2.4" else "learning_rate"


# --------------------------------------------------------------------------------------------------
# capabilities: a probe (construct -> call -> compile -> fit -> save) fails
# --------------------------------------------------------------------------------------------------
@mutant("capabilities", ALL, "Model.compile raises TypeError whatever it is given",
        items=('Model.compile',))
def compile_raises(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.compile)
        def compile(self, *args, **kwargs):
            raise TypeError("compile() is broken in this build")
    K.set("models.Sequential", Sequential)


@mutant("capabilities", ALL, "Model.save raises OSError: nothing can be saved",
        items=('Model.save',))
def save_raises(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.save)
        def save(self, filepath, *args, **kwargs):
            raise OSError(f"cannot write {filepath}: saving is broken in this build")
    K.set("models.Sequential", Sequential)


# --------------------------------------------------------------------------------------------------
# signatures: a documented default, or a documented parameter, differs
# --------------------------------------------------------------------------------------------------
@mutant("signatures", ALL, "Model.fit's `epochs` defaults to 2 (documented 1), and fit trains 2 epochs",
        items=('Model.fit',))
def fit_epochs_default_2(K, v):
    Base = K.get("models.Sequential")
    K.set("models.Sequential", type("Sequential", (Base,), {"fit": _with_default(Base.fit, "epochs", 2)}))


@mutant("signatures", ALL, "Model.compile has no `loss_weights` parameter",
        items=('Model.compile',))
def compile_without_loss_weights(K, v):
    Base = K.get("models.Sequential")
    K.set("models.Sequential",
          type("Sequential", (Base,), {"compile": _without_param(Base.compile, "loss_weights")}))


@mutant("signatures", ALL, "optimizers.SGD's learning rate (`lr` in 2.2.4) defaults to 0.1, documented 0.01",
        items=('optimizers.SGD',))
def sgd_lr_default_01(K, v):
    Base = K.get("optimizers.SGD")
    lr = _lr_name(v)
    sig = Base.__signature__
    new_sig = sig.replace(parameters=[p.replace(default=0.1) if p.name == lr else p
                                      for p in sig.parameters.values()])

    class SGD(Base):
        __signature__ = new_sig

        def __init__(self, *args, **kwargs):
            if lr not in new_sig.bind(*args, **kwargs).arguments:
                kwargs[lr] = 0.1
            super().__init__(*args, **kwargs)
    K.set("optimizers.SGD", SGD)


@mutant("signatures", ALL, "layers.Dense has no `use_bias` parameter (it always adds a bias)",
        items=('layers.Dense',))
def dense_without_use_bias(K, v):
    Base = K.get("layers.Dense")
    sig = Base.__signature__
    new_sig = sig.replace(parameters=[p for p in sig.parameters.values() if p.name != "use_bias"])

    class Dense(Base):
        __signature__ = new_sig

        def __init__(self, *args, **kwargs):
            if "use_bias" in kwargs:
                raise TypeError("Dense.__init__() got an unexpected keyword argument 'use_bias'")
            super().__init__(*args, **kwargs)
    K.set("layers.Dense", Dense)


# --------------------------------------------------------------------------------------------------
# shapes: an output shape or a weight shape differs from the documented rule
# --------------------------------------------------------------------------------------------------
@mutant("capabilities", ALL, "layers.Dense outputs units + 1 columns (compute_output_shape still says units): "
                             "the predict probe expects (2, 3), fails, and blocks the shape checks",
        items=('Model.predict',))
def dense_output_extra_column(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def call(self, inputs):
            out = super().call(inputs)
            return ops.concatenate([out, out[..., :1]], axis=-1)
    K.set("layers.Dense", Dense)


@mutant("shapes", ALL, "layers.Dense on a 3-D input (batch, t, d) averages over t: output (batch, units), "
                       "documented (batch, t, units)",
        items=('layers.Dense',))
def dense_3d_input_averages_time(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def call(self, inputs):
            out = super().call(inputs)
            return ops.mean(out, axis=1) if out.ndim == 3 else out
    K.set("layers.Dense", Dense)


@mutant("shapes", ALL, "layers.Dense.compute_output_shape drops the batch axis (call is right)",
        items=('layers.Dense',))
def dense_compute_output_shape_drops_batch(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def compute_output_shape(self, input_shape):
            return tuple(input_shape)[1:-1] + (self.units,)
    K.set("layers.Dense", Dense)


@mutant("shapes", ALL, "layers.Dense keeps its kernel as (units, input_dim), documented (input_dim, units)",
        items=('layers.Dense',))
def dense_kernel_transposed(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def add_weight(self, name=None, shape=None, *args, **kwargs):
            if name == "kernel":
                shape = tuple(shape)[::-1]
            return super().add_weight(name, shape, *args, **kwargs)

        def call(self, inputs):
            output = ops.matmul(inputs, ops.transpose(self.kernel))
            if self.use_bias:
                output = output + self.bias
            return self.activation(output)
    K.set("layers.Dense", Dense)


@mutant("shapes", ALL, "Model.get_weights lists each layer's bias before its kernel (layer.get_weights and "
                       "Model.set_weights keep the documented order)",
        items=('Model.get_weights', 'layers.Dense'))
def model_get_weights_bias_first(K, v):
    for cls_name in ("Sequential", "Model"):        # functional models too: Model.get_weights is documented
        Base = K.get(f"models.{cls_name}")

        def get_weights(self, __base=Base):
            out, arrays, i = [], __base.get_weights(self), 0
            for layer in self.layers:
                n = len(layer.weights)
                out += list(arrays[i:i + n])[::-1]
                i += n
            return out
        get_weights.__signature__ = inspect.signature(Base.get_weights)
        K.set(f"models.{cls_name}", type(cls_name, (Base,), {"get_weights": get_weights}))


# --------------------------------------------------------------------------------------------------
# errors: a documented misuse raises another exception type, or nothing
# --------------------------------------------------------------------------------------------------
@mutant("errors", ALL, "Model.fit before compile raises TypeError (documented RuntimeError in 2.x, "
                       "ValueError in 3)",
        items=('Model.fit',))
def fit_not_compiled_type_error(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.fit)
        def fit(self, *args, **kwargs):
            if not self._is_compiled:
                raise TypeError("fit() called on a model that was not compiled")
            return super().fit(*args, **kwargs)
    K.set("models.Sequential", Sequential)


@mutant("errors", KERAS2, "Model.get_layer(name='nope') returns None instead of raising ValueError",
        items=('Model.get_layer',))
def get_layer_unknown_returns_none(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.get_layer)
        def get_layer(self, name=None, index=None):
            if index is None and name is not None and name not in [layer.name for layer in self.layers]:
                return None
            return super().get_layer(name=name, index=index)
    K.set("models.Sequential", Sequential)


@mutant("errors", ALL, "Model.predict with too many input features silently drops the extra columns",
        items=('Model.predict',))
def predict_wrong_feature_count_truncates(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.predict)
        def predict(self, x, *args, **kwargs):
            width = self.input_shape[-1]
            if isinstance(x, np.ndarray) and width is not None and x.shape[-1] > width:
                x = x[..., :width]
            return super().predict(x, *args, **kwargs)
    K.set("models.Sequential", Sequential)


@mutant("errors", ALL, "Model.compile with an unknown optimizer name silently uses SGD",
        items=('Model.compile',))
def compile_unknown_optimizer_uses_sgd(K, v):
    Base = K.get("models.Sequential")
    known = ("sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamax", "nadam")

    class Sequential(Base):
        @_same_signature(Base.compile)
        def compile(self, *args, **kwargs):
            bound = inspect.signature(Base.compile).bind(self, *args, **kwargs)
            optimizer = bound.arguments.get("optimizer")
            if isinstance(optimizer, str) and optimizer.lower() not in known:
                bound.arguments["optimizer"] = "sgd"
            return Base.compile(*bound.args, **bound.kwargs)
    K.set("models.Sequential", Sequential)


# --------------------------------------------------------------------------------------------------
# numerics: a formula differs
# --------------------------------------------------------------------------------------------------
@mutant("numerics", ALL, "layers.Dense ignores its bias in the forward pass (the bias never trains)",
        items=('layers.Dense',))
def dense_ignores_bias(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def call(self, inputs):
            return self.activation(ops.matmul(inputs, self.kernel))
    K.set("layers.Dense", Dense)


@mutant("numerics", ALL, "the relu activation leaks 0.01 * x below zero (activations.relu, "
                         "Dense(activation='relu'), Activation('relu'))",
        items=('activations.relu', 'layers.Activation', 'layers.Dense'))
def relu_leaks(K, v):
    from keras_conformance.reference.autodiff import as_tensor
    pristine = K.get("activations.relu")

    @functools.wraps(pristine)
    def relu(x, *args, **kwargs):
        x = as_tensor(x)
        return pristine(x, *args, **kwargs) + ops.minimum(x, 0.0) * 0.01
    relu.__name__ = "relu"
    K.set("activations.relu", relu)

    def leak(layer):
        if getattr(layer.activation, "__name__", None) == "relu":
            layer.activation = relu

    for cls_name in ("Dense", "Activation"):
        Base = K.get(f"layers.{cls_name}")

        def __init__(self, *args, __base=Base, **kwargs):
            __base.__init__(self, *args, **kwargs)
            leak(self)
        K.set(f"layers.{cls_name}", type(cls_name, (Base,), {"__init__": __init__}))


@mutant("numerics", ALL, "losses.mean_squared_error (and mse) computes the mean absolute error",
        items=('losses.mean_squared_error',))
def mse_is_mae(K, v):
    pristine = K.get("losses.mean_squared_error")
    mae = K.get("losses.mean_absolute_error")

    @functools.wraps(pristine)
    def mean_squared_error(y_true, y_pred):
        return mae(y_true, y_pred)
    K.set("losses.mean_squared_error", mean_squared_error)
    K.set("losses.mse", mean_squared_error)


@mutant("numerics", ALL, "optimizers.SGD steps w - 0.5 * lr * g (documented w - lr * g)",
        items=('optimizers.SGD',))
def sgd_half_step(K, v):
    Base = K.get("optimizers.SGD")

    class SGD(Base):
        def _update(self, g, p, slots, lr, t):
            return super()._update(g, p, slots, 0.5 * lr, t)
    K.set("optimizers.SGD", SGD)


@mutant("numerics", ALL, "optimizers.Adam without bias correction (lr_t = lr)",
        items=('optimizers.Adam',))
def adam_no_bias_correction(K, v):
    Base = K.get("optimizers.Adam")

    class Adam(Base):
        def _update(self, g, p, slots, lr, t):
            # undo the correction the core applies: lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
            correction = np.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)
            return super()._update(g, p, slots, lr / correction, t)
    K.set("optimizers.Adam", Adam)


@mutant("numerics", ALL, "losses.categorical_crossentropy does not clip y_pred to [epsilon, 1 - epsilon]",
        items=('losses.categorical_crossentropy',))
def cce_without_clipping(K, v):
    pristine = K.get("losses.categorical_crossentropy")
    from keras_conformance.reference.autodiff import as_tensor

    @functools.wraps(pristine)
    def categorical_crossentropy(y_true, y_pred, from_logits=False, *args, **kwargs):
        if from_logits or args or any(kwargs.get(k) for k in ("label_smoothing",)) or \
                kwargs.get("axis", -1) != -1:
            return pristine(y_true, y_pred, from_logits, *args, **kwargs)
        y_true, y_pred = as_tensor(y_true), as_tensor(y_pred)
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        return -ops.sum(y_true * ops.log(p), axis=-1)
    K.set("losses.categorical_crossentropy", categorical_crossentropy)


@mutant("numerics", ("2.3", "3"), "losses.categorical_crossentropy ignores `label_smoothing`",
        items=('losses.categorical_crossentropy',))
def cce_ignores_label_smoothing(K, v):
    pristine = K.get("losses.categorical_crossentropy")

    @functools.wraps(pristine)
    def categorical_crossentropy(y_true, y_pred, *args, **kwargs):
        bound = inspect.signature(pristine).bind(y_true, y_pred, *args, **kwargs)
        bound.arguments["label_smoothing"] = 0.0
        return pristine(*bound.args, **bound.kwargs)
    K.set("losses.categorical_crossentropy", categorical_crossentropy)


@mutant("numerics", ALL, "Model.get_weights / set_weights list each layer's bias before its kernel",
        items=('Model.get_weights', 'Model.train_on_batch', 'optimizers.SGD', 'optimizers.Adam'))
def weights_bias_before_kernel(K, v):
    Base = K.get("models.Sequential")

    def swap(arrays, layers):
        out, i = [], 0
        for layer in layers:
            n = len(layer.weights)
            out += list(arrays[i:i + n])[::-1]
            i += n
        return out

    class Sequential(Base):
        @_same_signature(Base.get_weights)
        def get_weights(self):
            return swap(super().get_weights(), self.layers)

        @_same_signature(Base.set_weights)
        def set_weights(self, weights):
            return super().set_weights(swap(list(weights), self.layers))
    K.set("models.Sequential", Sequential)


# --------------------------------------------------------------------------------------------------
# round trips: what is saved and restored is not what was there
# --------------------------------------------------------------------------------------------------
@mutant("roundtrips", ALL, "models.load_model re-initialises the last layer's kernel (glorot uniform)",
        items=('models.load_model', 'Model.save'))
def load_model_reinitialises_a_layer(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(*args, **kwargs):
        model = pristine(*args, **kwargs)
        layer = model.layers[-1]
        weights = layer.get_weights()
        fan_in, fan_out = weights[0].shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights[0] = np.random.default_rng(0).uniform(-limit, limit, weights[0].shape).astype(weights[0].dtype)
        layer.set_weights(weights)
        return model
    K.set("models.load_model", load_model)


@mutant("roundtrips", ALL, "Model.load_weights reads the file but does not assign the weights",
        items=('Model.load_weights', 'Model.save_weights'))
def load_weights_ignored(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.load_weights)
        def load_weights(self, filepath, *args, **kwargs):
            if not os.path.exists(filepath):
                raise OSError(f"no such file: {filepath}")
            return None
    K.set("models.Sequential", Sequential)


@mutant("roundtrips", ALL, "layers.Dense.get_config leaves out `activation` (from_config makes it linear)",
        items=('layers.Dense', 'Model.get_config'))
def dense_config_drops_activation(K, v):
    Base = K.get("layers.Dense")

    class Dense(Base):
        def get_config(self):
            config = super().get_config()
            config.pop("activation", None)
            return config
    K.set("layers.Dense", Dense)


@mutant("roundtrips", ALL, "Model.save never stores the optimizer state (include_optimizer is ignored)",
        items=('Model.save',))
def save_drops_optimizer_state(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.save)
        def save(self, filepath, *args, **kwargs):
            if "include_optimizer" not in inspect.signature(Base.save).parameters:   # 3: save(**kwargs)
                return super().save(filepath, *args, include_optimizer=False, **kwargs)
            bound = inspect.signature(Base.save).bind(self, filepath, *args, **kwargs)
            bound.arguments["include_optimizer"] = False
            return Base.save(*bound.args, **bound.kwargs)
    K.set("models.Sequential", Sequential)


@mutant("roundtrips", ALL, "models.load_model ignores custom_objects: a user's layer class is never found",
        items=("models.load_model",))
def load_model_ignores_custom_objects(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(filepath, *args, custom_objects=None, **kwargs):
        return pristine(filepath, *args, **kwargs)
    K.set("models.load_model", load_model)


@mutant("roundtrips", ALL, "models.model_from_json ignores custom_objects", items=("models.model_from_json",))
def model_from_json_ignores_custom_objects(K, v):
    pristine = K.get("models.model_from_json")

    @functools.wraps(pristine)
    def model_from_json(json_string, custom_objects=None):
        return pristine(json_string)
    K.set("models.model_from_json", model_from_json)


@mutant("roundtrips", ALL, "Model.from_config (Sequential) rebuilds every layer as the built-in class of its "
        "class_name, whatever custom_objects maps it to", items=("Model.from_config",))
def from_config_ignores_custom_objects(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @classmethod
        @_same_signature(Base.from_config)
        def from_config(cls, config, custom_objects=None):
            return super().from_config(config)
    K.set("models.Sequential", Sequential)


@mutant("roundtrips", ALL, "models.load_model ignores compile=False: the loaded model is always compiled",
        items=('models.load_model',))
def load_model_ignores_compile_flag(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(*args, **kwargs):
        bound = inspect.signature(pristine).bind(*args, **kwargs)
        bound.arguments["compile"] = True
        return pristine(*bound.args, **bound.kwargs)
    K.set("models.load_model", load_model)


@mutant("roundtrips", ALL, "models.load_model compiles the loaded model with a fresh optimizer of the saved "
                           "configuration: the optimizer state in the file (iterations, Adam's moments) is lost",
        items=('models.load_model', 'Model.save'))
def load_model_fresh_optimizer(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(*args, **kwargs):
        model = pristine(*args, **kwargs)
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            params = inspect.signature(model.compile).parameters
            config = {k: val for k, val in model._compile_config.items() if k in params}
            config["optimizer"] = type(opt).from_config(opt.get_config())
            model.compile(**config)
        return model
    K.set("models.load_model", load_model)


@mutant("roundtrips", ALL, "Model.save writes BatchNormalization's moving_mean and moving_variance in each "
                           "other's place (a weight saved in the wrong order)",
        items=("layers.BatchNormalization",))
def save_swaps_batchnorm_statistics(K, v):
    Base = K.get("models.Model")

    class Model(Base):
        @_same_signature(Base.save)
        def save(self, filepath, *args, **kwargs):
            swapped = [layer for layer in self.layers if type(layer).__name__ == "BatchNormalization"]
            kept = [layer.get_weights() for layer in swapped]
            for layer, w in zip(swapped, kept):
                layer.set_weights(w[:-2] + [w[-1], w[-2]])
            try:
                return super().save(filepath, *args, **kwargs)
            finally:
                for layer, w in zip(swapped, kept):
                    layer.set_weights(w)
    K.set("models.Model", Model)


@mutant("roundtrips", KERAS2, "Model.load_weights ignores by_name=True (loads by topology)",
        items=("Model.load_weights",))
def load_weights_ignores_by_name(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.load_weights)
        def load_weights(self, filepath, by_name=False, *args, **kwargs):
            return super().load_weights(filepath, False, *args, **kwargs)
    K.set("models.Sequential", Sequential)


# --------------------------------------------------------------------------------------------------
# safety: loading / saving files
# --------------------------------------------------------------------------------------------------
@mutant("safety", ("3",), "Model.save writes a .keras archive with one more member, '../notes.txt', outside "
                          "the archive root", items=("Model.save",))
def save_archive_member_outside_root(K, v):
    import zipfile
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.save)
        def save(self, filepath, *args, **kwargs):
            out = super().save(filepath, *args, **kwargs)
            if str(filepath).endswith(".keras"):
                with zipfile.ZipFile(filepath, "a") as zf:
                    zf.writestr(zipfile.ZipInfo("../notes.txt"), b"outside")
            return out
    K.set("models.Sequential", Sequential)


@mutant("safety", ("3",), "models.load_model extracts a .keras archive's members beside it before loading "
                          "(a member named ../x lands outside the folder)", items=("models.load_model",))
def load_model_extracts_archive(K, v):
    import zipfile
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(filepath, *args, **kwargs):
        if str(filepath).endswith(".keras") and zipfile.is_zipfile(filepath):
            folder = os.path.dirname(os.path.abspath(filepath))
            with zipfile.ZipFile(filepath) as zf:
                for info in zf.infolist():
                    target = os.path.normpath(os.path.join(folder, info.filename))
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, "wb") as fh:
                        fh.write(zf.read(info))
        return pristine(filepath, *args, **kwargs)
    K.set("models.load_model", load_model)
@mutant("safety", ALL, "models.model_from_json rebuilds a Lambda's bytecode unasked (as Keras 2 did): the "
        "function runs while the model is built", items=("models.model_from_json",))
def model_from_json_runs_lambda_code(K, v):
    from keras_conformance.reference import unsafe_deserialization
    pristine = K.get("models.model_from_json")

    @functools.wraps(pristine)
    def model_from_json(*args, **kwargs):
        with unsafe_deserialization():
            return pristine(*args, **kwargs)
    K.set("models.model_from_json", model_from_json)


@mutant("safety", KERAS2, "models.model_from_yaml rebuilds a Lambda's bytecode unasked", items=("models.model_from_yaml",))
def model_from_yaml_runs_lambda_code(K, v):
    from keras_conformance.reference import unsafe_deserialization
    pristine = K.get("models.model_from_yaml")

    @functools.wraps(pristine)
    def model_from_yaml(*args, **kwargs):
        with unsafe_deserialization():
            return pristine(*args, **kwargs)
    K.set("models.model_from_yaml", model_from_yaml)


@mutant("safety", ALL, "models.load_model on a corrupt file raises OSError with an empty message",
        items=('models.load_model',))
def load_model_unclear_error(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(*args, **kwargs):
        try:
            return pristine(*args, **kwargs)
        except (ValueError, OSError) as exc:
            raise OSError() from exc
    K.set("models.load_model", load_model)


@mutant("safety", ALL, "Model.save deletes an existing file before writing the new one (not atomic)",
        items=('Model.save',))
def save_deletes_existing_first(K, v):
    Base = K.get("models.Sequential")

    class Sequential(Base):
        @_same_signature(Base.save)
        def save(self, filepath, *args, **kwargs):
            if os.path.exists(filepath):
                os.remove(filepath)
            return super().save(filepath, *args, **kwargs)
    K.set("models.Sequential", Sequential)


# --------------------------------------------------------------------------------------------------
# the control: nothing replaced (not a mutant; tests/test_mutants.py checks that it passes everything)
# --------------------------------------------------------------------------------------------------
def unmutated():
    return MutantAdapter("unmutated", lambda K, v: None)


# --------------------------------------------------------------------------------------------------
# the layer families: at least one mutant per documented layer, each aimed at its item's checks
# --------------------------------------------------------------------------------------------------
def _override(K, cls_name, **methods):
    """Replace ``layers.<cls_name>`` by a subclass of the version's class overriding ``methods``."""
    Base = K.get(f"layers.{cls_name}")
    K.set(f"layers.{cls_name}", type(cls_name, (Base,), dict(methods)))
    return Base


@mutant("numerics", ("2.3", "3"), "layers.Dropout does not scale the units it keeps by 1 / (1 - rate) in training",
        items=("layers.Dropout",))
def dropout_no_rescale(K, v):
    Base = K.get("layers.Dropout")

    def call(self, inputs, training=None):
        out = Base.call(self, inputs, training=training)
        return out * (1.0 - float(self.rate)) if training and self._drops() else out
    _override(K, "Dropout", call=call)


@mutant("roundtrips", ("2.2.4",), "layers.Dropout.get_config leaves out `seed`", items=("layers.Dropout",))
def dropout_config_drops_seed(K, v):
    Base = K.get("layers.Dropout")

    def get_config(self):
        config = Base.get_config(self)
        config.pop("seed", None)
        return config
    _override(K, "Dropout", get_config=get_config)


@mutant("errors", ("3",), "layers.Dropout(rate=1.5) is accepted (documented ValueError in 3)",
        items=("layers.Dropout",))
def dropout_accepts_rate_above_one(K, v):
    Base = K.get("layers.Dropout")

    def __init__(self, rate, *args, **kwargs):
        Base.__init__(self, min(float(rate), 0.9), *args, **kwargs)
    _override(K, "Dropout", __init__=__init__)


@mutant("numerics", ALL, "layers.Flatten ignores data_format='channels_first' (flattens channels last)",
        items=("layers.Flatten",))
def flatten_ignores_channels_first(K, v):
    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], -1))
    _override(K, "Flatten", call=call)


@mutant("shapes", ALL, "layers.Reshape.compute_output_shape leaves a -1 in target_shape unresolved",
        items=("layers.Reshape",))
def reshape_leaves_unknown_dim(K, v):
    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(self.target_shape)
    _override(K, "Reshape", compute_output_shape=compute_output_shape)


@mutant("numerics", ALL, "layers.Permute applies `dims` in reverse order", items=("layers.Permute",))
def permute_reversed(K, v):
    Base = K.get("layers.Permute")

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + tuple(reversed(self.dims)))
    _override(K, "Permute", call=call)


@mutant("shapes", ALL, "layers.RepeatVector repeats its input n + 1 times", items=("layers.RepeatVector",))
def repeat_vector_once_more(K, v):
    def call(self, inputs):
        return ops.multiply(ops.expand_dims(inputs, 1), np.ones((1, self.n + 1, 1), dtype=inputs.dtype))
    _override(K, "RepeatVector", call=call)


@mutant("numerics", ALL, "layers.ActivityRegularization adds no l2 term to the loss",
        items=("layers.ActivityRegularization",))
def activity_regularization_without_l2(K, v):
    Base = K.get("layers.ActivityRegularization")

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        Base.__init__(self, l1=l1, l2=0.0, **kwargs)
        self._documented_l2 = l2

    def get_config(self):
        config = Base.get_config(self)
        config["l2"] = self._documented_l2
        return config
    _override(K, "ActivityRegularization", __init__=__init__, get_config=get_config)


@mutant("numerics", ALL, "layers.Masking masks the steps equal to 0 whatever its mask_value",
        items=("layers.Masking",))
def masking_ignores_mask_value(K, v):
    def _keep(self, inputs, keepdims):
        from keras_conformance.reference.autodiff import Tensor
        data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(data != 0.0, axis=-1, keepdims=keepdims)
    _override(K, "Masking", _keep=_keep)


@mutant("numerics", ALL, "layers.SpatialDropout1D drops single units instead of whole feature maps",
        items=("layers.SpatialDropout1D",))
def spatial_dropout1d_elementwise(K, v):
    def _noise_shape(self, shape):
        return tuple(shape)
    _override(K, "SpatialDropout1D", _noise_shape=_noise_shape)


@mutant("numerics", ALL, "layers.SpatialDropout2D shares its mask along the channels (the wrong axes) "
                            "when data_format='channels_first'", items=("layers.SpatialDropout2D",))
def spatial_dropout2d_wrong_axes_channels_first(K, v):
    Base = K.get("layers.SpatialDropout2D")

    def _spatial_axes(self):
        axes = Base._spatial_axes(self)
        return (1, 2) if self.data_format == "channels_first" else axes
    _override(K, "SpatialDropout2D", _spatial_axes=_spatial_axes)


@mutant("numerics", ALL, "layers.SpatialDropout3D drops feature maps with half the documented rate",
        items=("layers.SpatialDropout3D",))
def spatial_dropout3d_half_rate(K, v):
    Base = K.get("layers.SpatialDropout3D")

    def call(self, inputs, training=None):
        documented = self.rate
        self.rate = documented / 2
        try:
            return Base.call(self, inputs, training=training)
        finally:
            self.rate = documented
    _override(K, "SpatialDropout3D", call=call)


def _merge_mutant(K, cls_name, fn):
    _override(K, cls_name, _merge_function=lambda self, inputs: fn(inputs))


@mutant("numerics", KERAS2, "layers.Add sums only its first two inputs", items=("layers.Add",))
def add_drops_third_input(K, v):
    _merge_mutant(K, "Add", lambda xs: ops.add(xs[0], xs[1]))


@mutant("numerics", ALL, "layers.Subtract computes inputs[1] - inputs[0]", items=("layers.Subtract",))
def subtract_reversed(K, v):
    _merge_mutant(K, "Subtract", lambda xs: ops.subtract(xs[1], xs[0]))


@mutant("numerics", ALL, "layers.Multiply adds its inputs", items=("layers.Multiply",))
def multiply_adds(K, v):
    _merge_mutant(K, "Multiply", lambda xs: functools.reduce(ops.add, xs))


@mutant("numerics", ALL, "layers.Average divides the sum by the number of inputs + 1", items=("layers.Average",))
def average_off_by_one(K, v):
    _merge_mutant(K, "Average", lambda xs: functools.reduce(ops.add, xs) / (len(xs) + 1))


@mutant("numerics", KERAS2, "layers.Maximum is the elementwise minimum", items=("layers.Maximum",))
def maximum_is_minimum(K, v):
    _merge_mutant(K, "Maximum", lambda xs: functools.reduce(ops.minimum, xs))


@mutant("numerics", ALL, "layers.Minimum returns its first input", items=("layers.Minimum",))
def minimum_returns_first(K, v):
    _merge_mutant(K, "Minimum", lambda xs: xs[0])


@mutant("numerics", ("3",), "layers.Maximum ignores its inputs' masks (keras 3.15 reads a masked entry as the "
        "other inputs' value)", items=("layers.Maximum",))
def maximum_ignores_masks(K, v):
    _merge_mutant(K, "Maximum", lambda xs: functools.reduce(ops.maximum, xs))


@mutant("numerics", ("3",), "the elementwise merge layers AND their inputs' masks (keras 2's rule) where keras "
        "3.15 ORs them, so a step masked in one input is dropped from the loss",
        items=("layers.Add",))
def merge_masks_anded(K, v):
    from keras_conformance.reference.layers.base import Layer
    _override(K, "Add", compute_mask=Layer.compute_mask)


@mutant("shapes", ALL, "layers.Concatenate always concatenates along the last axis", items=("layers.Concatenate",))
def concatenate_ignores_axis(K, v):
    Base = K.get("layers.Concatenate")

    def __init__(self, axis=-1, **kwargs):
        Base.__init__(self, axis=-1, **kwargs)
    _override(K, "Concatenate", __init__=__init__)


@mutant("numerics", ALL, "layers.Dot ignores normalize=True", items=("layers.Dot",))
def dot_ignores_normalize(K, v):
    Base = K.get("layers.Dot")

    def call(self, inputs):
        documented, self.normalize = self.normalize, False
        try:
            return Base.call(self, inputs)
        finally:
            self.normalize = documented
    _override(K, "Dot", call=call)


@mutant("numerics", ALL, "layers.add (the functional form) subtracts its second input",
        items=("layers.add",))
def add_function_subtracts(K, v):
    pristine = K.get("layers.add")
    subtract = K.get("layers.subtract")

    @functools.wraps(pristine)
    def add(inputs, **kwargs):
        return subtract(list(inputs)[:2], **kwargs) if len(inputs) == 2 else pristine(inputs, **kwargs)
    K.set("layers.add", add)


@mutant("signatures", KERAS2, "layers.LeakyReLU's alpha defaults to 0.2 (documented 0.3)",
        items=("layers.LeakyReLU",))
def leaky_relu_alpha_default(K, v):
    Base = K.get("layers.LeakyReLU")
    sig = inspect.signature(Base)
    new_sig = sig.replace(parameters=[p.replace(default=0.2) if p.name == "alpha" else p
                                      for p in sig.parameters.values()])

    def __init__(self, alpha=0.2, **kwargs):
        Base.__init__(self, alpha=alpha, **kwargs)
    _override(K, "LeakyReLU", __init__=__init__)
    K.get("layers.LeakyReLU").__signature__ = new_sig


@mutant("shapes", ALL, "layers.PReLU ignores shared_axes: its alpha has the whole input shape",
        items=("layers.PReLU",))
def prelu_ignores_shared_axes(K, v):
    Base = K.get("layers.PReLU")

    def build(self, input_shape):
        documented, self.shared_axes = self.shared_axes, None
        try:
            Base.build(self, input_shape)
        finally:
            self.shared_axes = documented
    _override(K, "PReLU", build=build)


@mutant("numerics", ALL, "layers.ELU ignores alpha (uses 1)", items=("layers.ELU",))
def elu_ignores_alpha(K, v):
    Base = K.get("layers.ELU")

    def call(self, inputs):
        documented, self.alpha = self.alpha, 1.0
        try:
            return Base.call(self, inputs)
        finally:
            self.alpha = documented
    _override(K, "ELU", call=call)


@mutant("numerics", KERAS2, "layers.ThresholdedReLU ignores theta (threshold 0)",
        items=("layers.ThresholdedReLU",))
def thresholded_relu_ignores_theta(K, v):
    def call(self, inputs):
        return ops.relu(inputs)
    _override(K, "ThresholdedReLU", call=call)


@mutant("numerics", ALL, "layers.Softmax normalises over axis 1 whatever its axis",
        items=("layers.Softmax",))
def softmax_wrong_axis(K, v):
    def call(self, inputs, *args, **kwargs):
        return ops.softmax(inputs, axis=1)
    _override(K, "Softmax", call=call)


@mutant("numerics", ALL, "layers.ReLU ignores max_value", items=("layers.ReLU",))
def relu_layer_ignores_max_value(K, v):
    Base = K.get("layers.ReLU")

    def call(self, inputs):
        documented, self.max_value = self.max_value, None
        try:
            return Base.call(self, inputs)
        finally:
            self.max_value = documented
    _override(K, "ReLU", call=call)


@mutant("numerics", ALL, "layers.GaussianNoise adds noise of twice the documented stddev",
        items=("layers.GaussianNoise",))
def gaussian_noise_double_stddev(K, v):
    Base = K.get("layers.GaussianNoise")

    def call(self, inputs, training=None):
        documented, self.stddev = self.stddev, 2 * self.stddev
        try:
            return Base.call(self, inputs, training=training)
        finally:
            self.stddev = documented
    _override(K, "GaussianNoise", call=call)


@mutant("numerics", ALL, "layers.GaussianDropout adds its noise instead of multiplying by it",
        items=("layers.GaussianDropout",))
def gaussian_dropout_additive(K, v):
    Base = K.get("layers.GaussianDropout")

    def call(self, inputs, training=None):
        out = Base.call(self, inputs, training=training)
        return inputs + (out / inputs - 1.0) if training else out
    _override(K, "GaussianDropout", call=call)


@mutant("numerics", ALL, "layers.AlphaDropout sets dropped units to 0 (documented alpha' = -1.7581, "
                                "then the affine correction)", items=("layers.AlphaDropout",))
def alpha_dropout_fills_zero(K, v):
    Base = K.get("layers.AlphaDropout")

    def call(self, inputs, training=None):
        out = Base.call(self, inputs, training=training)
        if not training:
            return out
        from keras_conformance.reference.autodiff import as_tensor
        rate = float(self.rate)
        alpha_p = -1.6732632423543772 * 1.0507009873554805
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        fill = a * alpha_p - a * alpha_p * rate
        data = as_tensor(out).data
        return ops.where(np.isclose(data, fill, rtol=1e-5, atol=1e-6), np.zeros((), data.dtype), out)
    _override(K, "AlphaDropout", call=call)


@mutant("shapes", KERAS2, "Layer.get_output_shape_at returns the output shape of node 0 whatever node_index",
        items=("Layer.get_output_shape_at",))
def get_output_shape_at_first_node(K, v):
    Base = K.get("layers.Dense")

    def get_output_shape_at(self, node_index):
        return Base.get_output_shape_at(self, 0)
    _override(K, "Dense", get_output_shape_at=get_output_shape_at)


@mutant("errors", ("2.2.4",), "layers.Dense called on a rank-1 input flattens nothing and does not raise "
                              "(documented ValueError: InputSpec(min_ndim=2))", items=("layers.Dense",))
def dense_accepts_rank_one(K, v):
    Base = K.get("layers.Dense")

    def __init__(self, *args, **kwargs):
        Base.__init__(self, *args, **kwargs)
        self.input_spec = None

    def build(self, input_shape):
        if len(input_shape) < 2:
            input_shape = tuple(input_shape) + (1,)
        Base.build(self, input_shape)
        self.input_spec = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:1] + (self.units,)
    _override(K, "Dense", __init__=__init__, build=build, compute_output_shape=compute_output_shape)


@mutant("numerics", ALL, "layers.Lambda applies its function twice", items=("layers.Lambda",))
def lambda_applies_twice(K, v):
    Base = K.get("layers.Lambda")

    def call(self, inputs):
        return Base.call(self, Base.call(self, inputs))
    _override(K, "Lambda", call=call)


@mutant("safety", ("3",), "models.load_model rebuilds a Lambda from a file's bytecode without safe_mode=False",
        items=("models.load_model",))
def load_model_runs_lambda_code(K, v):
    pristine = K.get("models.load_model")

    @functools.wraps(pristine)
    def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
        return pristine(filepath, custom_objects=custom_objects, compile=compile, safe_mode=False)
    K.set("models.load_model", load_model)


# --------------------------------------------------------------------------------------------------
# The layer families of the conv / pooling / reshaping / locally-connected pages, one module each: they
# register through `mutant` above, and their factories are re-exported here (`--adapter mutants:NAME`).
# --------------------------------------------------------------------------------------------------
from mutants_convolutional import *  # noqa: E402,F401,F403
from mutants_pooling import *  # noqa: E402,F401,F403
from mutants_reshaping import *  # noqa: E402,F401,F403
from mutants_local import *  # noqa: E402,F401,F403
from mutants_embeddings import *  # noqa: E402,F401,F403
from mutants_normalization import *  # noqa: E402,F401,F403
from mutants_recurrent import *  # noqa: E402,F401,F403
from mutants_wrappers import *  # noqa: E402,F401,F403
from mutants_convolutional_recurrent import *  # noqa: E402,F401,F403
from mutants_cudnn_recurrent import *  # noqa: E402,F401,F403
from mutants_losses import *  # noqa: E402,F401,F403
from mutants_optimizers import *  # noqa: E402,F401,F403
from mutants_activations import *  # noqa: E402,F401,F403
from mutants_training import *  # noqa: E402,F401,F403
from mutants_callbacks import *  # noqa: E402,F401,F403
from mutants_regularizers_constraints import *  # noqa: E402,F401,F403
from mutants_initializers import *  # noqa: E402,F401,F403
from mutants_merge import *  # noqa: E402,F401,F403
from mutants_layer_methods import *  # noqa: E402,F401,F403
