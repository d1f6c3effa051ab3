"""Callbacks: the base class, History, BaseLogger's averaging, a minimal progress printer.

The epoch value of the loss and of each metric is the batch-size-weighted mean of the batch values
(Keras 2 ``BaseLogger``; Keras 3's ``Mean`` trackers updated with ``sample_weight=batch_size`` give
the same number).
"""
from __future__ import annotations

import sys

import numpy as np

__all__ = ["Callback", "History", "BaseLogger", "ProgbarLogger", "CallbackList"]


class Callback:
    """Base class: override the ``on_*`` hooks. ``self.model`` and ``self.params`` are set by fit."""

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self.model = model

    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass


class BaseLogger(Callback):
    """Accumulates batch values weighted by batch size and writes the epoch means into the logs."""

    def __init__(self, stateful_metrics=None):
        super().__init__()
        self.stateful_metrics = set(stateful_metrics or [])

    def on_epoch_begin(self, epoch, logs=None):
        self.seen = 0
        self.totals = {}

    def on_batch_end(self, batch, logs=None):
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        for k, v in logs.items():
            if k in ("batch", "size"):
                continue
            self.totals[k] = self.totals.get(k, 0.0) + float(v) * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for k in self.params.get("metrics", []):
            if k in self.totals:
                logs[k] = self.totals[k] / self.seen


class History(Callback):
    """Records the epoch logs: ``history.history[key]`` is a list with one value per epoch,
    ``history.epoch`` the epoch indices."""

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)


def _format_logs(logs, keys):
    return "".join(f" - {k}: {logs[k]:.4f}" for k in keys if k in logs)


class ProgbarLogger(Callback):
    """Minimal progress output: ``Epoch i/n`` and one summary line per epoch (verbose 1 or 2)."""

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream

    def _write(self, text):
        print(text, file=self.stream or sys.stdout)

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose == 1:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs')}")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        keys = [k for k in logs]
        if self.verbose == 1:
            n = self.params.get("samples") or self.params.get("steps") or 0
            self._write(f"{n}/{n} [==============================]{_format_logs(logs, keys)}")
        elif self.verbose == 2:
            self._write(f"Epoch {epoch + 1}/{self.params.get('epochs')}\n -{_format_logs(logs, keys)}")


class CallbackList:
    """Calls every callback's hook in order."""

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for cb in self.callbacks:
                getattr(cb, hook)(*args, **kwargs)
        return call
