"""The keras 3 `.keras` archive for the reference: `save_archive` / `load_archive`, and the weights of an
archive for `load_weights`.

The layout keras 3.15 writes (saving_lib.save_model), so files move both ways:

metadata.json     {"keras_version": "3.15.1", "date_saved": "YYYY-MM-DD@HH:MM:SS"}
config.json       the model as serialize_keras_object gives it: {"module", "class_name", "config",
                  "registered_name", "build_config", "compile_config"} (compile_config: optimizer as a
                  serialized object, loss, loss_weights, metrics, weighted_metrics, run_eagerly,
                  steps_per_execution, jit_compile; only for a compiled model)
model.weights.h5  keras 3's weights store (weights.py `_write_keras3_weights`: the object tree, then the
                  optimizer's variables)

`zipped=False` writes the same three files into a folder of that name (keras 3.15 saving_lib with
zipped=False). A save is atomic (the archive is written beside the target, then renamed).

Loading reads the members into memory and never extracts anything: a member whose name leaves the
archive root (absolute, `..`, a drive or a backslash path) is refused, as is a member whose declared size
is a bomb's (keras 3.15's own guard: over 4 GiB and over 100 times its compressed size), a missing
member, a config that is not JSON, and a config that carries code unless safe_mode=False; each refusal is
a SaveFileError (or, for code, the ValueError of the .h5 loader) naming the file.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import posixpath
import shutil
import tempfile
import warnings
import zipfile

from .config import _contains_code, _keras_version_string, _namespace, _normalize_version
from .files import SaveFileError, _Reader, _to_json, atomic_write, names_the_file
from .training_config import _build_optimizer, _deserialize, _deserialize_optimizer
from .weights import _apply, _load_keras3_optimizer, _plan_keras3_weights, _write_keras3_weights

__all__ = ["save_archive", "load_archive", "load_archive_weights", "is_archive", "CONFIG", "METADATA",
           "WEIGHTS"]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# keras 3.15 saving_lib._reject_zip_bomb
_BOMB_FLOOR_BYTES, _MAX_EXPANSION = 1 << 32, 100


# ----------------------------------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------------------------------

def _serialized(obj, module):
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_serialized(o, module) for o in obj]
    if isinstance(obj, dict):
        return {k: _serialized(v, module) for k, v in obj.items()}
    if hasattr(obj, "get_config"):
        return {"module": module, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": None}
    name = getattr(obj, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize {obj!r} into the .keras compile config.")
    return name


def _compile_config(model):
    """keras 3.15 Trainer.get_compile_config: what compile was given, serialized; None if never compiled."""
    if not getattr(model, "_is_compiled", False):
        return None
    cc = dict(getattr(model, "_compile_config", None) or {})
    opt = model.optimizer
    return {
        "optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": opt.get_config(),
                      "registered_name": None},
        "loss": _serialized(cc.get("loss"), "keras.losses"),
        "loss_weights": cc.get("loss_weights"),
        "metrics": _serialized(cc.get("metrics"), "keras.metrics"),
        "weighted_metrics": _serialized(cc.get("weighted_metrics"), "keras.metrics"),
        "run_eagerly": cc.get("run_eagerly", False),
        "steps_per_execution": cc.get("steps_per_execution", 1),
        "jit_compile": cc.get("jit_compile", "auto"),
    }


def _build_config(model):
    """keras 3.15 get_build_config: a Sequential's input shape; a functional model says None."""
    if type(model).__name__ != "Sequential":
        return {"input_shape": None}
    try:
        return {"input_shape": list(model.input_shape) if model.built else None}
    except AttributeError:
        return {"input_shape": None}


def _model_json(model):
    from ..engine.serialization import serialize_layer
    entry = serialize_layer(model)
    entry["build_config"] = _build_config(model)
    cc = _compile_config(model)
    if cc is not None:
        entry["compile_config"] = cc
    return _to_json(entry)


