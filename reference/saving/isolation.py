"""Reading untrusted HDF5 bytes without letting the HDF5 C library take the interpreter down.

The requirement: loading never crashes the interpreter. h5py wraps the HDF5 C library, which does
not promise that: byte-flipped copies of valid ``.h5`` save files have ended the process with a
segmentation fault inside it. There were two ways out:

- a memory-safe reader (a pure-Python HDF5 parser such as pyfive): not installed and not an allowed
  dependency, and writing one that reads everything Keras, tf_keras and keras 3 write (B-trees v1/v2,
  fractal heaps, vlen strings, chunked storage, filters) is a project of its own;
- read the bytes once in an isolated child process first (this module). The child opens them with the
  same h5py on the same ``io.BytesIO`` driver and touches everything the reader could touch; only if
  the child survives does the caller open the *same bytes* in-process. Reading the file into memory
  once, probing those bytes, then opening ``h5py.File(io.BytesIO(data), 'r')`` leaves no gap between
  check and use.

Chosen: the child process, because it is the only option within the dependencies, and its cost is
small when the child is a persistent worker (started on first use, reused, restarted after a crash)
fed over a pipe, instead of a fresh interpreter per load. The worker is a fresh interpreter
(``python -P -c ...``), the equivalent of multiprocessing's "spawn": never ``fork`` (the parent may
hold TensorFlow / JAX threads), and unlike multiprocessing's spawn / forkserver it does not re-import
the caller's ``__main__`` (a user script that calls ``load_model`` at top level, unguarded, would run
again in the child). It imports only numpy and h5py.

What it costs (measured on the project's 2-core machine, shared, h5py 3.14 / HDF5 1.14.6; the
reference's in-process ``load_model`` of the same file, for scale):

==============================================  ===========  ============  ===============
file                                           first call   later calls   in-process load
==============================================  ===========  ============  ===============
small model (2 Dense, trained, Adam; 19.8 kB)   ~180-215 ms  ~8-9 ms       ~9-10 ms
~10 MB model (Dense 1x1600 + 1600x1600; 10 MB)  ~220 ms      ~10 ms        ~31-43 ms
==============================================  ===========  ============  ===============

The first call pays once per process for starting the worker interpreter (importing numpy and h5py);
a crash or a timeout costs one more start on the next call. Later calls cost the walk itself: h5py
spends ~0.1 ms per object operation, so the cost follows the number of objects (a few dozen in a
Keras file), not the bytes (copying 10 MB over the pipe is ~1 ms). For a small file that roughly
doubles the load time (+8 ms); for a large one it is a fraction of it.
``python -m keras_conformance.reference.saving.isolation FILE...`` re-measures.

What it does not cover: a crash that depends on in-process state the child does not share (the two
processes read the same bytes through the same library and driver, in a similar order, so this is a
residual risk, not a hole we know of). Switching it off (``KERAS_CONFORMANCE_ISOLATE_HDF5=0`` or
``set_isolation(False)``) trades that protection for the few milliseconds per load; files one wrote
oneself are safe to read that way.

``probe_hdf5(data, path)`` raises ``SaveFileError(path, ...)`` when the child dies by a signal, exits
abnormally, runs past its time limit (default 5 s plus 1 s per 50 MB), or meets a dataset whose
declared size is absurd for the bytes (more than 1000x the file's size, or more than 1 GiB and more
than the file could hold uncompressed): such a dataset is refused without being read, since reading it
is what would exhaust memory. Ordinary read errors (h5py raising OSError, a string that does not
decode) are not its business: it returns None, and the in-process reader meets the same error and
raises its own clear SaveFileError.
"""
from __future__ import annotations

import atexit
import json
import os
import struct
import subprocess
import sys
import threading
import time

__all__ = ["probe_hdf5", "set_isolation", "isolation_enabled", "ENV_VAR", "DEFAULT_TIMEOUT"]

#: ``KERAS_CONFORMANCE_ISOLATE_HDF5=0`` (or false / no / off) reads HDF5 in-process, unprobed.
ENV_VAR = "KERAS_CONFORMANCE_ISOLATE_HDF5"
#: Seconds a probe may take, plus 1 s per 50 MB of file (walking a valid Keras file takes ~10 ms: 5 s is a
#: 500-fold margin, and what a file that loops the HDF5 library costs before it is refused).
DEFAULT_TIMEOUT = 5.0
_SECONDS_PER_BYTE = 1.0 / 50e6
#: Seconds the worker may take to start (import numpy and h5py), once per worker.
_START_TIMEOUT = 120.0
#: A dataset declaring more than this many times the file's bytes is refused unread.
ABSURD_RATIO = 1000
ABSURD_BYTES = 1 << 30
#: Address-space cap of the worker, so that a corrupt size field makes HDF5's malloc fail (an
#: ordinary error) rather than wake the kernel's OOM killer on the whole machine.
_WORKER_MEMORY = 8 << 30

_override: bool | None = None
_lock = threading.Lock()
_worker: "_Worker | None" = None


