"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, and their
functional forms add, subtract, ..., dot.

Every merge layer is called on a list of tensors; ``build`` and ``compute_output_shape`` receive the
list of their shapes. Where the versions differ (spec/layers/merge.yaml):

- how many inputs: Keras 2.2.4 / 2.3.1 ``_Merge.build`` and ``Concatenate.build`` want at least 2,
  Keras 3.15 ``Merge.build`` / ``Concatenate.build`` at least 1 (a list of one input is passed
  through); Subtract and Dot want exactly 2 in every version;
- masks (keras 3.15 merging/base_merge.py, multiply.py): the output mask is the OR of the inputs' masks
  (None unless every input has one), and Maximum / Minimum / Multiply read a masked entry as neutral
  (Maximum / Minimum take the other inputs' value there, Multiply a 1, and a product masked in every
  input is 0); keras 2.2.4 / 2.3.1 ``_Merge.compute_mask`` ANDs the given masks and the values ignore them;
- Dot's ``normalize``: Keras 2 ``K.l2_normalize`` (``tf.nn.l2_normalize``) is
  ``x / sqrt(max(sum(x ** 2), 1e-12))``, Keras 3 ``ops.normalize`` is
  ``x * min(1 / sqrt(sum(x ** 2)), 1 / epsilon())``, i.e. ``x / sqrt(max(sum(x ** 2), epsilon() ** 2))``.

Forward math on autodiff Tensors, vectorised: the only Python loops run over the list of inputs.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autodiff import ops
from .base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]


def _is_shape(value) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, numbers.Integral)
                                                    for d in value)


def _shape_list(input_shape, layer, at_least):
    """``input_shape`` as a list of shape tuples; ValueError unless it is a list of ``at_least`` or
    more shapes (the checks of Keras' ``_Merge.build`` / ``Merge.build``)."""
    if not isinstance(input_shape, (list, tuple)) or not input_shape or _is_shape(input_shape):
        raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                         f"input_shape={input_shape} (not a list of shapes) (layer {layer.name})")
    shapes = [tuple(s) for s in input_shape]
    if len(shapes) < at_least:
        raise ValueError(f"A merge layer should be called on a list of at least {at_least} "
                         f"input{'s' if at_least > 1 else ''}. Got {len(shapes)} inputs "
                         f"(layer {layer.name}).")
    return shapes


def _elementwise_shape(shape1, shape2):
    """The broadcast shape of two shapes without their batch dimension, aligned on the last axis
    (Keras' ``_compute_elemwise_op_output_shape``); ValueError when they cannot broadcast."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    lead = list(shape1[:len(shape1) - len(shape2)])
    tail = []
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
        if i is None or j is None:
            tail.append(None)
        elif i == 1 or j == 1:
            tail.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(f"Inputs have incompatible shapes: operands could not be broadcast "
                             f"together with shapes {tuple(shape1)} {tuple(shape2)}")
        else:
            tail.append(i)
    return tuple(lead + tail)


def _as_input_list(inputs):
    # The functional graph runs a layer called on a list of one tensor on that tensor alone.
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


class _Merge(Layer):
    """The elementwise merge layers: one output the broadcast shape of the inputs."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _min_inputs(self) -> int:
        return 1 if self._api_version == "3" else 2

    def __call__(self, inputs, *args, **kwargs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs!r:.80} (not a list of tensors) (layer {self.name})")
        return super().__call__(inputs, *args, **kwargs)

    def _check_batch(self, shapes):
        batches = {s[0] for s in shapes if s} - {None}
        if len(batches) > 1:
            raise ValueError(f"Cannot merge tensors with different batch sizes. Got tensors with "
                             f"shapes {shapes} (layer {self.name})")

    def build(self, input_shape):
        shapes = _shape_list(input_shape, self, self._min_inputs())
        self._check_batch(shapes)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _elementwise_shape(out, s[1:])
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = _elementwise_shape(out, s[1:])
        batches = {s[0] for s in shapes} - {None}
        return ((batches.pop() if len(batches) == 1 else None),) + tuple(out)

    def call(self, inputs, mask=None):
        inputs = _as_input_list(inputs)
        self._entry_masks = self._broadcast_masks(inputs, mask)
        ranks = [x.ndim for x in inputs]
        if len(set(ranks)) > 1:
            # Inputs of lower rank get size-1 axes after the batch axis until every rank is the
            # highest; broadcasting does the rest (Keras 2 / 3 ``_Merge.call``).
            top = max(ranks)
            inputs = [ops.reshape(x, (x.shape[0],) + (1,) * (top - x.ndim) + tuple(x.shape[1:]))
                      for x in inputs]
        try:
            return self._merge_function(inputs)
        finally:
            self._entry_masks = None

    def _broadcast_masks(self, inputs, mask):
        """keras 3: each input's mask expanded over its last axis to the input's shape (None where an
        input has none); keras 2 merges ignore the masks in their values (all None)."""
        if self._api_version != "3" or not isinstance(mask, (list, tuple)):
            return [None] * len(inputs)
        out = []
        for x, m in zip(inputs, mask):
            if m is None:
                out.append(None)
                continue
            m = np.asarray(m.data if hasattr(m, "grad") else m, dtype=bool)
            out.append(np.broadcast_to(m[..., None], tuple(x.shape)))
        return out

    def compute_mask(self, inputs, mask=None):
        """keras 3.15 Merge.compute_mask: the OR of the inputs' masks, None unless every input has one;
        keras 2: the AND of the given masks (Layer.compute_mask)."""
        if self._api_version == "3" and isinstance(mask, (list, tuple)):
            if not mask or any(m is None for m in mask):
                return None
            given = [np.asarray(m.data if hasattr(m, "grad") else m, dtype=bool) for m in mask]
            return np.logical_or.reduce(given)
        return super().compute_mask(inputs, mask)

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _masked_extremum(self, op, inputs):
        """keras 3.15 Merge._apply_merge_op_and_or_mask: a masked entry takes the running result's value
        (and the running result, where masked, the new input's) before ``op``."""
        masks = getattr(self, "_entry_masks", None) or [None] * len(inputs)
        out, out_mask = inputs[0], masks[0]
        for x, m in zip(inputs[1:], masks[1:]):
            if m is not None:
                x = ops.where(m, x, out)
            if out_mask is not None:
                out = ops.where(out_mask, out, x)
            out_mask = (out_mask | m) if (m is not None and out_mask is not None) else None
            out = op(out, x)
        return out


