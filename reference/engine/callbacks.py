"""Callbacks: the base class and its hooks, History, BaseLogger, ProgbarLogger, EarlyStopping,
ModelCheckpoint, LambdaCallback, and the CallbackList the training loops call (spec/callbacks.yaml).

The loops (engine/training.py) hand the CallbackList what they computed: ``{"batch", "size", <the batch's
values>}`` at a batch's end, the epoch means at an epoch's end. What each version documents that its
callbacks receive is the CallbackList's business, as data (``_TRAITS``): which hook a training batch calls
(2.2.4 has only on_batch_*), whether batch logs carry ``batch``/``size``, which batch values are running
means over the epoch (2.3's stateful metrics; every value in 3), whether fit's validation calls the test
hooks, and whether on_train_end / on_test_end get results (3) or ``{}`` (2.x).

The epoch value of the loss and of each metric is the batch-size-weighted mean of the batch values
(Keras 2 ``BaseLogger``; Keras 3's ``Mean`` trackers updated with ``sample_weight=batch_size`` give
the same number). Where 2.x and 3 callbacks behave differently, the 3 class is a subclass of the 2.x one
(``EarlyStopping3``) and ``for_version(v)`` says which class a version's ``keras.callbacks`` exposes.
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

__all__ = ["Callback", "History", "BaseLogger", "ProgbarLogger", "EarlyStopping", "ModelCheckpoint",
           "LambdaCallback", "CallbackList", "for_version"]

# What the loops' callbacks receive, per version (keras 2.2.4 engine/training_arrays.py fit_loop;
# keras 2.3.1 engine/training_arrays.py fit_loop / test_loop / predict_loop; keras 3.15 backend/*/trainer.py).
_TRAITS = {
    "2.2.4": {"train_batch_hook": "on_batch", "index_logs": True, "running": "none",
              "validation_hooks": False, "result_logs": False},
    "2.3": {"train_batch_hook": "on_train_batch", "index_logs": True, "running": "metrics",
            "validation_hooks": True, "result_logs": False},
    "3": {"train_batch_hook": "on_train_batch", "index_logs": False, "running": "all",
          "validation_hooks": True, "result_logs": True},
}


class Callback:
    """Base class: override the ``on_*`` hooks. ``self.model`` and ``self.params`` are set by fit.
    In 2.3 and 3 on_train_batch_* call on_batch_* (their backwards-compatible aliases)."""

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
    """(2.x) Accumulates batch values weighted by batch size and writes the epoch means of the names in
    ``params['metrics']`` into on_epoch_end's logs; a stateful metric is written as its last value."""

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
            if k in self.stateful_metrics:
                self.totals[k] = v
            else:
                self.totals[k] = self.totals.get(k, 0.0) + v * size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for k in self.params.get("metrics", []):
            if k in self.totals:
                logs[k] = self.totals[k] if k in self.stateful_metrics else self.totals[k] / self.seen


class History(Callback):
    """Records the epoch logs: ``history[key]`` is a list with one value per epoch, ``epoch`` the epoch
    indices. on_train_begin starts both afresh in 2.x; in 3 only ``epoch`` (keras 3.15 history.py keeps
    ``history`` across fits of one History)."""

    def __init__(self, api_version="3"):
        super().__init__()
        self._keeps_history = api_version == "3"
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        if not self._keeps_history:
            self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)


def _format_values(pairs):
    """`` - loss: 0.1234`` per value: %.4f, or %.4e where |value| <= 1e-3 (2.x and 3 Progbar)."""
    return "".join(f" - {k}: {v:.4f}" if abs(v) > 1e-3 else f" - {k}: {v:.4e}" for k, v in pairs)


