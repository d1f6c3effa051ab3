"""BatchNormalization: normalise each feature (the entries along ``axis``) over every other axis.

Inference (``training`` falsy): ``(x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta``.
Training (``training=True``): the same with the batch's mean and *biased* variance over every axis but
``axis``, and the moving statistics updated from them. Weights, in Keras' order: ``gamma`` (``scale``)
and ``beta`` (``center``), trainable, then ``moving_mean`` and ``moving_variance``, non-trainable; each
of shape ``(input_shape[axis],)``. The moving update happens inside ``call`` (``Variable.assign``), so
``fit`` / ``train_on_batch`` (which call the layers with ``training=True``) update them and
``predict`` / ``evaluate`` do not.

How each version updates the moving statistics (spec/layers/normalization.yaml cites the sources):

- keras 3.15 (layers/normalization/batch_normalization.py): ``moving = moving * momentum + stat *
  (1 - momentum)`` with the biased batch variance; with an input mask, the moments over the unmasked
  entries only. A layer that is not trainable runs in inference mode even with ``training=True``.
- keras 2.3.1 (TensorFlow backend): the variance fed to the update is ``var * n / (n - (1 + epsilon))``
  (n the number of entries each statistic is taken over, layers/normalization.py), and
  ``K.moving_average_update`` is ``moving -= (moving - value) * (1 - momentum)``.
- keras 2.2.4 (TensorFlow backend): the same variance factor, times ``n / (n - 1)`` more where the
  backend takes the fused kernel (a 4D input normalised over axes 0, 1, 2: ``tf.nn.fused_batch_norm``
  returns the Bessel-corrected variance); and ``K.moving_average_update`` is TensorFlow's
  ``assign_moving_average(..., zero_debias=True)``: a hidden ``biased`` EMA starting at 0 and a step
  count ``t``, ``biased -= (biased - value) * (1 - momentum)``, ``moving = biased / (1 - momentum**t)``,
  so the first training step sets the moving statistics to that batch's (whatever they held before).
  The hidden state is not a weight: it is neither saved nor set by ``set_weights``.
- 2.x: a layer that is not trainable still normalises with the batch statistics in training, but its
  moving statistics are not updated (``Layer.updates`` is empty when not trainable).
"""
from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, ops
from .base import InputSpec, Layer, serialize_object
from .core import _get

__all__ = ["BatchNormalization"]

#: keras 3.15 backend/config.py epsilon(): the fuzz factor of the masked moments
_BACKEND_EPSILON = 1e-7


def _moving_update(version):
    """How ``version`` moves a moving statistic towards a batch statistic (see the module doc)."""
    return {"2.2.4": "zero_debias", "2.3": "assign_sub", "3": "ema"}[version]