def _weights_bytes(model):
    import h5py
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        _write_keras3_weights(f, model)
    return buf.getvalue()


def save_archive(model, filepath, overwrite=True, zipped=True):
    """Write `model` as a keras 3 `.keras` archive (a folder of the same three files with zipped=False)."""
    version = getattr(model, "_api_version", "3")
    members = {
        METADATA: json.dumps({"keras_version": _keras_version_string(_normalize_version(version)),
                              "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}).encode(),
        CONFIG: _model_json(model).encode(),
        WEIGHTS: _weights_bytes(model),
    }
    path = os.fspath(filepath)
    if not zipped:
        return _write_folder(path, overwrite, members)

    def write(tmp):
        with zipfile.ZipFile(tmp, "w") as zf:   # stored, not deflated: what keras 3.15 writes
            for name, data in members.items():
                zf.writestr(zipfile.ZipInfo(name), data)
    return atomic_write(path, overwrite, write)


def _write_folder(path, overwrite, members):
    if os.path.exists(path) and not overwrite:
        warnings.warn(f"'{path}' already exists and overwrite=False: nothing was saved.", stacklevel=3)
        return False
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="." + os.path.basename(path) + ".", dir=parent)
    try:
        for name, data in members.items():
            with open(os.path.join(tmp, name), "wb") as fh:
                fh.write(data)
        if os.path.isdir(path):
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return True


# ----------------------------------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------------------------------

def is_archive(filepath) -> bool:
    path = os.fspath(filepath)
    if os.path.isdir(path):
        return os.path.isfile(os.path.join(path, CONFIG))
    return path.endswith(".keras")


class _Members:
    """The members of an archive (or a saved folder), read into memory, with the checks above."""

    def __init__(self, filepath):
        self.path = os.fspath(filepath)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"Cannot load '{self.path}': no such file.")
        if os.path.isdir(self.path):
            self.data = {}
            for name in (CONFIG, METADATA, WEIGHTS):
                p = os.path.join(self.path, name)
                if os.path.isfile(p) and not os.path.islink(p):
                    with open(p, "rb") as fh:
                        self.data[name] = fh.read()
            return
        with open(self.path, "rb") as fh:
            head = fh.read(4)
        if head != b"PK\x03\x04":
            what = "an HDF5 file (a legacy .h5 save: name it .h5)" if head == b"\x89HDF" else \
                "not a zip archive" if head else "empty (0 bytes)"
            raise SaveFileError(self.path, f"it is {what}, not a keras 3 '.keras' zip archive.")
        try:
            with zipfile.ZipFile(self.path, "r") as zf:
                infos = zf.infolist()
                for info in infos:
                    _check_member_name(self.path, info.filename)
                    if info.file_size > _BOMB_FLOOR_BYTES and info.file_size > _MAX_EXPANSION * info.compress_size:
                        raise SaveFileError(self.path, f"the member {info.filename!r} declares {info.file_size} "
                                                       f"bytes from {info.compress_size}: a zip bomb; refusing it.")
                self.data = {}
                for info in infos:
                    if info.filename in (CONFIG, METADATA, WEIGHTS):
                        self.data[info.filename] = zf.read(info)
        except SaveFileError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError,
                RuntimeError, KeyError, UnicodeDecodeError) as e:
            raise SaveFileError(self.path, f"the zip archive is truncated or corrupt ({type(e).__name__}: "
                                           f"{str(e).strip() or 'no detail'}).") from None

    def json(self, name):
        if name not in self.data:
            raise SaveFileError(self.path, f"the archive has no {name!r} (a keras 3 '.keras' file holds "
                                           f"{CONFIG}, {METADATA} and {WEIGHTS}).")
        try:
            return json.loads(self.data[name].decode("utf8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise SaveFileError(self.path, f"its {name!r} is not valid JSON ({e}).") from None

    def weights_reader(self):
        if WEIGHTS not in self.data:
            raise SaveFileError(self.path, f"the archive has no {WEIGHTS!r}.")
        return _Reader.from_bytes(self.data[WEIGHTS], f"{self.path}/{WEIGHTS}", f"its {WEIGHTS!r}")


def _check_member_name(path, name):
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or posixpath.isabs(name) or ".." in parts or (len(name) > 1 and name[1] == ":") \
            or "\\" in name or "\x00" in name:
        raise SaveFileError(path, f"the archive member {name!r} lies outside the archive root; refusing the file.")


def _strip(entry):
    return {k: v for k, v in entry.items() if k not in ("compile_config", "build_config")}


@names_the_file(0)
def load_archive(filepath, custom_objects=None, compile=True, safe_mode=True, *, api_version="3"):
    """The model of a `.keras` archive (or of a folder saved with zipped=False)."""
    version = _normalize_version(api_version)
    custom_objects = dict(custom_objects or {})
    members = _Members(filepath)
    config = members.json(CONFIG)
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise SaveFileError(members.path, f"its {CONFIG!r} is not a serialized model "
                                          "({\"class_name\", \"config\", ...}).")
    if safe_mode:
        hit = _contains_code(config, CONFIG)
        if hit:
            raise ValueError(
                f"Refusing to load '{members.path}': its {CONFIG} contains {hit}, i.e. Python code that would run "
                "on load. This can execute arbitrary code; if you trust the file, pass safe_mode=False to load it.")
    from ..engine.serialization import deserialize_layer, safe_mode_scope
    with safe_mode_scope(safe_mode):
        try:
            model = deserialize_layer(_strip(config), version, custom_objects or None)
        except (KeyError, TypeError, AttributeError, IndexError) as e:
            raise SaveFileError(members.path, f"its {CONFIG!r} does not describe a model this Keras can build "
                                              f"({type(e).__name__}: {e}).") from None
    build = config.get("build_config") or {}
    if not getattr(model, "built", True) and isinstance(build, dict) and build.get("input_shape"):
        model.build(tuple(build["input_shape"]))
    cc = config.get("compile_config") if compile else None
    if cc:
        _compile_from_config(_namespace(version), model, cc, custom_objects, members.path)
    with members.weights_reader() as r:
        _apply(_plan_keras3_weights(r, model, False, False))
        if cc:
            _build_optimizer(model, model.optimizer)
            _load_keras3_optimizer(r, r.f, model)
    return model


@names_the_file(1)
def load_archive_weights(model, filepath, skip_mismatch=False):
    """`load_weights` of a `.keras` archive: its weights store, into `model`."""
    members = _Members(filepath)
    with members.weights_reader() as r:
        _apply(_plan_keras3_weights(r, model, False, skip_mismatch))
        _load_keras3_optimizer(r, r.f, model)


def _compile_from_config(K, model, cc, custom_objects, path):
    """keras 3.15 Trainer.compile_from_config."""
    if not isinstance(cc, dict):
        raise SaveFileError(path, "its compile_config is not a JSON object.")
    opt = cc.get("optimizer")
    if isinstance(opt, dict) and "class_name" in opt:
        opt = _deserialize_optimizer(K, {"class_name": opt["class_name"], "config": opt.get("config")},
                                     custom_objects, path)
    kwargs = {"optimizer": opt or "rmsprop",
              "loss": _deserialize(K.losses, cc.get("loss"), custom_objects, "loss"),
              "metrics": _deserialize(K.metrics, cc.get("metrics"), custom_objects, "metric"),
              "weighted_metrics": _deserialize(K.metrics, cc.get("weighted_metrics"), custom_objects, "metric"),
              "loss_weights": cc.get("loss_weights")}
    for key in ("run_eagerly", "steps_per_execution", "jit_compile"):
        if key in cc:
            kwargs[key] = cc[key]
    model.compile(**kwargs)
