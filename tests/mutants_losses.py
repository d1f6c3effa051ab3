"""Mutants of the losses and metric functions (registered through mutants.mutant).

Each replaces one function of ``K.losses`` / ``K.metrics`` with a wrapper keeping the documented signature
(``functools.wraps`` of the version's function, whose ``__signature__`` is the spec's), so only the formula
differs. The broken formulas are written out on Tensors, or are the core function of another version (the
2.2.4 hinge without the label conversion), never a patch of the reference the oracle uses.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference import losses as core_losses
from keras_conformance.reference import metrics as core_metrics
from keras_conformance.reference.autodiff import as_tensor, ops


def _replace(K, name, make):
    """``K.<name>`` ("losses.hinge") becomes ``make(pristine)``, with the pristine's name and signature."""
    pristine = K.get(name)
    fn = functools.wraps(pristine)(make(pristine))
    fn.__name__ = name.split(".")[-1]
    K.set(name, fn)
    return pristine


def _arguments(pristine, args, kwargs) -> dict:
    """The call's arguments by name, documented defaults filled in."""
    bound = inspect.signature(pristine).bind(*args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


def _floats(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    return ops.cast(as_tensor(y_true), y_pred.dtype), y_pred


WRONG_EPSILON = 1e-3


@mutant("numerics", ALL, f"losses.categorical_crossentropy clips the rescaled y_pred to [{WRONG_EPSILON}, "
        f"1 - {WRONG_EPSILON}] (documented epsilon 1e-7)", items=("losses.categorical_crossentropy",))
def cce_clip_epsilon_1e3(K, v):
    def make(pristine):
        def categorical_crossentropy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            if a.get("from_logits"):
                return pristine(*args, **kwargs)
            y_true, y_pred = _floats(a["y_true"], a["y_pred"])
            smoothing = a.get("label_smoothing") or 0.0
            if smoothing:
                y_true = y_true * (1.0 - smoothing) + smoothing / y_true.shape[-1]
            axis = a.get("axis", -1)
            p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), WRONG_EPSILON, 1.0 - WRONG_EPSILON)
            return -ops.sum(y_true * ops.log(p), axis=axis)
        return categorical_crossentropy
    _replace(K, "losses.categorical_crossentropy", make)


@mutant("numerics", ALL, f"losses.binary_crossentropy clips y_pred to [{WRONG_EPSILON}, 1 - {WRONG_EPSILON}] "
        "(documented epsilon 1e-7)", items=("losses.binary_crossentropy",))
def bce_clip_epsilon_1e3(K, v):
    def make(pristine):
        def binary_crossentropy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            if a.get("from_logits"):
                return pristine(*args, **kwargs)
            y_true, y_pred = _floats(a["y_true"], a["y_pred"])
            smoothing = a.get("label_smoothing") or 0.0
            if smoothing:
                y_true = y_true * (1.0 - smoothing) + 0.5 * smoothing
            p = ops.clip(y_pred, WRONG_EPSILON, 1.0 - WRONG_EPSILON)
            return ops.mean(-(y_true * ops.log(p) + (1.0 - y_true) * ops.log(1.0 - p)), axis=a.get("axis", -1))
        return binary_crossentropy
    _replace(K, "losses.binary_crossentropy", make)


@mutant("numerics", ALL, "losses.mean_absolute_error sums abs(y_pred - y_true) over the last axis instead of "
        "averaging it", items=("losses.mean_absolute_error",))
