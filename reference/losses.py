"""Loss functions and the reduction that turns per-sample losses into the training objective.

Every loss is ``fn(y_true, y_pred, ...)`` on autodiff Tensors ("the first argument is the true
value, the second the prediction", seed 003) and returns the per-sample losses: the last axis is
reduced (mean or sum as Keras does), so ``(batch, d)`` inputs give a ``(batch,)`` result and
``(batch, t, d)`` inputs give ``(batch, t)``.  ``reduce_weighted`` then averages them into the scalar
the model minimises, as each Keras version's training engine does.

Version differences implemented here (keyword-only ``api_version``; ``for_version(v)`` binds it):
- ``hinge`` / ``squared_hinge``: 2.3 and 3 convert ``{0, 1}`` labels to ``{-1, 1}`` first; 2.2.4 uses
  the labels as given.
- ``sparse_categorical_crossentropy`` on probabilities: 2.x clips then normalises (it feeds
  ``log(clip(p))`` to a softmax cross-entropy); Keras 3 normalises then clips.
- ``huber_loss`` (2.3) is elementwise; Keras 3's ``huber`` averages over the last axis.
- ``cosine_similarity``: 2.3 is ``cosine_proximity``; Keras 3 floors the norm at epsilon.
- ``reduce_weighted``: 2.2.4 weighted mean over the samples with non-zero weight (and, with a mask,
  over the unmasked entries); 2.3 sum of weighted losses over the number of entries; Keras 3
  ``sum_over_batch_size`` with masked entries reweighted by ``total / valid``.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autodiff import as_tensor, ops

_EPS = backend.epsilon


def _pair(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true)
    if y_true.dtype != y_pred.dtype:
        y_true = ops.cast(y_true, y_pred.dtype)
    return y_true, y_pred


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(ops.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / clip(abs(y_true), epsilon, inf)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = ops.maximum(ops.abs(y_true), _EPS())
    return ops.mean(ops.abs((y_true - y_pred) / denominator), axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    first_log = ops.log(ops.maximum(y_pred, _EPS()) + 1.0)
    second_log = ops.log(ops.maximum(y_true, _EPS()) + 1.0)
    return ops.mean(ops.square(first_log - second_log), axis=-1)


def _hinge_labels(y_true, api_version):
    """2.3 and 3: labels that are all 0 or 1 become -1 or 1."""
    if backend.normalize_version(api_version) == "2.2.4":
        return y_true
    values = y_true.data
    if np.all((values == 0) | (values == 1)):
        return y_true * 2.0 - 1.0
    return y_true


def squared_hinge(y_true, y_pred, *, api_version=backend.DEFAULT_API_VERSION):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true, api_version)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def hinge(y_true, y_pred, *, api_version=backend.DEFAULT_API_VERSION):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _hinge_labels(y_true, api_version)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(0, max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1)`` over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def logcosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as ``x + softplus(-2x) - log 2``."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0) - np.log(2.0), axis=-1)


def huber_loss(y_true, y_pred, delta=1.0):
    """2.3: elementwise, not reduced: ``0.5 q^2 + delta * (|e| - q)``, ``q = min(|e|, delta)``,
    ``e = y_pred - y_true`` (keras 2.3.1 losses.py)."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = ops.abs(y_pred - y_true)
    quadratic = ops.minimum(error, float(delta))
    return ops.square(quadratic) * 0.5 + (error - quadratic) * float(delta)