class Add(_Merge):
    """The elementwise sum of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]`` for exactly two inputs of the same shape."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: "
                             f"input_shape={list(input_shape)} (layer {self.name})")

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs, got "
                             f"{len(inputs)} (layer {self.name})")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(_Merge):
    """The elementwise product of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        masks = getattr(self, "_entry_masks", None) or [None] * len(inputs)
        every = all(m is not None for m in masks)
        out, out_mask = None, None
        for x, m in zip(inputs, masks):
            if m is not None:
                x = ops.where(m, x, np.ones((), dtype=x.dtype))      # keras 3: a masked entry is a 1
                if every:
                    out_mask = m if out_mask is None else (out_mask | m)
            out = x if out is None else ops.multiply(out, x)
        if every and out_mask is not None:
            out = ops.where(out_mask, out, np.zeros((), dtype=out.dtype))
        return out


class Average(_Merge):
    """The elementwise mean of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out / len(inputs)


class Maximum(_Merge):
    """The elementwise maximum of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return self._masked_extremum(ops.maximum, inputs)


class Minimum(_Merge):
    """The elementwise minimum of a list of inputs of the same shape."""

    def _merge_function(self, inputs):
        return self._masked_extremum(ops.minimum, inputs)


class Concatenate(_Merge):
    """The concatenation of a list of inputs along ``axis``; the other sizes must match."""

    # the steps every input keeps (Layer.compute_mask); keras 2 / 3 Concatenate concatenate the masks
    # along `axis` and keras 3 Dot gives none: not modelled, the spec feeds these layers no mask
    compute_mask = Layer.compute_mask

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        min_inputs = self._min_inputs()
        shapes = _shape_list(input_shape, self, min_inputs)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except for "
                             f"the concatenation axis {self.axis}. Received: input_shape={shapes}")
        ax = self.axis % rank
        for i in range(rank):
            if i == ax:
                continue
            sizes = {s[i] for s in shapes} - {None}
            if len(sizes) > 1:
                raise ValueError(f"A `Concatenate` layer requires inputs with matching shapes except "
                                 f"for the concatenation axis {self.axis}. Received: "
                                 f"input_shape={shapes}")
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = list(shapes[0])
        ax = self.axis % len(out)
        sizes = [s[ax] for s in shapes]
        out[ax] = None if any(d is None for d in sizes) else int(sum(sizes))
        return tuple(out)

    def call(self, inputs):
        return ops.concatenate(_as_input_list(inputs), axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _dot_axes(axes, rank1, rank2):
    """Dot's ``axes`` as two axes, negative ones counted from the end (an int applies to both
    inputs); an axis past the rank stays out of range, as in Keras (an IndexError when used)."""
    pair = [axes, axes] if isinstance(axes, numbers.Integral) else list(axes)
    return [int(a) % rank if int(a) < 0 else int(a) for a, rank in zip(pair, (rank1, rank2))]


class Dot(_Merge):
    """The dot product of the samples of two tensors along ``axes``; with ``normalize`` the samples
    are L2-normalised along those axes first (the cosine proximity)."""

    # the steps every input keeps (Layer.compute_mask); keras 2 / 3 Concatenate concatenate the masks
    # along `axis` and keras 3 Dot gives none: not modelled, the spec feeds these layers no mask
    compute_mask = Layer.compute_mask

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, numbers.Integral):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an int. "
                                f"Received: axes={axes!r}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes!r}")
            if not all(isinstance(a, numbers.Integral) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = normalize

    def build(self, input_shape):
        shapes = (_shape_list(input_shape, self, 1)
                  if isinstance(input_shape, (list, tuple)) and not _is_shape(input_shape) else None)
        if shapes is None or len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape} (layer {self.name})")
        s1, s2 = shapes
        a1, a2 = _dot_axes(self.axes, len(s1), len(s2))
        if a1 == 0 or a2 == 0:
            raise ValueError(f"Cannot perform batch_dot over axis 0 (axes={self.axes!r}, layer "
                             f"{self.name}).")
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(f"Incompatible input shapes: axis values {s1[a1]} (at axis {a1}) != "
                             f"{s2[a2]} (at axis {a2}). Full input shapes: {s1}, {s2}")
        self.built = True

    def compute_output_shape(self, input_shape):
        s1, s2 = (tuple(s) for s in input_shape)
        a1, a2 = _dot_axes(self.axes, len(s1), len(s2))
        rest = [d for i, d in enumerate(s1) if i not in (0, a1)] + \
               [d for i, d in enumerate(s2) if i not in (0, a2)]
        return (s1[0],) + (tuple(rest) if rest else (1,))

    def _l2_normalize(self, x, axis):
        # 2.x: tf.nn.l2_normalize, x * rsqrt(max(sum(x^2), 1e-12)); 3: ops.normalize,
        # x * min(rsqrt(sum(x^2)), 1 / epsilon), the same as x / sqrt(max(sum(x^2), epsilon^2)).
        floor = 1e-12 if self._api_version != "3" else backend.epsilon() ** 2
        square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
        return x / ops.sqrt(ops.maximum(square_sum, floor))

    def call(self, inputs):
        inputs = _as_input_list(inputs)
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs, got "
                             f"{len(inputs)} (layer {self.name})")
        x, y = inputs
        a1, a2 = _dot_axes(self.axes, x.ndim, y.ndim)
        if self.normalize:
            x = self._l2_normalize(x, a1)
            y = self._l2_normalize(y, a2)
        batch = x.shape[0]
        rest_x = [i for i in range(1, x.ndim) if i != a1]
        rest_y = [i for i in range(1, y.ndim) if i != a2]
        # x -> (batch, prod(rest_x), n), y -> (batch, n, prod(rest_y)); one batched matmul.
        xt = ops.transpose(x, [0] + rest_x + [a1])
        yt = ops.transpose(y, [0, a2] + rest_y)
        out_x = tuple(x.shape[i] for i in rest_x)
        out_y = tuple(y.shape[i] for i in rest_y)
        n = x.shape[a1]
        prod_x = int(np.prod(out_x)) if out_x else 1
        prod_y = int(np.prod(out_y)) if out_y else 1
        out = ops.matmul(ops.reshape(xt, (batch, prod_x, n)), ops.reshape(yt, (batch, n, prod_y)))
        return ops.reshape(out, (batch,) + ((out_x + out_y) or (1,)))

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


