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
"""
from __future__ import annotations

import inspect
import json
import os
import re
import tempfile
import warnings

import numpy as np

from .. import versions
from .. import backend

try:
    import h5py
except ImportError:  # pragma: no cover - h5py is a hard dependency of the project
    h5py = None

__all__ = [
    "save_model",
    "load_model",
    "save_weights",
    "load_weights",
    "SaveFileError",
    "KERAS_VERSION_STRINGS",
    "BACKEND",
]

#: The `keras_version` string written per API version.
KERAS_VERSION_STRINGS = versions.KERAS_VERSION
#: The `backend` string written: what real Keras files say and every real Keras reads.
BACKEND = "tensorflow"
#: HDF5 object headers hold at most this many bytes; longer name lists are split (as Keras does).
HDF5_OBJECT_HEADER_LIMIT = 64512
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class SaveFileError(ValueError):
    """A file that cannot be read as a Keras save file (names the file and what is wrong)."""

    def __init__(self, filepath, problem):
        self.filepath = filepath
        self.problem = problem
        super().__init__(f"Cannot load '{filepath}': {problem}")


# ----------------------------------------------------------------------------------------------
# versions
# ----------------------------------------------------------------------------------------------

def _normalize_version(api_version):
    return None if api_version is None else backend.normalize_version(str(api_version).strip())


def _model_api_version(model, api_version=None):
    """The API version a reference model was built with."""
    if api_version is not None:
        return _normalize_version(api_version)
    for attr in ("_api_version", "api_version", "_keras_api_version"):
        v = getattr(model, attr, None)
        if isinstance(v, str):
            return _normalize_version(v)
    ns = getattr(model, "_keras", None) or getattr(model, "_namespace", None)
    v = getattr(ns, "api_version", None) or getattr(ns, "__version__", None)
    if isinstance(v, str):
        return _normalize_version(v)
    raise ValueError(
        f"Cannot tell which Keras API version the model {getattr(model, 'name', model)!r} was built "
        "with (no `_api_version` attribute); pass api_version='2.2.4', '2.3' or '3'."
    )


def _keras_version_string(version):
    try:
        s = getattr(_namespace(version), "__version__", None)
        if isinstance(s, str) and _normalize_version(s) == version:
            return s
    except Exception:  # the namespace is optional for writing
        pass
    return KERAS_VERSION_STRINGS[version]


def _namespace(version):
    return versions.classes(version)


# ----------------------------------------------------------------------------------------------
# attributes: strings and name lists as each version writes them
# ----------------------------------------------------------------------------------------------

def _string_attr(value, version, json_payload=False):
    if version == "3":
        # keras 3: keras_version/backend as str (UTF-8 vlen); JSON as bytes (h5py: ASCII vlen)
        return value.encode("utf8") if json_payload else value
    return np.bytes_(value.encode("utf8"))  # Keras 2 + h5py 2: fixed-length string


def _write_names(group, name, names, version):
    encoded = [n.encode("utf8") for n in names]
    too_long = [n for n in encoded if len(n) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise RuntimeError(
            f"The following {name} cannot be saved to HDF5 because they are longer than "
            f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {too_long}"
        )
    if not encoded:
        group.attrs[name] = np.asarray([])  # what Keras writes for an empty list (float64, shape (0,))
        return
    size = np.asarray(encoded).nbytes  # Keras sizes the chunks on the fixed-length array
    if version == "3":
        data = np.array(encoded, dtype=object)  # keras 3 + h5py 3: variable-length strings
        dtype = h5py.string_dtype("ascii")
    else:
        data = np.asarray(encoded)  # dtype S<max>: fixed length, as Keras 2 writes
        dtype = None
    chunks = 1
    while size / chunks > HDF5_OBJECT_HEADER_LIMIT:
        chunks += 1
    parts = np.array_split(data, chunks) if chunks > 1 else [data]
    for i, part in enumerate(parts):
        key = f"{name}{i}" if chunks > 1 else name
        if dtype is not None:
            group.attrs.create(key, part, dtype=dtype)
        else:
            group.attrs[key] = part


def _decode(x):
    if isinstance(x, (bytes, np.bytes_)):
        return bytes(x).decode("utf8")
    return str(x)


def _has_names(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


def _read_names(group, name):
    if name in group.attrs:
        raw = group.attrs[name]
        return [_decode(n) for n in np.atleast_1d(raw)] if np.size(raw) else []
    out, i = [], 0
    while f"{name}{i}" in group.attrs:
        out.extend(_decode(n) for n in np.atleast_1d(group.attrs[f"{name}{i}"]))
        i += 1
    return out


def _read_string_attr(obj, name):
    if name not in obj.attrs:
        return None
    value = obj.attrs[name]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return _decode(value)


# ----------------------------------------------------------------------------------------------
# JSON: what Keras' get_json_type does
# ----------------------------------------------------------------------------------------------

def _json_default(obj):
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if type(obj).__module__ == np.__name__:
        return obj.tolist() if isinstance(obj, np.ndarray) else obj.item()
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    if isinstance(obj, type):
        return obj.__name__
    raise TypeError(f"Not JSON Serializable: {obj!r}")


def _to_json(obj):
    return json.dumps(obj, default=_json_default)


# ----------------------------------------------------------------------------------------------
# atomic writing
# ----------------------------------------------------------------------------------------------

def _umask():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _atomic_h5_write(filepath, overwrite, writer, make_dirs=False):
    """Run writer(h5py.File) on a temporary file beside `filepath`, then os.replace it into place.

    Returns False (and leaves the file untouched) when `filepath` exists and overwrite is False."""
    if h5py is None:  # pragma: no cover
        raise ImportError("Saving to HDF5 requires h5py (pip install h5py).")
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to '{path}': it is a directory.")
    if not overwrite and os.path.exists(path):
        # Keras 2.x / keras 3 ask on the terminal here; the reference never prompts and behaves as a
        # user answering "no": nothing is written and the existing file is left as it was.
        warnings.warn(
            f"'{path}' already exists and overwrite=False: nothing was saved, the file is unchanged.",
            stacklevel=3,
        )
        return False
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        if make_dirs:
            os.makedirs(folder, exist_ok=True)
        else:
            raise FileNotFoundError(f"Cannot save to '{path}': the folder '{folder}' does not exist.")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            writer(f)
            f.flush()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if os.path.exists(path):
            mode = os.stat(path).st_mode & 0o777
        else:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return True


# ----------------------------------------------------------------------------------------------
# safe reading
# ----------------------------------------------------------------------------------------------

class _Reader:
    """Opens a file for reading, refusing with SaveFileError what is not a readable HDF5 file."""

    def __init__(self, filepath):
        self.owned = True
        if h5py is not None and isinstance(filepath, h5py.Group):
            self.f, self.path, self.owned = filepath, filepath.file.filename, False
            return
        if h5py is None:  # pragma: no cover
            raise ImportError("Loading HDF5 files requires h5py (pip install h5py).")
        path = os.fspath(filepath)
        self.path = path
        if not os.path.exists(path):
            raise FileNotFoundError(f"Cannot load '{path}': no such file.")
        if os.path.isdir(path):
            raise SaveFileError(path, "it is a directory, not an HDF5 file (a TensorFlow SavedModel?).")
        with open(path, "rb") as fh:
            head = fh.read(1024 + 8)
        if not head:
            raise SaveFileError(path, "the file is empty (0 bytes).")
        is_hdf5 = False
        try:
            is_hdf5 = h5py.is_hdf5(path)
        except Exception:
            pass
        if not is_hdf5 and _HDF5_SIGNATURE not in head[:1032]:
            raise SaveFileError(path, "it is not an HDF5 file " + _describe(head) + ".")
        try:
            self.f = h5py.File(path, "r")
        except (OSError, ValueError, RuntimeError) as e:
            raise SaveFileError(
                path, f"the HDF5 file is truncated or corrupt (h5py: {_first_line(e)})."
            ) from None

    def close(self):
        if self.owned:
            self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def group(self, parent, name, what=None):
        cur = parent
        for part in name.split("/"):
            if not part:
                raise SaveFileError(self.path, f"invalid path {name!r} inside the file.")
            try:
                link = cur.get(part, default=None, getclass=True, getlink=True)
            except (OSError, RuntimeError, KeyError) as e:
                raise SaveFileError(self.path, f"cannot read {what or name!r} ({_first_line(e)}).") from None
            if link is None:
                raise SaveFileError(self.path, f"{what or repr(name)} is missing (no {cur.name.rstrip('/')}/{part}).")
            if link in (h5py.ExternalLink, h5py.SoftLink):
                raise SaveFileError(self.path, f"{cur.name}/{part} is an HDF5 {link.__name__}; refusing to follow it.")
            try:
                cur = cur[part]
            except (OSError, RuntimeError, KeyError) as e:
                raise SaveFileError(self.path, f"cannot read {what or repr(name)} ({_first_line(e)}).") from None
        return cur

    def dataset(self, group, name, what):
        parts = name.split("/")
        parent = self.group(group, "/".join(parts[:-1]), what) if len(parts) > 1 else group
        obj = self.group(parent, parts[-1], what)
        if not isinstance(obj, h5py.Dataset):
            raise SaveFileError(self.path, f"{what} is not a dataset.")
        stored = obj.id.get_storage_size()
        declared = obj.size * obj.dtype.itemsize
        if declared > (1 << 32) and declared > 1000 * max(stored, 1):
            raise SaveFileError(self.path, f"{what} declares {declared} bytes but stores {stored}; refusing it.")
        try:
            return np.asarray(obj[()])
        except (OSError, RuntimeError, ValueError) as e:
            raise SaveFileError(self.path, f"{what} cannot be read; the file is truncated or corrupt ({_first_line(e)}).") from None

    def json_attr(self, obj, name):
        try:
            text = _read_string_attr(obj, name)
        except (OSError, RuntimeError) as e:
            raise SaveFileError(self.path, f"the attribute {name!r} cannot be read ({_first_line(e)}).") from None
        if text is None:
            return None
        try:
            return json.loads(text)
        except ValueError as e:
            raise SaveFileError(self.path, f"the attribute {name!r} is not valid JSON ({e}).") from None

    def names(self, obj, name, what):
        try:
            return _read_names(obj, name)
        except (OSError, RuntimeError, UnicodeDecodeError) as e:
            raise SaveFileError(self.path, f"the {what} cannot be read ({_first_line(e)}).") from None


def _first_line(e):
    s = str(e).strip().splitlines()
    return s[0] if s else type(e).__name__


def _describe(head):
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "(it looks like JSON text: a model architecture from to_json() is loaded with model_from_json)"
    if head[:4] == b"PK\x03\x04":
        return "(it is a zip archive: the Keras 3 '.keras' format, not HDF5)"
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        return "(it looks like a Python pickle)"
    try:
        head.decode("utf8")
        return "(it is a text file)"
    except UnicodeDecodeError:
        return "(no HDF5 signature)"


# ----------------------------------------------------------------------------------------------
# what the model looks like from here
# ----------------------------------------------------------------------------------------------

def _layer_weights(layer):
    return list(getattr(layer, "weights", None) or [])


def _values(obj):
    return [np.asarray(v) for v in obj.get_weights()]


def _var_shape(var):
    return tuple(int(d) for d in np.shape(getattr(var, "data", var)))


def _short_name(var, i):
    name = getattr(var, "name", None) or f"param_{i}"
    name = str(name)
    if ":" in name:
        name = name.rsplit(":", 1)[0]
    return name


def _keras2_weight_names(layer):
    names = []
    for i, var in enumerate(_layer_weights(layer)):
        name = str(getattr(var, "name", None) or f"param_{i}")
        if "/" not in name:
            name = f"{layer.name}/{name}"
        if ":" not in name:
            name += ":0"
        names.append(name)
    return _uniquify(names)


def _keras3_weight_names(layer, model):
    names = []
    for i, var in enumerate(_layer_weights(layer)):
        path = getattr(var, "path", None)
        if not isinstance(path, str) or not path:
            short = _short_name(var, i).split("/")[-1]
            prefix = f"{model.name}/" if type(model).__name__ == "Sequential" else ""
            path = f"{prefix}{layer.name}/{short}"
        names.append(path)
    return _uniquify(names)


def _uniquify(names):
    seen, out = {}, []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        out.append(n)
    return out


def _write_model_weights(group, model, version):
    layers = list(model.layers)
    _write_names(group, "layer_names", [l.name for l in layers], version)
    group.attrs["backend"] = _string_attr(BACKEND, version)
    group.attrs["keras_version"] = _string_attr(_keras_version_string(version), version)
    order = sorted(layers, key=lambda l: l.name) if version == "3" else layers
    for layer in order:
        g = group.create_group(layer.name)
        values = _values(layer) if _layer_weights(layer) else []
        names = _keras3_weight_names(layer, model) if version == "3" else _keras2_weight_names(layer)
        if len(names) != len(values):
            raise ValueError(
                f"Layer {layer.name!r} lists {len(names)} weights but get_weights() returned {len(values)}."
            )
        _write_names(g, "weight_names", names, version)
        for name, val in zip(names, values):
            g.create_dataset(name, data=val)
    if version == "3":
        _write_names(group.create_group("top_level_model_weights"), "weight_names", [], version)


def _compile_config(model):
    cfg = getattr(model, "_compile_config", None)
    if isinstance(cfg, dict):
        return dict(cfg)
    cfg = getattr(cfg, "config", None)  # keras-3-like Config object
    return dict(cfg) if isinstance(cfg, dict) else {}


def _training_config(model, version):
    cc = _compile_config(model)
    opt = model.optimizer
    optimizer_config = {"class_name": type(opt).__name__, "config": opt.get_config()}
    loss = cc.get("loss", getattr(model, "loss", None))
    metrics = cc.get("metrics", None)
    loss_weights = cc.get("loss_weights", None)
    if version == "3":
        tc = {
            "loss": loss,
            "loss_weights": loss_weights,
            "metrics": metrics,
            "weighted_metrics": cc.get("weighted_metrics", None),
            "run_eagerly": cc.get("run_eagerly", False),
            "steps_per_execution": cc.get("steps_per_execution", 1),
            "jit_compile": cc.get("jit_compile", "auto"),
            "optimizer_config": optimizer_config,
        }
        return tc
    tc = {"optimizer_config": optimizer_config, "loss": loss, "metrics": metrics}
    if version != "2.2.4":
        tc["weighted_metrics"] = cc.get("weighted_metrics", None)
    tc["sample_weight_mode"] = cc.get("sample_weight_mode", None)
    tc["loss_weights"] = loss_weights
    return tc


def _optimizer_weight_names(opt, version):
    names = []
    cls = type(opt).__name__
    for i, var in enumerate(getattr(opt, "weights", None) or []):
        name = str(getattr(var, "name", None) or f"param_{i}")
        if version == "3":
            name = name.rsplit(":", 1)[0]
            if "/" not in name:
                name = f"{str(opt.get_config().get('name', cls.lower())).lower()}/{name}"
        else:
            if "/" not in name:
                name = f"{cls}/{name}"
            if ":" not in name:
                name += ":0"
        names.append(name)
    return _uniquify(names)


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


def _snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def _keras3_keys(layers):
    used, keys = {}, []
    for layer in layers:
        key = _snake_case(type(layer).__name__)
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append(key)
    return keys


def _keras3_layers(model):
    layers = list(model.layers)
    if type(model).__name__ == "Sequential":  # keras 3 Sequential tracks no InputLayer in `layers`
        layers = [l for l in layers if type(l).__name__ != "InputLayer"]
    return layers


def _write_keras3_weights(f, model):
    layers = _keras3_layers(model)
    lg = f.create_group("layers")
    for key, layer in zip(_keras3_keys(layers), layers):
        vg = lg.create_group(key).create_group("vars")
        vg.attrs["name"] = layer.name
        for i, val in enumerate(_values(layer) if _layer_weights(layer) else []):
            vg.create_dataset(str(i), data=val)
    f.create_group("vars").attrs["name"] = model.name


# ----------------------------------------------------------------------------------------------
# public: loading
# ----------------------------------------------------------------------------------------------

def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """Load weights saved by `save_weights` (or the `model_weights` of a `save_model` file).

    Topological by default: the i-th layer with weights in the model gets the i-th layer with weights
    in the file, and the counts must agree. With by_name=True a layer gets the weights stored under
    its own name, layers without a match are left alone. skip_mismatch=True skips (with a warning)
    a layer whose weight count, or a weight whose shape, differs instead of raising ValueError.
    Nothing is assigned when a ValueError is raised."""
    with _Reader(filepath) as r:
        f = r.f
        if "layers" in f and not _has_names(f, "layer_names") and "model_weights" not in f:
            plan = _plan_keras3_weights(r, model, by_name, skip_mismatch)
        else:
            group = f
            if not _has_names(f, "layer_names") and "model_weights" in f:
                group = r.group(f, "model_weights")
            if not _has_names(group, "layer_names"):
                raise SaveFileError(
                    r.path, "it holds no Keras weights (no 'layer_names' attribute at the root or in 'model_weights')."
                )
            if by_name:
                plan = _plan_by_name(r, group, model, skip_mismatch)
            else:
                plan = _plan_topological(r, group, model, skip_mismatch)
    _apply(plan)


def _file_layers(r, group):
    """[(layer name, [weight names], group)] for the file's layers that hold weights."""
    out = []
    for name in r.names(group, "layer_names", "list of layer names"):
        g = r.group(group, name, f"the weights group of layer {name!r}")
        wnames = r.names(g, "weight_names", f"weight names of layer {name!r}")
        if wnames:
            out.append((name, wnames, g))
    return out