def set_isolation(enabled: bool | None) -> None:
    """Force probing on (True) or off (False) for this process; None goes back to the env var."""
    global _override
    _override = None if enabled is None else bool(enabled)


def isolation_enabled() -> bool:
    if _override is not None:
        return _override
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def probe_hdf5(data: bytes, path: str, timeout: float | None = None) -> None:
    """Read ``data`` (the bytes of the HDF5 file ``path``) with h5py in the worker process first.

    Raises SaveFileError(path, ...) where reading them would crash or hang the interpreter, or where a
    dataset declares an absurd size; returns None otherwise, including where h5py merely raises (the
    caller's own reader then raises its clear error on the same bytes)."""
    if not isolation_enabled():
        return None
    _probe(data, path, timeout)
    return None


def _save_file_error():
    try:
        from .files import SaveFileError
    except ImportError:
        from .hdf5 import SaveFileError
    return SaveFileError


def _probe(data, path, timeout=None, simulate=None):
    """probe_hdf5 without the on/off switch; ``simulate`` ("segv", "abort", "exit", "hang") makes the
    worker misbehave on purpose so the tests can see each failure turn into SaveFileError."""
    data = bytes(data)
    limit = (DEFAULT_TIMEOUT if timeout is None else float(timeout)) + len(data) * _SECONDS_PER_BYTE
    with _lock:
        global _worker
        if _worker is None or not _worker.usable():
            _worker = _Worker()
        try:
            reply = _worker.request({"simulate": simulate}, data, limit)
        except _Died as died:
            _worker = None
            raise _save_file_error()(path, died.problem) from None
    if reply.get("absurd"):
        raise _save_file_error()(
            path, f"{reply['absurd']}; the file is corrupt (refusing the dataset without reading it).")
    return reply


class _Died(Exception):
    def __init__(self, problem):
        super().__init__(problem)
        self.problem = problem


class _Worker:
    """One child interpreter serving probe requests: framed JSON header + bytes in, JSON reply out."""

    def __init__(self):
        self.pid_owner = os.getpid()
        code = ("import importlib.util, sys\n"
                "s = importlib.util.spec_from_file_location('_keras_conformance_hdf5_probe', sys.argv[1])\n"
                "m = importlib.util.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); m._serve()\n")
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-c", code, os.path.abspath(__file__)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONFAULTHANDLER=""), close_fds=True)
        hello = self._exchange(None, None, _START_TIMEOUT, starting=True)
        if hello.get("ready") is not True:
            self.close()
            raise RuntimeError(f"the HDF5 probe worker could not start: {hello.get('error')}; set "
                               f"{ENV_VAR}=0 to read HDF5 files without isolation")

    def usable(self):
        return self.pid_owner == os.getpid() and self.proc.poll() is None

    def request(self, header, data, limit):
        return self._exchange(header, data, limit)

    def _exchange(self, header, data, limit, starting=False):
        box = {}

        def talk():
            try:
                if header is not None:
                    raw = json.dumps(header).encode()
                    self.proc.stdin.write(struct.pack("<QQ", len(raw), len(data)) + raw)
                    self.proc.stdin.write(data)
                    self.proc.stdin.flush()
                head = _read_exact(self.proc.stdout, 8)
                box["reply"] = json.loads(_read_exact(self.proc.stdout, struct.unpack("<Q", head)[0]))
            except (OSError, EOFError, ValueError) as e:
                box["error"] = e

        # The pipe has no timeout of its own: talk in a thread, wait for it with one.
        t = threading.Thread(target=talk, daemon=True)
        t.start()
        t.join(limit)
        if t.is_alive():
            self.close(kill=True)
            t.join(5)
            if starting:
                raise RuntimeError(f"the HDF5 probe worker did not start within {limit:.0f} s; set "
                                   f"{ENV_VAR}=0 to read HDF5 files without isolation")
            raise _Died(f"reading it with the HDF5 library did not finish within {limit:.0f} s (killed); "
                        "the file is corrupt")
        if "reply" in box:
            return box["reply"]
        code = self._exit_code()
        if starting:
            raise RuntimeError(f"the HDF5 probe worker could not start ({_describe_exit(code)}); set "
                               f"{ENV_VAR}=0 to read HDF5 files without isolation")
        raise _Died(f"the HDF5 library {_describe_exit(code)} reading it; the file is corrupt")

    def _exit_code(self):
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.close(kill=True)
            return self.proc.returncode

    def close(self, kill=False):
        if self.proc.poll() is None:
            try:
                if kill:
                    self.proc.kill()
                else:
                    self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _describe_exit(code):
    if code is not None and code < 0:
        try:
            import signal
            name = signal.Signals(-code).name
        except (ValueError, ImportError):
            name = "signal"
        return f"crashed ({name}, signal {-code})"
    return f"ended the reading process abnormally (exit status {code})"


def _read_exact(stream, n):
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the probe worker closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