def mae_sums_last_axis(K, v):
    def make(pristine):
        def mean_absolute_error(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            return ops.sum(ops.abs(y_pred - y_true), axis=-1)
        return mean_absolute_error
    _replace(K, "losses.mean_absolute_error", make)


@mutant("numerics", ("2.3", "3"), "losses.hinge uses 0 / 1 labels as given (2.2.4's formula) instead of "
        "converting them to -1 / 1 first", items=("losses.hinge",))
def hinge_without_label_conversion(K, v):
    _replace(K, "losses.hinge",
             lambda pristine: lambda y_true, y_pred: core_losses.hinge(y_true, y_pred, api_version="2.2.4"))


@mutant("numerics", ("2.3", "3"), "losses.squared_hinge uses 0 / 1 labels as given (2.2.4's formula) instead of "
        "converting them to -1 / 1 first", items=("losses.squared_hinge",))
def squared_hinge_without_label_conversion(K, v):
    _replace(K, "losses.squared_hinge",
             lambda pristine: lambda y_true, y_pred: core_losses.squared_hinge(y_true, y_pred, api_version="2.2.4"))


@mutant("numerics", KERAS2 + ("3",), "losses.kullback_leibler_divergence / kl_divergence does not clip y_true to "
        "[epsilon, 1]: a 0 in y_true gives 0 * log(0) = nan", items=("losses.kullback_leibler_divergence",
                                                                     "losses.kl_divergence"))
def kld_without_clipping_y_true(K, v):
    name = "losses.kl_divergence" if v == "3" else "losses.kullback_leibler_divergence"

    def make(pristine):
        def kl(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            y_pred = ops.clip(y_pred, 1e-7, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)
        return kl
    _replace(K, name, make)


@mutant("numerics", ("2.3",), "losses.huber_loss averages over the last axis (keras 3's huber) instead of "
        "staying elementwise as keras 2.3.1's", items=("losses.huber_loss",))
def huber_loss_reduced_in_2_3(K, v):
    _replace(K, "losses.huber_loss",
             lambda pristine: lambda y_true, y_pred, delta=1.0: ops.mean(pristine(y_true, y_pred, delta), axis=-1))


@mutant("numerics", ALL, "metrics.top_k_categorical_accuracy counts the k - 1 highest predictions (k off by one)",
        items=("metrics.top_k_categorical_accuracy",))
def top_k_off_by_one(K, v):
    _replace(K, "metrics.top_k_categorical_accuracy",
             lambda pristine: lambda y_true, y_pred, k=5: pristine(y_true, y_pred, k=k - 1))


@mutant("numerics", ALL, "metrics.binary_accuracy averages over the batch axis (axis 0) instead of the last "
        "axis (2.x) / instead of staying elementwise (3)", items=("metrics.binary_accuracy",))
def binary_accuracy_averaged_over_batch(K, v):
    def make(pristine):
        def binary_accuracy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            t = np.asarray(as_tensor(a["y_true"]).data)
            p = np.asarray(as_tensor(a["y_pred"]).data)
            matches = (t == (p > a.get("threshold", 0.5))).astype("float32")
            return as_tensor(np.mean(matches, axis=0))
        return binary_accuracy
    _replace(K, "metrics.binary_accuracy", make)


@mutant("numerics", ("2.2.4",), "metrics.sparse_top_k_categorical_accuracy returns one value per sample in 2.2.4 "
        "(2.3's form) instead of their mean over the batch", items=("metrics.sparse_top_k_categorical_accuracy",))
def sparse_top_k_not_batch_averaged_in_2_2_4(K, v):
    _replace(K, "metrics.sparse_top_k_categorical_accuracy",
             lambda pristine: lambda y_true, y_pred, k=5: core_metrics.sparse_top_k_categorical_accuracy(
                 y_true, y_pred, k=k, api_version="2.3"))


@mutant("numerics", ("2.3",), "metrics.cosine_proximity keeps the loss's minus sign in 2.3 (keras 2.3.1's metric "
        "is the positive cosine similarity)", items=("metrics.cosine_proximity",))
def metric_cosine_proximity_negative_in_2_3(K, v):
    _replace(K, "metrics.cosine_proximity",
             lambda pristine: lambda y_true, y_pred, axis=-1: core_losses.cosine_proximity(y_true, y_pred, axis=axis))


@mutant("numerics", ("3",), "losses.categorical_crossentropy ignores axis: always the last axis (documented the "
        "class axis `axis`)", items=("losses.categorical_crossentropy",))
def cce_axis_ignored(K, v):
    def make(pristine):
        def categorical_crossentropy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            a["axis"] = -1
            return pristine(**a)
        return categorical_crossentropy
    _replace(K, "losses.categorical_crossentropy", make)


@mutant("numerics", ("3",), "losses.sparse_categorical_crossentropy ignores ignore_class: the entries of that "
        "class keep their crossentropy (documented loss 0 there)", items=("losses.sparse_categorical_crossentropy",))
def scce_ignore_class_ignored(K, v):
    def make(pristine):
        def sparse_categorical_crossentropy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            a["ignore_class"] = None
            return pristine(**a)
        return sparse_categorical_crossentropy
    _replace(K, "losses.sparse_categorical_crossentropy", make)


@mutant("numerics", ("3",), "metrics.sparse_top_k_categorical_accuracy ignores from_sorted_ids: the sorted ids are "
        "read as scores (documented: y_pred holds the class ids sorted by score)",
        items=("metrics.sparse_top_k_categorical_accuracy",))
def sparse_top_k_from_sorted_ids_ignored(K, v):
    def make(pristine):
        def sparse_top_k_categorical_accuracy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            a["from_sorted_ids"] = False
            return pristine(**a)
        return sparse_top_k_categorical_accuracy
    _replace(K, "metrics.sparse_top_k_categorical_accuracy", make)


# -- one mutant per remaining documented loss / metric function (each breaks its spec entry's formula) -----
@mutant("numerics", ALL, "losses.categorical_hinge takes the sum of the wrong-class scores as `neg` instead of "
        "their max (sum((1 - y_true) * y_pred) for max((1 - y_true) * y_pred))",
        items=("losses.categorical_hinge",))
def categorical_hinge_neg_sum(K, v):
    def make(pristine):
        def categorical_hinge(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            pos = ops.sum(y_true * y_pred, axis=-1)
            neg = ops.sum((1.0 - y_true) * y_pred, axis=-1)
            return ops.maximum(neg - pos + 1.0, 0.0)
        return categorical_hinge
    _replace(K, "losses.categorical_hinge", make)


@mutant("numerics", KERAS2, "losses.cosine_proximity drops the minus sign: the positive cosine similarity "
        "(the metric's value), so minimising it pushes the vectors apart", items=("losses.cosine_proximity",))
def loss_cosine_proximity_positive(K, v):
    _replace(K, "losses.cosine_proximity",
             lambda pristine: lambda y_true, y_pred, axis=-1: core_metrics.cosine_proximity(y_true, y_pred, axis=axis))


@mutant("numerics", ("2.3", "3"), "losses.cosine_similarity ignores `axis`: always the last axis (documented "
        "along `axis`)", items=("losses.cosine_similarity",))
def loss_cosine_similarity_axis_ignored(K, v):
    def make(pristine):
        def cosine_similarity(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            a["axis"] = -1
            return pristine(**a)
        return cosine_similarity
    _replace(K, "losses.cosine_similarity", make)


@mutant("numerics", ("3",), "losses.huber drops the 0.5 of its quadratic branch: e ** 2 where |e| <= delta "
        "(documented 0.5 * e ** 2)", items=("losses.huber",))
def huber_quadratic_without_half(K, v):
    def make(pristine):
        def huber(y_true, y_pred, delta=1.0):
            y_true, y_pred = _floats(y_true, y_pred)
            error = ops.abs(y_pred - y_true)
            linear = (error - 0.5 * delta) * delta
            return ops.mean(ops.where(error.data <= delta, ops.square(error), linear), axis=-1)
        return huber
    _replace(K, "losses.huber", make)


def _logcosh_without_log2(y_true, y_pred):
    """The stable form x + softplus(-2 x) of log(cosh(x)) without its constant - log(2)."""
    y_true, y_pred = _floats(y_true, y_pred)
    x = y_pred - y_true
    return ops.mean(x + ops.softplus(x * -2.0), axis=-1)


@mutant("numerics", KERAS2, "losses.logcosh forgets the - log(2) of its stable form: mean(x + softplus(-2 x)) "
        "instead of mean(x + softplus(-2 x) - log 2) = mean(log(cosh(x)))", items=("losses.logcosh",))
def logcosh_without_log2(K, v):
    _replace(K, "losses.logcosh", lambda pristine: _logcosh_without_log2)


@mutant("numerics", ("3",), "losses.log_cosh sums log(cosh(y_pred - y_true)) over the last axis instead of "
        "averaging it", items=("losses.log_cosh",))
def log_cosh_sums_last_axis(K, v):
    def make(pristine):
        def log_cosh(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            x = y_pred - y_true
            return ops.sum(x + ops.softplus(x * -2.0) - np.log(2.0), axis=-1)
        return log_cosh
    _replace(K, "losses.log_cosh", make)


@mutant("numerics", ALL, "losses.mean_absolute_percentage_error leaves out the factor 100: a fraction, "
        "documented a percentage", items=("losses.mean_absolute_percentage_error",))
def mape_without_100(K, v):
    _replace(K, "losses.mean_absolute_percentage_error",
             lambda pristine: lambda y_true, y_pred: pristine(y_true, y_pred) / 100.0)


@mutant("numerics", ALL, "losses.mean_squared_logarithmic_error takes log(y) instead of log(y + 1) "
        "(log for log1p)", items=("losses.mean_squared_logarithmic_error",))
def msle_log_without_one(K, v):
    def make(pristine):
        def mean_squared_logarithmic_error(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            first_log = ops.log(ops.maximum(y_pred, 1e-7))
            second_log = ops.log(ops.maximum(y_true, 1e-7))
            return ops.mean(ops.square(first_log - second_log), axis=-1)
        return mean_squared_logarithmic_error
    _replace(K, "losses.mean_squared_logarithmic_error", make)


@mutant("numerics", ALL, "losses.poisson swaps its arguments: mean(y_true - y_pred * log(y_true + epsilon)) "
        "instead of mean(y_pred - y_true * log(y_pred + epsilon))", items=("losses.poisson",))
def poisson_arguments_swapped(K, v):
    _replace(K, "losses.poisson", lambda pristine: lambda y_true, y_pred: pristine(y_pred, y_true))


@mutant("numerics", ("2.3",), "metrics.accuracy averages the matches over the last axis (one value per sample, "
        "as categorical_accuracy) instead of staying elementwise as keras 2.3.1's", items=("metrics.accuracy",))
def accuracy_averaged_last_axis_in_2_3(K, v):
    _replace(K, "metrics.accuracy", lambda pristine: lambda y_true, y_pred: ops.mean(
        as_tensor(pristine(y_true, y_pred)), axis=-1))


@mutant("numerics", ALL, "metrics.categorical_accuracy returns the mean over the batch (one scalar) instead "
        "of one value per sample", items=("metrics.categorical_accuracy",))
def categorical_accuracy_batch_mean(K, v):
    _replace(K, "metrics.categorical_accuracy", lambda pristine: lambda y_true, y_pred: ops.mean(
        as_tensor(pristine(y_true, y_pred))))


@mutant("numerics", ALL, "metrics.sparse_categorical_accuracy keeps the argmax's axis (keepdims): (batch,) "
        "labels compared with a (batch, 1) argmax broadcast to a (batch, batch) matrix",
        items=("metrics.sparse_categorical_accuracy",))
def sparse_categorical_accuracy_keepdims_broadcast(K, v):
    def make(pristine):
        def sparse_categorical_accuracy(y_true, y_pred):
            t = np.asarray(as_tensor(y_true).data)
            p = np.asarray(as_tensor(y_pred).data)
            matches = t.astype(np.int64) == np.argmax(p, axis=-1)[..., None]
            return as_tensor(matches.astype("float32"))
        return sparse_categorical_accuracy
    _replace(K, "metrics.sparse_categorical_accuracy", make)


@mutant("numerics", ("2.3",), "metrics.cosine_similarity keeps the loss's minus sign in 2.3 (keras 2.3.1's "
        "metric is the positive cosine similarity)", items=("metrics.cosine_similarity",))
def metric_cosine_similarity_negative_in_2_3(K, v):
    _replace(K, "metrics.cosine_similarity",
             lambda pristine: lambda y_true, y_pred, axis=-1: core_losses.cosine_proximity(y_true, y_pred, axis=axis))


@mutant("numerics", ALL, "losses.hinge drops the max(0, .): mean(1 - y_true * y_pred), so a sample beyond the "
        "margin lowers the loss below 0 (documented mean(max(1 - y_true * y_pred, 0)))", items=("losses.hinge",))
def hinge_without_clip_at_zero(K, v):
    def make(pristine):
        def hinge(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            y_true = core_losses._hinge_labels(y_true, v)
            return ops.mean(1.0 - y_true * y_pred, axis=-1)
        return hinge
    _replace(K, "losses.hinge", make)


@mutant("numerics", ALL, "losses.squared_hinge squares the mean margin instead of averaging the squared margins: "
        "square(mean(max(1 - y_true * y_pred, 0)))", items=("losses.squared_hinge",))
def squared_hinge_squares_the_mean(K, v):
    def make(pristine):
        def squared_hinge(y_true, y_pred):
            y_true, y_pred = _floats(y_true, y_pred)
            y_true = core_losses._hinge_labels(y_true, v)
            return ops.square(ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1))
        return squared_hinge
    _replace(K, "losses.squared_hinge", make)


@mutant("numerics", ALL, "losses.sparse_categorical_crossentropy reads probabilities as logits: a softmax is "
        "applied to y_pred before the crossentropy when from_logits is False",
        items=("losses.sparse_categorical_crossentropy",))
def scce_softmax_of_probabilities(K, v):
    def make(pristine):
        def sparse_categorical_crossentropy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            if a.get("from_logits"):
                return pristine(**a)
            a["y_pred"] = ops.softmax(as_tensor(a["y_pred"]), axis=-1)
            return pristine(**a)
        return sparse_categorical_crossentropy
    _replace(K, "losses.sparse_categorical_crossentropy", make)


@mutant("numerics", KERAS2, "metrics.cosine_proximity normalizes only y_true: sum(l2_normalize(y_true) * y_pred) "
        "(with 2.2.4's minus sign), so the value scales with |y_pred|", items=("metrics.cosine_proximity",))
def metric_cosine_proximity_y_pred_not_normalized(K, v):
    sign = -1.0 if v == "2.2.4" else 1.0       # 2.2.4's metric is the loss; 2.3.1's is its negative

    def make(pristine):
        def cosine_proximity(y_true, y_pred, axis=-1):
            y_true, y_pred = _floats(y_true, y_pred)
            return ops.sum(core_losses.l2_normalize(y_true, axis) * y_pred, axis=axis) * sign
        return cosine_proximity
    _replace(K, "metrics.cosine_proximity", make)


@mutant("numerics", ALL, "metrics.sparse_top_k_categorical_accuracy ignores k: the label must be the single "
        "highest prediction (k=1, sparse_categorical_accuracy)",
        items=("metrics.sparse_top_k_categorical_accuracy",))
def sparse_top_k_ignores_k(K, v):
    def make(pristine):
        def sparse_top_k_categorical_accuracy(*args, **kwargs):
            a = _arguments(pristine, args, kwargs)
            a["k"] = 1
            return pristine(**a)
        return sparse_top_k_categorical_accuracy
    _replace(K, "metrics.sparse_top_k_categorical_accuracy", make)
