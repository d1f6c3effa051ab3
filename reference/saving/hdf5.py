"""Keras HDF5 save files for the reference: `save_model` / `load_model`, `save_weights` / `load_weights`.

The layout is the one real Keras writes, per API version, so files move both ways:

root attrs      keras_version, backend, model_config (JSON of {"class_name", "config"}),
                training_config (JSON; only for a compiled model saved with include_optimizer=True)
model_weights/  attrs layer_names, backend, keras_version; one group per layer (in `model.layers`
                order) with attr weight_names and one dataset per weight at that name
                ("dense_1/kernel:0" is a dataset kernel:0 in a sub-group dense_1)
optimizer_weights/  attr weight_names, one dataset per optimizer weight (Keras 2 order: iterations
                first), only when the optimizer has state

Per version (Keras source of that version is the authority, see docs in the tests):
- "2.2.4" / "2.3": strings as fixed-length bytes (`np.bytes_`, arrays of dtype S), as Keras 2 wrote
  them with h5py 2; weight names "layer/weight:0"; training_config keys
  optimizer_config, loss, metrics, sample_weight_mode, loss_weights (+ weighted_metrics since 2.3).
- "3": what keras 3's legacy h5 writer (`keras.src.legacy.saving.legacy_h5_format`) writes:
  keras_version/backend as UTF-8 str, name lists as variable-length strings, weight names as
  variable paths ("sequential/dense/kernel"), an empty `top_level_model_weights` group, training_config
  keys loss, loss_weights, metrics, weighted_metrics, run_eagerly, steps_per_execution, jit_compile,
  optimizer_config. `save_weights` to a name ending in ".weights.h5" writes keras 3's own weights
  layout (layers/<snake_case class>/vars/<i>), which `load_weights` reads back.
`backend` is always "tensorflow": the reference is backend-free, and every real Keras reads that value.

Safety: saves are atomic (temporary file in the same folder, then `os.replace`); a missing, truncated,
corrupt or non-Keras file is refused with a `SaveFileError` (a ValueError) naming the file and the
problem; a model config that carries code (a `Lambda` layer, a serialized function) is refused unless
`safe_mode=False`; external and soft links inside a file are refused.

The parts every format shares live beside this module: files.py (the file error, atomic writing, the
guarded reader), config.py (versions, the model config and its safety rule), weights.py (layer weights),
training_config.py (the compiled state).
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .config import (BACKEND, KERAS_VERSION_STRINGS, _contains_code, _keras_version_string, _model_api_version,
                     _model_from_config, _namespace, _normalize_version)
from .files import (SaveFileError, _atomic_h5_write, _has_names, _read_string_attr, _Reader, _string_attr,
                    _to_json, _write_names, names_the_file)
from .training_config import (_compile_from_training_config, _optimizer_weight_names, _restore_optimizer_state,
                              _training_config)
from .weights import (_apply, _plan_topological, _write_keras3_weights, _write_model_weights,
                      load_weights)  # load_weights: re-exported, one module for the .h5 format

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "SaveFileError",
    "KERAS_VERSION_STRINGS",
    "BACKEND",
]


# ----------------------------------------------------------------------------------------------
# public: saving
# ----------------------------------------------------------------------------------------------

def save_model(model, filepath, overwrite=True, include_optimizer=True, *, api_version=None):
    """Save architecture, weights, training configuration and optimizer state to one HDF5 file.

    `api_version` defaults to the version the model was built with (`model._api_version`).
    With overwrite=False and an existing file, nothing is written (Keras asks on the terminal; the
    reference answers "no") and a warning says so. Atomic: an interrupted save leaves the old file."""
    version = _model_api_version(model, api_version)
    class_name = getattr(model, "_json_class_name", None)
    class_name = class_name() if callable(class_name) else type(model).__name__  # v3: "Functional"
    from ..engine.serialization import legacy_config
    with legacy_config():   # keras 3's H5 writer serializes layers in the legacy layout
        model_config = {"class_name": class_name, "config": model.get_config()}
    model_json = _to_json(model_config)
    opt = getattr(model, "optimizer", None)
    training_json, opt_names, opt_values = None, [], []
    if include_optimizer and opt is not None:
        training_json = _to_json(_training_config(model, version))
        opt_values = [np.asarray(v) for v in (opt.get_weights() or [])]
        opt_names = _optimizer_weight_names(opt, version)[: len(opt_values)]

    def writer(f):
        f.attrs["keras_version"] = _string_attr(_keras_version_string(version), version)
        f.attrs["backend"] = _string_attr(BACKEND, version)
        f.attrs["model_config"] = _string_attr(model_json, version, json_payload=True)
        if training_json is not None:
            f.attrs["training_config"] = _string_attr(training_json, version, json_payload=True)
        _write_model_weights(f.create_group("model_weights"), model, version)
        if opt_values:
            g = f.create_group("optimizer_weights")
            _write_names(g, "weight_names", opt_names, version)
            for name, val in zip(opt_names, opt_values):
                g.create_dataset(name, data=val)

    _atomic_h5_write(filepath, overwrite, writer, make_dirs=(version == "3"))


def save_weights(model, filepath, overwrite=True, *, api_version=None):
    """Save the weights of every layer (the `model_weights` layout at the file's root).

    For API version "3" and a file name ending in ".weights.h5", keras 3's own weights layout is
    written instead (layers/<snake_case class name>/vars/<index>), as keras 3 does."""
    version = _model_api_version(model, api_version)
    path = os.fspath(filepath)
    if version == "3" and path.endswith(".weights.h5"):
        writer = lambda f: _write_keras3_weights(f, model)  # noqa: E731
    else:
        writer = lambda f: _write_model_weights(f, model, version)  # noqa: E731
    _atomic_h5_write(path, overwrite, writer, make_dirs=(version == "3"))


@names_the_file(0)
def load_model(filepath, custom_objects=None, compile=True, safe_mode=True, *, api_version):
    """Rebuild a model saved by `save_model` (or by Keras 2.x / tf_keras / keras 3 as .h5).

    The architecture is rebuilt with `reference.keras(api_version)`, weights are set, and with
    compile=True the model is compiled from the training configuration and the optimizer state is
    restored, so training resumes where it stopped. A model config that carries code (a `Lambda`
    layer or another serialized function) raises ValueError unless safe_mode=False."""
    version = _normalize_version(api_version)
    custom_objects = dict(custom_objects or {})
    with _Reader(filepath) as r:
        f = r.f
        model_config = r.json_attr(f, "model_config")
        if model_config is None:
            what = "a weights file (use load_weights)" if _has_names(f, "layer_names") or "layers" in f else "not a Keras model file"
            raise SaveFileError(r.path, f"no 'model_config' attribute: it is {what}.")
        if safe_mode:
            hit = _contains_code(model_config)
            if hit:
                from ..engine.serialization import opt_in_hint
                raise ValueError(
                    f"Refusing to load '{r.path}': its model config contains {hit}, i.e. Python code that "
                    f"would run on load. This can execute arbitrary code; if you trust the file, "
                    f"{opt_in_hint(version, takes_safe_mode=True)}."
                )
        K = _namespace(version)
        from ..engine.serialization import safe_mode_scope
        with safe_mode_scope(safe_mode):
            model = _model_from_config(K, version, model_config, custom_objects, r.path)
        wg = r.group(f, "model_weights", "the 'model_weights' group")
        _apply(_plan_topological(r, wg, model, skip_mismatch=False))
        if not compile:
            return model
        tc = r.json_attr(f, "training_config")
        if tc is None:
            warnings.warn(
                f"No training configuration found in '{r.path}': the model was *not* compiled. "
                "Compile it manually.",
                stacklevel=2,
            )
            return model
        _compile_from_training_config(K, model, tc, custom_objects, r.path)
        if "optimizer_weights" in f:
            _restore_optimizer_state(r, model)
    return model
