"""Core layers: InputLayer / Input, Dense, Activation, Dropout, SpatialDropout1D/2D/3D, Flatten,
Reshape, Permute, RepeatVector, ActivityRegularization, Masking.

Forward math only, on autodiff Tensors; gradients come from the primitives' VJPs.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import versions
from ..autodiff import Tensor, as_tensor, ops
from .base import InputSpec, KerasTensor, Layer, Node, _shape_tuple, serialize_object

__all__ = ["InputLayer", "Input", "Dense", "Activation", "Dropout", "Lambda", "SpatialDropout1D",
           "SpatialDropout2D", "SpatialDropout3D", "Flatten", "Reshape", "Permute", "RepeatVector",
           "ActivityRegularization", "Masking"]


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
            name = unique_name(versions.traits(version).input_layer_prefix, version)
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
        self.supports_masking = True   # keras 2.2.4 / 2.3.1 layers/core.py, keras 3.15 layers/core/dense.py

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
            # keras 3's Dense lists no activity_regularizer itself; its base Layer.get_config adds the key
            # only when one is set
            if self.activity_regularizer is None:
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


# --- shared helpers of the layers below ------------------------------------------------------------

def _normalize_data_format(value, api_version):
    """``None`` -> ``"channels_last"`` (the default ``image_data_format``); otherwise the value
    lower-cased, which must be ``channels_first`` or ``channels_last`` (ValueError). 2.x
    (``K.normalize_data_format``) calls ``value.lower()``, so a non-string is an AttributeError;
    keras 3 (``backend.standardize_data_format``) lower-cases ``str(value)``."""
    if value is None:
        return "channels_last"
    fmt = (str(value) if api_version == "3" else value).lower()
    if fmt not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: data_format={value!r}")
    return fmt


def _validate_noise_shape_v3(noise_shape):
    """keras 3.15 ``Dropout._validate_noise_shape``: None, or a tuple of positive ints / None."""
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError("Invalid value received for argument `noise_shape`. Expected a tuple or "
                         f"list of integers. Received: noise_shape={noise_shape}")
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError("Invalid value received for argument `noise_shape`. Expected an "
                         f"iterable of integers. Received: noise_shape={noise_shape}") from None
    for i, dim in enumerate(noise_shape):
        if dim is None:
            continue
        if not isinstance(dim, int):
            raise ValueError("Invalid value received for argument `noise_shape`. Expected all "
                             f"elements to be integers or None. Received element at index {i}: "
                             f"{dim} (type: {type(dim).__name__})")
        if dim <= 0:
            raise ValueError("Invalid value received for argument `noise_shape`. Expected all "
                             "dimensions to be positive integers or None. Received negative or "
                             f"zero value at index {i}: {dim}")
    return noise_shape


# --- Dropout and the spatial dropouts -----------------------------------------------------------

class Dropout(Layer):
    """Training: zero each input unit with probability ``rate`` and scale the rest by
    ``1 / (1 - rate)``; inference: identity.

    Per version (keras 2.2.4 / 2.3.1 source layers/core.py; keras 3.15 regularization/dropout.py):
    - 2.x clamps ``rate`` into [0, 1] (``min(1., max(0., rate))``, never raises) and drops only
      when ``0 < rate < 1`` (rate 0 or 1: the identity, also in training); ``noise_shape`` is kept
      as given. The dropped units are ``x * 0`` (``K.dropout`` multiplies by the mask).
    - 3 raises ValueError unless ``0 <= rate <= 1``, validates ``noise_shape`` into a tuple, and
      drops whenever ``rate > 0`` (rate 1: all zeros); dropped units are ``where(mask, x / keep, 0)``.
    The mask is drawn from a generator seeded once per layer with ``seed`` (so successive calls
    draw different masks, as Keras' seeded ops and SeedGenerator do), else the global one.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if self._api_version == "3":
            try:
                in_range = 0 <= rate <= 1
            except TypeError:
                raise TypeError(f"Invalid value received for argument `rate`: expected a float "
                                f"between 0 and 1, got {rate!r}.") from None
            if not in_range:
                raise ValueError("Invalid value received for argument `rate`. Expected a float "
                                 f"value between 0 and 1. Received: rate={rate}")
            self.rate = rate
            self.noise_shape = _validate_noise_shape_v3(noise_shape)
        else:
            self.rate = min(1.0, max(0.0, rate))
            self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self._generator = None

    def _noise_shape(self, shape):
        """The shape of the Bernoulli mask for an input of ``shape`` (None entries: the input's)."""
        if self.noise_shape is None:
            return tuple(shape)
        return tuple(d if s is None else int(s) for s, d in zip(self.noise_shape, shape))

    def _drops(self) -> bool:
        if self._api_version == "3":
            return self.rate > 0
        return 0.0 < self.rate < 1.0

    def call(self, inputs, training=None):
        if not training or not self._drops():
            return inputs
        keep_prob = 1.0 - float(self.rate)
        keep = self._rng().random(self._noise_shape(inputs.shape)) >= float(self.rate)
        keep = np.broadcast_to(keep, tuple(inputs.shape))
        dtype = inputs.dtype
        if self._api_version == "3":
            if keep_prob == 0.0:
                return ops.where(keep, inputs, np.zeros((), dtype=dtype))
            return ops.where(keep, inputs * np.asarray(1.0 / keep_prob, dtype=dtype),
                             np.zeros((), dtype=dtype))
        return inputs * np.where(keep, 1.0 / keep_prob, 0.0).astype(dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class _SpatialDropout(Dropout):
    """Dropout whose mask is shared along the spatial axes: whole feature maps are dropped.

    2.x (keras 2.2.4 / 2.3.1 layers/core.py): subclasses of Dropout taking ``**kwargs`` on to it
    (so ``seed`` and a ``noise_shape`` that the call ignores are accepted and configured); the
    config is Dropout's (``rate, noise_shape, seed``, no ``data_format``).
    3 (keras 3.15 regularization/spatial_dropout.py): ``(rate, [data_format,] seed=None, name=None,
    dtype=None)`` and no other keyword; the config is ``rate, seed, name, dtype`` (dtype as its
    name, no ``trainable``) plus ``data_format``."""

    _ndim = None

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.input_spec = InputSpec(ndim=self._ndim)

    def _spatial_axes(self):
        raise NotImplementedError

    def _noise_shape(self, shape):
        shared = self._spatial_axes()
        return tuple(1 if i in shared else d for i, d in enumerate(shape))

    def get_config(self):
        if self._api_version != "3":
            return super().get_config()
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}
        if hasattr(self, "data_format"):
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Spatial 1D dropout: on ``(batch, steps, channels)`` one draw per (sample, channel)."""

    _ndim = 3

    def _spatial_axes(self):
        return (1,)


class _SpatialDropoutND(_SpatialDropout):
    """Spatial dropout over ``_ndim - 2`` spatial axes, with a ``data_format``."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _normalize_data_format(data_format, self._api_version)

    def _spatial_axes(self):
        spatial = self._ndim - 2
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + spatial))


