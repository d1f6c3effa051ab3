"""Which save file format a save or load call means, per API version.

2.2.4 and 2.3 have one format, HDF5 (hdf5.py), whatever the file is called. Version 3 chooses by the
name, as keras 3.15 saving_api does: `Model.save` / `models.load_model` take a `.keras` archive
(keras_archive.py; a folder with zipped=False) or a legacy `.h5` / `.hdf5` file; `save_weights` takes
only a name ending in `.weights.h5`; `load_weights` reads `.weights.h5`, the weights of a `.keras`
archive, and a legacy `.h5`. Any other name is a ValueError that says which names are accepted.
"""
from __future__ import annotations

import os

from . import hdf5, keras_archive, weights
from .config import _model_api_version, _normalize_version

__all__ = ["save_model", "load_model", "save_weights", "load_weights"]

_LEGACY = (".h5", ".hdf5")


def save_model(model, filepath, overwrite=True, include_optimizer=True, zipped=None, *, api_version=None):
    version = _model_api_version(model, api_version)
    if version != "3":
        return hdf5.save_model(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                               api_version=version)
    path = os.fspath(filepath)
    if zipped is None:
        zipped = True
    if not zipped:
        return keras_archive.save_archive(model, path, overwrite=overwrite, zipped=False)
    if path.endswith(".keras"):
        return keras_archive.save_archive(model, path, overwrite=overwrite)
    if path.endswith(_LEGACY):
        return hdf5.save_model(model, path, overwrite=overwrite, include_optimizer=include_optimizer,
                               api_version=version)
    raise ValueError("Invalid filepath extension for saving. Please add either a `.keras` extension for the "
                     f"native Keras format (recommended) or a `.h5` extension. Received: filepath={path}.")


def save_weights(model, filepath, overwrite=True, *, api_version=None):
    version = _model_api_version(model, api_version)
    path = os.fspath(filepath)
    if version == "3" and not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    return hdf5.save_weights(model, path, overwrite=overwrite, api_version=version)


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    path = os.fspath(filepath)
    if _model_api_version(model) == "3":
        if path.endswith(".keras"):
            return keras_archive.load_archive_weights(model, path, skip_mismatch=skip_mismatch)
        if not path.endswith((".weights.h5",) + _LEGACY):
            raise ValueError(f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
                             "and `.weights.h5` files, or legacy V1/V2 `.h5` files.")
    return weights.load_weights(model, path, by_name=by_name, skip_mismatch=skip_mismatch)


def _check_custom_objects(custom_objects):
    # before the file is read: the loaders wrap what goes wrong while reading as the file's fault
    if custom_objects is not None and not (
            isinstance(custom_objects, dict) and all(isinstance(k, str) for k in custom_objects)):
        raise TypeError("load_model: custom_objects must be None or a dict mapping names (str) to classes or "
                        f"functions; got {type(custom_objects).__name__}: {custom_objects!r:.200}")


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, *, api_version):
    version = _normalize_version(api_version)
    path = os.fspath(filepath)
    _check_custom_objects(custom_objects)
    if version != "3":
        # 2.x documents no safe_mode: the caller opts in with reference.unsafe_deserialization()
        from ..engine.serialization import in_safe_mode
        safe_mode = in_safe_mode()
    if version == "3":
        if keras_archive.is_archive(path):
            return keras_archive.load_archive(path, custom_objects=custom_objects, compile=compile,
                                              safe_mode=safe_mode, api_version=version)
        if not path.endswith(_LEGACY):
            raise ValueError(f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
                             "files and legacy H5 format files (`.h5` extension).")
    return hdf5.load_model(path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode,
                           api_version=version)
