"""Metric functions, the compile-time ``"accuracy"`` resolution, and a running mean.

Metric functions take ``(y_true, y_pred)`` and return per-sample values (shape ``(batch,)`` for
``(batch, classes)`` inputs) as Tensors; they are not differentiated.  Every loss function is also
usable as a metric (seed 003: "custom metrics take (y_true, y_pred) and return a tensor").

Averaging over an epoch (``Mean``): Keras 3 metric objects accumulate ``total += sum(w * values)`` and
``count += sum(w)`` and report ``total / count``.  Keras 2.x ``fit`` reports, for each epoch, the mean
of the per-batch metric values weighted by batch size (``callbacks.BaseLogger``:
``totals[k] += v * batch_size``; ``logs[k] = totals[k] / seen``).  Both are the same accumulator: 2.x
feeds it ``update_state(batch_value, sample_weight=batch_size)``; Keras 3 feeds it the per-sample
values.  Without sample weights the two give the same number (the mean over all samples); we keep
the single Keras 3 style object because it expresses both and is what Keras 3's public API exposes.
"""
from __future__ import annotations

import numpy as np

from . import backend
from . import losses as _losses
from .autodiff import as_tensor


def _values(x) -> np.ndarray:
    return np.asarray(as_tensor(x).data)


def _result(values) -> "object":
    return as_tensor(np.asarray(values, dtype=backend.floatx()))


def _squeeze_sparse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        return y_true[..., 0]
    return y_true


def accuracy(y_true, y_pred, *, api_version=backend.DEFAULT_API_VERSION):
    """Exact equality.  2.3: elementwise ``cast(equal(y_true, y_pred))``; 3: its mean over the
    last axis."""
    t, p = _values(y_true), _values(y_pred)
    equal = (t == p.astype(t.dtype) if t.dtype != p.dtype else t == p).astype(backend.floatx())
    if backend.is_keras3(api_version):
        return _result(equal.mean(axis=-1))
    return _result(equal)


def binary_accuracy(y_true, y_pred, threshold=0.5, *, api_version=backend.DEFAULT_API_VERSION):
    """``mean(equal(y_true, y_pred > threshold), axis=-1)`` (2.x); Keras 3 returns the
    elementwise ``equal`` without the mean.

    2.x rounds the prediction (``round(y_pred)``, half to even like ``tf.round``) when the
    threshold is the default 0.5; Keras 3 always compares with ``> threshold``.
    """
    t, p = _values(y_true), _values(y_pred)
    if backend.is_keras3(api_version):
        return _result(t == (p > threshold).astype(p.dtype))
    predicted = np.round(p) if threshold == 0.5 else (p > threshold).astype(p.dtype)
    return _result(np.mean(t == predicted, axis=-1))


