"""The Layer core: naming, weights, configuration, and calling (symbolically or eagerly).

One version-agnostic class; the few places where Keras versions differ read ``self._api_version``,
which the per-version subclasses built by ``reference.surface`` set ("2.2.4", "2.3" or "3"):

- auto-names: 2.x ``dense_1, dense_2, ...`` (``K.get_uid`` starts at 1, seed 002's summary);
  3 ``dense, dense_1, ...``;
- weight names: 2.x ``"dense_1/kernel:0"``; 3 ``"kernel"`` with ``path`` ``"dense/kernel"``;
- which constructor keywords a layer accepts (2.x ``batch_input_shape``/``batch_size``; 3 neither);
- the ``get_config`` layout (3 serialises ``dtype`` as a DTypePolicy dict).

Calling a layer on a ``KerasTensor`` (the result of ``Input``) builds the graph of the functional
API; calling it on an array or autodiff Tensor runs it now and returns a Tensor.
"""
from __future__ import annotations

import functools
import inspect
import re

import numpy as np

from .. import backend, versions
from ..autodiff import Tensor, Variable, as_tensor

__all__ = ["Layer", "InputSpec", "KerasTensor", "Node", "unique_name", "reset_uids",
           "LayerVariable", "serialize_object"]

# --- naming -------------------------------------------------------------------------------------

_UIDS: dict[str, dict[str, int]] = {}


def reset_uids(api_version=None) -> None:
    """Restart auto-naming (what ``K.clear_session()`` does), for one version or all."""
    if api_version is None:
        _UIDS.clear()
    else:
        _UIDS.pop(backend.normalize_version(api_version), None)


def unique_name(prefix: str, api_version) -> str:
    """``prefix_1, prefix_2, ...`` in 2.x; ``prefix, prefix_1, ...`` in 3 (one counter a prefix)."""
    version = backend.normalize_version(api_version)
    counters = _UIDS.setdefault(version, {})
    n = counters.get(prefix, 0)
    counters[prefix] = n + 1
    if not versions.traits(version).names_count_from_one:
        return prefix if n == 0 else f"{prefix}_{n}"
    return f"{prefix}_{n + 1}"


def to_snake_case(name: str) -> str:
    """``Dense`` -> ``dense``, ``GlobalAveragePooling2D`` -> ``global_average_pooling2d``."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


# --- weights ------------------------------------------------------------------------------------

class LayerVariable(Variable):
    """A layer weight: a Variable that also knows its Keras 3 ``path`` (``"dense/kernel"``)."""

    __slots__ = ("path", "regularizer", "constraint")


_KERAS3_MODULES = {"initializers": "keras.initializers", "regularizers": "keras.regularizers",
                   "constraints": "keras.constraints"}


def serialize_object(obj, api_version=None):
    """``None``, a name, or ``{"class_name", "config"}`` for initializers, regularizers, ...
    (the Keras 2 ``serialize_keras_object`` layout). Keras 3 (``api_version="3"``) writes
    ``{"module", "class_name", "config", "registered_name"}`` as keras 3.15's
    ``serialization_lib.serialize_keras_object`` does: ``module`` the public one
    (``keras.initializers``) and ``registered_name`` None for built-ins, the object's own module
    and class name for anything else."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if hasattr(obj, "get_config"):
        out = {"class_name": type(obj).__name__, "config": obj.get_config()}
        if api_version == "3":
            own = type(obj).__module__
            public = _KERAS3_MODULES.get(own.rsplit(".", 1)[-1]) \
                if own.startswith("keras_conformance.reference.") else None
            out = {"module": public or own, **out,
                   "registered_name": None if public else type(obj).__name__}
        return out
    name = getattr(obj, "__name__", None)
    if name is not None:
        return name
    raise ValueError(f"Cannot serialize {obj!r}: it is neither a name nor has get_config().")


def _regularizer(identifier, api_version):
    """``regularizers.get`` of the version (a name, a config dict or an instance; None stays None)."""
    if identifier is None:
        return None
    from .. import regularizers
    return regularizers.get(identifier, api_version=api_version)


