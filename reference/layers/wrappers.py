"""Wrappers: TimeDistributed and Bidirectional, layers that run another layer.

keras 2.2.4 / 2.3.1 keras/layers/wrappers.py; keras 3.15 keras/src/layers/core/wrapper.py,
rnn/time_distributed.py, rnn/bidirectional.py. A wrapper owns no weights of its own: its weights are
the wrapped layer's (Bidirectional: the forward layer's, then the backward layer's), in their order.
"""
from __future__ import annotations

import numpy as np

from ..autodiff import Tensor, ops
from .base import Layer

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _run_inner(layer, inputs, training=None, mask=None, **call_kwargs):
    """Run a wrapped layer eagerly: build it for the input's shape, then its ``call`` with the keywords
    it takes (``training``, ``mask``, ``initial_state``) as Keras' ``has_arg`` dispatch does."""
    layer._maybe_build(tuple(inputs.shape))
    kwargs = {}
    if layer._call_takes("training"):
        kwargs["training"] = training
    if mask is not None and layer._call_takes("mask"):
        kwargs["mask"] = mask
    for key, value in call_kwargs.items():
        if value is not None and layer._call_takes(key):
            kwargs[key] = value
    return layer.call(inputs, **kwargs)


def _check_layer(layer, what, api_version):
    if not isinstance(layer, Layer):
        # keras 3.15 checks the type up front; keras 2 fails later on a missing attribute
        if api_version == "3":
            raise ValueError(f"Please initialize `{what}` layer with a `keras.layers.Layer` instance. "
                             f"Received: {layer!r}")
        raise AttributeError(f"`layer` of {what} must be a Layer instance (it has no get_config / build); "
                             f"received {layer!r}")


class Wrapper(Layer):
    """The base of the wrappers: holds ``layer`` and passes weights, losses and trainability through."""

    def __init__(self, layer, **kwargs):
        _check_layer(layer, type(self).__name__, self._api_version)
        self.layer = layer
        super().__init__(**kwargs)

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return self.layer.non_trainable_weights
        return self.layer.weights

    @property
    def weights(self):
        return self.layer.weights

    @property
    def losses(self):
        return list(self.layer.losses)

    def get_config(self):
        from ..engine.serialization import serialize_layer
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer, nested=True)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..engine.serialization import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), cls._api_version, custom_objects)
        if cls._api_version == "3" and isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every temporal slice (axis 1) of an input of rank >= 3: the input reshaped
    to (batch * time, ...), the layer, and the result reshaped back to (batch, time, ...) (keras 2's
    reshape path; with a fixed batch size keras 2 loops over time with K.rnn and keras 3 stacks the
    per-step results: the same numbers). The mask of (batch, time) passes through unchanged."""

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            if self._api_version == "3":
                raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at least "
                                 f"3 dimensions, received: {input_shape}")
            raise AssertionError(f"TimeDistributed needs an input of rank >= 3 (batch, time, ...); got "
                                 f"shape {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer._maybe_build(child)
        self.built = True

    def compute_output_shape(self, input_shape):
        child_out = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (child_out[0], input_shape[1]) + tuple(child_out[1:])

    def call(self, inputs, training=None, mask=None):
        batch, steps = int(inputs.shape[0]), int(inputs.shape[1])
        flat = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        inner_mask = None
        if mask is not None:
            data = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
            inner_mask = data.reshape((batch * steps,) + tuple(data.shape[2:]))
        y = _run_inner(self.layer, flat, training=training, mask=inner_mask)
        return ops.reshape(y, (batch, steps) + tuple(y.shape[1:]))

    def compute_mask(self, inputs, mask=None):
        """The wrapped layer's mask of each time slice, reshaped to (batch, time, ...); where it gives
        none, the input's mask reduced to (batch, time) (keras 2.2.4 / 2.3.1 TimeDistributed.compute_mask;
        a wrapped layer that does not support masking refuses a mask there, TypeError). keras 3.15 has no
        compute_mask of its own: the input's mask passes on."""
        if mask is None:
            return None
        data = np.asarray(mask.data if isinstance(mask, Tensor) else mask, dtype=bool)
        if self._api_version == "3":
            return data
        batch, steps = int(inputs.shape[0]), int(inputs.shape[1])
        flat = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        inner = self.layer.compute_mask(flat, data.reshape((batch * steps,) + data.shape[2:]))
        if inner is None:
            return np.any(data, axis=tuple(range(2, data.ndim))) if data.ndim > 2 else data
        inner = np.asarray(inner.data if isinstance(inner, Tensor) else inner, dtype=bool)
        return inner.reshape((batch, steps) + inner.shape[1:])


