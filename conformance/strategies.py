"""Hypothesis strategies for the conformance checks, and the suite's hypothesis settings.

Layer configurations are drawn from each layer's spec entry (conformance/layers.py); here are the
strategies of the model-level checks (a one-Dense regression model: units 1..8, input dim 1..8, batch
1..6) and of losses and metrics. Optional arguments are sometimes omitted so that the documented defaults
get exercised. Array contents are not
drawn element by element: a drawn integer seed feeds ``numpy.random.default_rng`` through the helpers
below, so a reproducer is one short line (``loss_arrays('categorical', 3, 4, 17)``, the spec's ``targets`` kind).
Settings: derandomized (the same examples every run), no example database, no deadline.
"""
from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

MAX_EXAMPLES = 12
# `--examples N` (the plugin puts it in this variable before any check module is imported) caps the examples
# of every check: the quick profile of the project's own tests; a certification runs the full number.
EXAMPLES_ENV = "KERAS_CONFORMANCE_EXAMPLES"


def examples(n: int) -> int:
    """``n`` examples, or fewer under ``--examples``."""
    cap = os.environ.get(EXAMPLES_ENV)
    return n if not cap else max(1, min(int(n), int(cap)))


# `--no-shrink`: a failing check fails on its first failing example, unminimised (a mutant's kill run only
# needs to know whether it fails; shrinking takes seconds per failing check)
NO_SHRINK_ENV = "KERAS_CONFORMANCE_NO_SHRINK"
_PHASES = ((Phase.explicit, Phase.reuse, Phase.generate) if os.environ.get(NO_SHRINK_ENV)
           else tuple(settings.default.phases))

SETTINGS = settings(
    derandomize=True,
    phases=_PHASES,
    database=None,
    deadline=None,
    max_examples=examples(MAX_EXAMPLES),
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.differing_executors],
)

seeds = st.integers(min_value=0, max_value=2**16)
units = st.integers(min_value=1, max_value=8)
dims = st.integers(min_value=1, max_value=8)
batches = st.integers(min_value=1, max_value=6)

# Names that are accessors, not activations, in an activations module.
_NOT_ACTIVATIONS = {"get", "serialize", "deserialize", "for_version"}


def documented_activations(ctx) -> list[str]:
    """The activation names of this API version: the spec's ``activations.*`` items where it has them,
    else the functions of the reference's ``activations`` namespace (which follows the docs)."""
    names = [i.attr for i in ctx.spec.items() if i.area == "activations" and i.kind == "function"]
    if names:
        return names
    mod = ctx.R.activations
    out = []
    for n in sorted(dir(mod)):
        obj = getattr(mod, n)
        if n.startswith("_") or n in _NOT_ACTIVATIONS or not callable(obj) or isinstance(obj, type):
            continue
        if getattr(obj, "__module__", "") in ("numpy", "builtins"):
            continue
        out.append(n)
    return out


def optional(strategy):
    """Either omitted (the documented default applies) or drawn."""
    return st.one_of(st.just(_OMIT), strategy)


class _Omit:
    def __repr__(self):
        return "<omitted>"


_OMIT = _Omit()
OMIT = _OMIT        # what ``optional`` draws for "left out"


def _drop_omitted(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not _OMIT}


# -- losses and metrics --------------------------------------------------------------------------------
def loss_arrays(kind: str, batch: int, k: int, seed: int, kwargs=None):
    """(y_true, y_pred) float32 arrays of shape (batch, k) of the spec's ``targets`` kind
    (spec/schema.py TARGET_KINDS: probability rows for crossentropies; integer labels of shape (batch,)
    for sparse ones), as the drawn keyword arguments ``kwargs`` need them (``_LOSS_ARRAYS``)."""
    y_true, y_pred = _loss_arrays(kind, batch, k, seed)
    for name, value in (kwargs or {}).items():
        if name in _LOSS_ARRAYS:
            y_true, y_pred = _LOSS_ARRAYS[name](value, y_true, y_pred)
    return y_true, y_pred


def _loss_arrays(kind: str, batch: int, k: int, seed: int):
    rng = np.random.default_rng(seed)

    def prob_rows():
        p = rng.uniform(0.05, 1.0, size=(batch, k))
        return (p / p.sum(axis=-1, keepdims=True)).astype("float32")

    if kind == "sparse":
        return rng.integers(0, k, size=(batch,)).astype("float32"), prob_rows()
    if kind == "categorical":
        onehot = np.eye(k, dtype="float32")[rng.integers(0, k, size=batch)]
        return onehot, prob_rows()
    if kind == "binary":
        return rng.integers(0, 2, size=(batch, k)).astype("float32"), \
            rng.uniform(0.02, 0.98, size=(batch, k)).astype("float32")
    if kind == "hinge":
        return (rng.integers(0, 2, size=(batch, k)) * 2 - 1).astype("float32"), \
            rng.standard_normal((batch, k)).astype("float32")
    if kind == "binary_scores":
        # scores of sd 2: about 62% of the margins 1 - y * score lie beyond 0, where the hinge clips
        return rng.integers(0, 2, size=(batch, k)).astype("float32"), \
            (2.0 * rng.standard_normal((batch, k))).astype("float32")
    if kind == "positive":
        return rng.uniform(0.1, 3.0, size=(batch, k)).astype("float32"), \
            rng.uniform(0.1, 3.0, size=(batch, k)).astype("float32")
    if kind == "nonzero":
        sign = np.where(rng.integers(0, 2, size=(batch, k)) == 0, -1.0, 1.0)
        return (sign * rng.uniform(0.5, 3.0, size=(batch, k))).astype("float32"), \
            rng.standard_normal((batch, k)).astype("float32")
    if kind == "labels":
        return rng.integers(0, 3, size=(batch, k)).astype("float32"), \
            rng.integers(0, 3, size=(batch, k)).astype("float32")
    return rng.standard_normal((batch, k)).astype("float32"), \
        rng.standard_normal((batch, k)).astype("float32")


