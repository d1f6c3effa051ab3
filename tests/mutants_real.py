"""Mutants of a *real* Keras: keras 3 on jax with one documented behaviour broken, in its own process.

tests/mutants.py breaks copies of the reference; that shows the suite catches a broken implementation
that happens to be built like the reference. These break keras 3 itself, so the suite is shown to catch a
broken real implementation through the same public API a third party's library offers:

    PYTHONPATH=tests python3 -m pytest conformance --adapter mutants_real:keras3_dense_bias_ignored

Each kill runs in a fresh pytest process (tests/test_mutants.py), and the patch lives only there: the
oracle is the reference, which the patch never touches. The adapter is keras3-jax with keras3-jax's own
expectations file, so a deviation keras 3 already has is still declared and cannot pass for a kill.

``REAL_MUTANTS = {name: (category, description, items, factory)}``.
"""
from __future__ import annotations

from keras_conformance.adapters import expectations_path
from keras_conformance.adapters.keras3 import Keras3Adapter

BACKEND = "jax"

#: name -> (category, description, the documented items whose checks must catch it, factory)
REAL_MUTANTS: dict[str, tuple[str, str, tuple[str, ...], object]] = {}
#: (mutant, version) -> why the suite does not catch it (none known)
REAL_SURVIVORS: dict[tuple[str, str], str] = {}


def real_adapter_name() -> str:
    """The built-in adapter these mutants are patched copies of (its expectations apply to them)."""
    return f"keras3-{BACKEND}"


class RealKerasMutant(Keras3Adapter):
    """keras 3 on jax, patched once in this process when keras is first loaded."""

    def __init__(self, name: str, patch):
        super().__init__(BACKEND)
        self.name = f"mutants_real:{name}"
        self.mutant = name
        self._patch = patch
        self.expectations_file = expectations_path(real_adapter_name())
        self._patched = False

    def load_keras(self):
        keras = super().load_keras()
        if not self._patched:
            self._patch(keras)
            self._patched = True
        return keras

    @property
    def version_string(self) -> str:
        return f"mutant {self.mutant!r} of {super().version_string}"


def real_mutant(category: str, description: str, items: tuple[str, ...]):
    def register(patch):
        name = patch.__name__
        if name in REAL_MUTANTS:
            raise ValueError(f"real-Keras mutant {name!r} is registered twice")

        def factory():
            return RealKerasMutant(name, patch)
        factory.__name__ = factory.__qualname__ = name
        factory.__doc__ = description
        REAL_MUTANTS[name] = (category, description, tuple(items), factory)
        return factory
    return register


def _replace_code(function, replacement):
    """Give ``function`` the body of ``replacement``, in place: every alias of it (keras.losses, the table
    keras.losses.get reads, the loss class that calls it by its module's name) then runs the new body."""
    function.__code__ = replacement.__code__


@real_mutant("numerics", "Dense leaves out its bias (output = activation(x . kernel))", ("layers.Dense",))
def keras3_dense_bias_ignored(keras):
    from keras.src.layers.core.dense import Dense
    ops = keras.ops

    def call(self, inputs, training=None):
        x = ops.matmul(inputs, self.kernel)
        return self.activation(x) if self.activation is not None else x
    Dense.call = call


@real_mutant("signatures", "LeakyReLU's negative_slope defaults to 0.2 (documented: 0.3)", ("layers.LeakyReLU",))
def keras3_leaky_relu_default_slope(keras):
    from keras.src.layers.activations.leaky_relu import LeakyReLU
    original = LeakyReLU.__init__

    def __init__(self, negative_slope=0.2, **kwargs):
        original(self, negative_slope=negative_slope, **kwargs)
    LeakyReLU.__init__ = __init__


@real_mutant("numerics", "mean_squared_error sums the squared errors over the last axis instead of averaging",
             ("losses.mean_squared_error",))
def keras3_mse_sums(keras):
    from keras.src.losses import losses

    def mean_squared_error(y_true, y_pred):      # runs with keras.src.losses.losses' globals
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.convert_to_tensor(y_true, dtype=y_pred.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)  # noqa: F821
        return ops.sum(ops.square(y_true - y_pred), axis=-1)               # noqa: F821
    _replace_code(losses.mean_squared_error, mean_squared_error)


@real_mutant("roundtrips", "Dense.get_config drops the use_bias key", ("layers.Dense",))
def keras3_dense_config_drops_use_bias(keras):
    from keras.src.layers.core.dense import Dense
    original = Dense.get_config

    def get_config(self):
        config = original(self)
        config.pop("use_bias", None)
        return config
    Dense.get_config = get_config


@real_mutant("errors", "Dropout takes a rate outside [0, 1) without the documented ValueError", ("layers.Dropout",))
def keras3_dropout_rate_unchecked(keras):
    from keras.src.layers.regularization.dropout import Dropout
    original = Dropout.__init__

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        original(self, 0.5, noise_shape=noise_shape, seed=seed, **kwargs)
        self.rate = rate
    Dropout.__init__ = __init__
