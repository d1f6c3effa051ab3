"""Users' Keras 2.2.4 scripts run unchanged against the reference namespace of that version.

tests/examples/mnist_convnet_keras2.py is written the way 2.x-era scripts (keras' examples/mnist_cnn.py)
are: ``import keras``, ``from keras.layers import Conv2D, MaxPooling2D``, ``K.image_data_format()``,
``keras.optimizers.Adadelta()``, ``fit(..., validation_data=...)``. Here ``keras`` and its sub-modules
are the reference's 2.2.4 namespace and ``keras.datasets.mnist.load_data`` a small synthetic digit set
(each class a bright bar at its own place plus noise: learnable, so the loss must fall).
tests/examples/imdb_lstm_keras2.py and imdb_bidirectional_lstm_keras2.py are the IMDB-era recurrent
scripts (Embedding, LSTM, Bidirectional, fit with validation_data); ``keras.datasets.imdb.load_data`` is
a synthetic review set whose label is which half of the vocabulary a review mostly draws from.
"""
from __future__ import annotations

import runpy
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from keras_conformance import reference

EXAMPLES = Path(__file__).resolve().parent / "examples"
SCRIPT = EXAMPLES / "mnist_convnet_keras2.py"


def _synthetic_mnist(n_train=480, n_test=160, side=12, seed=0):
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 10, n)
        x = rng.integers(0, 60, size=(n, side, side))
        rows, cols = (y // 5) * 5 + 2, (y % 5) * 2 + 1
        for dr in range(3):                           # a 3 x 2 bar per sample, where its class says
            for dc in range(2):
                x[np.arange(n), rows + dr, cols + dc] = 255
        return x.astype(np.uint8), y.astype(np.uint8)
    return make(n_train), make(n_test)


def _synthetic_imdb(num_words=50, maxlen=12, n_train=640, n_test=96, seed=1, **_):
    """Reviews of ``maxlen`` word indices in [1, num_words): a positive one draws 80% of its words from
    the lower half of the vocabulary, a negative one from the upper half (index 0 is padding)."""
    rng = np.random.default_rng(seed)
    half = num_words // 2

    def make(n):
        y = rng.integers(0, 2, n)
        own = rng.random((n, maxlen)) < 0.8
        low = rng.integers(1, half, (n, maxlen))
        high = rng.integers(half, num_words, (n, maxlen))
        x = np.where(own == (y[:, None] == 1), low, high)
        return x.astype("int32"), y.astype("int32")
    return make(n_train), make(n_test)


@pytest.fixture
def keras_2_2_4(monkeypatch):
    K = reference.keras("2.2.4")
    datasets = types.ModuleType("keras.datasets")
    mnist = types.ModuleType("keras.datasets.mnist")
    mnist.load_data = _synthetic_mnist
    imdb = types.ModuleType("keras.datasets.imdb")
    imdb.load_data = _synthetic_imdb
    datasets.mnist, datasets.imdb = mnist, imdb
    modules = {"keras": K, "keras.datasets": datasets, "keras.datasets.mnist": mnist,
               "keras.datasets.imdb": imdb}
    for sub in ("models", "layers", "backend", "utils", "optimizers", "losses"):
        modules[f"keras.{sub}"] = getattr(K, sub)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    K.backend.set_seed(0) if hasattr(K.backend, "set_seed") else None
    return K


def test_a_keras_2_2_4_mnist_convnet_script_trains_unchanged(keras_2_2_4):
    result = runpy.run_path(str(SCRIPT), run_name="__main__")
    losses = result["history"].history["loss"]
    assert len(losses) == result["epochs"] == 4
    # derived from the data, not from a run: 10 balanced classes, so an untrained softmax starts near
    # log(10) = 2.30; a model that learns the bars ends well below it and far above chance accuracy
    assert losses[-1] < losses[0] - 0.5, losses
    test_loss, test_accuracy = result["score"]
    assert test_loss < 2.0 and test_accuracy > 0.5, result["score"]


@pytest.mark.parametrize("script", ["imdb_lstm_keras2.py", "imdb_bidirectional_lstm_keras2.py"])
def test_a_keras_2_2_4_imdb_recurrent_script_trains_unchanged(keras_2_2_4, script):
    result = runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    history = result["history"].history
    losses = history["loss"]
    assert len(losses) == 4 and len(history["val_loss"]) == 4, history
    # balanced binary labels: an untrained sigmoid starts near log(2) = 0.69 and 50% accuracy; the
    # vocabulary halves separate the classes, so a model that learns (Adam at its default 0.001, 80
    # steps) falls below that and classifies held-out reviews far above chance
    assert "acc" in history and "val_acc" in history, sorted(history)   # the 2.2.4 History key names
    assert losses[-1] < losses[0] - 0.05, losses
    assert history["val_acc"][-1] > 0.8, history["val_acc"]