def _read_layer_values(r, name, wnames, g):
    return [r.dataset(g, w, f"weight {w!r} of layer {name!r}") for w in wnames]


def _plan_topological(r, group, model, skip_mismatch):
    file_layers = _file_layers(r, group)
    model_layers = [l for l in model.layers if _layer_weights(l)]
    if len(file_layers) != len(model_layers):
        raise ValueError(
            f"You are trying to load a weight file containing {len(file_layers)} layers with weights "
            f"({', '.join(n for n, _, _ in file_layers) or 'none'}) into a model with "
            f"{len(model_layers)} layers with weights ({', '.join(l.name for l in model_layers) or 'none'}) "
            f"('{r.path}'). Topological loading needs the same architecture; "
            "use by_name=True to load the layers that share a name."
        )
    plan = []
    for k, ((name, wnames, g), layer) in enumerate(zip(file_layers, model_layers)):
        values = _read_layer_values(r, name, wnames, g)
        expected = _layer_weights(layer)
        if len(values) != len(expected):
            raise ValueError(
                f"Layer #{k} (named {layer.name!r} in the current model) was found to correspond to "
                f"layer {name!r} in the save file '{r.path}'. However the new layer {layer.name!r} expects "
                f"{len(expected)} weights, but the saved weights have {len(values)} elements."
            )
        plan.append(_check_shapes(layer, values, f"layer #{k} ({layer.name!r}, file layer {name!r})", r.path, skip_mismatch))
    return plan