class BatchNormalization(Layer):
    """Batch normalization layer (Ioffe and Szegedy, 2015)."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        if renorm or renorm_clipping is not None or renorm_momentum != 0.99:
            # keras 3.15 Batch Renormalization (extra weights moving_stddev, renorm_mean, renorm_stddev)
            raise NotImplementedError("BatchNormalization(): the reference does not implement Batch "
                                      "Renormalization (`renorm`, `renorm_clipping`, `renorm_momentum`; "
                                      "documented, defaults False, None, 0.99).")
        super().__init__(**kwargs)
        v = self._api_version
        if v == "3":
            # keras 3.15: int(axis) (a list is a TypeError), float(momentum), float(epsilon). One
            # process is one replica: synchronized statistics are the local ones.
            axis, momentum, epsilon = int(axis), float(momentum), float(epsilon)
            self.synchronized = synchronized
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = _get("initializers", beta_initializer, v)
        self.gamma_initializer = _get("initializers", gamma_initializer, v)
        self.moving_mean_initializer = _get("initializers", moving_mean_initializer, v)
        self.moving_variance_initializer = _get("initializers", moving_variance_initializer, v)
        self.beta_regularizer = _get("regularizers", beta_regularizer, v)
        self.gamma_regularizer = _get("regularizers", gamma_regularizer, v)
        self.beta_constraint = _get("constraints", beta_constraint, v)
        self.gamma_constraint = _get("constraints", gamma_constraint, v)
        self.supports_masking = True
        self.gamma = self.beta = None
        self._debias = {}

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        # 2.x / 3: input_shape[axis] (a list axis: TypeError, out of range: IndexError)
        dim = input_shape[self.axis]
        if dim is None and self._api_version != "3":
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the "
                             f"layer received an input with shape {input_shape}.")
        shape = (dim,)
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(name="moving_mean", shape=shape,
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.built = True

    # -- the computation --
    def _layout(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        reduction = tuple(a for a in range(ndim) if a != axis)
        broadcast = [1] * ndim
        broadcast[axis] = -1
        return axis, reduction, tuple(broadcast)

    def _moments(self, inputs, reduction, mask):
        if mask is None:
            mean = ops.mean(inputs, axis=reduction, keepdims=True)
            variance = ops.mean(ops.square(inputs - ops.stop_gradient(mean)), axis=reduction, keepdims=True)
            return mean, variance
        # keras 3.15 BatchNormalization._moments: the moments over the entries the mask keeps
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.ndim != inputs.ndim - 1:
            raise ValueError("The mask provided should be one dimension less than the inputs. Received: "
                             f"mask.shape={mask.shape}, inputs.shape={tuple(inputs.shape)}")
        keep = np.broadcast_to(np.expand_dims(mask, -1), tuple(inputs.shape)).astype(bool)
        zero = np.zeros((), dtype=inputs.dtype)
        weight = keep.astype(inputs.dtype).sum(axis=reduction, keepdims=True) + np.asarray(
            _BACKEND_EPSILON, dtype=inputs.dtype)
        mean = ops.sum(ops.where(keep, inputs, zero), axis=reduction, keepdims=True) / weight
        variance = ops.sum(ops.square(ops.where(keep, inputs - mean, zero)), axis=reduction,
                           keepdims=True) / weight
        return mean, variance

    def _normalize(self, inputs, mean, variance, broadcast):
        """``x * inv + (beta - mean * inv)``, ``inv = gamma / sqrt(variance + epsilon)`` (the order of
        tf.nn.batch_normalization and keras 3's ops.batch_normalization)."""
        dtype = inputs.dtype
        inv = 1.0 / ops.sqrt(variance + np.asarray(self.epsilon, dtype=dtype))
        if self.scale:
            inv = inv * ops.reshape(self.gamma, broadcast)
        shift = -(mean * inv)
        if self.center:
            shift = ops.reshape(self.beta, broadcast) + shift
        return inputs * inv + shift

    def _training(self, training) -> bool:
        if not training:
            return False
        # keras 3.15: `if training and self.trainable`; 2.x normalises with the batch statistics anyway
        return self.trainable or self._api_version != "3"

    def call(self, inputs, training=None, mask=None):
        ndim = inputs.ndim
        axis, reduction, broadcast = self._layout(ndim)
        if not self._training(training):
            mean = ops.reshape(self.moving_mean, broadcast)
            variance = ops.reshape(self.moving_variance, broadcast)
            return self._normalize(inputs, mean, variance, broadcast)
        mean, variance = self._moments(inputs, reduction, mask if self._api_version == "3" else None)
        if self.trainable:       # 2.x: a frozen layer's updates are not run
            self._update(np.asarray(mean.data).reshape(-1), np.asarray(variance.data).reshape(-1),
                         inputs.shape, reduction, ndim)
        return self._normalize(inputs, mean, variance, broadcast)

    def _update(self, mean, variance, shape, reduction, ndim):
        dtype = self.moving_mean.dtype
        m = np.asarray(self.momentum, dtype=dtype)
        one = np.asarray(1.0, dtype=dtype)
        how = _moving_update(self._api_version)
        if how != "ema":
            # 2.x layers/normalization.py: the "unbiased" variance fed to the moving average
            n = np.asarray(np.prod([shape[a] for a in reduction]), dtype=dtype)
            if how == "zero_debias" and ndim == 4 and reduction == (0, 1, 2):
                # 2.2.4 backend: tf.nn.fused_batch_norm returns the Bessel-corrected variance
                variance = variance * (n / max(n - one, one))
            variance = variance * (n / (n - (one + np.asarray(self.epsilon, dtype=dtype))))
        for var, value in ((self.moving_mean, mean), (self.moving_variance, variance)):
            old = np.asarray(var.data)
            value = np.asarray(value, dtype=dtype)
            if how == "ema":
                new = old * m + value * (one - m)
            elif how == "assign_sub":
                new = old - (old - value) * (one - m)
            else:
                biased, step = self._debias.get(var.path, (np.zeros_like(old), 0))
                biased = biased - (biased - value) * (one - m)
                step += 1
                self._debias[var.path] = (biased, step)
                new = old - (old - biased / (one - m ** np.asarray(step, dtype=dtype)))
            var.assign(np.asarray(new, dtype=dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        v = self._api_version
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize_object(self.beta_initializer, v),
            "gamma_initializer": serialize_object(self.gamma_initializer, v),
            "moving_mean_initializer": serialize_object(self.moving_mean_initializer, v),
            "moving_variance_initializer": serialize_object(self.moving_variance_initializer, v),
            "beta_regularizer": serialize_object(self.beta_regularizer, v),
            "gamma_regularizer": serialize_object(self.gamma_regularizer, v),
            "beta_constraint": serialize_object(self.beta_constraint, v),
            "gamma_constraint": serialize_object(self.gamma_constraint, v),
        })
        if v == "3":
            config.update({"synchronized": self.synchronized, "renorm": False, "renorm_clipping": None,
                           "renorm_momentum": 0.99})
        return config
