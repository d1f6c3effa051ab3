"""Sequential: a linear stack of layers, built as soon as the input shape is known.

The input shape comes from the first layer's ``input_shape`` / ``input_dim`` / ``batch_input_shape``
/ ``batch_size`` keywords (seed 002), from an ``Input`` placed first (Keras 3), from
``build(input_shape)``, or, deferred, from the first data the model sees.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np

from ..layers.base import KerasTensor, Layer
from .training import Model

__all__ = ["Sequential"]


class Sequential(Model):
    """``Sequential(layers=None, name=None)``; ``add(layer)``, ``pop()``."""

    _name_prefix_by_version = {"2.2.4": "sequential", "2.3": "sequential", "3": "sequential"}

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []       # the layers, InputLayer excluded
        self._input_layer = None
        self._build_input_shape = None
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    def _default_prefix(self):
        if type(self).__name__ == "Sequential":
            return "sequential"
        return super()._default_prefix()

    @property
    def layers(self):
        return list(self._stack)

    def add(self, layer):
        """Append a layer (or, first, an ``Input``) and connect it if the input shape is known."""
        from ..layers.core import InputLayer
        if isinstance(layer, KerasTensor):
            origin = layer._keras_history[0]
            if not isinstance(origin, InputLayer) or self._stack or self._input_layer:
                raise TypeError("Only an `Input` tensor can be added to a Sequential model, and "
                                f"only first. Received: {layer!r}")
            self._input_layer = origin
            self._rebuild()
            return
        if not isinstance(layer, Layer):
            raise TypeError("The added layer must be an instance of class Layer. "
                            f"Found: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer:
                raise ValueError("An InputLayer can only be the first layer of a Sequential.")
            self._input_layer = layer
            self._rebuild()
            return
        if any(l.name == layer.name for l in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name \"{layer.name}\" is already the name of a layer in this model.")
        if not self._stack and self._input_layer is None:
            batch_shape = self._input_shape_of(layer)
            if batch_shape is not None:
                self._input_layer = self._make_input_layer(batch_shape, layer)
        self._stack.append(layer)
        if self._input_layer is not None:
            if self.outputs:
                out = layer(self.outputs[0])
                if isinstance(out, list):
                    raise TypeError("All layers in a Sequential model should have a single "
                                    "output tensor.")
                self._init_graph(self.inputs[0], out)
            else:
                self._rebuild()

    def _input_shape_of(self, layer):
        """The batch input shape ``layer`` declares, or None. 2.x looks through a model added first (a
        Sequential or a functional Model) to its own input, or to the shape its first layer declares
        (keras 2.2.4 / 2.3.1 engine/sequential.py add)."""
        from .functional import Network
        while self._api_version != "3" and isinstance(layer, Network):
            if layer.inputs:
                return tuple(layer.inputs[0].shape)
            members = layer.layers
            if not members:
                return None
            layer = members[0]
        return layer._batch_input_shape

    def _make_input_layer(self, batch_shape, first_layer=None, dtype=None):
        from .. import versions
        K = versions.classes(self._api_version)
        name = None
        if first_layer is not None and self._api_version != "3":
            name = first_layer.name + "_input"
        return K.layers.InputLayer(batch_input_shape=tuple(batch_shape), name=name,
                                   dtype=dtype or (first_layer.dtype if first_layer else None)) \
            if self._api_version != "3" else \
            K.layers.InputLayer(batch_shape=tuple(batch_shape), name=name)

    def pop(self):
        """Remove the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        if self._input_layer is not None and (self._stack or self._api_version == "3"):
            self._rebuild()
        elif not self._stack:
            if self._api_version != "3":
                self._input_layer = None
            self.inputs, self.outputs, self._layers, self._nodes = [], [], [], []
            self._is_graph_network = False
            self.built = False
        return layer

    def _rebuild(self):
        """Connect the stack from the input layer (new nodes; the layers keep their weights)."""
        x = self._input_layer._inbound_nodes[0].output_tensors[0]
        inputs = x
        for layer in self._stack:
            x = layer(x)
            if isinstance(x, list):
                raise TypeError("All layers in a Sequential model should have a single output "
                                "tensor.")
        self._init_graph(inputs, x)

    def _init_graph(self, inputs, outputs):
        super()._init_graph(inputs, outputs)
        # The graph's layer list includes the InputLayer; Sequential.layers excludes it.
        self._is_graph_network = True

    def build(self, input_shape=None):
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument.")
            return
        self._build_input_shape = tuple(input_shape)
        if self._input_layer is None:
            first = self._stack[0] if self._stack else None
            self._input_layer = self._make_input_layer(tuple(input_shape), first)
        self._rebuild()
        self.built = True

    def _ensure_graph(self, xs):
        if self._input_layer is None and self._stack:
            shape = (None,) + tuple(xs[0].shape[1:])
            # built from its first batch: 2.x records it (Model._set_inputs -> Sequential.build), so that
            # get_config / from_config rebuild the model (keras 2.2.4 / 2.3.1 engine/training.py)
            self._build_input_shape = shape
            self._input_layer = self._make_input_layer(shape, self._stack[0],
                                                       dtype=str(xs[0].dtype))
            self._rebuild()
            if self._is_compiled:
                self._resolve_compile()
        if not self._stack:
            raise TypeError("The model has no layers: add layers before using it.")

    def _all_layers(self):
        return list(self._stack)

    # -- seed 002's class predictions (2.x Sequential) --
    def predict_proba(self, x, batch_size=32, verbose=1):
        """The outputs, read as class probabilities: a warning when they leave [0, 1]."""
        probabilities = self.predict(x, batch_size=batch_size, verbose=verbose)
        if np.min(probabilities) < 0.0 or np.max(probabilities) > 1.0:
            warnings.warn("Network returning invalid probability values: the last layer might not normalize "
                          "its outputs into probabilities (as softmax or sigmoid would).")
        return probabilities

    def predict_classes(self, x, batch_size=32, verbose=1):
        """The most probable class of each sample; with one output unit, whether it exceeds 0.5."""
        probabilities = self.predict(x, batch_size=batch_size, verbose=verbose)
        if probabilities.shape[-1] > 1:
            return np.argmax(probabilities, axis=-1)
        return (probabilities > 0.5).astype("int32")

    def get_config(self):
        from .serialization import serialize_layer
        layer_configs = []
        if self._api_version == "3" and self._input_layer is not None:
            layer_configs.append(serialize_layer(self._input_layer))
        layer_configs += [serialize_layer(layer) for layer in self._stack]
        if self._api_version == "3":
            config = {"name": self.name, "trainable": self.trainable,
                      "dtype": {"module": "keras", "class_name": "DTypePolicy",
                                "config": {"name": self.dtype}, "registered_name": None},
                      "layers": copy.deepcopy(layer_configs)}
            if self._input_layer is not None:
                config["build_input_shape"] = self._input_layer.batch_shape
            return config
        config = {"name": self.name, "layers": copy.deepcopy(layer_configs)}
        if self._build_input_shape:
            config["build_input_shape"] = self._build_input_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .serialization import deserialize_layer
        if isinstance(config, list):   # Keras < 2.2.3 layout: the list of layers
            config = {"layers": config}
        model = cls(name=config.get("name"))
        for entry in config["layers"]:
            model.add(deserialize_layer(entry, cls._api_version, custom_objects))
        if not model.inputs and config.get("build_input_shape"):
            model.build(config["build_input_shape"])
        return model