class ProgbarLogger(Callback):
    """(2.x) Prints ``Epoch i/n`` at each epoch's start and, at its end, the values of the names in
    ``params['metrics']``: verbose=1 a bar (``n/n [====] - 0s - loss: ...``), verbose=2 one line
    (`` - 0s - loss: ... - val_loss: ...``). The elapsed time and the number format are formatting."""

    def __init__(self, count_mode="samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError("Unknown `count_mode`: " + str(count_mode))
        self.use_steps = count_mode == "steps"
        self.stateful_metrics = set(stateful_metrics or [])

    def on_train_begin(self, logs=None):
        self.verbose = self.params["verbose"]
        self.epochs = self.params["epochs"]

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs}")
        self.target = self.params.get("steps" if self.use_steps else "samples")
        self.seen = 0

    def on_batch_end(self, batch, logs=None):
        self.seen += 1 if self.use_steps else (logs or {}).get("size", 0)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        values = _format_values((k, logs[k]) for k in self.params.get("metrics", []) if k in logs)
        if self.verbose == 1:
            print(f"{self.seen}/{self.target or self.seen} [==============================] - 0s{values}")
        elif self.verbose == 2:
            print(f" - 0s{values}")


class ProgbarLogger3(ProgbarLogger):
    """(3) Takes no argument; reads verbose ('auto' is 1), epochs and steps from params. ``Epoch i/n``
    only when epochs > 1; each epoch's last line names every key of its logs
    (``3/3 - 0s - 2ms/step - loss: ... - val_loss: ...`` for verbose=2); silent during fit's validation."""

    def __init__(self):
        super().__init__()
        self.verbose, self.epochs = 1, 1

    def set_params(self, params):
        self.params = params
        self.verbose = 1 if params.get("verbose") == "auto" else params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps") or 0
        values = _format_values((logs or {}).items())
        if self.verbose == 1:
            print(f"{steps}/{steps} {'━' * 20} 0s 0ms/step{values}")
        elif self.verbose == 2:
            print(f"{steps}/{steps} - 0s - 0ms/step{values}")


ProgbarLogger3.__name__ = ProgbarLogger3.__qualname__ = "ProgbarLogger"


# -- monitoring a quantity: EarlyStopping, ModelCheckpoint ------------------------------------------------
def _auto_greater_2x(monitor):
    """2.x mode 'auto': maximise when 'acc' is in the name (ModelCheckpoint also 'fmeasure...')."""
    return "acc" in monitor


# keras 3.15 monitor_callback.py: 'auto' minimises loss / val_loss, else follows the compiled metric's
# direction (accuracy-like metrics go up, losses used as metrics go down); a metric without one is a
# ValueError. The reference's metrics are functions: the direction is read from the name.
_UP = ("accuracy", "acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "iou", "r2_score")


def _auto_greater_3(callback, monitor):
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or "error" in name or "loss" in name or name in ("mse", "mae", "mape", "msle"):
        return False
    if any(name == u or name.endswith("_" + u) or name.startswith(u) for u in _UP):
        return True
    raise ValueError(f"{type(callback).__name__} callback received monitor={monitor}, but Keras isn't able "
                     "to automatically determine whether that metric should be maximized or minimized. "
                     "Pass `mode='max'` in order to monitor based on the highest metric value, or pass "
                     "`mode='min'` in order to use the lowest value.")


def _mode(callback, mode):
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{type(callback).__name__} mode {mode} is unknown, fallback to auto mode.",
                      RuntimeWarning)
        return "auto"
    return mode