def huber(y_true, y_pred, delta=1.0):
    """``mean(0.5 e^2 if |e| <= delta else delta * (|e| - 0.5 delta), axis=-1)``, ``e = y_pred - y_true``."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = ops.abs(y_pred - y_true)
    quadratic = ops.square(error) * 0.5
    linear = (error - 0.5 * delta) * delta
    return ops.mean(ops.where(error.data <= delta, quadratic, linear), axis=-1)


def _smooth_categorical(y_true, label_smoothing):
    if not label_smoothing:
        return y_true
    num_classes = y_true.shape[-1]
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(p), axis)``.

    Probabilities are first normalised to sum to 1 along ``axis`` and clipped to
    ``[epsilon, 1 - epsilon]``; with ``from_logits`` ``log(p)`` is ``log_softmax(y_pred)``.
    ``label_smoothing`` (2.3, 3) replaces ``y_true`` by ``y_true * (1 - s) + s / num_classes``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _smooth_categorical(y_true, label_smoothing)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=axis)
    else:
        p = y_pred / ops.sum(y_pred, axis=axis, keepdims=True)
        log_p = ops.log(ops.clip(p, _EPS(), 1.0 - _EPS()))
    return -ops.sum(y_true * log_p, axis=axis)


def _one_hot_labels(y_true, y_pred):
    labels = np.asarray(as_tensor(y_true).data)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != tuple(y_pred.shape[:-1]):
        raise ValueError(f"`y_true` of shape {np.shape(labels)} does not match `y_pred` of shape "
                         f"{y_pred.shape}: sparse labels need the shape of `y_pred` without its "
                         "last axis (optionally with a trailing 1).")
    labels = labels.astype(np.int64)
    num_classes = y_pred.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"`y_true` holds labels outside [0, {num_classes}): "
                         f"min {labels.min()}, max {labels.max()}.")
    return labels, np.eye(num_classes, dtype=y_pred.dtype)[labels]


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1, ignore_class=None,
                                    *, api_version=backend.DEFAULT_API_VERSION):
    """``-log p[y_true]`` with integer labels ``y_true`` (the probabilities as in
    ``categorical_crossentropy``; see the module docstring for the clip order by version)."""
    y_pred = as_tensor(y_pred)
    if axis not in (-1, y_pred.ndim - 1):
        raise ValueError(f"Only axis=-1 is supported, got axis={axis!r}.")
    raw = np.asarray(as_tensor(y_true).data)
    ignored = None
    if ignore_class is not None:
        ignored = raw == ignore_class
        raw = np.where(ignored, 0, raw)
    labels, one_hot = _one_hot_labels(raw, y_pred)
    if from_logits:
        log_p = ops.log_softmax(y_pred, axis=-1)
    elif backend.is_keras3(api_version):
        p = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        log_p = ops.log(ops.clip(p, _EPS(), 1.0 - _EPS()))
    else:
        log_p = ops.log_softmax(ops.log(ops.clip(y_pred, _EPS(), 1.0 - _EPS())), axis=-1)
    loss = -ops.sum(log_p * one_hot, axis=-1)
    if ignored is not None:
        if ignored.ndim > loss.ndim:
            ignored = ignored[..., 0]
        loss = loss * (~ignored).astype(loss.dtype)
    return loss


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``mean(-(y log p + (1 - y) log(1 - p)), axis)``, ``p`` clipped to ``[eps, 1 - eps]``.

    With ``from_logits`` the stable form ``softplus(z) - y z``.  ``label_smoothing`` (2.3, 3)
    replaces ``y`` by ``y * (1 - s) + 0.5 * s``.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        elementwise = ops.softplus(y_pred) - y_true * y_pred
    else:
        p = ops.clip(y_pred, _EPS(), 1.0 - _EPS())
        elementwise = -(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p))
    return ops.mean(elementwise, axis=axis)


def kullback_leibler_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = ops.clip(y_true, _EPS(), 1.0)
    y_pred = ops.clip(y_pred, _EPS(), 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + _EPS()), axis=-1)


def l2_normalize(x, axis=-1):
    """``x / sqrt(max(sum(x^2, axis), 1e-12))`` (as ``tf.nn.l2_normalize``)."""
    x = as_tensor(x)
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))


def cosine_proximity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (2.x name)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -ops.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def _normalize(x, axis=-1):
    """Keras 3 ``ops.normalize``: ``x / max(norm(x), epsilon)`` (``x * min(rsqrt(sum x^2), 1 / eps)``)."""
    x = as_tensor(x)
    return x / ops.maximum(ops.sqrt(ops.sum(ops.square(x), axis=axis, keepdims=True)), _EPS())


def cosine_similarity(y_true, y_pred, axis=-1, *, api_version=backend.DEFAULT_API_VERSION):
    """2.3: ``cosine_proximity`` under its other name; Keras 3: ``-sum(n(y_true) * n(y_pred), axis)``
    with ``n`` Keras 3's ``normalize`` (the norm floored at epsilon, not the squared norm at 1e-12)."""
    if not backend.is_keras3(api_version):
        return cosine_proximity(y_true, y_pred, axis=axis)
    y_true, y_pred = _pair(y_true, y_pred)
    return -ops.sum(_normalize(y_true, axis) * _normalize(y_pred, axis), axis=axis)


# Aliases, as Keras defines them.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence = kullback_leibler_divergence
log_cosh = logcosh
cosine = cosine_proximity

_CORE = ("mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
         "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge",
         "categorical_crossentropy", "sparse_categorical_crossentropy",
         "binary_crossentropy", "poisson")