def _plan_by_name(r, group, model, skip_mismatch):
    index = {}
    for layer in model.layers:
        index.setdefault(layer.name, []).append(layer)
    plan = []
    for k, (name, wnames, g) in enumerate(_file_layers(r, group)):
        targets = index.get(name, [])
        if not targets:
            continue
        values = _read_layer_values(r, name, wnames, g)
        for layer in targets:
            expected = _layer_weights(layer)
            if len(values) != len(expected):
                msg = (
                    f"Layer #{k} (named {layer.name!r}) expects {len(expected)} weight(s), but the saved "
                    f"weights in '{r.path}' have {len(values)} element(s)."
                )
                if skip_mismatch:
                    warnings.warn("Skipping loading of weights: " + msg, stacklevel=3)
                    continue
                raise ValueError(msg)
            plan.append(_check_shapes(layer, values, f"layer #{k} ({layer.name!r})", r.path, skip_mismatch))
    return plan


def _plan_keras3_weights(r, model, by_name, skip_mismatch):
    lg = r.group(r.f, "layers")
    layers = _keras3_layers(model)
    keys = _keras3_keys(layers)
    by_attr = {}
    if by_name:
        for key in lg:
            vg = r.group(lg, f"{key}/vars", f"the weights of {key!r}") if "vars" in lg[key] else None
            if vg is not None:
                by_attr[_read_string_attr(vg, "name")] = vg
    plan = []
    for key, layer in zip(keys, layers):
        expected = _layer_weights(layer)
        if by_name:
            vg = by_attr.get(layer.name)
            if vg is None:
                continue
        else:
            if key not in lg:
                if not expected:
                    continue
                raise ValueError(f"Layer {layer.name!r} (saved as {key!r}) has no weights in '{r.path}'.")
            vg = r.group(lg, f"{key}/vars", f"the weights of layer {layer.name!r}")
        n = len(vg.keys())
        if n != len(expected):
            msg = (f"Layer {layer.name!r} expected {len(expected)} variables, but received {n} variables "
                   f"during loading from '{r.path}'.")
            if skip_mismatch:
                warnings.warn("Skipping loading of weights: " + msg, stacklevel=3)
                continue
            raise ValueError(msg)
        values = [r.dataset(vg, str(i), f"variable {i} of layer {layer.name!r}") for i in range(n)]
        plan.append(_check_shapes(layer, values, f"layer {layer.name!r}", r.path, skip_mismatch))
    return plan


