"""Core layers: InputLayer / Input, Dense, Activation, Dropout, Flatten, Reshape.

Forward math only, on autodiff Tensors; gradients come from the primitives' VJPs.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autodiff import Tensor, as_tensor, ops
from .base import InputSpec, KerasTensor, Layer, Node, _shape_tuple, serialize_object

__all__ = ["InputLayer", "Input", "Dense", "Activation", "Dropout", "Flatten", "Reshape"]


def _get_activation(identifier, api_version):
    from .. import activations
    if identifier is None:
        identifier = "linear"
    return activations.get(identifier, api_version=api_version)


def _activation_name(fn):
    from .. import activations
    return activations.serialize(fn)


def _get(module_name, identifier, api_version):
    """``initializers.get`` / ``regularizers.get`` / ``constraints.get`` (None stays None)."""
    if identifier is None:
        return None
    import importlib
    import inspect
    module = importlib.import_module(f"{__package__.rsplit('.', 1)[0]}.{module_name}")
    if "api_version" in inspect.signature(module.get).parameters:
        return module.get(identifier, api_version=api_version)
    return module.get(identifier)


def _check_positive_int(value, arg, layer):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Received an invalid value for `{arg}` of {layer}: expected a positive "
                         f"integer, got {value!r}.")
    return int(value)


# --- Input -------------------------------------------------------------------------------------

class InputLayer(Layer):
    """The layer behind ``Input``: it has no weights and one output, a KerasTensor."""

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None,
                 input_tensor=None, sparse=False, name=None, shape=None, batch_shape=None,
                 ragged=False, tensor=None, optional=False, **kwargs):
        version = self._api_version
        if name is None:
            from .base import unique_name
            name = unique_name("input_layer" if version == "3" else "input", version)
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if shape is not None and batch_shape is not None:
            raise ValueError("Only provide the `shape` OR `batch_shape` argument to InputLayer, "
                             "not both at the same time.")
        if shape is None and batch_shape is None:
            raise ValueError("An Input layer should be passed either a `batch_shape` or a `shape` "
                             "(`batch_input_shape` or `input_shape` in Keras 2).")
        if batch_shape is None:
            if isinstance(shape, numbers.Integral):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self._batch_input_shape = _shape_tuple(batch_shape)
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.optional = bool(optional)
        self.is_placeholder = True
        self.built = True
        output = KerasTensor(self._batch_input_shape, dtype=self.dtype, name=self.name,
                             history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, [], [output]))

    @property
    def batch_shape(self):
        return self._batch_input_shape

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        if self._api_version == "3":
            return {"batch_shape": self._batch_input_shape, "dtype": self.dtype,
                    "sparse": self.sparse, "ragged": self.ragged, "name": self.name,
                    "optional": self.optional}
        return {"batch_input_shape": self._batch_input_shape, "dtype": self.dtype,
                "sparse": self.sparse, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def Input(shape=None, batch_size=None, name=None, dtype=None, sparse=False, tensor=None,
          batch_shape=None, ragged=False, optional=False, *, _input_layer_class=InputLayer, **kwargs):
    """``Input(shape=(32,))``: the KerasTensor a functional model starts from (seed 001)."""
    if shape is None and batch_shape is None and kwargs.get("batch_input_shape") is None:
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` argument. "
                         "Note that `shape` does not include the batch dimension.")
    if kwargs.get("batch_input_shape") is not None:
        batch_shape = kwargs.pop("batch_input_shape")
    layer = _input_layer_class(shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                               sparse=sparse, batch_shape=batch_shape, ragged=ragged,
                               tensor=tensor, optional=optional, **kwargs)
    return layer._inbound_nodes[0].output_tensors[0]


# --- Dense -------------------------------------------------------------------------------------

class Dense(Layer):
    """``output = activation(dot(input, kernel) + bias)``; kernel ``(input_dim, units)``, bias
    ``(units,)``."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        if "input_dim" in kwargs and self._api_version != "3":
            input_dim = kwargs.pop("input_dim")
            if input_dim is not None and "input_shape" not in kwargs:
                kwargs["input_shape"] = (input_dim,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = _check_positive_int(units, "units", "Dense")
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"`use_bias` of Dense must be a bool, got {use_bias!r}.")
        self.activation = _get_activation(activation, self._api_version)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _get("initializers", kernel_initializer, self._api_version)
        self.bias_initializer = _get("initializers", bias_initializer, self._api_version)
        self.kernel_regularizer = _get("regularizers", kernel_regularizer, self._api_version)
        self.bias_regularizer = _get("regularizers", bias_regularizer, self._api_version)
        self.kernel_constraint = _get("constraints", kernel_constraint, self._api_version)
        self.bias_constraint = _get("constraints", bias_constraint, self._api_version)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to Dense layer {self.name} should "
                             f"be defined. Found None (input shape {tuple(input_shape)}).")
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: int(input_dim)})
        self.built = True

    def call(self, inputs):
        output = ops.matmul(inputs, self.kernel)
        if self.use_bias:
            output = output + self.bias
        return self.activation(output)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": _activation_name(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize_object(self.kernel_initializer, self._api_version),
            "bias_initializer": serialize_object(self.bias_initializer, self._api_version),
            "kernel_regularizer": serialize_object(self.kernel_regularizer, self._api_version),
            "bias_regularizer": serialize_object(self.bias_regularizer, self._api_version),
            "activity_regularizer": serialize_object(self.activity_regularizer, self._api_version),
            "kernel_constraint": serialize_object(self.kernel_constraint, self._api_version),
            "bias_constraint": serialize_object(self.bias_constraint, self._api_version),
        })
        if self._api_version == "3":
            config.pop("activity_regularizer")
            config["quantization_config"] = None
        return config


