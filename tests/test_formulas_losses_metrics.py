"""Every documented loss and metric function against its documented formula, per API version.

Each case is a hand-made (y_true, y_pred) pair and the formula of spec/losses.yaml / spec/metrics.yaml
written out in plain NumPy (float64) here, not computed by reference code; the value of
``reference.keras(v).losses.X`` / ``.metrics.X`` (the reference's per-version surface, what the
conformance suite's oracle is) must match it in every version the case names. Where versions differ
(hinge's label conversion, the clip order of sparse_categorical_crossentropy, 2.2.4's batch-averaged
top-k, 2.3.1's elementwise huber_loss, the sign of 2.3.1's metrics.cosine_proximity, Keras 3's
elementwise binary_accuracy and its norm floor in cosine_similarity), the examples are chosen so that
the formulas of the versions give different numbers. The last tests check that every documented
loss / metric of every version has at least two cases here.

Run: python3 -m pytest tests/test_formulas_losses_metrics.py -q
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
import pytest

from keras_conformance import reference, spec

EPS = 1e-7                # backend.epsilon() in every version
# The upper clip bound 1 - epsilon as floatx (float32) holds it: 1 - 1.19e-7, not 1 - 1e-7 (so log(1 - p) of a
# prediction of exactly 1 is log(1.19e-7) in every Keras, and here).
ONE_MINUS_EPS = float(np.float32(1.0) - np.float32(EPS))
RTOL, ATOL = 1e-5, 1e-6   # float32 reference against float64 formulas
ALL = ("2.2.4", "2.3", "3")
KERAS2 = ("2.2.4", "2.3")


class Case(NamedTuple):
    name: str                     # the spec item, "losses.hinge"
    versions: tuple[str, ...]
    label: str
    y_true: np.ndarray
    y_pred: np.ndarray
    expected: Callable            # (y_true, y_pred) as float64 -> the documented value
    kwargs: dict


CASES: list[Case] = []


def case(name, versions, label, y_true, y_pred, expected, **kwargs):
    CASES.append(Case(name, tuple(versions), label, np.asarray(y_true, dtype="float32"),
                      np.asarray(y_pred, dtype="float32"), expected, kwargs))


def clip(x, lo, hi=np.inf):
    return np.minimum(np.maximum(x, lo), hi)


# -- regression losses ------------------------------------------------------------------------------------
REAL_T = [[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]]
REAL_P = [[1.5, 1.0, 3.0], [0.2, 0.4, -2.0]]
ONE_T = [[0.1, -0.3, 2.0, 0.0]]
ONE_P = [[0.0, 0.3, -1.0, 4.0]]


def mse(t, p):
    return np.mean((p - t) ** 2, axis=-1)


def mae(t, p):
    return np.mean(np.abs(p - t), axis=-1)


def mape(t, p):
    return 100.0 * np.mean(np.abs((t - p) / clip(np.abs(t), EPS)), axis=-1)


def msle(t, p):
    return np.mean((np.log(clip(p, EPS) + 1.0) - np.log(clip(t, EPS) + 1.0)) ** 2, axis=-1)


def logcosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


for label, t, p in (("2x3", REAL_T, REAL_P), ("1x4", ONE_T, ONE_P)):
    case("losses.mean_squared_error", ALL, label, t, p, mse)
    case("losses.mean_absolute_error", ALL, label, t, p, mae)
    case("losses.logcosh", KERAS2, label, t, p, logcosh)
    case("losses.log_cosh", ("3",), label, t, p, logcosh)

# a zero target: the denominator is clipped to epsilon (a huge but finite percentage)
case("losses.mean_absolute_percentage_error", ALL, "nonzero", [[2.0, -4.0], [0.5, 1.0]],
     [[1.0, -5.0], [0.5, 3.0]], mape)
case("losses.mean_absolute_percentage_error", ALL, "zero target", [[0.0, 1.0, -2.0]], [[0.5, 1.5, 2.0]], mape)
# negative entries are clipped to epsilon before the log
case("losses.mean_squared_logarithmic_error", ALL, "positive", [[1.0, 2.0], [0.5, 3.0]],
     [[2.0, 2.0], [1.5, 0.5]], msle)
case("losses.mean_squared_logarithmic_error", ALL, "negative clipped", [[0.0, -1.0, 2.0]],
     [[-3.0, 1.0, 2.5]], msle)

# Huber: errors below and above delta. keras 2.3.1 huber_loss is elementwise, keras 3 huber a mean.
HUBER_T = [[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]]
HUBER_P = [[0.5, 2.0, -3.0], [1.2, 0.5, 2.0]]


def huber_elementwise(t, p, delta=1.0):
    e = np.abs(p - t)
    q = np.minimum(e, delta)
    return 0.5 * q ** 2 + delta * (e - q)


def huber_mean(t, p, delta=1.0):
    e = p - t
    return np.mean(np.where(np.abs(e) <= delta, 0.5 * e ** 2, delta * np.abs(e) - 0.5 * delta ** 2), axis=-1)


case("losses.huber_loss", ("2.3",), "delta 1", HUBER_T, HUBER_P, huber_elementwise)
case("losses.huber_loss", ("2.3",), "delta 0.5", HUBER_T, HUBER_P, lambda t, p: huber_elementwise(t, p, 0.5),
     delta=0.5)
case("losses.huber", ("3",), "delta 1", HUBER_T, HUBER_P, huber_mean)
case("losses.huber", ("3",), "delta 0.5", HUBER_T, HUBER_P, lambda t, p: huber_mean(t, p, 0.5), delta=0.5)

# -- hinge losses -----------------------------------------------------------------------------------------
PM_T = [[-1.0, 1.0, 1.0], [1.0, -1.0, -1.0]]          # -1 / 1 labels: every version uses them as given
ZO_T = [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]             # 0 / 1 labels: 2.3 and 3 convert them to -1 / 1
HINGE_P = [[0.3, -0.5, 2.0], [0.8, 0.1, -1.5]]


def converted(t):
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def hinge_raw(t, p):
    return np.mean(np.maximum(1.0 - t * p, 0.0), axis=-1)


def squared_hinge_raw(t, p):
    return np.mean(np.maximum(1.0 - t * p, 0.0) ** 2, axis=-1)


for fn_name, raw in (("hinge", hinge_raw), ("squared_hinge", squared_hinge_raw)):
    case(f"losses.{fn_name}", ALL, "-1/1 labels", PM_T, HINGE_P, raw)
    case(f"losses.{fn_name}", ("2.2.4",), "0/1 labels as given", ZO_T, HINGE_P, raw)
    case(f"losses.{fn_name}", ("2.3", "3"), "0/1 labels converted", ZO_T, HINGE_P,
         lambda t, p, raw=raw: raw(converted(t), p))
    # labels that are not all 0 / 1 are left alone in 2.3 and 3 too
    case(f"losses.{fn_name}", ALL, "mixed labels", [[0.0, 1.0, 2.0]], [[0.5, 0.5, 0.5]], raw)


def categorical_hinge(t, p):
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1.0 - t) * p, axis=-1)
    return np.maximum(0.0, neg - pos + 1.0)


case("losses.categorical_hinge", ALL, "margin violated", [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
     [[0.3, 0.5, 0.2], [0.1, 0.6, 0.3]], categorical_hinge)
case("losses.categorical_hinge", ALL, "margin met", [[0.0, 0.0, 1.0]], [[-1.0, 0.2, 2.5]], categorical_hinge)

# -- crossentropies ---------------------------------------------------------------------------------------
CAT_T = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
CAT_P = [[0.2, 0.6, 0.2], [0.0, 2.0, 2.0]]       # row 2: not normalised, exact 0 on the true class


def cce(t, p, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    q = clip(p / np.sum(p, axis=-1, keepdims=True), EPS, ONE_MINUS_EPS)
    return -np.sum(t * np.log(q), axis=-1)


def log_softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


def cce_logits(t, z, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / t.shape[-1]
    return -np.sum(t * log_softmax(z), axis=-1)


case("losses.categorical_crossentropy", ALL, "clip and rescale", CAT_T, CAT_P, cce)
case("losses.categorical_crossentropy", ALL, "4 classes", [[0.0, 0.0, 0.0, 1.0]], [[0.1, 0.2, 0.3, 0.4]], cce)
case("losses.categorical_crossentropy", ("2.3", "3"), "label_smoothing 0.2", CAT_T, CAT_P,
     lambda t, p: cce(t, p, 0.2), label_smoothing=0.2)
case("losses.categorical_crossentropy", ("2.3", "3"), "from_logits", CAT_T, [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]],
     cce_logits, from_logits=True)
case("losses.categorical_crossentropy", ("2.3", "3"), "from_logits, label_smoothing 0.1", CAT_T,
     [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], lambda t, z: cce_logits(t, z, 0.1), from_logits=True,
     label_smoothing=0.1)

SPARSE_T = [1.0, 0.0]
SPARSE_P = [[0.2, 0.6, 0.2], [0.0, 2.0, 2.0]]


def one_hot(labels, k):
    return np.eye(k)[np.asarray(labels, dtype=np.int64).reshape(-1)]


def scce_keras2(t, p):
    """2.x: log(clip(p)) fed to a softmax crossentropy: clip first, then normalise."""
    q = clip(p, EPS, ONE_MINUS_EPS)
    q = q / np.sum(q, axis=-1, keepdims=True)
    return -np.sum(one_hot(t, p.shape[-1]) * np.log(q), axis=-1)


def scce_keras3(t, p):
    """Keras 3: normalise first, then clip."""
    q = clip(p / np.sum(p, axis=-1, keepdims=True), EPS, ONE_MINUS_EPS)
    return -np.sum(one_hot(t, p.shape[-1]) * np.log(q), axis=-1)


# row 2: 2.x clips 2.0 to 1 - eps before normalising, keras 3 normalises to 0.5 first: 16.81 against 16.12
case("losses.sparse_categorical_crossentropy", KERAS2, "clip then normalise", SPARSE_T, SPARSE_P, scce_keras2)
case("losses.sparse_categorical_crossentropy", ("3",), "normalise then clip", SPARSE_T, SPARSE_P, scce_keras3)
case("losses.sparse_categorical_crossentropy", KERAS2, "(batch, 1) labels", [[2.0], [0.0]],
     [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], scce_keras2)
case("losses.sparse_categorical_crossentropy", ("3",), "(batch, 1) labels", [[2.0], [0.0]],
     [[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], scce_keras3)
case("losses.sparse_categorical_crossentropy", ("2.3", "3"), "from_logits", SPARSE_T,
     [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], lambda t, z: -np.sum(one_hot(t, 3) * log_softmax(z), axis=-1),
     from_logits=True)

BIN_T = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
BIN_P = [[0.9, 0.2, 0.6], [0.0, 1.0, 1.0]]       # row 2: exact 0 and 1, clipped to [eps, 1 - eps]


def bce(t, p, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    q = clip(p, EPS, ONE_MINUS_EPS)
    return np.mean(-(t * np.log(q) + (1.0 - t) * np.log(1.0 - q)), axis=-1)


def bce_logits(t, z):
    return np.mean(np.log1p(np.exp(z)) - t * z, axis=-1)


case("losses.binary_crossentropy", ALL, "clipped", BIN_T, BIN_P, bce)
case("losses.binary_crossentropy", ALL, "soft targets", [[0.3, 0.7]], [[0.4, 0.4]], bce)
case("losses.binary_crossentropy", ("2.3", "3"), "label_smoothing 0.2", BIN_T, [[0.9, 0.2, 0.6], [0.3, 0.8, 0.5]],
     lambda t, p: bce(t, p, 0.2), label_smoothing=0.2)
case("losses.binary_crossentropy", ("2.3", "3"), "from_logits", BIN_T, [[2.0, -1.0, 0.5], [-3.0, 4.0, 0.0]],
     bce_logits, from_logits=True)


def kld(t, p):
    t, p = clip(t, EPS, 1.0), clip(p, EPS, 1.0)
    return np.sum(t * np.log(t / p), axis=-1)


for name, versions in (("losses.kullback_leibler_divergence", KERAS2), ("losses.kl_divergence", ("3",))):
    case(name, versions, "distributions", [[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]], [[0.3, 0.3, 0.4], [0.5, 0.0, 0.5]], kld)
    case(name, versions, "one-hot, above 1 clipped", [[0.0, 1.0]], [[0.25, 1.5]], kld)


def poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


case("losses.poisson", ALL, "counts", [[1.0, 0.0, 3.0], [2.0, 2.0, 0.5]], [[0.5, 0.2, 2.5], [2.0, 1.0, 1.0]], poisson)
case("losses.poisson", ALL, "zero rate", [[1.0, 2.0]], [[0.0, 4.0]], poisson)

# -- cosine -----------------------------------------------------------------------------------------------
COS_T = [[1.0, 2.0, 2.0], [0.0, 3.0, -4.0]]
COS_P = [[2.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
TINY_T = [[1e-8, 0.0, 0.0]]      # the floors differ: 2.x sum of squares at 1e-12, keras 3 the norm at 1e-7
TINY_P = [[1.0, 0.0, 0.0]]


def l2_normalize(x):
    return x / np.sqrt(np.maximum(np.sum(x ** 2, axis=-1, keepdims=True), 1e-12))


def normalize_keras3(x):
    return x / np.maximum(np.sqrt(np.sum(x ** 2, axis=-1, keepdims=True)), EPS)


def cosine_keras2(t, p):
    return np.sum(l2_normalize(t) * l2_normalize(p), axis=-1)


def cosine_keras3(t, p):
    return np.sum(normalize_keras3(t) * normalize_keras3(p), axis=-1)


def negative(fn):
    return lambda t, p: -fn(t, p)


for label, t, p in (("vectors", COS_T, COS_P), ("tiny norm", TINY_T, TINY_P)):
    case("losses.cosine_proximity", KERAS2, label, t, p, negative(cosine_keras2))
    case("losses.cosine_similarity", ("2.3",), label, t, p, negative(cosine_keras2))
    case("losses.cosine_similarity", ("3",), label, t, p, negative(cosine_keras3))
    # metrics: 2.2.4 re-exports the loss; keras 2.3.1 defines its own, without the minus sign
    case("metrics.cosine_proximity", ("2.2.4",), label, t, p, negative(cosine_keras2))
    case("metrics.cosine_proximity", ("2.3",), label, t, p, cosine_keras2)
    case("metrics.cosine_similarity", ("2.3",), label, t, p, cosine_keras2)

# -- metrics ----------------------------------------------------------------------------------------------
case("metrics.accuracy", ("2.3",), "labels", [[1.0, 2.0, 0.0], [2.0, 2.0, 1.0]], [[1.0, 0.0, 0.0], [2.0, 1.0, 1.0]],
     lambda t, p: (t == p).astype(float))
case("metrics.accuracy", ("2.3",), "no rounding", [[1.0, 0.0]], [[0.9, 0.0]], lambda t, p: (t == p).astype(float))

BA_T = [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
BA_P = [[0.7, 0.5, 0.3, 0.1], [0.6, 0.2, 0.9, 0.51]]   # 0.5 rounds half to even (to 0) and is not > 0.5
OUT_T = [[1.0, 0.0, 1.0]]
OUT_P = [[1.5, -0.4, 0.7]]                               # outside [0, 1]: round(1.5) = 2, but 1.5 > 0.5


def binary_accuracy_keras2(t, p):
    return np.mean(t == np.round(p), axis=-1)            # np.round rounds half to even, like tf.round


def binary_accuracy_threshold_keras2(threshold):
    return lambda t, p: np.mean(t == np.round((p > threshold).astype(float)), axis=-1)


def binary_accuracy_keras3(threshold=0.5):
    return lambda t, p: (t == (p > threshold)).astype(float)


for label, t, p in (("probabilities", BA_T, BA_P), ("outside [0, 1]", OUT_T, OUT_P)):
    case("metrics.binary_accuracy", KERAS2, label, t, p, binary_accuracy_keras2)
    case("metrics.binary_accuracy", ("3",), label, t, p, binary_accuracy_keras3())
case("metrics.binary_accuracy", ("2.3",), "threshold 0.25", BA_T, BA_P, binary_accuracy_threshold_keras2(0.25),
     threshold=0.25)
case("metrics.binary_accuracy", ("3",), "threshold 0.25", BA_T, BA_P, binary_accuracy_keras3(0.25), threshold=0.25)

CA_T = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
CA_P = [[0.1, 0.7, 0.2], [0.2, 0.5, 0.3], [0.3, 0.3, 0.4]]


def categorical_accuracy(t, p):
    return (np.argmax(t, axis=-1) == np.argmax(p, axis=-1)).astype(float)


case("metrics.categorical_accuracy", ALL, "3 classes", CA_T, CA_P, categorical_accuracy)
case("metrics.categorical_accuracy", ALL, "scores, not probabilities", [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]],
     [[-1.0, 2.0, 0.0, 3.0], [5.0, 4.0, -2.0, 0.0]], categorical_accuracy)


def sparse_categorical_accuracy(t, p):
    return (np.asarray(t).reshape(-1) == np.argmax(p, axis=-1)).astype(float)


case("metrics.sparse_categorical_accuracy", ALL, "(batch,) labels", [1.0, 1.0, 2.0], CA_P,
     sparse_categorical_accuracy)
case("metrics.sparse_categorical_accuracy", ALL, "(batch, 1) labels", [[1.0], [0.0], [2.0]], CA_P,
     sparse_categorical_accuracy)

# six classes, so the default k = 5 leaves one class out
TOPK_P = [[0.30, 0.05, 0.20, 0.15, 0.25, 0.05],
          [0.10, 0.20, 0.30, 0.25, 0.14, 0.01],
          [0.01, 0.02, 0.03, 0.04, 0.05, 0.85]]
TOPK_LABELS = [1, 5, 0]


def in_top_k(labels, p, k):
    """1 where the label's score is among the k largest of its row (fewer than k scores are larger)."""
    p = np.asarray(p)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    target = p[np.arange(len(labels)), labels]
    return (np.sum(p > target[:, None], axis=-1) < k).astype(float)