def _check_shapes(layer, values, label, path, skip_mismatch):
    """(layer, [(index, value)]) for the weights whose shapes agree; ValueError otherwise."""
    expected = _layer_weights(layer)
    keep = []
    for i, (var, val) in enumerate(zip(expected, values)):
        want = _var_shape(var)
        if tuple(val.shape) != want:
            msg = (f"{label}: weight {_short_name(var, i)!r} has shape {want}, but the saved weight in "
                   f"'{path}' has shape {tuple(val.shape)}.")
            if skip_mismatch:
                warnings.warn("Skipping loading of weights: " + msg, stacklevel=4)
                continue
            raise ValueError(msg[0].upper() + msg[1:])
        keep.append((i, val))
    return layer, keep


def _apply(plan):
    for layer, pairs in plan:
        n = len(_layer_weights(layer))
        if len(pairs) == n:
            layer.set_weights([v for _, v in pairs])
        else:  # some weights skipped for a shape mismatch: assign the others one by one
            variables = _layer_weights(layer)
            for i, v in pairs:
                var = variables[i]
                var.assign(np.asarray(v, dtype=getattr(var, "dtype", None)))


def _contains_code(obj, trail="model_config"):
    """The location of the first serialized function / Lambda in a config, or None."""
    if isinstance(obj, dict):
        cn = obj.get("class_name")
        if cn in ("Lambda", "__lambda__"):
            name = (obj.get("config") or {}).get("name") if isinstance(obj.get("config"), dict) else None
            return f"a {cn} {'layer ' + repr(name) if name else 'object'}"
        if obj.get("function_type") == "lambda" or obj.get("output_shape_type") == "lambda":
            return f"serialized Python bytecode in {obj.get('name', trail)!r}"
        for k, v in obj.items():
            hit = _contains_code(v, f"{trail}.{k}")
            if hit:
                return hit
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            hit = _contains_code(v, f"{trail}[{i}]")
            if hit:
                return hit
    return None


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _model_from_config(K, version, model_config, custom_objects, path):
    if not isinstance(model_config, dict) or "class_name" not in model_config or "config" not in model_config:
        raise SaveFileError(path, "'model_config' is not a {\"class_name\", \"config\"} mapping.")
    cn, cfg = model_config["class_name"], model_config["config"]
    try:
        from ..engine.serialization import deserialize_layer
    except ImportError:
        deserialize_layer = None
    if deserialize_layer is not None:
        return deserialize_layer(model_config, version, custom_objects or None)
    if custom_objects and cn in custom_objects:
        cls = custom_objects[cn]
    elif cn == "Sequential":
        cls = K.models.Sequential
    elif cn in ("Model", "Functional"):
        cls = K.models.Model
    else:
        fn = getattr(K.models, "model_from_config", None)
        if fn is None:
            raise SaveFileError(path, f"the model class {cn!r} is unknown to the reference; pass it in custom_objects.")
        return fn(model_config, custom_objects=custom_objects) if _accepts(fn, "custom_objects") else fn(model_config)
    if custom_objects and _accepts(cls.from_config, "custom_objects"):
        return cls.from_config(cfg, custom_objects=custom_objects)
    return cls.from_config(cfg)


