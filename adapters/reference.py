"""The `reference` adapter: the NumPy reference implementation, at whichever API version the run asks for."""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

import numpy as np

from . import VERSIONS, Adapter, AdapterUnavailable


def _package_version() -> str:
    try:
        return importlib.metadata.version("keras-conformance")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class ReferenceAdapter(Adapter):
    """`keras` is `keras_conformance.reference.keras(api_version)`; `configure()` picks the version."""

    name = "reference"
    api_version = VERSIONS[-1]
    supported_versions = VERSIONS
    #: the NumPy reference computes the GPU-only layers (CuDNNLSTM, CuDNNGRU) as their documented
    #: equivalents, on the CPU
    runs_gpu_only_layers = True

    def load_keras(self) -> Any:
        reference = importlib.import_module("keras_conformance.reference")
        build = getattr(reference, "keras", None)
        if build is None:
            raise AdapterUnavailable(
                "adapter 'reference' needs keras_conformance.reference.keras(api_version), which this "
                "checkout does not define yet"
            )
        return build(self.active_version)

    @property
    def version_string(self) -> str:
        return f"keras-conformance reference {_package_version()} (API {self.active_version})"

    def seed_framework(self, n: int) -> None:
        from keras_conformance.reference import backend

        backend.set_seed(n)

    def device_proof(self) -> str:
        result = np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)
        return (f"numpy {np.__version__} matmul -> {type(result).__name__} in host memory "
                f"(the reference has no accelerator code; it runs on the CPU)")
