"""Keras 3 on one backend: adapters `keras3-tensorflow`, `keras3-jax`, `keras3-torch`.

Keras 3 reads KERAS_BACKEND once, when it is first imported, so one process runs one backend (the suite
runs each adapter in its own pytest process; tox has one environment per adapter).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from typing import Any

import numpy as np

from . import (Adapter, AdapterUnavailable, check_forced_device, forced_device, hide_gpus_if_forced,
               require_packages, tensorflow_environment)

#: Keras backend name -> the package that backend needs.
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def _version(distribution: str, module: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(sys.modules.get(module), "__version__", "unknown"))


def _imported_backend() -> str | None:
    """The backend of a keras already imported in this process, else None."""
    keras = sys.modules.get("keras")
    if keras is None:
        return None
    try:
        return keras.config.backend()
    except Exception:  # imported only partly; the environment variable is what it read
        return os.environ.get("KERAS_BACKEND")


class Keras3Adapter(Adapter):
    api_version = "3"
    supported_versions = ("3",)

    def __init__(self, backend: str):
        if backend not in BACKEND_PACKAGES:
            raise AdapterUnavailable(f"Keras 3 has no backend {backend!r} here: use one of {', '.join(BACKEND_PACKAGES)}")
        self.backend = backend
        self.name = f"keras3-{backend}"
        self._check_and_prepare()

    def _check_and_prepare(self) -> None:
        """Check everything first, then set the environment keras reads when it is imported."""
        require_packages(self.name, ["keras", BACKEND_PACKAGES[self.backend]])
        forced_device(self.name)
        keras_version = _version("keras", "keras")
        if not keras_version.startswith("3."):
            raise AdapterUnavailable(
                f"adapter {self.name!r} needs keras 3, but keras {keras_version} is installed: "
                f'pip install "keras-conformance[{self.name}]"'
            )
        current = _imported_backend()
        if current is not None and current != self.backend:
            raise AdapterUnavailable(
                f"adapter {self.name!r} needs keras with the {self.backend} backend, but keras was already "
                f"imported in this process with the {current} backend: run one backend per process"
            )
        os.environ["KERAS_BACKEND"] = self.backend
        tensorflow_environment()
        hide_gpus_if_forced(self.name)

    def load_keras(self) -> Any:
        self._check_and_prepare()  # keras may have been imported since the adapter was made
        keras = importlib.import_module("keras")
        if keras.config.backend() != self.backend:  # e.g. an import hook or keras.json overrode the variable
            raise AdapterUnavailable(
                f"adapter {self.name!r}: keras loaded the {keras.config.backend()} backend although "
                f"KERAS_BACKEND={self.backend}: run one backend per process"
            )
        self._keras = keras
        try:
            check_forced_device(self)
        except AdapterUnavailable:
            self._keras = None
            raise
        return keras

    @property
    def version_string(self) -> str:
        package = BACKEND_PACKAGES[self.backend]
        return f"keras {_version('keras', 'keras')} / {package} {_version(package, package)}"

    def to_tensor(self, x: np.ndarray) -> Any:
        return self.keras.ops.convert_to_tensor(x)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, (list, tuple)):
            return np.asarray([self.to_numpy(e) for e in x])
        return np.asarray(self.keras.ops.convert_to_numpy(x))

    def seed_framework(self, n: int) -> None:
        self.keras.utils.set_random_seed(n)  # Python, NumPy, TF if installed, torch, keras' SeedGenerator

    @property
    def device(self) -> str:
        self.keras  # import the backend the way keras configures it
        if self.backend == "tensorflow":
            import tensorflow as tf

            return "gpu" if tf.config.list_logical_devices("GPU") else "cpu"
        if self.backend == "jax":
            import jax

            platform = jax.devices()[0].platform
            return "gpu" if platform in ("gpu", "cuda", "rocm") else platform
        import torch

        return "gpu" if torch.cuda.is_available() else "cpu"

    def device_proof(self) -> str:
        ops = self.keras.ops
        result = ops.matmul(ops.ones((2, 2)), ops.ones((2, 2)))
        if self.backend == "tensorflow":
            where = result.device
        elif self.backend == "jax":
            where = ", ".join(sorted(str(d) for d in result.devices()))
        else:
            where = str(result.device)
        kind = f"{type(result).__module__}.{type(result).__name__}"
        return f"keras.ops.matmul on the {self.backend} backend ran on {where} (result: {kind})"


def keras3_tensorflow() -> Keras3Adapter:
    return Keras3Adapter("tensorflow")


def keras3_jax() -> Keras3Adapter:
    return Keras3Adapter("jax")


def keras3_torch() -> Keras3Adapter:
    return Keras3Adapter("torch")