def _deserialize(module, cfg, custom_objects, kind):
    """A loss / metric from its saved form: a name stays a name (compile resolves it)."""
    if cfg is None:
        return None
    if isinstance(cfg, str):
        return custom_objects.get(cfg, cfg)
    if isinstance(cfg, list):
        return [_deserialize(module, c, custom_objects, kind) for c in cfg]
    if isinstance(cfg, dict) and "class_name" in cfg:
        cn = str(cfg["class_name"]).split(">")[-1]
        inner = dict(cfg.get("config") or {})
        if cn == "MeanMetricWrapper" and isinstance(inner.get("fn"), str):  # tf_keras metric wrapper
            return custom_objects.get(inner["fn"], inner["fn"])
        if cn == "__function__" or cn == "function":
            return custom_objects.get(inner.get("function_name") or inner.get("name"), inner.get("name"))
        cls = custom_objects.get(cn) or getattr(module, cn, None)
        if cls is None:
            name = inner.get("name")
            if isinstance(name, str):
                return custom_objects.get(name, name)
            raise ValueError(f"Unknown {kind} {cn!r} in the training configuration; pass it in custom_objects.")
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
    if isinstance(cfg, dict):
        return {k: _deserialize(module, v, custom_objects, kind) for k, v in cfg.items()}
    return cfg


