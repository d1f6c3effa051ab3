"""Mutants of the callbacks (registered through mutants.mutant; caught by conformance/test_callbacks.py).

Each breaks one documented behaviour of spec/callbacks.yaml: the order of the hooks fit calls, the logs
on_epoch_end gets, EarlyStopping's patience and restore_best_weights, ModelCheckpoint's save_best_only,
LambdaCallback's hooks. Signatures stay as documented, so only the behaviour tells.
"""
from __future__ import annotations

from mutants import ALL, mutant


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
