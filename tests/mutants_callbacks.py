"""Mutants of the callbacks (registered through mutants.mutant; caught by conformance/test_callbacks.py).

Each breaks one documented behaviour of spec/callbacks.yaml: the order of the hooks fit calls, the logs
on_epoch_end gets, EarlyStopping's patience and restore_best_weights, ModelCheckpoint's save_best_only,
LambdaCallback's hooks; each documented hook of callbacks.Callback (and set_params / set_model) called at the
wrong time, with the wrong index or logs, or not at all; History, ProgbarLogger and BaseLogger. Signatures
stay as documented, so only the behaviour tells.
"""
from __future__ import annotations

import inspect

from mutants import ALL, KERAS2, _same_signature, mutant


class _Callbacks:
    """A CallbackList seen through ``change``: the hooks it does not define pass through."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _train_epochs_with(proxy):
    """Model and Sequential whose fit loop calls its callbacks through ``proxy(callback_list)``."""
    def apply(K):
        for cls_name in ("Sequential", "Model"):
            Base = K.get(f"models.{cls_name}")

            def _train_epochs(self, cb, *args, __base=Base, **kwargs):
                return __base._train_epochs(self, proxy(cb), *args, **kwargs)
            K.set(f"models.{cls_name}", type(cls_name, (Base,), {"_train_epochs": _train_epochs}))
    return apply


class _EpochBeginLate(_Callbacks):
    """on_epoch_begin is called after the epoch's first batch has begun (documented: before it)."""

    def on_epoch_begin(self, epoch, logs=None):
        self._pending = (epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._inner.on_train_batch_begin(batch, logs)
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_epoch_begin(*pending)


@mutant("training", ALL, "fit calls on_epoch_begin after the epoch's first batch hook (documented: at the start "
        "of the epoch, before its batches)", items=("callbacks.Callback",))
def callback_epoch_begin_after_first_batch(K, v):
    _train_epochs_with(_EpochBeginLate)(K)


class _NoValLogs(_Callbacks):
    def on_epoch_end(self, epoch, logs=None):
        self._inner.on_epoch_end(epoch, {k: val for k, val in (logs or {}).items() if not k.startswith("val_")})


@mutant("training", ALL, "fit's on_epoch_end logs lack the val_ values of the validation run (documented: "
        "the validation results prefixed val_)", items=("callbacks.Callback",))
def callback_epoch_end_without_val_logs(K, v):
    _train_epochs_with(_NoValLogs)(K)


@mutant("training", ALL, "EarlyStopping waits one epoch more than patience before stopping",
        items=("callbacks.EarlyStopping",))
def early_stopping_patience_off_by_one(K, v):
    Base = K.get("callbacks.EarlyStopping")

    class EarlyStopping(Base):
        def on_epoch_end(self, epoch, logs=None):
            self.patience += 1
            try:
                super().on_epoch_end(epoch, logs)
            finally:
                self.patience -= 1
    K.set("callbacks.EarlyStopping", EarlyStopping)


@mutant("training", ALL, "EarlyStopping ignores restore_best_weights (keeps the last epoch's weights)",
        items=("callbacks.EarlyStopping",))
def early_stopping_restore_ignored(K, v):
    Base = K.get("callbacks.EarlyStopping")

    class EarlyStopping(Base):
        def on_train_begin(self, logs=None):
            super().on_train_begin(logs)
            self.restore_best_weights = False
    K.set("callbacks.EarlyStopping", EarlyStopping)


@mutant("training", ALL, "ModelCheckpoint ignores save_best_only (saves at every epoch)",
        items=("callbacks.ModelCheckpoint",))
def model_checkpoint_save_best_only_ignored(K, v):
    Base = K.get("callbacks.ModelCheckpoint")

    class ModelCheckpoint(Base):
        def on_epoch_end(self, epoch, logs=None):
            keep, self.save_best_only = self.save_best_only, False
            try:
                super().on_epoch_end(epoch, logs)
            finally:
                self.save_best_only = keep
    K.set("callbacks.ModelCheckpoint", ModelCheckpoint)


@mutant("training", ALL, "LambdaCallback drops its on_epoch_end function (never calls it)",
        items=("callbacks.LambdaCallback",))
def lambda_callback_drops_on_epoch_end(K, v):
    Base = K.get("callbacks.LambdaCallback")

    class LambdaCallback(Base):
        def __init__(self, *args, **kwargs):
            kwargs.pop("on_epoch_end", None)
            super().__init__(*args, **kwargs)
    K.set("callbacks.LambdaCallback", LambdaCallback)


# -- the hooks one at a time: what fit, evaluate and predict call on the callbacks they are given ---------
# A slip of the engine is seen by each callback the caller passes (``_hearing``): the shim stands between
# the engine's CallbackList and that callback, changing one hook's call (when, with which index or logs)
# and passing every other call through. The checks' recorder (test_callback_hooks) and LambdaCallback are
# callbacks the caller passes.
class _Shim:
    """One callback as a slip of the engine makes it hear the hooks; the calls it does not define pass
    through to the callback."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _shimmed(method, shim):
    sig = inspect.signature(method)

    @_same_signature(method)
    def override(self, *args, **kwargs):
        from keras_conformance.reference.engine.callbacks import History
        bound = sig.bind(self, *args, **kwargs)
        given = bound.arguments.get("callbacks")
        if given:
            bound.arguments["callbacks"] = [c if isinstance(c, History) else shim(c) for c in given]
        return method(*bound.args, **bound.kwargs)
    return override


def _hearing(K, fit=None, evaluate=None, predict=None):
    """Model and Sequential whose fit / evaluate / predict (those that take ``callbacks`` in the version)
    call the callbacks given to them through the shim class named for that method."""
    shims = {"fit": fit, "evaluate": evaluate, "predict": predict}
    for cls_name in ("Sequential", "Model"):
        Base = K.get(f"models.{cls_name}")
        body = {name: _shimmed(getattr(Base, name), shim) for name, shim in shims.items()
                if shim is not None and "callbacks" in inspect.signature(getattr(Base, name)).parameters}
        K.set(f"models.{cls_name}", type(cls_name, (Base,), body))


HOOKS_23 = ("2.3", "3")          # on_train_batch_*, on_test_*, on_predict_* (documented since 2.3)


def _hook(name, also=("callbacks.Callback",)):
    return (f"callbacks.Callback.{name}", *also)


# on_epoch_begin / on_epoch_end / on_train_begin / on_train_end (every version)
class _EpochIndexFromOne(_Shim):
    def on_epoch_begin(self, epoch, logs=None):
        self._inner.on_epoch_begin(epoch + 1, logs)


@mutant("training", ALL, "fit calls on_epoch_begin with the epoch counted from 1 (the number the progress bar "
        "prints), documented the 0-based index", items=_hook("on_epoch_begin"))
def callback_epoch_begin_index_from_one(K, v):
    _hearing(K, fit=_EpochIndexFromOne)


class _EpochEndWhenNextBegins(_Shim):
    """An epoch's on_epoch_end is called only when the next epoch begins (the last one never)."""

    def on_epoch_end(self, epoch, logs=None):
        self._pending = (epoch, dict(logs or {}))

    def on_epoch_begin(self, epoch, logs=None):
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_epoch_end(*pending)
        self._inner.on_epoch_begin(epoch, logs)

    def on_train_end(self, logs=None):
        self.__dict__.pop("_pending", None)
        self._inner.on_train_end(logs)


@mutant("training", ALL, "fit calls an epoch's on_epoch_end only when the next epoch begins, so the last "
        "epoch's on_epoch_end is never called", items=_hook("on_epoch_end"))
def callback_epoch_end_skips_last_epoch(K, v):
    _hearing(K, fit=_EpochEndWhenNextBegins)


class _TrainBeginAfterFirstEpochBegin(_Shim):
    def on_train_begin(self, logs=None):
        self._pending = logs

    def on_epoch_begin(self, epoch, logs=None):
        self._inner.on_epoch_begin(epoch, logs)
        if "_pending" in self.__dict__:
            self._inner.on_train_begin(self.__dict__.pop("_pending"))


@mutant("training", ALL, "fit calls on_train_begin after the first epoch's on_epoch_begin (documented: once, "
        "before anything else of the training)", items=_hook("on_train_begin"))
def callback_train_begin_after_epoch_begin(K, v):
    _hearing(K, fit=_TrainBeginAfterFirstEpochBegin)


class _NoTrainEnd(_Shim):
    def on_train_end(self, logs=None):
        pass


@mutant("training", ALL, "fit never calls on_train_end", items=_hook("on_train_end"))
def callback_train_end_not_called(K, v):
    _hearing(K, fit=_NoTrainEnd)


class _ParamsAfterTrainBegin(_Shim):
    def set_params(self, params):
        self._pending = params

    def on_train_begin(self, logs=None):
        self._inner.on_train_begin(logs)
        if "_pending" in self.__dict__:
            self._inner.set_params(self.__dict__.pop("_pending"))


@mutant("training", ALL, "fit calls set_params on its callbacks only after on_train_begin, so `self.params` is "
        "still empty there (documented: set before training begins)", items=_hook("set_params"))
def callback_set_params_after_train_begin(K, v):
    _hearing(K, fit=_ParamsAfterTrainBegin)


class _ModelAfterTrainBegin(_Shim):
    def set_model(self, model):
        self._pending = model

    def on_train_begin(self, logs=None):
        self._inner.on_train_begin(logs)
        if "_pending" in self.__dict__:
            self._inner.set_model(self.__dict__.pop("_pending"))


@mutant("training", ALL, "fit calls set_model on its callbacks only after on_train_begin, so `self.model` is "
        "None there (documented: the model being trained)", items=_hook("set_model"))
def callback_set_model_after_train_begin(K, v):
    _hearing(K, fit=_ModelAfterTrainBegin)


# on_batch_begin / on_batch_end: fit's training-batch hooks in 2.2.4; the backwards-compatible aliases that
# Callback.on_train_batch_* call in 2.3 and 3
class _BatchBeginEmptyLogs(_Shim):
    def on_batch_begin(self, batch, logs=None):
        self._inner.on_batch_begin(batch, {})


@mutant("training", ("2.2.4",), "fit calls on_batch_begin with empty logs (keras 2.2.4 gives the batch's "
        "`batch` and `size`)", items=_hook("on_batch_begin"))
def callback_batch_begin_empty_logs(K, v):
    _hearing(K, fit=_BatchBeginEmptyLogs)


class _BatchEndWhenNextBegins(_Shim):
    """A batch's on_batch_end is called only when the next batch begins (an epoch's last one never)."""

    def on_batch_end(self, batch, logs=None):
        self._pending = (batch, dict(logs or {}))

    def on_batch_begin(self, batch, logs=None):
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_batch_end(*pending)
        self._inner.on_batch_begin(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.__dict__.pop("_pending", None)
        self._inner.on_epoch_end(epoch, logs)


@mutant("training", ("2.2.4",), "fit calls a batch's on_batch_end only when the next batch begins, so the last "
        "batch of each epoch gets none", items=_hook("on_batch_end"))
def callback_batch_end_skips_last_batch(K, v):
    _hearing(K, fit=_BatchEndWhenNextBegins)


@mutant("training", HOOKS_23, "Callback.on_train_batch_begin / on_train_batch_end do nothing instead of calling "
        "on_batch_begin / on_batch_end (their documented backwards-compatible aliases): a callback that overrides "
        "only the on_batch_* hooks (LambdaCallback's on_batch_begin=... in 2.3) is never called in fit",
        items=("callbacks.Callback.on_batch_begin", "callbacks.Callback.on_batch_end", "callbacks.LambdaCallback"))
def callback_batch_aliases_not_called(K, v):
    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass
    for cls_name in ("Callback", "LambdaCallback"):      # the base class's slip, in every callback class
        Base = K.get(f"callbacks.{cls_name}")
        K.set(f"callbacks.{cls_name}", type(cls_name, (Base,), {"on_train_batch_begin": on_train_batch_begin,
                                                                "on_train_batch_end": on_train_batch_end}))


# on_train_batch_* (2.3, 3)
class _TrainBatchBeginAfterStep(_Shim):
    """on_train_batch_begin is called after the batch's training step, with the logs of its end."""

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        self._inner.on_train_batch_begin(batch, dict(logs or {}))
        self._inner.on_train_batch_end(batch, logs)


@mutant("training", HOOKS_23, "fit calls on_train_batch_begin after the batch's training step, with the logs "
        "on_train_batch_end gets (the loss of the batch), documented before the step with the batch's begin logs",
        items=_hook("on_train_batch_begin"))
def callback_train_batch_begin_after_step(K, v):
    _hearing(K, fit=_TrainBatchBeginAfterStep)


class _TrainBatchEndNextIndex(_Shim):
    def on_train_batch_end(self, batch, logs=None):
        self._inner.on_train_batch_end(batch + 1, logs)


@mutant("training", HOOKS_23, "fit calls on_train_batch_end with the index of the next batch (batch + 1)",
        items=_hook("on_train_batch_end"))
def callback_train_batch_end_next_index(K, v):
    _hearing(K, fit=_TrainBatchEndNextIndex)


# on_test_* (2.3, 3): evaluate, and fit's validation runs
class _NoTestBatchBegin(_Shim):
    def on_test_batch_begin(self, batch, logs=None):
        pass


@mutant("training", HOOKS_23, "fit's validation runs do not call on_test_batch_begin (evaluate does)",
        items=_hook("on_test_batch_begin"))
def callback_test_batch_begin_not_in_validation(K, v):
    _hearing(K, fit=_NoTestBatchBegin)


class _TestBatchEndBeginLogs(_Shim):
    def on_test_batch_begin(self, batch, logs=None):
        self._begin_logs = dict(logs or {})
        self._inner.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._inner.on_test_batch_end(batch, self.__dict__.pop("_begin_logs", {}))


@mutant("training", HOOKS_23, "on_test_batch_end is called with the logs its on_test_batch_begin got (no loss or "
        "metric values), in evaluate and in fit's validation", items=_hook("on_test_batch_end"))
def callback_test_batch_end_gets_begin_logs(K, v):
    _hearing(K, fit=_TestBatchEndBeginLogs, evaluate=_TestBatchEndBeginLogs)


class _NoTestBegin(_Shim):
    def on_test_begin(self, logs=None):
        pass


@mutant("training", HOOKS_23, "fit's validation runs do not call on_test_begin (evaluate does)",
        items=_hook("on_test_begin"))
def callback_test_begin_not_in_validation(K, v):
    _hearing(K, fit=_NoTestBegin)


class _TestEndBeforeLastBatchEnd(_Shim):
    """A test batch's on_test_batch_end waits for the next batch's begin; on_test_end comes before the last."""

    def on_test_batch_end(self, batch, logs=None):
        self._pending = (batch, dict(logs or {}))

    def on_test_batch_begin(self, batch, logs=None):
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_test_batch_end(*pending)
        self._inner.on_test_batch_begin(batch, logs)

    def on_test_end(self, logs=None):
        self._inner.on_test_end(logs)
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_test_batch_end(*pending)


@mutant("training", HOOKS_23, "on_test_end is called before the last test batch's on_test_batch_end (evaluate "
        "and fit's validation), documented after every batch", items=_hook("on_test_end"))
def callback_test_end_before_last_batch(K, v):
    _hearing(K, fit=_TestEndBeforeLastBatchEnd, evaluate=_TestEndBeforeLastBatchEnd)


# on_predict_* (2.3, 3)
class _PredictBatchIndexFromOne(_Shim):
    def on_predict_batch_begin(self, batch, logs=None):
        self._inner.on_predict_batch_begin(batch + 1, logs)


@mutant("training", HOOKS_23, "predict calls on_predict_batch_begin with the batch counted from 1",
        items=_hook("on_predict_batch_begin"))
def callback_predict_batch_begin_index_from_one(K, v):
    _hearing(K, predict=_PredictBatchIndexFromOne)


class _PredictBatchEndWhenNextBegins(_Shim):
    def on_predict_batch_end(self, batch, logs=None):
        self._pending = (batch, dict(logs or {}))

    def on_predict_batch_begin(self, batch, logs=None):
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            self._inner.on_predict_batch_end(*pending)
        self._inner.on_predict_batch_begin(batch, logs)

    def on_predict_end(self, logs=None):
        self.__dict__.pop("_pending", None)
        self._inner.on_predict_end(logs)


@mutant("training", HOOKS_23, "predict calls a batch's on_predict_batch_end only when the next batch begins, so "
        "the last batch gets none", items=_hook("on_predict_batch_end"))
def callback_predict_batch_end_skips_last_batch(K, v):
    _hearing(K, predict=_PredictBatchEndWhenNextBegins)


class _PredictBeginAfterFirstBatchBegin(_Shim):
    def on_predict_begin(self, logs=None):
        self._pending = logs

    def on_predict_batch_begin(self, batch, logs=None):
        self._inner.on_predict_batch_begin(batch, logs)
        if "_pending" in self.__dict__:
            self._inner.on_predict_begin(self.__dict__.pop("_pending"))


@mutant("training", HOOKS_23, "predict calls on_predict_begin after the first batch's on_predict_batch_begin",
        items=_hook("on_predict_begin"))
def callback_predict_begin_after_first_batch(K, v):
    _hearing(K, predict=_PredictBeginAfterFirstBatchBegin)


class _NoPredictEnd(_Shim):
    def on_predict_end(self, logs=None):
        pass


@mutant("training", HOOKS_23, "predict never calls on_predict_end", items=_hook("on_predict_end"))
def callback_predict_end_not_called(K, v):
    _hearing(K, predict=_NoPredictEnd)


# -- History, ProgbarLogger (what fit adds to the callbacks), BaseLogger ------------------------------------
def _fit_adds(K, **classes):
    """Model and Sequential whose fit adds an instance of the namespace's (mutated) ``classes`` where the
    reference adds its own History / ProgbarLogger (the reference's fit builds its version's classes)."""
    for cls_name in ("Sequential", "Model"):
        Base = K.get(f"models.{cls_name}")

        def _callbacks(self, callbacks, verbose, params, __base=Base):
            cb, history = __base._callbacks(self, callbacks, verbose, params)
            for i, c in enumerate(cb.callbacks):
                for name, cls in classes.items():
                    if type(c) is getattr(K.pristine.callbacks, name):
                        new = cls()
                        new.set_model(self)
                        new.set_params(params)
                        cb.callbacks[i] = new
                        if c is history:
                            history = self.history = new
            return cb, history
        K.set(f"models.{cls_name}", type(cls_name, (Base,), {"_callbacks": _callbacks}))


@mutant("training", ALL, "History.epoch lists the epochs counted from 1 (the numbers the progress bar prints), "
        "documented the 0-based epoch indices fit passes", items=("callbacks.History",))
def history_epochs_from_one(K, v):
    Base = K.get("callbacks.History")

    class History(Base):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch + 1, logs)
    K.set("callbacks.History", History)
    _fit_adds(K, History=History)


@mutant("training", ALL, "ProgbarLogger's end-of-epoch line leaves out the loss (it prints the metrics and the "
        "val_ values only)", items=("callbacks.ProgbarLogger",))
def progbar_leaves_out_loss(K, v):
    Base = K.get("callbacks.ProgbarLogger")

    class ProgbarLogger(Base):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, {k: val for k, val in (logs or {}).items() if k != "loss"})
    K.set("callbacks.ProgbarLogger", ProgbarLogger)
    _fit_adds(K, ProgbarLogger=ProgbarLogger)


@mutant("training", KERAS2, "BaseLogger averages the batch values unweighted (each batch counts once whatever its "
        "size), documented the mean weighted by the batch sizes", items=("callbacks.BaseLogger",))
def base_logger_unweighted_mean(K, v):
    Base = K.get("callbacks.BaseLogger")

    class BaseLogger(Base):
        def on_batch_end(self, batch, logs=None):
            super().on_batch_end(batch, {**(logs or {}), "size": 1})
    K.set("callbacks.BaseLogger", BaseLogger)