def _deserialize_optimizer(K, cfg, custom_objects, path):
    if isinstance(cfg, str):
        return cfg
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        raise SaveFileError(path, "'training_config' has no valid 'optimizer_config'.")
    cn = str(cfg["class_name"]).split(">")[-1]  # tf_keras writes "Custom>Adam"
    inner = dict(cfg.get("config") or {})
    cls = custom_objects.get(cn) or getattr(K.optimizers, cn, None)
    if cls is None:
        raise ValueError(f"Unknown optimizer {cn!r} in the training configuration of '{path}'.")
    try:
        named = set(inspect.signature(cls).parameters)
    except (TypeError, ValueError):
        named = set()
    # Another Keras' spelling of the learning rate (2.2.4 says lr, later versions learning_rate).
    if "learning_rate" in inner and "learning_rate" not in named and "lr" in named:
        inner["lr"] = inner.pop("learning_rate")
    elif "lr" in inner and "lr" not in named and "learning_rate" in named:
        inner["learning_rate"] = inner.pop("lr")
    build = cls.from_config if hasattr(cls, "from_config") else (lambda c: cls(**c))
    dropped = []
    while True:
        try:
            optimizer = build(dict(inner))
            break
        except (TypeError, ValueError) as e:
            # A file from another Keras (tf_keras, keras 3) carries settings this version does not
            # take: drop the ones the error names and try again.
            msg = str(e)
            bad = [k for k in inner if f"'{k}'" in msg or f'"{k}"' in msg]
            if not bad:
                raise
            for k in bad:
                dropped.append(k)
                inner.pop(k)
    if dropped:
        warnings.warn(
            f"The optimizer configuration in '{path}' has settings {dropped} that {cn} of this Keras "
            "version does not take; they were ignored.",
            stacklevel=3,
        )
    return optimizer