def top_k_per_sample(k):
    return lambda t, p: in_top_k(np.argmax(t, axis=-1), p, k)


def top_k_batch_mean(k):
    return lambda t, p: np.mean(in_top_k(np.argmax(t, axis=-1), p, k))


ONE_HOT_TOPK = np.eye(6)[TOPK_LABELS]
for label, k, kwargs in (("default k=5", 5, {}), ("k=2", 2, {"k": 2})):
    case("metrics.top_k_categorical_accuracy", ("2.2.4",), label, ONE_HOT_TOPK, TOPK_P, top_k_batch_mean(k), **kwargs)
    case("metrics.top_k_categorical_accuracy", ("2.3", "3"), label, ONE_HOT_TOPK, TOPK_P, top_k_per_sample(k),
         **kwargs)
    case("metrics.sparse_top_k_categorical_accuracy", ("2.2.4",), label, TOPK_LABELS, TOPK_P,
         lambda t, p, k=k: np.mean(in_top_k(t, p, k)), **kwargs)
    case("metrics.sparse_top_k_categorical_accuracy", ("2.3", "3"), label, TOPK_LABELS, TOPK_P,
         lambda t, p, k=k: in_top_k(t, p, k), **kwargs)
# (batch, 1) labels: 2.3 flattens them, keras 3 answers in the shape of y_true
COLUMN = [[label] for label in TOPK_LABELS]
case("metrics.sparse_top_k_categorical_accuracy", ("2.3",), "(batch, 1) labels, k=3", COLUMN, TOPK_P,
     lambda t, p: in_top_k(t, p, 3), k=3)