def categorical_accuracy(y_true, y_pred):
    """``equal(argmax(y_true, -1), argmax(y_pred, -1))`` per sample."""
    t, p = _values(y_true), _values(y_pred)
    return _result(np.argmax(t, axis=-1) == np.argmax(p, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    """``equal(y_true, argmax(y_pred, -1))`` per sample; integer labels, shape ``(batch,)`` or
    ``(batch, 1)``."""
    p = _values(y_pred)
    t = _squeeze_sparse(_values(y_true), p)
    return _result(t.astype(np.int64) == np.argmax(p, axis=-1))


def _in_top_k(predictions: np.ndarray, targets: np.ndarray, k: int) -> np.ndarray:
    """``tf.math.in_top_k``: the target's score is among the ``k`` largest (ties count as in)."""
    target_scores = np.take_along_axis(predictions, targets[..., None].astype(np.int64), axis=-1)
    strictly_greater = np.sum(predictions > target_scores, axis=-1)
    return strictly_greater < k


def _batch_mean_in_2_2_4(matches: np.ndarray, api_version) -> np.ndarray:
    """keras 2.2.4 wraps ``in_top_k`` (shape ``(batch,)``) in ``K.mean(..., axis=-1)``: one scalar."""
    if backend.normalize_version(api_version) == "2.2.4":
        return np.mean(matches.astype(backend.floatx()), axis=-1)
    return matches


def top_k_categorical_accuracy(y_true, y_pred, k=5, *, api_version=backend.DEFAULT_API_VERSION):
    """1 where ``argmax(y_true)`` is among the ``k`` highest predictions, per sample (2.2.4: the
    mean of that over the batch)."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}.")
    t, p = _values(y_true), _values(y_pred)
    return _result(_batch_mean_in_2_2_4(_in_top_k(p, np.argmax(t, axis=-1), k), api_version))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False, *,
                                      api_version=backend.DEFAULT_API_VERSION):
    """1 where the integer label is among the ``k`` highest predictions, per sample (Keras 3:
    in the shape of ``y_true``, so ``(batch, 1)`` labels give ``(batch, 1)``; 2.2.4: the mean over
    the batch).  Keras 3 ``from_sorted_ids``: ``y_pred`` holds class ids sorted by score."""
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}.")
    p = _values(y_pred)
    raw = _values(y_true)
    labels = _squeeze_sparse(raw, p)
    if from_sorted_ids:
        matches = np.any(p[..., :k] == labels[..., None].astype(p.dtype), axis=-1)
    else:
        matches = _in_top_k(p, labels, k)
    if backend.is_keras3(api_version):
        matches = matches.reshape(raw.shape)
    return _result(_batch_mean_in_2_2_4(matches, api_version))


def cosine_proximity(y_true, y_pred, axis=-1):
    """keras 2.3.1 ``metrics.cosine_proximity`` (also ``cosine`` and ``cosine_similarity``): the
    positive ``sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``, unlike the loss."""
    return -_losses.cosine_proximity(y_true, y_pred, axis=axis)


def resolve_accuracy(loss_fn, output_shape, y_true_shape=None, *,
                     api_version=backend.DEFAULT_API_VERSION):
    """Which function ``compile(metrics=["accuracy"])`` ("acc") means for one output.

    - 2.x (``training.py``, ``handle_metrics``): ``binary_accuracy`` if the output's last dimension
      is 1 or the loss is ``binary_crossentropy``; else ``sparse_categorical_accuracy`` if the loss
      is ``sparse_categorical_crossentropy``; else ``categorical_accuracy``.
    - 3 (``compile_utils.get_metric``): from shapes only: binary if ``y_pred``'s last dimension is
      1; sparse if ``y_true`` has lower rank than ``y_pred`` or its last dimension is 1 while
      ``y_pred``'s is larger; else categorical.  ``y_true_shape`` defaults to ``output_shape``.
    Returns the metric function with the version bound.
    """
    version = backend.normalize_version(api_version)
    output_shape = tuple(output_shape)
    loss_name = None
    if loss_fn is not None:
        loss_name = loss_fn if isinstance(loss_fn, str) else getattr(loss_fn, "__name__", None)
    if version == "3":
        y_true_shape = output_shape if y_true_shape is None else tuple(y_true_shape)
        is_binary = output_shape[-1] == 1
        is_sparse = (len(y_true_shape) < len(output_shape)
                     or (y_true_shape[-1] == 1 and output_shape[-1] != 1))
    else:
        is_binary = output_shape[-1] == 1 or loss_name == "binary_crossentropy"
        is_sparse = loss_name == "sparse_categorical_crossentropy"
    if is_binary:
        chosen = binary_accuracy
    elif is_sparse:
        chosen = sparse_categorical_accuracy
    else:
        chosen = categorical_accuracy
    return backend.bind_api_version(chosen, version)


_ACCURACIES = ("binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
               "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy")
# The loss functions keras.metrics re-exports (keras 2.2.4 / 2.3.1 metrics.py imports and aliases,
# keras 3.15 keras/metrics/__init__.py).
_KERAS2_LOSSES = ("mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
                  "mean_squared_logarithmic_error", "hinge", "logcosh", "squared_hinge",
                  "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
                  "kullback_leibler_divergence", "poisson",
                  "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE")
_LOSSES_BY_VERSION = {
    "2.2.4": _KERAS2_LOSSES + ("cosine_proximity", "cosine"),
    "2.3": _KERAS2_LOSSES + ("categorical_hinge",),
    "3": ("mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
          "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge", "log_cosh",
          "kl_divergence", "poisson", "huber", "categorical_crossentropy",
          "sparse_categorical_crossentropy", "binary_crossentropy"),
}
# Defined in metrics.py itself, besides the accuracies.
_OWN_BY_VERSION = {"2.2.4": (), "2.3": ("accuracy", "cosine_proximity"), "3": ()}


def for_version(api_version) -> dict:
    """``{name: function}``: the attributes of ``keras.metrics`` in that version (the accuracy
    metrics and the loss functions it re-exports)."""
    version = backend.normalize_version(api_version)
    losses_table = _losses.resolvable(version)
    table = {name: losses_table[name] for name in _LOSSES_BY_VERSION[version]}
    table.update({name: backend.bind_api_version(globals()[name], version)
                  for name in _ACCURACIES + _OWN_BY_VERSION[version]})
    if version == "2.3":
        table["cosine"] = table["cosine_similarity"] = table["cosine_proximity"]
    return table


def resolvable(api_version) -> dict:
    """``{name: function}`` for every name ``get`` resolves: the attributes, and any loss name (a
    loss is usable as a metric by name); ``accuracy`` in 2.3 and 3."""
    version = backend.normalize_version(api_version)
    table = dict(_losses.resolvable(version))
    if version == "3":
        table["accuracy"] = backend.bind_api_version(accuracy, version)
    table.update(for_version(version))
    return table


def serialize(metric) -> str:
    name = getattr(metric, "name", None) or getattr(metric, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize metric {metric!r}: it has no name.")
    return name


def get(identifier, *, api_version=backend.DEFAULT_API_VERSION):
    """A metric function by name, or a callable as given.  ``"accuracy"``/``"acc"`` need the loss
    and output shape: use ``resolve_accuracy`` (2.2.4 has no ``accuracy`` function)."""
    if isinstance(identifier, str):
        table = resolvable(api_version)
        if identifier not in table:
            hint = (" ('accuracy' and 'acc' are resolved by compile: see resolve_accuracy)"
                    if identifier in ("accuracy", "acc") else "")
            raise ValueError(f"Unknown metric function: {identifier!r}{hint}. Valid names for Keras "
                             f"{backend.normalize_version(api_version)} are {sorted(table)}.")
        return table[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


class Mean:
    """Running weighted mean: ``total += sum(w * values)``, ``count += sum(w)``, ``result = total /
    count`` (0 before any update, like Keras 3's ``divide_no_nan``)."""

    def __init__(self, name="mean", dtype=None):
        self.name = name
        self.dtype = dtype or backend.floatx()
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    reset_states = reset_state  # the 2.x spelling

    def update_state(self, values, sample_weight=None):
        values = np.asarray(as_tensor(values).data, dtype=np.float64)
        if sample_weight is None:
            weights = np.ones_like(values)
        else:
            weights = np.asarray(as_tensor(sample_weight).data, dtype=np.float64)
            if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
                weights = weights[..., 0]
            while weights.ndim < values.ndim:
                weights = weights[..., None]
            weights = np.broadcast_to(weights, np.broadcast_shapes(weights.shape, values.shape))
            values = np.broadcast_to(values, weights.shape)
        self.total += float(np.sum(values * weights))
        self.count += float(np.sum(weights))

    def result(self):
        value = self.total / self.count if self.count else 0.0
        return np.asarray(value, dtype=self.dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanMetricWrapper(Mean):
    """A metric function averaged over everything it has seen (Keras 3 ``MeanMetricWrapper``)."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "mean"), dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)