def _compile_from_training_config(K, model, tc, custom_objects, path):
    if not isinstance(tc, dict):
        raise SaveFileError(path, "'training_config' is not a JSON object.")
    optimizer = _deserialize_optimizer(K, tc.get("optimizer_config"), custom_objects, path)
    losses = getattr(K, "losses", None)
    metrics_mod = getattr(K, "metrics", None)
    metrics = _deserialize(metrics_mod, tc.get("metrics"), custom_objects, "metric")
    if (isinstance(metrics, list) and len(metrics) == 1 and isinstance(metrics[0], list)
            and len(getattr(model, "outputs", None) or [None]) == 1):
        metrics = metrics[0]  # tf_keras writes one list per output
    kwargs = {
        "optimizer": optimizer,
        "loss": _deserialize(losses, tc.get("loss"), custom_objects, "loss"),
        "metrics": metrics,
        "loss_weights": tc.get("loss_weights"),
        "sample_weight_mode": tc.get("sample_weight_mode"),
        "weighted_metrics": _deserialize(metrics_mod, tc.get("weighted_metrics"), custom_objects, "metric"),
    }
    try:
        params = inspect.signature(model.compile).parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    except (TypeError, ValueError):
        params, var_kw = {}, True
    call = {"optimizer": kwargs.pop("optimizer"), "loss": kwargs.pop("loss")}
    for k, v in kwargs.items():
        if k in params or (var_kw and v is not None):
            call[k] = v
    model.compile(**call)