class EarlyStopping(Callback):
    """(2.x) Stops training when the monitored quantity has stopped improving (spec/callbacks.yaml)."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False):
        super().__init__()
        self.monitor, self.baseline, self.patience, self.verbose = monitor, baseline, patience, verbose
        self.restore_best_weights = restore_best_weights
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None
        mode = _mode(self, mode)
        self.greater = mode == "max" or (mode == "auto" and _auto_greater_2x(monitor))
        # current - min_delta is compared with best: a decrease must exceed |min_delta| to count
        self.min_delta = abs(min_delta) if self.greater else -abs(min_delta)

    def improves(self, current, reference):
        return current - self.min_delta > reference if self.greater else current - self.min_delta < reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch = 0, 0
        if self.baseline is not None:
            self.best = self.baseline
        else:
            self.best = -np.inf if self.greater else np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.improves(current, self.best):
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights:
                # keras 2.2.4 / 2.3.1 set the kept weights as they are, None when no epoch improved
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1:05d}: early stopping")

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                          f"Available metrics are: {','.join(logs)}", RuntimeWarning)
        return value


class EarlyStopping3(EarlyStopping):
    """(3) start_from_epoch; best starts None; wait counts every monitored epoch and is reset only by an
    improvement that also beats the baseline; no stop at epoch 0; the kept weights (those of the first
    monitored epoch when no later one improved) are restored at the end of training, stopped or not."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        Callback.__init__(self)
        self.monitor, self.baseline, self.patience, self.verbose = monitor, baseline, patience, verbose
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.mode = _mode(self, mode)
        self.abs_min_delta = abs(min_delta)
        self.greater = None          # decided at the first epoch end, once the metrics are known
        self.wait, self.stopped_epoch, self.best_weights = 0, 0, None

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best, self.best_weights, self.best_epoch = 0, 0, None, None, 0

    def _direction(self):
        if self.greater is None:
            self.greater = self.mode == "max" or (self.mode == "auto" and _auto_greater_3(self, self.monitor))
            self.min_delta = self.abs_min_delta if self.greater else -self.abs_min_delta

    def improves(self, current, reference):
        return reference is None or super().improves(current, reference)

    def on_epoch_end(self, epoch, logs=None):
        self._direction()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self.improves(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.improves(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


EarlyStopping3.__name__ = EarlyStopping3.__qualname__ = "EarlyStopping"


class ModelCheckpoint(Callback):
    """(2.x) At the end of every ``period``-th epoch, ``model.save`` (or ``save_weights``) to
    ``filepath.format(epoch=epoch + 1, **logs)``; with save_best_only only on an improvement of the
    monitored quantity over the best so far (a missing monitor warns and skips)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", period=1):
        super().__init__()
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.period = save_best_only, save_weights_only, period
        self.epochs_since_last_save = 0
        mode = _mode(self, mode)
        self.greater = mode == "max" or (mode == "auto" and (_auto_greater_2x(monitor)
                                                            or monitor.startswith("fmeasure")))
        self.best = -np.inf if self.greater else np.inf

    def _save(self, filepath):
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        filepath = self.filepath.format(epoch=epoch + 1, **logs)
        if not self.save_best_only:
            self._save(filepath)
            return
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", RuntimeWarning)
        elif (current > self.best) if self.greater else (current < self.best):
            self.best = current
            self._save(filepath)


class ModelCheckpoint3(ModelCheckpoint):
    """(3) save_freq 'epoch' or every save_freq batches; best starts at initial_value_threshold (None:
    the first value improves); a missing monitor warns and saves; the file name must end in
    '.weights.h5' (weights only) or '.keras' / '.h5' (keras 3.15 model_checkpoint.py)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        Callback.__init__(self)
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self.mode, self.best, self.greater = _mode(self, mode), initial_value_threshold, None
        self._batches_since_save, self._last_batch, self._current_epoch = 0, None, 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
                             "integer values")
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                             f"must end in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). Received: "
                             f"filepath={self.filepath}")

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        new_epoch = self._last_batch is None or batch <= self._last_batch
        self._batches_since_save += batch + 1 if new_epoch else batch - self._last_batch
        self._last_batch = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._checkpoint(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.greater is None:
            self.greater = self.mode == "max" or (self.mode == "auto" and _auto_greater_3(self, self.monitor))
        if self.save_freq == "epoch":
            self._checkpoint(epoch, None, logs)

    def _checkpoint(self, epoch, batch, logs):
        logs = logs or {}
        if batch is None or "batch" in logs:
            filepath = self.filepath.format(epoch=epoch + 1, **logs)
        else:
            filepath = self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.")
            elif self.best is None or ((current > self.best) if self.greater else (current < self.best)):
                self.best = current
            else:
                return
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._save(filepath)


ModelCheckpoint3.__name__ = ModelCheckpoint3.__qualname__ = "ModelCheckpoint"


class LambdaCallback(Callback):
    """Each function given replaces that hook (on_epoch_* and the batch hooks take (index, logs),
    on_train_begin / on_train_end (logs)); further keyword arguments become attributes. Which hooks a
    version's signature names is the spec's (2.x on_batch_*, 3 on_train_batch_*)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None, on_batch_end=None,
                 on_train_begin=None, on_train_end=None, on_train_batch_begin=None,
                 on_train_batch_end=None, **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        given = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin, "on_train_batch_end": on_train_batch_end}
        for hook, fn in given.items():
            if fn is not None:
                setattr(self, hook, fn)


_BY_VERSION = {"3": {"ProgbarLogger": ProgbarLogger3, "EarlyStopping": EarlyStopping3,
                     "ModelCheckpoint": ModelCheckpoint3}}


def for_version(v):
    """{name: core class} of the callbacks a version documents (BaseLogger only in 2.x: the spec)."""
    table = {"Callback": Callback, "History": History, "BaseLogger": BaseLogger,
             "ProgbarLogger": ProgbarLogger, "EarlyStopping": EarlyStopping,
             "ModelCheckpoint": ModelCheckpoint, "LambdaCallback": LambdaCallback}
    table.update(_BY_VERSION.get(v, {}))
    return table


class CallbackList:
    """Calls every callback's hook in order, with the logs the version documents (``_TRAITS``). The same
    logs dict goes to every callback of one call, so a callback sees what an earlier one wrote into it."""

    def __init__(self, callbacks=None, api_version="3"):
        self.callbacks = list(callbacks or [])
        self.traits = _TRAITS[api_version]
        self._running = {}
        self._epoch_logs = {}

    def __iter__(self):
        return iter(self.callbacks)

    def set_params(self, params):
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        for cb in self.callbacks:
            cb.set_model(model)

    def for_validation(self):
        """The callbacks fit's validation calls: these (2.3, 3) or none (2.2.4)."""
        return self if self.traits["validation_hooks"] else None

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def _begin_logs(self, logs):
        return dict(logs or {}) if self.traits["index_logs"] else {}

    def _end_logs(self, mode, logs):
        """Batch logs: the loop's ``{batch, size, values}`` as the version documents them."""
        logs = dict(logs or {})
        size = logs.get("size", 1)
        totals, seen = self._running.setdefault(mode, ({}, [0]))
        seen[0] += size
        running = self.traits["running"]
        for k, v in list(logs.items()):
            if k in ("batch", "size") or not isinstance(v, (int, float, np.floating)):
                continue
            totals[k] = totals.get(k, 0.0) + v * size
            if running == "all" or (running == "metrics" and k != "loss"):
                logs[k] = totals[k] / seen[0]
        if not self.traits["index_logs"]:
            logs.pop("batch", None)
            logs.pop("size", None)
        return logs

    # -- training
    def on_train_begin(self, logs=None):
        self._call("on_train_begin", {})

    def on_epoch_begin(self, epoch, logs=None):
        self._running.pop("train", None)
        self._call("on_epoch_begin", epoch, {})

    def on_train_batch_begin(self, batch, logs=None):
        self._call(self.traits["train_batch_hook"] + "_begin", batch, self._begin_logs(logs))

    def on_train_batch_end(self, batch, logs=None):
        self._call(self.traits["train_batch_hook"] + "_end", batch, self._end_logs("train", logs))

    def on_epoch_end(self, epoch, logs=None):
        self._epoch_logs = logs if logs is not None else {}
        self._call("on_epoch_end", epoch, self._epoch_logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", dict(self._epoch_logs) if self.traits["result_logs"] else {})

    # -- evaluation (evaluate, and fit's validation in 2.3 and 3)
    def on_test_begin(self, logs=None):
        self._running.pop("test", None)
        self._call("on_test_begin", {})

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, self._begin_logs(logs))

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, self._end_logs("test", logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", dict(logs or {}) if self.traits["result_logs"] else {})

    # -- prediction
    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", {})

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, self._begin_logs(logs))

    def on_predict_batch_end(self, batch, logs=None):
        """``outputs``: 2.3 the list of the batch's output arrays, with batch and size; 3 the output
        (a list only for several outputs)."""
        logs = dict(logs or {})
        if not self.traits["index_logs"]:
            outputs = logs.get("outputs", [])
            logs = {"outputs": outputs[0] if len(outputs) == 1 else outputs}
        self._call("on_predict_batch_end", batch, logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", {})
