"""Advanced activation layers: LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU.

Forward math on autodiff Tensors (gradients from the primitives' VJPs). The formulas are those of the
backend each version computes through (spec/layers/advanced_activations.yaml cites the sources):
2.x ``K.relu`` / ``K.elu`` / ``activations.softmax``, keras 3 ``keras.activations``.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..autodiff import ops
from .base import InputSpec, Layer, serialize_object

__all__ = ["LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "ReLU"]

_UNSET = object()  # "not passed" (keras 3 LeakyReLU tells an absent `alpha` from alpha=None)


def _data(x):
    return x.data if hasattr(x, "data") else np.asarray(x)


def _leaky(x, slope):
    """``x`` for ``x >= 0``, ``slope * x`` below (2.x tf.nn.leaky_relu, keras 3 leaky_relu)."""
    return ops.where(_data(x) >= 0, x, x * slope)


def relu_formula(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """The Keras relu with its three arguments, as 2.x ``K.relu`` (tensorflow backend) and keras 3
    ``ReLU.static_call`` compute it, step by step."""
    if negative_slope != 0 and max_value is None and threshold == 0:
        return _leaky(x, negative_slope)
    if threshold != 0:
        y = ops.where(_data(x) > threshold, x, x * 0.0)
    else:
        y = ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, float(max_value))
    if negative_slope != 0:
        y = y - ops.relu(threshold - x if threshold != 0 else -x) * negative_slope
    return y


class LeakyReLU(Layer):
    """``f(x) = slope * x`` for ``x < 0``, ``x`` otherwise; the slope is ``alpha`` in 2.x and
    ``negative_slope`` in keras 3 (which still takes ``alpha`` with a deprecation warning)."""

    def __init__(self, alpha=_UNSET, negative_slope=0.3, **kwargs):
        version = self._api_version
        if version == "3" and alpha is not _UNSET:
            # keras 3 pops `alpha` from **kwargs: it wins over negative_slope, with a warning
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.")
            negative_slope = alpha
        super().__init__(**kwargs)
        self.supports_masking = True
        if version == "3":
            if negative_slope is None or negative_slope < 0:
                raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                                 f"negative value. Expected a float. Received: "
                                 f"negative_slope={negative_slope}")
            self.negative_slope = negative_slope
        else:
            self.alpha = float(np.float32(0.3 if alpha is _UNSET else alpha))

    @property
    def _slope(self):
        return self.negative_slope if self._api_version == "3" else self.alpha

    def call(self, inputs):
        if self._slope == 0:
            return ops.relu(inputs)
        return _leaky(inputs, self._slope)

    def get_config(self):
        config = super().get_config()
        if self._api_version == "3":
            config["negative_slope"] = self.negative_slope
        else:
            config["alpha"] = float(self.alpha)
        return config


class PReLU(Layer):
    """``relu(x) - alpha * relu(-x)`` with a learned ``alpha`` of the input's shape (batch axis
    excluded), size 1 along ``shared_axes``."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        from .core import _get
        self.supports_masking = True
        self.alpha_initializer = _get("initializers", alpha_initializer, self._api_version)
        self.alpha_regularizer = _get("regularizers", alpha_regularizer, self._api_version)
        self.alpha_constraint = _get("constraints", alpha_constraint, self._api_version)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            # 2.x to_list(allow_tuple=True) keeps a tuple as it is; keras 3 makes a list
            self.shared_axes = (list(shared_axes) if self._api_version == "3" or
                                isinstance(shared_axes, list) else shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or ():
            param_shape[i - 1] = 1
        self.alpha = self.add_weight(name="alpha", shape=param_shape,
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {}
        if self.shared_axes:
            for i in range(1, len(input_shape)):
                if i not in self.shared_axes:
                    axes[i] = input_shape[i]
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def get_config(self):
        v = self._api_version
        config = super().get_config()
        config.update({
            "alpha_initializer": serialize_object(self.alpha_initializer, v),
            "alpha_regularizer": serialize_object(self.alpha_regularizer, v),
            "alpha_constraint": serialize_object(self.alpha_constraint, v),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(Layer):
    """``alpha * (exp(x) - 1)`` for ``x <= 0``, ``x`` for ``x > 0``."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha = float(np.float32(alpha)) if self._api_version != "3" else alpha

    def call(self, inputs):
        # exp of min(x, 0): the branch not taken never overflows (no inf * 0 in the gradient)
        negative = (ops.exp(ops.minimum(inputs, 0.0)) - 1.0) * self.alpha
        return ops.where(_data(inputs) > 0, inputs, negative)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = float(self.alpha) if self._api_version != "3" else self.alpha
        return config


class ThresholdedReLU(Layer):
    """``x`` for ``x > theta``, 0 otherwise (Keras 2 only)."""

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.theta = float(np.float32(theta))

    def call(self, inputs):
        return inputs * (_data(inputs) > self.theta).astype(inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config["theta"] = float(self.theta)
        return config


class Softmax(Layer):
    """Softmax along ``axis`` (2.x: a 2D input uses the last axis, a 1D input is a ValueError;
    keras 3: any rank, and ``axis`` may be a list)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.axis = axis

    def call(self, inputs):
        if self._api_version != "3":
            if inputs.ndim == 1:
                raise ValueError("Cannot apply softmax to a tensor that is 1D. "
                                 f"Received input: shape {tuple(inputs.shape)}")
            axis = -1 if inputs.ndim == 2 else self.axis
            return ops.softmax(inputs, axis=axis)
        axis = self.axis
        if isinstance(axis, (list, tuple)):
            axis = tuple(axis) if len(axis) > 1 else axis[0]
        return ops.softmax(inputs, axis=axis)

    def _call_symbolic(self, inputs, training=None, **kwargs):
        if self._api_version != "3" and not isinstance(inputs, (list, tuple)) and inputs.ndim == 1:
            raise ValueError("Cannot apply softmax to a tensor that is 1D. "
                             f"Received input: {inputs!r}")
        return super()._call_symbolic(inputs, training=training, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class ReLU(Layer):
    """The Keras relu: ``max_value`` saturation, ``threshold``, ``negative_slope`` below it."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        version = self._api_version
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}" if version == "3" else
                             f"max_value of ReLU layer cannot be negative value: {max_value}")
        if version == "3" and (negative_slope is None or negative_slope < 0.0):
            raise ValueError(f"negative_slope of a ReLU layer cannot be None or a negative value. "
                             f"Received: negative_slope={negative_slope}")
        if version != "3" and negative_slope < 0.0:
            raise ValueError(f"negative_slope of ReLU layer cannot be negative value: {negative_slope}")
        if version == "3" and (threshold is None or threshold < 0.0):
            raise ValueError(f"threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.supports_masking = True
        if version == "3":
            self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold
        else:
            # K.cast_to_floatx: float32 values (kept as Python floats here)
            self.max_value = None if max_value is None else float(np.float32(max_value))
            self.negative_slope = float(np.float32(negative_slope))
            self.threshold = float(np.float32(threshold))

    def call(self, inputs):
        return relu_formula(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                            threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config