class Bidirectional(Wrapper):
    """Runs a recurrent ``layer`` forwards and a copy of it backwards (``go_backwards`` flipped, or
    ``backward_layer`` in keras 3) over the same sequence, and merges the outputs: ``concat`` (the
    backward one after the forward one, on the last axis), ``sum``, ``mul``, ``ave``, or ``None`` (both, as
    a list). With return_sequences the backward output is reversed in time first, so step t of both
    reads the same input step. return_state appends the forward layer's states, then the backward's.

    The forward layer is rebuilt from ``layer``'s config under the name ``forward_<name>`` (keras 3.15;
    keras 2 takes a shallow copy of the unbuilt layer: the same configuration), the backward one from the
    same config with go_backwards flipped, named ``backward_<name>``. keras 3.15 also sets both layers'
    ``zero_output_for_mask`` to ``return_sequences``."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        version = self._api_version
        _check_layer(layer, "Bidirectional", version)
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be one of "
                             '{"sum", "mul", "ave", "concat", None}')
        config = layer.get_config()
        base = config.get("name", layer.name)
        forward_config = dict(config, name="forward_" + _strip(base, "forward_"))
        self.forward_layer = type(layer).from_config(forward_config)
        if backward_layer is None:
            backward_config = dict(config, go_backwards=not config.get("go_backwards", False),
                                   name="backward_" + _strip(base, "backward_"))
            self.backward_layer = type(layer).from_config(backward_config)
        else:
            self.backward_layer = backward_layer
        for a in ("stateful", "return_sequences", "return_state"):
            if getattr(self.forward_layer, a, None) != getattr(self.backward_layer, a, None):
                raise ValueError(f"Forward layer and backward layer are expected to have the same value for "
                                 f"attribute \"{a}\", got \"{getattr(self.forward_layer, a, None)}\" for "
                                 f"forward layer and \"{getattr(self.backward_layer, a, None)}\" for backward "
                                 "layer")
        if getattr(self.forward_layer, "go_backwards", None) == getattr(self.backward_layer, "go_backwards", None):
            raise ValueError("Forward layer and backward layer should have different `go_backwards` value.")
        if version == "3":
            for inner in (self.forward_layer, self.backward_layer):
                if hasattr(inner, "zero_output_for_mask"):
                    inner.zero_output_for_mask = inner.return_sequences
        self.merge_mode = merge_mode
        self.stateful = getattr(layer, "stateful", False)
        self.return_sequences = getattr(layer, "return_sequences", False)
        self.return_state = getattr(layer, "return_state", False)
        super().__init__(layer, **kwargs)
        self.supports_masking = True
        self._initial_bidirectional_weights = list(weights) if weights else None

    @property
    def weights(self):
        return self.forward_layer.weights + self.backward_layer.weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return self.forward_layer.non_trainable_weights + self.backward_layer.non_trainable_weights

    @property
    def losses(self):
        return list(self.forward_layer.losses) + list(self.backward_layer.losses)

    def build(self, input_shape):
        for inner in (self.forward_layer, self.backward_layer):
            if not inner.built:
                inner._maybe_build(input_shape)
        self.built = True
        if self._initial_bidirectional_weights is not None:
            self.set_weights(self._initial_bidirectional_weights)
            self._initial_bidirectional_weights = None

    def set_weights(self, weights):
        weights = list(weights)
        half = len(weights) // 2
        self.forward_layer.set_weights(weights[:half])
        self.backward_layer.set_weights(weights[half:])

    def get_weights(self):
        return self.forward_layer.get_weights() + self.backward_layer.get_weights()

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        out = tuple(out)
        if self.merge_mode == "concat":
            out = out[:-1] + (out[-1] * 2,)
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else outputs[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer.compute_output_shape(tuple(inputs.shape))) - 1
            return outs + [None] * (2 * n)
        return outs if self.merge_mode is None else outs[0]

    def call(self, inputs, training=None, mask=None, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        y = _run_inner(self.forward_layer, inputs, training, mask, initial_state=forward_state)
        y_rev = _run_inner(self.backward_layer, inputs, training, mask, initial_state=backward_state)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.getitem(y_rev, (slice(None), slice(None, None, -1)))
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return output + states
        return output[0]

    def get_config(self):
        from ..engine.serialization import serialize_layer
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        config["layer"] = serialize_layer(self.forward_layer if self._api_version == "3" else self.layer, nested=True)
        if self._api_version == "3":
            config["backward_layer"] = serialize_layer(self.backward_layer, nested=True)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..engine.serialization import deserialize_layer
        config = dict(config)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], cls._api_version,
                                                         custom_objects)
        return super().from_config(config, custom_objects)


def _strip(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name
