"""Mutants of the training loop: what fit and evaluate do with their documented arguments (registered
through mutants.mutant; caught by conformance/test_training.py)."""
from __future__ import annotations

import inspect

import numpy as np

from mutants import ALL, _same_signature, mutant


def _bound(method, self, args, kwargs):
    bound = inspect.signature(method).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return bound.arguments


def _models(K, **methods):
    """Replace Sequential and Model by subclasses overriding ``methods`` (made per base class)."""
    for cls_name in ("Sequential", "Model"):
        Base = K.get(f"models.{cls_name}")
        K.set(f"models.{cls_name}", type(cls_name, (Base,), {k: make(Base) for k, make in methods.items()}))


def _method_with(name, change):
    """An override of Model.<name>: ``change(arguments)`` edits the bound arguments before the reference's
    method runs."""
    def make(Base):
        method = getattr(Base, name)

        @_same_signature(method)
        def override(self, *args, **kwargs):
            arguments = _bound(method, self, args, kwargs)
            arguments.pop("self")
            extra = arguments.pop("kwargs", {})
            change(arguments)
            return method(self, **arguments, **extra)
        return override
    return make


def _fit_with(change):
    """A fit override: ``change(arguments)`` edits the bound arguments before the reference's fit runs."""
    return _method_with("fit", change)


@mutant("training", ALL, "Model.fit takes the validation_split samples from the front of x and y (documented: "
        "the last fraction, before any shuffling)", items=("Model.fit",))
def fit_validation_split_from_front(K, v):
    def change(a):
        split = a.get("validation_split") or 0.0
        if split and a.get("validation_data") is None:
            n = len(a["x"])
            k = n - int(n * (1.0 - split))

            def front_last(arr):
                return None if arr is None else np.concatenate([arr[k:], arr[:k]])
            a["x"], a["y"], a["sample_weight"] = front_last(a["x"]), front_last(a["y"]), front_last(a["sample_weight"])
    _models(K, fit=_fit_with(change))


@mutant("training", ALL, "Model.fit ignores class_weight", items=("Model.fit",))
def fit_class_weight_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(class_weight=None)))


@mutant("training", ALL, "Model.fit ignores sample_weight", items=("Model.fit",))
def fit_sample_weight_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(sample_weight=None)))


@mutant("training", ALL, "Model.fit ignores initial_epoch: it trains `epochs` epochs counted from 0",
        items=("Model.fit",))
def fit_initial_epoch_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(initial_epoch=0)))


@mutant("training", ALL, "Model.fit never shuffles (shuffle=True trains in the given order)", items=("Model.fit",))
def fit_never_shuffles(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(shuffle=False)))


@mutant("training", ALL, "Model.fit's batch_size defaults to 16 (documented: 32 when None)", items=("Model.fit",))
def fit_batch_size_default_16(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(batch_size=a.get("batch_size") or 16)))


@mutant("training", ("2.3", "3"), "Model.fit ignores validation_freq: it validates after every epoch",
        items=("Model.fit",))
def fit_validation_freq_ignored(K, v):
    _models(K, fit=_fit_with(lambda a: a.update(validation_freq=1)))


@mutant("training", ALL, "History names the validation values 'validation_loss', ... (documented 'val_loss')",
        items=("Model.fit",))
def history_validation_keys_renamed(K, v):
    def make(Base):
        @_same_signature(Base.fit)
        def fit(self, *args, **kwargs):
            history = Base.fit(self, *args, **kwargs)
            history.history = {("validation_" + k[4:] if k.startswith("val_") else k): val
                               for k, val in history.history.items()}
            return history
        return fit
    _models(K, fit=make)


class _LastBatchLogs:
    """Callbacks that report each epoch's training values as those of its last batch."""

    def __init__(self, inner):
        self._inner, self._last = inner, {}

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def on_train_batch_end(self, batch, logs=None):
        self._last = {k: val for k, val in (logs or {}).items() if k not in ("batch", "size")}
        self._inner.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs.update(self._last)
        self._inner.on_epoch_end(epoch, logs)


@mutant("training", ALL, "Model.fit reports each epoch's loss and metrics as those of its last batch (documented: "
        "the mean over the epoch's batches)", items=("Model.fit",))
def fit_epoch_logs_last_batch(K, v):
    def make(Base):
        def _train_epochs(self, cb, *args, **kwargs):
            return Base._train_epochs(self, _LastBatchLogs(cb), *args, **kwargs)
        return _train_epochs
    _models(K, _train_epochs=make)


@mutant("training", ALL, "Model.evaluate averages its batches' values unweighted (a short last batch counts as "
        "much as a full one)", items=("Model.evaluate",))