# --- the functional forms -----------------------------------------------------------------------

def _layer_class(name, api_version):
    """The layer class of ``api_version`` (``reference.keras(v).layers.Add``); the core class when no
    version is given."""
    if api_version is None:
        return globals()[name]
    from .. import versions
    return getattr(versions.classes(api_version).layers, name)


def add(inputs, *, api_version=None, **kwargs):
    """``Add(**kwargs)(inputs)``: the sum of the inputs."""
    return _layer_class("Add", api_version)(**kwargs)(inputs)


def subtract(inputs, *, api_version=None, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]``."""
    return _layer_class("Subtract", api_version)(**kwargs)(inputs)


def multiply(inputs, *, api_version=None, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of the inputs."""
    return _layer_class("Multiply", api_version)(**kwargs)(inputs)


def average(inputs, *, api_version=None, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of the inputs."""
    return _layer_class("Average", api_version)(**kwargs)(inputs)


def maximum(inputs, *, api_version=None, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of the inputs."""
    return _layer_class("Maximum", api_version)(**kwargs)(inputs)


def minimum(inputs, *, api_version=None, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of the inputs."""
    return _layer_class("Minimum", api_version)(**kwargs)(inputs)


def concatenate(inputs, axis=-1, *, api_version=None, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the inputs joined along ``axis``."""
    return _layer_class("Concatenate", api_version)(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, *, api_version=None, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``: the dot product of the samples
    (2.x: ``axes`` is required; 3: ``axes=-1``, ``normalize`` passed in ``**kwargs``)."""
    return _layer_class("Dot", api_version)(axes=axes, normalize=normalize, **kwargs)(inputs)
