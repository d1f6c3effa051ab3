"""What every save file format shares: the project's file error, atomic writing, and the guarded HDF5 reader.

- `SaveFileError`: a file that cannot be read as a Keras save file; it names the file and the problem.
- `atomic_write`: a save goes to a temporary file beside the target and is renamed over it only once
  complete, so an interrupted save leaves the earlier file as it was.
- `_Reader`: opens an HDF5 file (a path, or the bytes of an archive member), refusing what is not a readable
  HDF5 file, and reads groups, datasets, attributes and name lists with errors that say what is wrong.
- attribute and JSON helpers: strings and name lists as each Keras version writes them.
"""
from __future__ import annotations

import functools
import io
import json
import os
import tempfile
import warnings

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - h5py is a hard dependency of the project
    h5py = None

#: HDF5 object headers hold at most this many bytes; longer name lists are split (as Keras does).
HDF5_OBJECT_HEADER_LIMIT = 64512
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class SaveFileError(ValueError):
    """A file that cannot be read as a Keras save file (names the file and what is wrong)."""

    def __init__(self, filepath, problem):
        self.filepath = filepath
        self.problem = problem
        super().__init__(f"Cannot load '{filepath}': {problem}")


def names_the_file(arg):
    """Decorates a loader whose argument `arg` (a position) is the file: whatever a damaged file makes the
    loader raise (h5py's RuntimeError / KeyError, a config rebuild's ValueError...) becomes a
    SaveFileError naming the file, chained to the original; an error that already names it is left
    alone. A file is untrusted input, so what it breaks is reported as the file's problem."""
    def wrap(fn):
        @functools.wraps(fn)
        def loader(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except Exception as e:
                target = args[arg] if len(args) > arg else kwargs.get("filepath")
                if h5py is not None and isinstance(target, h5py.Group):
                    target = target.file.filename
                try:
                    path = os.fspath(target)
                except TypeError:
                    raise e from None
                msg = str(e)
                if isinstance(e, SaveFileError) or path in msg or os.path.basename(path) in msg:
                    raise
                raise SaveFileError(path, f"it cannot be loaded: {type(e).__name__}: "
                                          f"{_first_line(e)[:300]}") from e
        return loader
    return wrap


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
    """Run writer(h5py.File) on a temporary file beside `filepath`, then move it into place (atomic_write)."""
    if h5py is None:  # pragma: no cover
        raise ImportError("Saving to HDF5 requires h5py (pip install h5py).")

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            writer(f)
            f.flush()
    return atomic_write(filepath, overwrite, write, make_dirs)


def atomic_write(filepath, overwrite, write, make_dirs=False):
    """Run write(temporary path) beside `filepath`, fsync it, then os.replace it into place.

    Returns False (and leaves the file untouched) when `filepath` exists and overwrite is False. An
    exception (or a kill) before the rename leaves any earlier file at `filepath` as it was."""
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(f"Cannot save to '{path}': it is a directory.")
    if not overwrite and os.path.exists(path):
        # Keras 2.x / keras 3 ask on the terminal here; the reference never prompts and behaves as a
        # user answering "no": nothing is written and the existing file is left as it was.
        warnings.warn(
            f"'{path}' already exists and overwrite=False: nothing was saved, the file is unchanged.",
            stacklevel=4,
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
        write(tmp)
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
        # read once: the bytes that are probed in isolation are the bytes that are opened (no gap between
        # check and use), and HDF5 never parses the file in this process before the probe has
        with open(path, "rb") as fh:
            data = fh.read()
        if not data:
            raise SaveFileError(path, "the file is empty (0 bytes).")
        if _HDF5_SIGNATURE not in data[:1032]:    # at 0, or after a user block of 512 / 1024 bytes
            raise SaveFileError(path, "it is not an HDF5 file " + _describe(data[:1032]) + ".")
        self._open(data, path, "the HDF5 file")

    def _open(self, data, path, what):
        from .isolation import probe_hdf5
        probe_hdf5(data, path)
        try:
            self.f = h5py.File(io.BytesIO(data), "r")
        except (OSError, ValueError, RuntimeError) as e:
            raise SaveFileError(path, f"{what} is truncated or corrupt (h5py: {_first_line(e)}).") from None

    @classmethod
    def from_bytes(cls, data, path, what):
        """A reader of HDF5 bytes held in memory (an archive member); `path` names it in errors
        ("m.keras/model.weights.h5") and `what` says what the bytes should be."""
        if not data:
            raise SaveFileError(path, f"{what} is empty (0 bytes).")
        if data[:8] != _HDF5_SIGNATURE:
            raise SaveFileError(path, f"{what} is not an HDF5 file " + _describe(data[:1032]) + ".")
        self = cls.__new__(cls)
        self.path, self.owned = path, True
        self._open(data, path, what)
        return self

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