def evaluate_unweighted_batch_mean(K, v):
    def make(Base):
        def _run_test_loop(self, xs, ys, sws, batch_size, steps=None, callbacks=None):
            n = len(xs[0])
            batches = self._batches(n, batch_size)[:steps] if steps is not None else self._batches(n, batch_size)
            totals = {}
            for idx in batches:
                logs = self._test_batch([a[idx] for a in xs], [a[idx] for a in ys],
                                        [None if w is None else w[idx] for w in sws])
                for k, val in logs.items():
                    totals[k] = totals.get(k, 0.0) + val / len(batches)
            return totals
        return _run_test_loop
    _models(K, _run_test_loop=make)


@mutant("training", ("2.2.4", "2.3"), "Sequential.predict_classes of a one-unit model takes the argmax over its single "
        "output (always class 0) instead of thresholding at 0.5", items=("Sequential.predict_classes",))
def predict_classes_argmax_of_one_unit(K, v):
    Base = K.get("models.Sequential")

    @_same_signature(Base.predict_classes)
    def predict_classes(self, x, batch_size=32, verbose=1):
        return np.argmax(self.predict(x, batch_size=batch_size, verbose=verbose), axis=-1)
    K.set("models.Sequential", type("Sequential", (Base,), {"predict_classes": predict_classes}))


@mutant("training", ("2.2.4", "2.3"), "Sequential.predict_proba returns one-hot class predictions instead of the "
        "probabilities", items=("Sequential.predict_proba",))
def predict_proba_one_hot(K, v):
    Base = K.get("models.Sequential")

    @_same_signature(Base.predict_proba)
    def predict_proba(self, x, batch_size=32, verbose=1):
        p = self.predict(x, batch_size=batch_size, verbose=verbose)
        return (p == p.max(axis=-1, keepdims=True)).astype(p.dtype)
    K.set("models.Sequential", type("Sequential", (Base,), {"predict_proba": predict_proba}))


# -- *_on_batch, the generator methods, several outputs, temporal weights -----------------------------------
@mutant("training", ("2.3",), "train_on_batch ignores reset_metrics=False: its metrics never accumulate over "
        "calls", items=("Model.train_on_batch",))
def train_on_batch_reset_metrics_ignored(K, v):
    _models(K, train_on_batch=_method_with("train_on_batch", lambda a: a.update(reset_metrics=True)))


@mutant("training", ALL, "test_on_batch ignores sample_weight", items=("Model.test_on_batch",))
def test_on_batch_sample_weight_ignored(K, v):
    _models(K, test_on_batch=_method_with("test_on_batch", lambda a: a.update(sample_weight=None)))


@mutant("training", ("2.2.4", "2.3"), "fit_generator ignores initial_epoch: it trains `epochs` epochs from 0",
        items=("Model.fit_generator",))
def fit_generator_initial_epoch_ignored(K, v):
    _models(K, fit_generator=_method_with("fit_generator", lambda a: a.update(initial_epoch=0)))


@mutant("training", ("2.2.4", "2.3"), "evaluate_generator stops one step early (steps - 1 batches)",
        items=("Model.evaluate_generator",))
def evaluate_generator_one_step_short(K, v):
    def change(a):
        if a.get("steps") and a["steps"] > 1:
            a["steps"] -= 1
    _models(K, evaluate_generator=_method_with("evaluate_generator", change))


@mutant("training", ALL, "compile ignores loss_weights: every output's loss counts once", items=("Model.compile",))
def compile_loss_weights_ignored(K, v):
    _models(K, compile=_method_with("compile", lambda a: a.update(loss_weights=None)))


@mutant("training", ALL, "compile's weighted_metrics are computed without the sample weights (as plain metrics)",
        items=("Model.compile",))
def compile_weighted_metrics_unweighted(K, v):
    def change(a):
        if a.get("weighted_metrics"):
            a["metrics"], a["weighted_metrics"] = a["weighted_metrics"], None
    _models(K, compile=_method_with("compile", change))


@mutant("training", ("2.2.4", "2.3"), "sample_weight_mode='temporal' weighs each sample by the mean of its "
        "time-step weights", items=("Model.compile",))
def temporal_weights_averaged(K, v):
    def make(Base):
        @_same_signature(Base.fit)
        def fit(self, *args, **kwargs):
            arguments = _bound(Base.fit, self, args, kwargs)
            arguments.pop("self")
            extra = arguments.pop("kwargs", {})
            sw = arguments.get("sample_weight")
            if getattr(self, "_sample_weight_mode", None) == "temporal" and sw is not None and np.ndim(sw) == 2:
                arguments["sample_weight"] = np.repeat(np.mean(sw, axis=1, keepdims=True), np.shape(sw)[1], axis=1)
            return Base.fit(self, **arguments, **extra)
        return fit
    _models(K, fit=make)
