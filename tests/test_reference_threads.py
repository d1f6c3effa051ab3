"""The reference runs NumPy's BLAS on the threads reference/threads.py allows, and gives them back."""
from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from keras_conformance import reference
from keras_conformance.reference import threads


def test_blas_limited_uses_one_thread_and_restores_the_callers_limit():
    with threadpool_limits(limits=2, user_api="blas"):
        assert set(threads.current()) == {2}
        with threads.blas_limited():
            assert set(threads.current()) == {1}
            with threads.blas_limited():            # re-entrant: the inner one changes nothing
                assert set(threads.current()) == {1}
            assert set(threads.current()) == {1}
        assert set(threads.current()) == {2}


def test_model_methods_run_on_one_blas_thread():
    K = reference.keras("3")
    model = K.models.Sequential([K.layers.Input(shape=(3,)), K.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    seen = {"train": [], "predict": []}

    class Record(K.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen["train"].append(set(threads.current()))

        def on_predict_batch_end(self, batch, logs=None):
            seen["predict"].append(set(threads.current()))

    x = np.ones((4, 3), "float32")
    with threadpool_limits(limits=2, user_api="blas"):
        model.fit(x, x[:, :2], batch_size=2, epochs=1, verbose=0, callbacks=[Record()])
        model.predict(x, batch_size=2, verbose=0, callbacks=[Record()])
        assert set(threads.current()) == {2}
    assert seen == {"train": [{1}, {1}], "predict": [{1}, {1}]}

@pytest.mark.parametrize("raw", ["0", "-1", "two", "1.5"])
def test_a_bad_thread_count_is_refused_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv(threads.ENV, raw)
    with pytest.raises(ValueError, match=threads.ENV):
        threads.wanted()


def test_the_thread_count_asked_for_is_capped_at_the_cores_left(monkeypatch):
    monkeypatch.setenv(threads.ENV, "10000")
    assert threads.wanted() == threads.cores_free()
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "10000")
    assert threads.cores_free() == 1
    monkeypatch.delenv(threads.ENV)
    assert threads.wanted() == 1