@atexit.register
def _shutdown():
    global _worker
    if _worker is not None and _worker.usable():
        _worker.close()
    _worker = None


# ----------------------------------------------------------------------------------------------
# the worker side (runs in the child; imports nothing of the package)
# ----------------------------------------------------------------------------------------------

def _serve():
    # The protocol owns the original stdout; anything the C library prints goes to /dev/null.
    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    inp = sys.stdin.buffer

    def send(obj):
        raw = json.dumps(obj).encode()
        out.write(struct.pack("<Q", len(raw)) + raw)
        out.flush()

    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = _WORKER_MEMORY if hard == resource.RLIM_INFINITY else min(_WORKER_MEMORY, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):
        pass
    try:
        import io
        import h5py
        import numpy as np
    except Exception as e:  # noqa: BLE001 - reported to the parent, which names the fix
        send({"ready": False, "error": f"{type(e).__name__}: {e}"})
        return
    send({"ready": True})
    while True:
        try:
            head = _read_exact(inp, 16)
        except EOFError:
            return
        hlen, dlen = struct.unpack("<QQ", head)
        header = json.loads(_read_exact(inp, hlen))
        data = _read_exact(inp, dlen)
        simulate = header.get("simulate")
        if simulate:
            _misbehave(simulate)
        send(_walk(h5py, np, io.BytesIO(data), len(data)))


def _misbehave(how):
    import signal
    if how == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif how == "abort":
        os.abort()
    elif how == "exit":
        os._exit(3)
    elif how == "hang":
        while True:
            time.sleep(60)


def _walk(h5py, np, fileobj, size):
    """Touch everything the reader could: every group, link, attribute and dataset, reachable by hard
    links from the root, each once. Ordinary errors are counted and the walk goes on, so that what the
    reader might reach after an error of its own was probed too."""
    errors = []

    def attempt(fn, *args):
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - the reader raises its own clear error for these
            if len(errors) < 5:
                errors.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            return None

    try:
        f = h5py.File(fileobj, "r")
    except Exception as e:  # noqa: BLE001
        return {"ok": False, "errors": [f"{type(e).__name__}: {e}"]}
    absurd = None
    seen = set()
    stack = [f]
    try:
        while stack and absurd is None:
            obj = stack.pop()
            key = attempt(lambda o: hash(o.id), obj)
            if key is None or key in seen:
                continue
            seen.add(key)
            attempt(_read_attrs, np, obj, attempt)
            if isinstance(obj, h5py.Dataset):
                absurd = attempt(_read_dataset, np, obj, size)
                continue
            if not isinstance(obj, h5py.Group):
                continue
            names = attempt(lambda g: list(g.keys()), obj) or []
            for name in names:
                # what the reader asks of a link before it opens the object (H5Lget_info, the link
                # value); soft and external links it refuses, so they are never followed here
                link = attempt(lambda g, n: g.get(n, getlink=True), obj, name)
                if not isinstance(link, h5py.HardLink):
                    continue
                child = attempt(lambda g, n: g[n], obj, name)
                if child is not None:
                    stack.append(child)
    finally:
        attempt(f.close)
    return {"ok": not errors, "errors": errors, "absurd": absurd, "objects": len(seen)}


def _read_attrs(np, obj, attempt):
    attrs = obj.attrs
    for name in attempt(lambda a: list(a.keys()), attrs) or []:
        value = attempt(lambda a, n: a[n], attrs, name)
        attempt(_decode, np, value)


def _decode(np, value):
    if isinstance(value, bytes):
        value.decode("utf8")
    elif isinstance(value, np.ndarray) and value.dtype.kind in ("S", "O", "U"):
        for v in value.reshape(-1).tolist():
            if isinstance(v, bytes):
                v.decode("utf8")
    return None


def _read_dataset(np, ds, size):
    declared = int(ds.size) * int(ds.dtype.itemsize)
    ds.id.get_storage_size()
    if declared > ABSURD_RATIO * max(size, 1) or (declared > ABSURD_BYTES and declared > size):
        return f"the dataset {ds.name} declares {declared} bytes in a file of {size} bytes"
    np.asarray(ds[()])
    return None


# ----------------------------------------------------------------------------------------------
# measuring the cost: python -m keras_conformance.reference.saving.isolation
# ----------------------------------------------------------------------------------------------

def _measure(paths, repeats=20):
    rows = []
    for p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        _shutdown()
        t = time.perf_counter()
        probe_hdf5(data, p)
        first = time.perf_counter() - t
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            probe_hdf5(data, p)
            times.append(time.perf_counter() - t)
        times.sort()
        rows.append((p, len(data), first, times[len(times) // 2], times[-1]))
    return rows


if __name__ == "__main__":  # pragma: no cover - a measuring tool
    for p, n, first, median, worst in _measure(sys.argv[1:]):
        print(f"{p}: {n} bytes, first call {first * 1e3:.1f} ms, then median {median * 1e3:.2f} ms "
              f"(worst {worst * 1e3:.2f} ms)")