# --- Activation --------------------------------------------------------------------------------

class Activation(Layer):
    """Applies an activation function to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = _get_activation(activation, self._api_version)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        config = super().get_config()
        config["activation"] = _activation_name(self.activation)
        return config


# --- Dropout -----------------------------------------------------------------------------------

class Dropout(Layer):
    """Training: zero each input unit with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)``; inference: identity. The mask comes from the seeded backend generator."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate` of Dropout: expected a "
                             f"float between 0 and 1, got {rate!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = tuple(inputs.shape) if self.noise_shape is None else tuple(
            s if s is not None else d for s, d in zip(self.noise_shape, inputs.shape))
        keep = backend.rng(self.seed).random(shape) >= self.rate
        scale = np.where(keep, 1.0 / (1.0 - self.rate), 0.0).astype(inputs.dtype)
        return inputs * scale

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


# --- Flatten / Reshape -------------------------------------------------------------------------

class Flatten(Layer):
    """``(batch, d1, ..., dn)`` -> ``(batch, d1 * ... * dn)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"`data_format` of Flatten must be 'channels_last' or "
                             f"'channels_first', got {data_format!r}.")
        self.data_format = data_format or "channels_last"
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the non-batch dimensions to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (tuple, list)):
            raise TypeError(f"`target_shape` of Reshape must be a tuple, got {target_shape!r}.")
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError("Can only specify one unknown dimension (-1) in `target_shape`.")

    def _resolve(self, input_shape):
        known = int(np.prod([d for d in input_shape[1:]]))
        target = list(self.target_shape)
        if -1 in target:
            fixed = int(np.prod([d for d in target if d != -1]))
            if fixed == 0 or known % fixed:
                raise ValueError(f"total size of new array must be unchanged, input_shape = "
                                 f"{list(input_shape[1:])}, output_shape = {list(target)}")
            target[target.index(-1)] = known // fixed
        elif int(np.prod(target)) != known:
            raise ValueError(f"total size of new array must be unchanged, input_shape = "
                             f"{list(input_shape[1:])}, output_shape = {list(target)}")
        return tuple(target)

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + self.target_shape
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
