"""A user's Keras 2.2.4 script runs unchanged against the reference namespace of that version.

tests/examples/mnist_convnet_keras2.py is written the way 2.x-era scripts (keras' examples/mnist_cnn.py)
are: ``import keras``, ``from keras.layers import Conv2D, MaxPooling2D``, ``K.image_data_format()``,
``keras.optimizers.Adadelta()``, ``fit(..., validation_data=...)``. Here ``keras`` and its sub-modules
are the reference's 2.2.4 namespace and ``keras.datasets.mnist.load_data`` a small synthetic digit set
(each class a bright bar at its own place plus noise: learnable, so the loss must fall).
"""
from __future__ import annotations

import runpy
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from keras_conformance import reference

SCRIPT = Path(__file__).resolve().parent / "examples" / "mnist_convnet_keras2.py"


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


@pytest.fixture
def keras_2_2_4(monkeypatch):
    K = reference.keras("2.2.4")
    datasets = types.ModuleType("keras.datasets")
    mnist = types.ModuleType("keras.datasets.mnist")
    mnist.load_data = _synthetic_mnist
    datasets.mnist = mnist
    modules = {"keras": K, "keras.datasets": datasets, "keras.datasets.mnist": mnist}
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