EDGE_K = 3


def edge_loss_arrays(kind: str, k: int = EDGE_K):
    """Deterministic edge cases for a probability-valued loss / metric of ``targets`` kind (None for the others):
    predictions with exact 0 and 1 entries, so the documented clip of ``y_pred`` to
    [epsilon, 1 - epsilon] is exercised on every run, not left to chance. Rows (``k`` classes):
    one-hot prediction of the true class (1 and 0s); one-hot prediction of a wrong class (0 on the true
    class); a row with an exact 0 on the true class and the rest spread evenly; a uniform row."""
    if kind not in ("categorical", "sparse", "binary"):
        return None
    eye = np.eye(k, dtype="float32")
    spread = np.full(k, 1.0 / (k - 1), dtype="float32")
    spread[k - 1] = 0.0
    y_pred = np.stack([eye[0], eye[1], spread, np.full(k, 1.0 / k, dtype="float32")])
    labels = np.array([0, 0, k - 1, 1])
    if kind == "sparse":
        return labels.astype("float32"), y_pred
    if kind == "categorical":
        return eye[labels], y_pred
    # binary: every target 0/1 against predictions exactly 0, exactly 1 and in between
    y_true = np.stack([eye[0], 1.0 - eye[0], eye[k - 1], np.ones(k, dtype="float32")])
    return y_true.astype("float32"), y_pred


# Value domains for optional keyword arguments of losses/metrics (by parameter name); an argument of
# the documented signature that is not listed here is always left at its default.
_LOSS_KWARGS = {
    "from_logits": st.booleans(),
    "label_smoothing": st.sampled_from([0.0, 0.1, 0.25]),
    "k": st.integers(1, 3),                     # top-k accuracies: at most the smallest class count + 1
    "threshold": st.sampled_from([0.3, 0.5, 0.7]),   # binary_accuracy
    "delta": st.sampled_from([0.5, 1.0, 2.0]),        # huber
    # the class / reduction axis: the last one, or the batch axis of the drawn (batch, k) arrays, where the
    # result differs (shape (k,)); an item whose axis must be the last says so with its own spec `domain:`
    "axis": st.sampled_from([-1, 0]),
    "ignore_class": st.sampled_from([0, 1]),          # sparse labels: 0 and 1 occur (k >= 2 classes)
    "from_sorted_ids": st.booleans(),                 # y_pred becomes the ids sorted by score (_LOSS_ARRAYS)
}

# How a drawn keyword changes the arrays the function is given (by parameter name): with
# from_sorted_ids=True, sparse_top_k_categorical_accuracy takes the class ids sorted by descending score
# (keras 3.15 metrics/accuracy_metrics.py) in place of the scores.
_LOSS_ARRAYS = {
    "from_sorted_ids": lambda value, y_true, y_pred: (
        y_true, np.argsort(-y_pred, axis=-1, kind="stable").astype("float32") if value else y_pred),
}


@st.composite
def loss_case(draw, item):
    """{"batch", "k", "seed", "kwargs"} for a loss / metric function item."""
    kind = item.targets
    low_k = 2 if kind in ("categorical", "sparse") else 1
    from .layers import domain_strategy
    kwargs = {}
    for p in item.params:
        if p.required or p.kind == "var_keyword":
            continue
        # the item's own spec domain where it narrows the table's (sparse crossentropy: the last axis only)
        strategy = domain_strategy(p.domain, {}) if p.domain is not None else _LOSS_KWARGS.get(p.name)
        if strategy is not None:
            v = draw(optional(strategy))
            if v is not _OMIT:
                kwargs[p.name] = v
    return {"batch": draw(batches), "k": draw(st.integers(low_k, 6)), "seed": draw(seeds),
            "kwargs": kwargs}


# -- models for gradient / optimizer checks -------------------------------------------------------------
@st.composite
def dense_model_case(draw, ctx):
    """A one-Dense-layer regression model and a batch: {"recipe", "batch", "seed"}."""
    acts = [a for a in documented_activations(ctx) if a in ("linear", "tanh", "sigmoid", "relu",
                                                             "softplus", "elu", "selu")] or [None]
    layer = {"units": draw(units)}
    act = draw(optional(st.sampled_from(acts)))
    if act is not _OMIT and act is not None:
        layer["activation"] = act
    bias = draw(optional(st.booleans()))
    if bias is not _OMIT:
        layer["use_bias"] = bias
    return {"recipe": {"input_shape": (draw(dims),), "layers": [("Dense", layer)]},
            "batch": draw(batches), "seed": draw(seeds)}
