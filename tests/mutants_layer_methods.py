"""Mutants of what every layer has (spec/layers/base.yaml, seed 003 "about Keras layers"): the base class's
keyword arguments, get_config, get_weights / set_weights, count_params and the node accessors of a shared
layer, and layers.Input (registered through mutants.mutant).

The reference's layer classes inherit these methods from its base Layer; a mutant overrides one of them in
the layer class whose checks exercise it (Dense for the node accessors, count_params and the config;
BatchNormalization, which has non-trainable weights, for get_weights / set_weights), as a slip in the base
class would show in that class.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from mutants import ALL, KERAS2, _override, mutant


# -- the node accessors and count_params (conformance/test_shapes.py test_layer_nodes: Dense(3) shared by
#    two calls, on Input((4,)) and on Input((2, 4))) ----------------------------------------------------------
@mutant("shapes", ALL, "Layer.count_params of a shared layer counts its weights once per call (30 for a "
        "Dense(3) on 4 features called twice), documented the number of scalars in its weights (15)",
        items=("Layer.count_params",))
def count_params_per_call(K, v):
    Base = K.get("layers.Dense")

    def count_params(self):
        return Base.count_params(self) * max(1, len(self._inbound_nodes))
    _override(K, "Dense", count_params=count_params)


@mutant("shapes", KERAS2, "Layer.get_input_at counts node_index from 1: get_input_at(1) is the first call's "
        "input, and get_input_at(0) wraps round to the last call's", items=("Layer.get_input_at",))
def get_input_at_counts_from_one(K, v):
    def get_input_at(self, node_index):
        tensors = self._inbound_nodes[node_index - 1].input_tensors
        return tensors[0] if len(tensors) == 1 else list(tensors)
    _override(K, "Dense", get_input_at=get_input_at)


@mutant("shapes", KERAS2, "Layer.get_output_at returns the output of the layer's most recent call whatever "
        "node_index", items=("Layer.get_output_at",))
def get_output_at_last_call(K, v):
    Base = K.get("layers.Dense")

    def get_output_at(self, node_index):
        return Base.get_output_at(self, len(self._inbound_nodes) - 1)
    _override(K, "Dense", get_output_at=get_output_at)


@mutant("shapes", KERAS2, "Layer.get_input_shape_at leaves out the batch axis: (4,) for an input of shape "
        "(None, 4)", items=("Layer.get_input_shape_at",))
def get_input_shape_at_without_batch(K, v):
    Base = K.get("layers.Dense")

    def get_input_shape_at(self, node_index):
        shape = Base.get_input_shape_at(self, node_index)
        return [tuple(s)[1:] for s in shape] if isinstance(shape, list) else tuple(shape)[1:]
    _override(K, "Dense", get_input_shape_at=get_input_shape_at)


# -- weights: a layer with non-trainable weights (BatchNormalization's moving mean and variance) -------------
@mutant("shapes", ALL, "Layer.get_weights lists only the trainable weights: BatchNormalization's moving_mean "
        "and moving_variance are left out", items=("Layer.get_weights", "layers.BatchNormalization"))
def get_weights_trainable_only(K, v):
    def get_weights(self):
        return [np.array(w.data, copy=True) for w in self.trainable_weights]
    _override(K, "BatchNormalization", get_weights=get_weights)


@mutant("numerics", ALL, "Layer.set_weights assigns the arrays to the trainable weights only (zip with "
        "trainable_weights): BatchNormalization's moving_mean and moving_variance keep their initial values",
        items=("Layer.set_weights", "layers.BatchNormalization"))
def set_weights_trainable_only(K, v):
    def set_weights(self, weights):
        for var, value in zip(self.trainable_weights, weights):
            var.assign(np.asarray(value, dtype=var.dtype))
    _override(K, "BatchNormalization", set_weights=set_weights)


# -- the configuration: the base keys every layer's config holds, and the base keyword arguments -------------
@mutant("roundtrips", ALL, "Layer.get_config leaves out the base key `trainable` (documented with name and "
        "dtype in every layer's config)", items=("Layer.get_config", "layers.Dense"))
def get_config_without_trainable(K, v):
    Base = K.get("layers.Dense")

    def get_config(self):
        config = Base.get_config(self)
        config.pop("trainable", None)
        return config
    _override(K, "Dense", get_config=get_config)


@mutant("roundtrips", ALL, "the base Layer's `name` keyword argument (every layer accepts it) is ignored: a Dense "
        "built with name=..., or rebuilt from its config, gets an automatic name",
        items=("layers.Layer", "layers.Dense"))
def layer_name_argument_ignored(K, v):
    Base = K.get("layers.Dense")

    def __init__(self, *args, **kwargs):
        kwargs.pop("name", None)
        Base.__init__(self, *args, **kwargs)
    _override(K, "Dense", __init__=__init__)


# -- layers.Input ------------------------------------------------------------------------------------------
@mutant("numerics", ALL, "layers.Input(batch_shape=...) drops the batch size (the input's batch dimension is "
        "None), so a stateful recurrent layer on it cannot keep its states",
        items=("layers.Input", "layers.SimpleRNN"))
def input_batch_shape_drops_batch_size(K, v):
    pristine = K.get("layers.Input")
    sig = inspect.signature(pristine)

    @functools.wraps(pristine)
    def Input(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        batch_shape = bound.arguments.pop("batch_shape", None)
        if batch_shape is not None:
            bound.arguments["shape"] = tuple(batch_shape)[1:]
        return pristine(*bound.args, **bound.kwargs)
    K.set("layers.Input", Input)
    K.module.Input = Input                  # the top-level alias keras.Input