case("metrics.sparse_top_k_categorical_accuracy", ("3",), "(batch, 1) labels, k=3", COLUMN, TOPK_P,
     lambda t, p: in_top_k(t, p, 3).reshape(-1, 1), k=3)
case("metrics.sparse_top_k_categorical_accuracy", ("3",), "from_sorted_ids, k=2", [[2.0], [0.0], [5.0]],
     [[2.0, 4.0, 0.0], [1.0, 3.0, 0.0], [5.0, 1.0, 2.0]],
     lambda t, ids: np.any(ids[:, :2] == t, axis=-1, keepdims=True).astype(float), k=2, from_sorted_ids=True)


# -- axis and ignore_class (keras 3.15 losses/losses.py; keras 2.3.1 losses.py / metrics.py) ----------------
# axis=0 on (batch, k) arrays: the class / reduction axis is the batch axis, one value per column (shape (k,));
# the arrays are chosen so that column and row results differ.
AX_CAT_T = [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
AX_CAT_P = [[0.2, 0.5, 0.9], [0.6, 0.1, 0.3]]


def cce_axis0(t, p):
    q = clip(p / np.sum(p, axis=0, keepdims=True), EPS, ONE_MINUS_EPS)
    return -np.sum(t * np.log(q), axis=0)


def bce_axis0(t, p):
    q = clip(p, EPS, ONE_MINUS_EPS)
    return np.mean(-(t * np.log(q) + (1.0 - t) * np.log(1.0 - q)), axis=0)


def cosine_axis0(floor):
    def normalize(x):
        return x / floor(np.sum(x ** 2, axis=0, keepdims=True))
    return lambda t, p: np.sum(normalize(t) * normalize(p), axis=0)


COS2_AXIS0 = cosine_axis0(lambda sq: np.sqrt(np.maximum(sq, 1e-12)))      # l2_normalize (2.3)
COS3_AXIS0 = cosine_axis0(lambda sq: np.maximum(np.sqrt(sq), EPS))        # ops.normalize (3)

case("losses.categorical_crossentropy", ("3",), "axis=0", AX_CAT_T, AX_CAT_P, cce_axis0, axis=0)
case("losses.binary_crossentropy", ("3",), "axis=0", BIN_T, [[0.9, 0.2, 0.6], [0.3, 0.8, 0.5]], bce_axis0, axis=0)
case("losses.cosine_similarity", ("3",), "axis=0", COS_T, COS_P, negative(COS3_AXIS0), axis=0)
case("losses.cosine_similarity", ("2.3",), "axis=0", COS_T, COS_P, negative(COS2_AXIS0), axis=0)
case("losses.cosine_proximity", ("2.3",), "axis=0", COS_T, COS_P, negative(COS2_AXIS0), axis=0)
case("metrics.cosine_proximity", ("2.3",), "axis=0", COS_T, COS_P, COS2_AXIS0, axis=0)
case("metrics.cosine_similarity", ("2.3",), "axis=0", COS_T, COS_P, COS2_AXIS0, axis=0)
# sparse: the class axis must be the last; 1 is its positive index on (batch, k) predictions
case("losses.sparse_categorical_crossentropy", ("2.3",), "axis=1", SPARSE_T, SPARSE_P, scce_keras2, axis=1)
case("losses.sparse_categorical_crossentropy", ("3",), "axis=1", SPARSE_T, SPARSE_P, scce_keras3, axis=1)
# ignore_class: entries whose label is that class get loss 0, the others their crossentropy
IGN_T = [1.0, 0.0, 2.0, 0.0]
IGN_P = [[0.2, 0.6, 0.2], [0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.25, 0.25, 0.5]]
case("losses.sparse_categorical_crossentropy", ("3",), "ignore_class=0", IGN_T, IGN_P,
     lambda t, p: np.where(t == 0, 0.0, scce_keras3(t, p)), ignore_class=0)
case("losses.sparse_categorical_crossentropy", ("3",), "ignore_class=2, from_logits", IGN_T,
     [[1.0, -2.0, 0.5], [3.0, 0.0, -1.0], [0.0, 0.0, 2.0], [1.0, 1.0, 1.0]],
     lambda t, z: np.where(t == 2, 0.0, -np.sum(one_hot(t, 3) * log_softmax(z), axis=-1)),
     ignore_class=2, from_logits=True)


# -- the checks ---------------------------------------------------------------------------------------------
def _function(version, name):
    module, attr = name.split(".")
    return getattr(getattr(reference.keras(version), module), attr)


PARAMS = [pytest.param(c, v, id=f"{c.name}-{v}-{c.label}") for c in CASES for v in c.versions]


@pytest.mark.parametrize("c,version", PARAMS)
def test_documented_formula(c, version):
    got = np.asarray(_function(version, c.name)(c.y_true, c.y_pred, **c.kwargs).numpy())
    expected = np.asarray(c.expected(c.y_true.astype("float64"), c.y_pred.astype("float64")))
    assert got.shape == expected.shape, (c.name, version, c.label, got.shape, expected.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=f"{c.name} {version} {c.label}")


@pytest.mark.parametrize("version", ALL)
def test_every_documented_loss_and_metric_has_two_cases(version):
    documented = {i.name for i in spec.load(version).items() if i.area in ("losses", "metrics")}
    counts = {name: sum(1 for c in CASES if c.name == name and version in c.versions) for name in documented}
    thin = {name: n for name, n in counts.items() if n < 2}
    assert not thin, f"API {version}: documented losses / metrics with fewer than two formula cases: {thin}"
    strays = {c.name for c in CASES if version in c.versions} - documented
    assert not strays, f"API {version}: cases for items the spec does not document there: {strays}"


def test_versions_really_differ_where_the_formulas_do():
    """The examples separate the per-version formulas (else a version mix-up would pass unseen)."""
    t, p = np.asarray(SPARSE_T), np.asarray(SPARSE_P)
    assert abs(scce_keras2(t, p)[1] - scce_keras3(t, p)[1]) > 0.5
    t, p = np.asarray(ZO_T), np.asarray(HINGE_P)
    assert not np.allclose(hinge_raw(t, p), hinge_raw(converted(t), p))
    t, p = np.asarray(TINY_T), np.asarray(TINY_P)
    assert not np.allclose(cosine_keras2(t, p), cosine_keras3(t, p))
    t, p = np.asarray(OUT_T), np.asarray(OUT_P)
    assert binary_accuracy_keras2(t, p).shape == (1,) and binary_accuracy_keras3()(t, p).shape == (1, 3)
    assert not np.allclose(binary_accuracy_keras2(t, p), np.mean(binary_accuracy_keras3()(t, p), axis=-1))
    assert np.ndim(top_k_batch_mean(5)(ONE_HOT_TOPK, np.asarray(TOPK_P))) == 0
    assert not np.allclose(top_k_per_sample(5)(ONE_HOT_TOPK, np.asarray(TOPK_P)), 1.0)
    t, p = np.asarray(HUBER_T), np.asarray(HUBER_P)
    assert huber_elementwise(t, p).shape == (2, 3) and huber_mean(t, p).shape == (2,)