def _shape_tuple(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


# --- symbolic tensors and the graph ------------------------------------------------------------

class KerasTensor:
    """A symbolic tensor of the functional API: a shape (batch dimension ``None``), a dtype, and
    ``_keras_history = (layer, node_index, tensor_index)`` saying which layer call produced it."""

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = _shape_tuple(shape)
        self.dtype = str(dtype)
        self.name = name
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


class Node:
    """One call of ``layer`` on ``input_tensors`` giving ``output_tensors`` (Keras' Node)."""

    def __init__(self, layer, input_tensors, output_tensors, call_kwargs=None):
        self.layer = layer
        self.input_tensors = list(input_tensors)
        self.output_tensors = list(output_tensors)
        self.call_kwargs = dict(call_kwargs or {})

    @property
    def inbound_layers(self):
        return [t._keras_history[0] for t in self.input_tensors]


def _is_symbolic(inputs) -> bool:
    if isinstance(inputs, KerasTensor):
        return True
    if isinstance(inputs, (list, tuple)) and inputs:
        return all(isinstance(t, KerasTensor) for t in inputs)
    return False


class InputSpec:
    """What a layer accepts (Keras' InputSpec, the parts the reference checks): ``ndim``,
    ``min_ndim``, ``axes`` ({axis: size})."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None):
        self.dtype = dtype
        self.shape = shape
        self.ndim = len(shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, layer, shape) -> None:
        """ValueError naming the layer when ``shape`` does not fit this spec."""
        name = layer.name
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"Input 0 is incompatible with layer {name}: expected ndim={self.ndim}, "
                             f"found ndim={len(shape)}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(f"Input 0 is incompatible with layer {name}: expected "
                             f"min_ndim={self.min_ndim}, found ndim={len(shape)}")
        for axis, size in self.axes.items():
            if size is not None and shape[axis] is not None and shape[axis] != size:
                raise ValueError(
                    f"Input 0 is incompatible with layer {name}: expected axis {axis} of input "
                    f"shape to have value {size} but got shape {tuple(shape)}")

    def __repr__(self):
        return f"InputSpec(ndim={self.ndim}, min_ndim={self.min_ndim}, axes={self.axes})"


# --- the Layer ----------------------------------------------------------------------------------



def _parameters(call) -> frozenset:
    """The parameter names of a layer's ``call`` (what Keras passes it: training, mask, ...), looked up
    once per function: every forward pass of every layer asks."""
    return _function_parameters(getattr(call, "__func__", call))


@functools.lru_cache(maxsize=None)
def _function_parameters(fn) -> frozenset:
    return frozenset(inspect.signature(fn).parameters)


class Layer:
    """The base of every layer (Keras ``Layer``)."""

    _api_version = "3"  # set by the per-version subclass (reference.surface)

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None, **kwargs):
        version = self._api_version
        traits = versions.traits(version)
        for key in kwargs:
            if key not in traits.layer_kwargs:
                if traits.unknown_kwarg_error is ValueError:
                    raise ValueError(f"Unrecognized keyword arguments passed to "
                                     f"{type(self).__name__}: {{{key!r}: {kwargs[key]!r}}}")
                raise TypeError(f"Keyword argument not understood: {key!r} "
                                f"(passed to {type(self).__name__})")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string, got {name!r}")
        self.name = name or unique_name(self._name_prefix(), version)
        self.trainable = bool(trainable)
        self.dtype = str(dtype or kwargs.get("input_dtype") or backend.floatx())
        self.activity_regularizer = _regularizer(activity_regularizer, version)
        self._activity_losses: list = []
        self.built = False
        self.input_spec = None
        self.supports_masking = False
        self._trainable_weights: list[LayerVariable] = []
        self._non_trainable_weights: list[LayerVariable] = []
        self._inbound_nodes: list[Node] = []
        self._initial_weights = kwargs.get("weights")

        batch_input_shape = None
        if "input_dim" in kwargs and kwargs["input_dim"] is not None:
            kwargs.setdefault("input_shape", (kwargs["input_dim"],))
        if kwargs.get("batch_input_shape") is not None:
            batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif kwargs.get("input_shape") is not None:
            input_shape = kwargs["input_shape"]
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            batch_input_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        self._batch_input_shape = None if batch_input_shape is None else _shape_tuple(batch_input_shape)

    @classmethod
    def _name_prefix(cls) -> str:
        return to_snake_case(cls.__name__)

    # -- weights --
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None):
        """Create, track and return a weight, named as this version of Keras names it."""
        from .core import _get
        shape = _shape_tuple(shape or ())
        init = _get("initializers", initializer if initializer is not None else "glorot_uniform",
                    self._api_version)
        value = np.asarray(init(shape, dtype=dtype or self.dtype), dtype=dtype or self.dtype)
        if versions.traits(self._api_version).scoped_weight_names:
            var_name = f"{self.name}/{name}:0"
        else:
            var_name = name
        var = LayerVariable(value, name=var_name, trainable=trainable, dtype=dtype or self.dtype)
        var.path = f"{self.name}/{name}"
        var.regularizer = regularizer
        var.constraint = constraint
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        return var

    @property
    def trainable_weights(self):
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def weights(self):
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @property
    def variables(self):
        return self.weights

    @property
    def losses(self):
        """The regularization penalties of this layer's weights, then those of its activity in its most
        recent call, as scalar Tensors.

        The engine adds ``model.losses`` to the objective right after the forward pass, so the activity
        penalty is the one of the batch being trained or evaluated. A layer shared by several nodes of
        one model contributes only its last call's penalty (nothing tells it that a new pass starts)."""
        weights = [var.regularizer(var) for var in self.weights if var.regularizer is not None]
        return weights + list(self._activity_losses)

    def _activity_penalties(self, outputs) -> list:
        """The activity regularizer on each output: 2.x adds it as it is (keras 2.2.4 / 2.3.1
        engine/base_layer.py ``Layer.__call__``: one penalty per output); keras 3 divides each by its
        output's batch size (keras 3.15 layers/layer.py ``Layer.__call__``, ``divide_no_nan``: an empty
        batch gives 0)."""
        out = []
        for value in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            if not isinstance(value, Tensor):
                continue
            penalty = self.activity_regularizer(value)
            if self._api_version == "3" and value.ndim > 0:
                batch = value.shape[0]
                penalty = (penalty / np.asarray(batch, dtype=penalty.dtype) if batch
                           else penalty * np.zeros((), dtype=penalty.dtype))
            out.append(penalty)
        return out

    def get_weights(self):
        return [np.array(w.data, copy=True) for w in self.weights]

    def set_weights(self, weights):
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer \"{self.name}\" with a weight list of "
                f"length {len(weights)}, but the layer was expecting {len(params)} weights.")
        for var, value in zip(params, weights):
            value = np.asarray(value)
            if tuple(var.shape) != tuple(value.shape):
                raise ValueError(f"Layer weight shape {tuple(var.shape)} not compatible with "
                                 f"provided weight shape {tuple(value.shape)}")
        for var, value in zip(params, weights):
            var.assign(np.asarray(value, dtype=var.dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer {self.name}, but the layer "
                             "isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # -- building and calling --
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            if self.input_spec is not None:
                self.input_spec.check(self, input_shape)
            self.build(input_shape)
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
                self._initial_weights = None
        elif self.input_spec is not None:
            self.input_spec.check(self, input_shape)

    def call(self, inputs, training=None):
        return inputs

    def _rng(self):
        """The generator of a random layer's draws (Dropout, a recurrent cell's dropout): seeded once from
        its ``seed`` so that successive calls draw afresh, as Keras' seeded ops and SeedGenerator do; the
        global one when ``seed`` is None."""
        if getattr(self, "seed", None) is None:
            return backend.rng()
        if getattr(self, "_generator", None) is None:
            self._generator = np.random.default_rng(int(self.seed))
        return self._generator

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_mask(self, inputs, mask=None):
        """The mask of the output: the input's mask passed on by a layer that supports masking (for
        several inputs, the steps every input keeps); None otherwise. In keras 2 a mask reaching a layer
        that does not support masking is a TypeError (``versions.Traits.mask_refused``)."""
        if isinstance(mask, (list, tuple)):
            given = [np.asarray(m.data if isinstance(m, Tensor) else m, dtype=bool) for m in mask if m is not None]
            if not given:
                return None
            mask = np.logical_and.reduce(given) if len(given) > 1 else given[0]
        if mask is not None and not self.supports_masking and versions.traits(self._api_version).mask_refused:
            raise TypeError(f"Layer {self.name} does not support masking, but was passed an input_mask: {mask!r}")
        if mask is None or not self.supports_masking:
            return None
        return mask

    def _call_takes_training(self) -> bool:
        return "training" in _parameters(self.call)

    def _call_takes(self, name: str) -> bool:
        return name in _parameters(self.call)

    def _run(self, inputs, training=None, mask=None):
        """Eager forward pass on Tensors (the layer must accept their shapes). The input's mask (from a
        Masking layer upstream) goes to a ``call`` that takes ``mask``, as Keras passes it."""
        shape = ([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple))
                 else tuple(inputs.shape))
        self._maybe_build(shape)
        kwargs = {}
        if self._call_takes_training():
            kwargs["training"] = training
        if mask is not None and self._call_takes("mask"):
            kwargs["mask"] = mask
        outputs = self.call(inputs, **kwargs)
        if self.activity_regularizer is not None:
            self._activity_losses = self._activity_penalties(outputs)
        return outputs

    def __call__(self, inputs, training=None, **kwargs):
        if _is_symbolic(inputs):
            return self._call_symbolic(inputs, training=training, **kwargs)
        if isinstance(inputs, (list, tuple)):
            inputs = [as_tensor(np.asarray(x, dtype=self.dtype) if not isinstance(x, Tensor) else x)
                      for x in inputs]
        elif not isinstance(inputs, Tensor):
            inputs = as_tensor(np.asarray(inputs, dtype=self.dtype))
        return self._run(inputs, training=training)

    def _call_symbolic(self, inputs, training=None, **kwargs):
        if isinstance(inputs, (list, tuple)):
            in_shapes = [t.shape for t in inputs]
        else:
            in_shapes = inputs.shape
        self._maybe_build(in_shapes)
        out_shapes = self.compute_output_shape(in_shapes)
        multi = isinstance(out_shapes, list)
        shapes = out_shapes if multi else [out_shapes]
        node_index = len(self._inbound_nodes)
        outputs = [KerasTensor(s, dtype=self.dtype, name=f"{self.name}/{node_index}_{i}",
                               history=(self, node_index, i)) for i, s in enumerate(shapes)]
        in_list = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        self._inbound_nodes.append(Node(self, in_list, outputs,
                                        {"training": training} if training is not None else {}))
        return outputs if multi else outputs[0]

    # node accessors used by models and summaries
    @property
    def input(self):
        return self._node_attr("input_tensors", "input")

    @property
    def output(self):
        return self._node_attr("output_tensors", "output")

    @property
    def input_shape(self):
        value = self.input
        return [t.shape for t in value] if isinstance(value, list) else value.shape

    @property
    def output_shape(self):
        value = self.output
        return [t.shape for t in value] if isinstance(value, list) else value.shape

    def get_input_at(self, node_index):
        """The input tensor(s) of call number ``node_index`` (seed 003; keras 2 only)."""
        return self._node_attr("input_tensors", "input", node_index)

    def get_output_at(self, node_index):
        return self._node_attr("output_tensors", "output", node_index)

    def get_input_shape_at(self, node_index):
        value = self.get_input_at(node_index)
        return [t.shape for t in value] if isinstance(value, list) else value.shape

    def get_output_shape_at(self, node_index):
        value = self.get_output_at(node_index)
        return [t.shape for t in value] if isinstance(value, list) else value.shape

    def _node_attr(self, attr, what, node_index=0):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to return.")
        if not isinstance(node_index, int) or not 0 <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index!r}, but the layer {self.name} has "
                             f"only {len(self._inbound_nodes)} inbound nodes.")
        tensors = getattr(self._inbound_nodes[node_index], attr)
        return tensors[0] if len(tensors) == 1 else list(tensors)

    # -- configuration --
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if versions.traits(self._api_version).dtype_policy_config:
            config["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                               "config": {"name": self.dtype}, "registered_name": None}
        else:
            if self._batch_input_shape is not None:
                config["batch_input_shape"] = self._batch_input_shape
            config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if versions.traits(cls._api_version).dtype_policy_config and isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