_KERAS2_ALIASES = ("mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "cosine")
# The attributes of keras.losses, per version (keras 2.2.4 / 2.3.1 losses.py, keras 3.15
# keras/losses/__init__.py).
_BY_VERSION = {
    "2.2.4": _CORE + ("logcosh", "kullback_leibler_divergence", "cosine_proximity") + _KERAS2_ALIASES,
    # 2.3.1: cosine = cosine_similarity = cosine_proximity; huber_loss is elementwise.
    "2.3": _CORE + ("logcosh", "kullback_leibler_divergence", "cosine_proximity",
                    "cosine_similarity", "huber_loss") + _KERAS2_ALIASES,
    # Keras 3 renamed logcosh, kullback_leibler_divergence and cosine_proximity, and exports no aliases.
    "3": _CORE + ("log_cosh", "kl_divergence", "cosine_similarity", "huber"),
}
# Names only ``get`` resolves (keras 3.15 losses/__init__.py ALL_OBJECTS_DICT): not attributes.
_GET_ONLY = {"2.2.4": (), "2.3": (),
             "3": ("mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE")}
bce = BCE = binary_crossentropy


def for_version(api_version) -> dict:
    """``{name: function}`` for the loss functions ``api_version`` documents, version bound."""
    names = _BY_VERSION[backend.normalize_version(api_version)]
    return {name: backend.bind_api_version(globals()[name], api_version) for name in names}


def resolvable(api_version) -> dict:
    """``{name: function}`` for every name ``get`` / ``deserialize`` resolve in ``api_version``."""
    table = for_version(api_version)
    table.update({name: backend.bind_api_version(globals()[name], api_version)
                  for name in _GET_ONLY[backend.normalize_version(api_version)]})
    return table


def serialize(loss) -> str:
    name = getattr(loss, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize loss {loss!r}: it has no `__name__`.")
    return name


def deserialize(name, custom_objects=None, *, api_version=backend.DEFAULT_API_VERSION):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    table = resolvable(api_version)
    if name not in table:
        raise ValueError(f"Unknown loss function: {name!r}. Valid names for Keras "
                         f"{backend.normalize_version(api_version)} are {sorted(table)}.")
    return table[name]


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """The ``compile(loss=...)`` resolution: ``None`` -> ``None``, a name -> that function,
    a callable -> itself; anything else (or an unknown name) -> ``ValueError`` naming it."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return deserialize(identifier, api_version=api_version)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


# --- the training objective -------------------------------------------------------------------

def _broadcast_weights(weights: np.ndarray, ndim: int) -> np.ndarray:
    """Weights of shape ``(batch,)`` (or ``(batch, 1)``) made broadcastable to per-sample losses."""
    if weights.ndim == ndim + 1 and weights.shape[-1] == 1:
        weights = weights[..., 0]
    while weights.ndim < ndim:
        weights = weights[..., None]
    return weights


def reduce_weighted(per_sample_losses, sample_weight=None, mask=None, *,
                    api_version=backend.DEFAULT_API_VERSION):
    """The scalar a model minimises for one output, from ``loss_fn(y_true, y_pred)``.

    - 2.2.4 (``training_utils.weighted_masked_objective``): with a mask, losses are multiplied by
      it and divided by its mean; with weights, losses are averaged down to the weights' rank,
      multiplied by them and divided by the fraction of non-zero weights; then the mean.
      So, for ``(batch,)`` losses: ``sum(w * l) / count(w != 0)``.
    - 2.3 (``losses_utils.compute_weighted_loss``, ``SUM_OVER_BATCH_SIZE``): the mask multiplies
      the weights; ``sum(w * mask * l) / size(l)``.
    - 3 (``losses.loss.reduce_values``, ``sum_over_batch_size``): masked entries get weight 0 and
      the others ``total / valid``; ``sum(w' * l) / size(l)`` (0 when the batch is empty).
    """
    losses = as_tensor(per_sample_losses)
    version = backend.normalize_version(api_version)
    dtype = losses.dtype
    weights = None if sample_weight is None else np.asarray(
        as_tensor(sample_weight).data, dtype=dtype)
    mask = None if mask is None else np.asarray(as_tensor(mask).data).astype(dtype)

    if version == "2.2.4":
        if mask is not None:
            losses = losses * mask / np.mean(mask)
        if weights is not None:
            if weights.ndim < losses.ndim:
                losses = ops.mean(losses, axis=tuple(range(weights.ndim, losses.ndim)))
            losses = losses * weights / np.mean((weights != 0).astype(dtype))
        return ops.mean(losses)

    if version == "3" and mask is not None:
        valid = mask.sum()
        mask = np.where(mask != 0, mask.size / valid if valid else 0.0, 0.0).astype(dtype)
    if mask is not None:
        weights = mask if weights is None else _broadcast_weights(weights, mask.ndim) * mask
    if weights is not None:
        losses = losses * _broadcast_weights(weights, losses.ndim)
    size = int(np.prod(losses.shape))
    if losses.ndim == 0:
        return losses
    if size == 0:
        return ops.sum(losses)
    return ops.sum(losses) / float(size)
