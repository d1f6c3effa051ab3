"""What differs between the documented Keras versions, as data, and the registry of per-version classes.

The core (layers/, engine/, saving/) is version-agnostic: what it needs to know about a version is a
field of ``traits(version)`` (one table, instead of ``if version == "3"`` branches), and the per-version
classes it must instantiate (``K.layers.InputLayer`` when a Sequential adds its input, the class named in
a saved config, ``K.optimizers.SGD`` for ``compile(optimizer="sgd")``) come from ``classes(version)``: a
provider that the versioned surface (namespace.py) registers when it is imported. The core never
imports the surface built on top of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["KERAS_VERSION", "Traits", "TRAITS", "traits", "register_classes", "classes"]

@dataclass(frozen=True)
class Traits:
    """How one Keras version behaves where versions differ (each field sourced where it is used)."""
    keras_version: str
    #: auto-names count from 1 (``dense_1, dense_2``; keras 2 K.get_uid) or start bare (``dense, dense_1``)
    names_count_from_one: bool
    #: weight names carry the layer scope and a tensor index (``dense_1/kernel:0``, keras 2) or are bare
    scoped_weight_names: bool
    #: ``get_config()["dtype"]`` is a DTypePolicy config (keras 3) or a dtype string (keras 2)
    dtype_policy_config: bool
    #: the keyword arguments every layer accepts (keras 2 base_layer allowed_kwargs; keras 3 Layer.__init__)
    layer_kwargs: frozenset
    #: the exception an unknown layer keyword raises (keras 2 TypeError; keras 3 ValueError)
    unknown_kwarg_error: type
    #: the auto-name prefix of an InputLayer
    input_layer_prefix: str
    #: a mask reaching a layer that does not support masking is a TypeError (keras 2 base_layer
    #: compute_mask: "Layer ... does not support masking, but was passed an input_mask"); keras 3 drops it
    mask_refused: bool = False


_KERAS2_LAYER_KWARGS = frozenset({"input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
                                  "weights", "input_dtype"})

TRAITS = {
    "2.2.4": Traits("2.2.4", True, True, False, _KERAS2_LAYER_KWARGS, TypeError, "input", True),
    "2.3": Traits("2.3.1", True, True, False, _KERAS2_LAYER_KWARGS, TypeError, "input", True),
    "3": Traits("3.15.1", False, False, True,
                frozenset({"input_shape", "input_dim", "dtype", "name", "trainable", "autocast"}), ValueError,
                "input_layer"),
}


#: The Keras release each documented API version is (the marker written into save files, ``__version__``):
#: defined here once, as a trait.
KERAS_VERSION = {v: t.keras_version for v, t in TRAITS.items()}


def traits(version: str) -> Traits:
    from .backend import normalize_version
    return TRAITS[normalize_version(version)]


_PROVIDER: list[Callable[[str], Any]] = []


def register_classes(provider: Callable[[str], Any]) -> None:
    """Called once by the versioned surface: ``provider(version)`` -> its namespace (``.layers``,
    ``.models``, ``.optimizers``, ...)."""
    _PROVIDER[:] = [provider]


def classes(version: str) -> Any:
    """The per-version classes (the namespace of ``version``), through the registered provider."""
    if not _PROVIDER:
        raise RuntimeError("no per-version classes are registered: import keras_conformance.reference "
                           "(its namespace module registers them)")
    from .backend import normalize_version
    return _PROVIDER[0](normalize_version(version))
