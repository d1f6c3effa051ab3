"""The reference's callbacks driven by hand (no training loop): each expectation is worked out from the
rule spec/callbacks.yaml states for that version, step by step in the comments."""
import numpy as np
import pytest

from keras_conformance import reference


class FakeModel:
    """What a callback touches: get_weights / set_weights and stop_training."""

    def __init__(self):
        self.w, self.stop_training = 0, False

    def get_weights(self):
        return [np.array(self.w)]

    def set_weights(self, weights):
        self.w = int(weights[0])


def run(cb, values, monitor="loss"):
    """Epoch i has weight i and monitored value values[i]; returns (epochs run, final weight)."""
    model = FakeModel()
    cb.set_model(model)
    cb.on_train_begin({})
    ran = []
    for epoch, value in enumerate(values):
        model.w = epoch
        ran.append(epoch)
        cb.on_epoch_end(epoch, {monitor: value})
        if model.stop_training:
            break
    cb.on_train_end({})
    return ran, model.w


@pytest.mark.parametrize("v", ["2.2.4", "2.3"])
def test_early_stopping_2x(v):
    K = reference.keras(v)
    # best=inf; 1.0 improves (wait 0); 1.1 no (wait 1 >= patience 1): stop at epoch 1
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=1)
    assert run(cb, [1.0, 1.1, 0.5]) == ([0, 1], 1) and cb.stopped_epoch == 1
    # restore at the stop: weights of epoch 0 (the best)
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    assert run(cb, [1.0, 1.1, 0.5]) == ([0, 1], 0)
    # min_delta 0.2: 0.9 is not 0.2 below 1.0 (wait 1), 0.85 neither (wait 2 >= 2): stop at epoch 2
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=2, min_delta=0.2)
    assert run(cb, [1.0, 0.9, 0.85, 0.1]) == ([0, 1, 2], 2)
    # baseline 0.5: nothing beats it; patience 2 -> stop at epoch 1 (wait 2)
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    assert run(cb, [1.0, 0.9, 0.8]) == ([0, 1], 1)
    # a run that ends without stopping keeps the last weights even with restore_best_weights
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    assert run(cb, [1.0, 1.1, 1.2]) == ([0, 1, 2], 2)


def test_early_stopping_3():
    K = reference.keras("3")
    # best=None: 1.0 improves (wait 1 -> 0); 1.1: wait 1 >= 1 and epoch > 0: stop at epoch 1
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=1)
    assert run(cb, [1.0, 1.1, 0.5]) == ([0, 1], 1)
    # patience 0 still never stops at epoch 0: 1.0 improves; 1.1 stops at epoch 1
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=0, mode="max")
    assert run(cb, [1.0, 0.9, 0.5]) == ([0, 1], 1)
    # baseline 0.5: improvements over best that miss the baseline do not reset wait: 1.0 (wait 1), 0.9
    # (wait 2, it improves: no stop check), 0.8 improves (wait 3), 0.85 does not (wait 4 >= 2): stop at 3
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    assert run(cb, [1.0, 0.9, 0.8, 0.85]) == ([0, 1, 2, 3], 3)
    # restore at the end of training whether or not it stopped: epoch 1 (0.4) was best
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=5, restore_best_weights=True)
    assert run(cb, [1.0, 0.4, 0.6]) == ([0, 1, 2], 1)
    # start_from_epoch 2: epochs 0 and 1 are not monitored
    cb = K.callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=2, mode="max")
    assert run(cb, [1.0, 0.5, 0.4, 0.3]) == ([0, 1, 2, 3], 3)


def test_callback_hooks_per_version():
    assert not hasattr(reference.keras("2.2.4").callbacks.Callback, "on_train_batch_begin")
    assert hasattr(reference.keras("2.3").callbacks.Callback, "on_predict_end")
    assert not hasattr(reference.keras("3").callbacks, "BaseLogger")
    with pytest.raises(ValueError, match="weights.h5"):
        reference.keras("3").callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="count_mode"):
        reference.keras("2.3").callbacks.ProgbarLogger(count_mode="epochs")


def test_base_logger():
    K = reference.keras("2.3")
    cb = K.callbacks.BaseLogger(stateful_metrics=["acc"])
    cb.set_params({"metrics": ["loss", "acc"]})
    cb.on_epoch_begin(0)
    cb.on_batch_end(0, {"batch": 0, "size": 3, "loss": 1.0, "acc": 0.2})
    cb.on_batch_end(1, {"batch": 1, "size": 1, "loss": 2.0, "acc": 0.6})
    logs = {}
    cb.on_epoch_end(0, logs)
    assert logs == {"loss": pytest.approx((3 * 1.0 + 1 * 2.0) / 4), "acc": 0.6}