def _restore_optimizer_state(r, model):
    g = r.group(r.f, "optimizer_weights")
    names = r.names(g, "weight_names", "optimizer weight names")
    values = [r.dataset(g, n, f"optimizer weight {n!r}") for n in names]
    opt = model.optimizer
    if len(opt.weights or []) != len(values):
        _build_optimizer(model, opt)
    try:
        opt.set_weights(values)
    except (ValueError, TypeError, IndexError) as e:
        warnings.warn(
            f"Error in loading the saved optimizer state from '{r.path}' ({e}). As a result, your model "
            "is starting with a freshly initialized optimizer.",
            stacklevel=3,
        )


def _build_optimizer(model, opt):
    """Create the optimizer's slots (Keras builds the train function here) without moving weights."""
    variables = list(getattr(model, "trainable_weights", None) or [])
    if hasattr(opt, "build"):
        try:
            opt.build(variables)
            return
        except (TypeError, NotImplementedError):
            pass
    saved = [np.array(getattr(v, "data", v), copy=True) for v in variables]
    opt.apply_gradients([(np.zeros_like(s), v) for s, v in zip(saved, variables)])
    for v, s in zip(variables, saved):
        v.assign(s)


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
                raise ValueError(
                    f"Refusing to load '{r.path}': its model config contains {hit}, i.e. Python code that "
                    "would run on load. This can execute arbitrary code; if you trust the file, pass "
                    "safe_mode=False to load it."
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