class SpatialDropout2D(_SpatialDropoutND):
    """Spatial 2D dropout: one draw per (sample, channel) over rank-4 inputs."""

    _ndim = 4


class SpatialDropout3D(_SpatialDropoutND):
    """Spatial 3D dropout: one draw per (sample, channel) over rank-5 inputs."""

    _ndim = 5


# --- Flatten / Reshape / Permute / RepeatVector -------------------------------------------------

class Flatten(Layer):
    """``(batch, d1, ..., dn)`` -> ``(batch, d1 * ... * dn)`` (``channels_first``: the channel
    axis is moved last first). 2.x (keras 2.2.4 / 2.3.1 source): ``InputSpec(min_ndim=3)``, so a
    rank-2 input is a ValueError, and an unknown non-batch dimension is a ValueError in
    ``compute_output_shape``; 3 (keras 3.15 reshaping/flatten.py): ``min_ndim=1`` (a rank-1 input
    becomes ``(batch, 1)``)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _normalize_data_format(data_format, self._api_version)
        self.input_spec = InputSpec(min_ndim=1 if self._api_version == "3" else 3)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape[1:])
        if any(d is None for d in rest):
            if self._api_version != "3":
                raise ValueError(f'The shape of the input to "Flatten" is not fully defined (got '
                                 f'{rest}). Make sure to pass a complete "input_shape" or '
                                 f'"batch_input_shape" argument to the first layer in your model.')
            return (input_shape[0], None)
        return (input_shape[0], int(np.prod(rest)))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes the non-batch dimensions to ``target_shape`` (one entry may be -1, inferred).

    keras 3.15 (reshaping/reshape.py) validates ``target_shape`` when constructed: an entry below
    -1, or more than one -1, is a ValueError. 2.x (keras 2.2.4 / 2.3.1 layers/core.py) only keeps
    ``tuple(target_shape)``; a negative entry counts as the unknown one, and two of them, or a size
    that does not match, is a ValueError when the layer is called (``compute_output_shape``)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(target_shape, (tuple, list)):
            raise TypeError(f"`target_shape` of Reshape must be a tuple, got {target_shape!r}.")
        self.target_shape = tuple(int(d) for d in target_shape)
        if self._api_version == "3":
            if any(d < -1 for d in self.target_shape):
                raise ValueError("Each dimension in `target_shape` must be a non-negative integer, "
                                 "or `-1` for a single unknown dimension. Received: "
                                 f"target_shape={self.target_shape}.")
            if sum(d == -1 for d in self.target_shape) > 1:
                raise ValueError("There must be at most one unknown dimension (-1) in "
                                 f"`target_shape`. Received: target_shape={self.target_shape}.")

    def _resolve(self, input_shape):
        known = int(np.prod([d for d in input_shape[1:]]))
        target = list(self.target_shape)
        unknown = [i for i, d in enumerate(target) if d < 0]
        if len(unknown) > 1:
            raise ValueError("Can only specify one unknown dimension.")
        if unknown:
            fixed = int(np.prod([d for d in target if d >= 0]))
            if fixed == 0 or known % fixed:
                raise ValueError(f"total size of new array must be unchanged, input_shape = "
                                 f"{list(input_shape[1:])}, output_shape = {list(target)}")
            target[unknown[0]] = known // fixed
        elif int(np.prod(target)) != known:
            raise ValueError(f"total size of new array must be unchanged, input_shape = "
                             f"{list(input_shape[1:])}, output_shape = {list(target)}")
        return tuple(target)

    def call(self, inputs):
        if any(d < -1 for d in self.target_shape):
            # 2.x: the backend reshape rejects an entry below -1 (TensorFlow: a ValueError)
            raise ValueError(f"Reshape: invalid target_shape {self.target_shape}: entries below -1")
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch axes: output axis ``i`` (1-based) is input axis ``dims[i - 1]``
    (seed 003; keras 2.2.4 / 2.3.1 layers/core.py; keras 3.15 reshaping/permute.py).
    ``InputSpec(ndim=len(dims) + 1)`` in every version. keras 3 raises ValueError when
    constructed unless ``dims`` is a permutation of ``1..len(dims)``; 2.x does not check, and the
    backend's transpose fails when the layer is called (TensorFlow: ValueError), which the
    reference raises at call (symbolic or eager)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if self._api_version == "3" and sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def _check_dims(self):
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims {self.dims} is not a permutation of "
                             f"{tuple(range(1, len(self.dims) + 1))} (the backend's transpose "
                             "rejects it)")

    def call(self, inputs):
        self._check_dims()
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check_dims()
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """``(batch, features)`` -> ``(batch, n, features)``, the input repeated ``n`` times
    (seed 003; keras 2.2.4 / 2.3.1 layers/core.py; keras 3.15 reshaping/repeat_vector.py).
    ``InputSpec(ndim=2)`` in every version. keras 3 checks ``n`` when constructed: not an int
    (a bool included) is a TypeError, ``n <= 0`` a ValueError; 2.x keeps ``n`` as given
    (``n = 0`` gives an empty time axis)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if self._api_version == "3":
            if not isinstance(n, int) or isinstance(n, bool):
                raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
            if n <= 0:
                raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        # broadcast (batch, 1, features) against (1, n, 1); the multiply's VJP sums the n copies
        return ops.expand_dims(inputs, 1) * np.ones((1, self.n, 1), dtype=inputs.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


# --- ActivityRegularization / Masking -----------------------------------------------------------

class ActivityRegularization(Layer):
    """The identity, adding ``l1 * sum(|x|) + l2 * sum(x ** 2)`` of its input to the model's loss
    (seed 003; keras 2.2.4 / 2.3.1 layers/core.py; keras 3.15
    regularization/activity_regularization.py).

    The penalty is the activity regularizer ``regularizers.L1L2(l1, l2)`` of that version applied
    to the layer's output (= its input): 2.x adds it as it is (engine/base_layer.py
    ``Layer.__call__``); keras 3 divides it by the batch size (``Layer.__call__``:
    ``divide_no_nan(loss, batch_size)``). keras 3's ``L1L2`` raises ValueError for a negative
    factor; 2.x accepts any.

    The penalty of the most recent call is this layer's entry in ``losses`` (the engine adds
    ``model.losses`` to the objective right after the forward pass, so that penalty belongs to the
    batch being trained or evaluated). A layer shared by several nodes of one model contributes
    only its last call's penalty: the engine gives the layer no signal that a new forward pass
    starts, so it cannot tell a second node of this pass from the next batch."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        from .. import regularizers
        self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2, api_version=self._api_version)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True

    def call(self, inputs):
        return inputs      # the base Layer applies the activity regularizer to the output

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config


class Masking(Layer):
    """Time steps whose features all equal ``mask_value`` are zeroed and masked: output
    ``x * any(x != mask_value, axis=-1, keepdims=True)``, mask ``any(x != mask_value, axis=-1)``
    (seed 003; keras 2.2.4 / 2.3.1 layers/core.py; keras 3.15 core/masking.py). 2.x multiplies by
    the cast mask; keras 3 selects (``where(mask, x, 0)``), which differs only where a masked step
    holds an infinite ``mask_value`` (2.x: NaN) and in the sign of zero."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True

    def _keep(self, inputs, keepdims):
        data = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(data != self.mask_value, axis=-1, keepdims=keepdims)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs, keepdims=False)

    def call(self, inputs):
        keep = self._keep(inputs, keepdims=True)
        if self._api_version == "3":
            return ops.where(keep, inputs, np.zeros((), dtype=inputs.dtype))
        return inputs * keep.astype(inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


# --- Lambda ------------------------------------------------------------------------------------

def func_dump(fn):
    """A Python function as Keras serializes a lambda: (base64 of its marshalled code, defaults,
    closure contents) (keras 2.2.4 / 2.3.1 utils/generic_utils.func_dump; keras 3.15 python_utils)."""
    import codecs
    import marshal
    code = codecs.encode(marshal.dumps(fn.__code__), "base64").decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(code, defaults=None, closure=None):
    """The function ``func_dump`` wrote. It runs whatever code the string holds: only ever called for
    a config the caller handed over in memory, or a file loaded with ``safe_mode=False``."""
    import codecs
    import marshal
    import types
    raw = codecs.decode(code.encode("ascii"), "base64")
    cells = None if closure is None else tuple(types.CellType(c) for c in closure)
    return types.FunctionType(marshal.loads(raw), {"__builtins__": __builtins__}, None,
                              None if defaults is None else tuple(defaults), cells)


class Lambda(Layer):
    """``output = function(inputs, **arguments)``: an arbitrary expression as a layer. Its config carries
    the function's bytecode, so a file holding one is code: loading it needs ``safe_mode=False``
    (keras 3; the reference refuses such a file in 2.x, whose loader has no opt-in)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"`function` of Lambda must be callable, got {function!r}.")
        if output_shape is not None and not (isinstance(output_shape, (tuple, list)) or callable(output_shape)):
            raise TypeError("In Lambda, `output_shape` must be a list, a tuple, or a function.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = tuple(output_shape) if isinstance(output_shape, list) else output_shape

    def call(self, inputs):
        return as_tensor(self.function(inputs, **self.arguments))

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            # what the function gives on zeros of the input shape (an unknown size taken as 1)
            def zeros(shape):
                return Tensor(np.zeros(tuple(1 if d is None else d for d in shape), dtype=self.dtype))
            multi = isinstance(input_shape, list)
            out = self.function([zeros(s) for s in input_shape] if multi else zeros(input_shape), **self.arguments)
            batch = input_shape[0][0] if multi else input_shape[0]
            return (batch,) + tuple(as_tensor(out).shape[1:])
        if isinstance(self._output_shape, tuple):
            batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
            return (batch,) + self._output_shape
        return tuple(self._output_shape(input_shape))

    def get_config(self):
        config = super().get_config()
        code, defaults, closure = func_dump(self.function)
        if self._api_version == "3":
            config["function"] = {"class_name": "__lambda__",
                                  "config": {"code": code, "defaults": defaults, "closure": closure}}
            if self._output_shape is not None:
                config["output_shape"] = self._output_shape
            config["arguments"] = self.arguments
            return config
        config.update({"function": [code, defaults, closure], "function_type": "lambda",
                       "output_shape": self._output_shape, "output_shape_type": "raw",
                       "arguments": self.arguments})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        config = dict(config)
        function = config.pop("function")
        if cls._api_version == "3":
            if safe_mode is None:
                from ..engine.serialization import in_safe_mode
                safe_mode = in_safe_mode()
            if safe_mode:
                raise ValueError(
                    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
                    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
                    "default. If you trust the source of the config, pass `safe_mode=False` to from_config "
                    "(or to the loading function).")
            inner = function.get("config", {}) if isinstance(function, dict) else {}
            function = func_load(inner["code"], inner.get("defaults"), inner.get("closure"))
            if isinstance(config.get("dtype"), dict):
                config["dtype"] = config["dtype"].get("config", {}).get("name")
        else:
            if config.pop("function_type", "lambda") != "lambda":
                raise TypeError("The reference rebuilds only Lambda functions serialized as bytecode.")
            config.pop("output_shape_type", None)
            # tf.keras 2.x also writes the functions' modules (keras 2.3.1 does not): read, not needed
            config.pop("module", None)
            config.pop("output_shape_module", None)
            code, defaults, closure = (list(function) + [None, None])[:3]
            function = func_load(code, defaults, closure)
        return cls(function=function, **config)
