"""The `tf_keras` adapter: the Keras 2 line kept alive as the `tf_keras` package (not `tf.keras`)."""

from __future__ import annotations

import importlib
import importlib.metadata
import sys
from typing import Any

import numpy as np

from . import (Adapter, AdapterUnavailable, check_forced_device, forced_device, hide_gpus_if_forced,
               require_packages, tensorflow_environment)


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(sys.modules.get(distribution), "__version__", "unknown"))


class TfKerasAdapter(Adapter):
    name = "tf_keras"
    api_version = "2.3"
    supported_versions = ("2.3",)

    def __init__(self):
        require_packages(self.name, ["tf_keras", "tensorflow"])
        forced_device(self.name)
        tensorflow_environment()
        hide_gpus_if_forced(self.name)

    def load_keras(self) -> Any:
        tf_keras = importlib.import_module("tf_keras")
        self._keras = tf_keras
        try:
            check_forced_device(self)
        except AdapterUnavailable:
            self._keras = None
            raise
        return tf_keras

    @property
    def version_string(self) -> str:
        return f"tf_keras {_version('tf_keras')} / tensorflow {_version('tensorflow')}"

    def to_tensor(self, x: np.ndarray) -> Any:
        return self.keras.backend.constant(x)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, (list, tuple)):
            return np.asarray([self.to_numpy(e) for e in x])
        if hasattr(x, "numpy") and callable(x.numpy):  # EagerTensor, tf.Variable
            return np.asarray(x.numpy())
        return np.asarray(self.keras.backend.get_value(x))

    def seed_framework(self, n: int) -> None:
        import tensorflow as tf

        tf.random.set_seed(n)

    @property
    def device(self) -> str:
        self.keras
        import tensorflow as tf

        return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"

    def device_proof(self) -> str:
        import tensorflow as tf

        self.keras
        result = tf.matmul(tf.ones((2, 2)), tf.ones((2, 2)))
        return f"tf.matmul (tensorflow {tf.__version__}) ran on {result.device} (result: {type(result).__name__})"
