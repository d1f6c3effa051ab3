"""A bounded, deterministic fuzz harness for loaders of save files, used by tests/ and by the suite.

```python
from keras_conformance.conformance import fuzzing
datas = fuzzing.mutants(open("model.h5", "rb").read(), n=60, seed=0)    # deterministic from the seed
data, recipe = fuzzing.mutation(seed_bytes, seed=0, index=7)            # one of them, and how it was made
outcomes = fuzzing.run_cases(
    "from keras_conformance import reference\\nreference.keras('2.3').models.load_model(path)",
    files, timeout=30, workers=2, markers=[marker_path])
fuzzing.tally(outcomes)      # {"loaded": 12, "refused-named": 48, ...}
```

Each load runs in a child interpreter (``python -P``, never a fork of this one), several cases per
child so the framework is imported once; one case cannot take the harness down: a child that dies (a
signal, an abnormal exit) or stalls loses only the case it was on, and the rest of its batch goes on in
a fresh child. A death after other cases ran in the same child is re-run alone to attribute it (if it
survives alone, the outcome says so: the death needed the cases before it); a stall is the stalled
case's own (each case is timed from the end of the previous one), so it is not re-run. Results stream to a file case by case, so the
cases a child finished before dying are kept.

Outcome kinds:
- ``loaded``: the load returned;
- ``refused-named``: it raised an Exception whose message names the file (its path or base name);
- ``refused-unnamed``: any other Exception (``detail``: its type and first line);
- ``crashed``: the child died by a signal, exited, or raised a BaseException that is not an
  Exception (SystemExit ...) while loading;
- ``hung``: it ran past ``timeout`` seconds.
``code_ran`` is set on a case after which one of the ``markers`` files existed (a seed file's payload,
e.g. a Lambda, that creates it when it runs); the child deletes the marker after each case so that the
next case is judged on its own. With several workers the attribution of a marker to one case is best
effort (workers share the marker path); its detection is not.

``load_code`` is one of:
- ``"package.module:function"``: ``function(path)`` is called;
- Python source defining a top-level ``load(path)``: run once per child (its module-level statements
  are the set-up, e.g. importing the framework), then ``load(path)`` per case;
- otherwise the body of a function of ``path`` (``reference.keras('2.3').models.load_model(path)``).
"""
from __future__ import annotations

import ast
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

__all__ = ["Outcome", "KINDS", "mutants", "mutation", "run_cases", "tally", "is_zip"]

KINDS = ("loaded", "refused-named", "refused-unnamed", "crashed", "hung")


@dataclass
class Outcome:
    """What loading one file did."""
    file: str
    kind: str                 # one of KINDS
    detail: str = ""          # exception type and first line, the signal, ...
    seconds: float = 0.0
    code_ran: bool = False

    def __str__(self) -> str:
        extra = " [CODE RAN]" if self.code_ran else ""
        return f"{os.path.basename(self.file)}: {self.kind}{extra} {self.detail}".rstrip()


def tally(outcomes) -> dict:
    """Counts per kind (every kind present, 0 where none) plus ``code_ran``."""
    out = {k: 0 for k in KINDS}
    for o in outcomes:
        out[o.kind] += 1
    out["code_ran"] = sum(o.code_ran for o in outcomes)
    return out


# ----------------------------------------------------------------------------------------------
# mutants
# ----------------------------------------------------------------------------------------------

def is_zip(data: bytes) -> bool:
    if data[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return bool(z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def mutants(data: bytes, n: int, seed: int) -> list[bytes]:
    """``n`` corrupted copies of ``data``, each different from it; mutant ``i`` depends only on
    (data, seed, i), so a smaller ``n`` gives a prefix of a larger one."""
    return [mutation(data, seed, i)[0] for i in range(n)]


def mutation(data: bytes, seed: int, index: int) -> tuple[bytes, str]:
    """Mutant ``index`` of ``data`` for ``seed`` and a recipe that says how it was made."""
    data = bytes(data)
    if not data:
        raise ValueError("cannot mutate an empty file")
    rng = random.Random(f"keras-conformance-fuzz/{seed}/{index}")
    if is_zip(data) and rng.random() < 0.5:
        out, recipe = _mutate_member(data, rng)
    else:
        out, recipe = _mutate_raw(data, rng)
    if out == data:              # a flip that happened to restore a byte, a run of equal bytes
        pos = rng.randrange(len(data))
        out = out[:pos] + bytes([out[pos] ^ 0xFF]) + out[pos + 1:]
        recipe += f"; then invert byte {pos}"
    return out, f"seed={seed} index={index}: {recipe}"


def write_mutants(seeds: list[str], n: int, seed: int, folder, name: str) -> tuple[list[str], dict]:
    """Write ``n`` mutants of the seed files (taken in turn) into ``folder`` as ``<name>_<i>.<ext>``, the
    seed's extension kept; returns (the files, {file: which seed and how it was mutated})."""
    datas = []
    for path in seeds:
        with open(path, "rb") as fh:
            datas.append(fh.read())
    files, recipes = [], {}
    for i in range(n):
        data, how = mutation(datas[i % len(datas)], seed, i)
        source = seeds[i % len(seeds)]
        path = os.path.join(str(folder), f"{name}_{i:04d}{os.path.splitext(source)[1]}")
        with open(path, "wb") as fh:
            fh.write(data)
        files.append(path)
        recipes[path] = f"{os.path.basename(source)} {how}"
    return files, recipes


_OPS = ("flip", "overwrite", "truncate", "zero", "mix")


def _mutate_raw(data, rng, ops=_OPS):
    op = rng.choice(ops)
    if op == "mix":
        buf, steps = data, []
        for _ in range(rng.randint(2, 4)):
            buf, step = _mutate_raw(buf, rng, ("flip", "overwrite", "zero")) if len(buf) else (buf, "")
            steps.append(step)
        if rng.random() < 0.3:
            buf, step = _mutate_raw(buf, rng, ("truncate",))
            steps.append(step)
        return buf, "mix(" + "; ".join(steps) + ")"
    buf = bytearray(data)
    n = len(buf)
    if op == "flip":
        k = rng.choice((1, 1, 2, 3, 8))
        where = [rng.randrange(n) for _ in range(k)]
        for pos in where:
            buf[pos] ^= 1 << rng.randrange(8)
        return bytes(buf), f"flip a bit at {where}"
    if op == "overwrite":
        length = min(n, rng.randint(1, 16))
        pos = rng.randrange(n - length + 1)
        buf[pos:pos + length] = bytes(rng.randrange(256) for _ in range(length))
        return bytes(buf), f"random bytes over [{pos}:{pos + length}]"
    if op == "truncate":
        cut = rng.randrange(n)
        return bytes(buf[:cut]), f"truncate to {cut} of {n} bytes"
    length = min(n, rng.choice((16, 64, 256, 512)))
    pos = rng.randrange(n - length + 1)
    buf[pos:pos + length] = bytes(length)
    return bytes(buf), f"zero [{pos}:{pos + length}]"


def _mutate_member(data, rng):
    """Mutate the bytes of one member of a zip archive and write a valid archive around them (same
    names, order and compression, correct CRCs), so the loader gets past the zip layer."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        contents = [z.read(i) for i in infos]
    k = rng.randrange(len(infos))
    if contents[k]:
        contents[k], step = _mutate_raw(contents[k], rng)
    else:
        contents[k], step = bytes([rng.randrange(256)]), "an empty member gets one random byte"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info, body in zip(infos, contents):
            fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            fresh.compress_type, fresh.external_attr = info.compress_type, info.external_attr
            z.writestr(fresh, body)
    return out.getvalue(), f"member {infos[k].filename!r}: {step}"


# ----------------------------------------------------------------------------------------------
# running cases in children
# ----------------------------------------------------------------------------------------------

def run_cases(load_code: str, files: list[str], timeout: float, workers: int = 1, *,
              markers=(), env: dict | None = None, batch_size: int | None = None,
              startup_timeout: float = 300.0) -> list[Outcome]:
    """Load each of ``files`` with ``load_code`` in child processes; one Outcome per file, in order.

    ``timeout``: seconds one load may take; ``startup_timeout``: seconds a child may take to get ready
    (the module-level set-up of ``load_code``; for a bare body, its first case gets that long too,
    since that is where it imports the framework). ``env``: variables added to the children's
    environment (e.g. KERAS_BACKEND)."""
    files = [os.path.abspath(f) for f in files]
    if not files:
        return []
    _check_load_code(load_code)
    workers = max(1, int(workers))
    size = batch_size or min(250, max(1, -(-len(files) // workers)))
    batches = [list(range(i, min(i + size, len(files)))) for i in range(0, len(files), size)]
    results: list[Outcome | None] = [None] * len(files)
    runner = _Runner(load_code, files, float(timeout), float(startup_timeout),
                     [os.path.abspath(m) for m in markers], dict(env or {}))

    def do(batch):
        for i, outcome in runner.run_batch(batch):
            results[i] = outcome

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(do, batches))
    return results  # type: ignore[return-value]


def _check_load_code(load_code):
    if _is_callable_spec(load_code):
        return
    try:
        ast.parse(load_code)
    except SyntaxError:
        try:
            ast.parse("def load(path):\n" + _indent(load_code))
        except SyntaxError as e:
            raise ValueError(f"load_code is neither 'module:function' nor valid Python: {e}") from None


def _is_callable_spec(code):
    mod, sep, fn = code.strip().partition(":")
    return bool(sep) and "\n" not in code.strip() and all(
        p.isidentifier() for p in mod.split(".") + fn.split("."))


def _indent(body):
    return "".join("    " + line + "\n" for line in body.splitlines()) or "    pass\n"


class _Runner:
    def __init__(self, load_code, files, timeout, startup_timeout, markers, env):
        self.load_code, self.files, self.timeout = load_code, files, timeout
        self.startup_timeout, self.markers, self.env = startup_timeout, markers, env
        self.lock = threading.Lock()

    def run_batch(self, batch):
        """Yield (index, Outcome) for every index of ``batch``."""
        todo = list(batch)
        while todo:
            ran = list(todo)
            done, died = self._child(ran)
            yield from done.items()
            todo = [i for i in ran if i not in done]
            if died is None:
                if not todo:
                    break
                died = ("crashed", "the child process ended before loading it")
            culprit, todo = todo[0], todo[1:]
            if not done or died[0] == "hung":
                # nothing else ran in that process before it died on this case, or this case itself
                # ran past its own time limit (timed from the previous case's end): it is the culprit
                yield culprit, self._outcome(culprit, *died)
                continue
            alone, alone_died = self._child([culprit])
            if culprit in alone:
                outcome = alone[culprit]
                kind, what = died
                # alone it did not die: the death needed the cases before it in the same process
                yield culprit, Outcome(self.files[culprit], kind,
                                       f"{what} after {len(done)} other cases in the same process; "
                                       f"alone: {outcome.kind} {outcome.detail}".rstrip(),
                                       outcome.seconds, outcome.code_ran)
            else:
                yield culprit, self._outcome(culprit, *(alone_died or died))

    def _outcome(self, i, kind, detail):
        return Outcome(self.files[i], kind, detail, 0.0, self._markers_present(clear=True))

    def _markers_present(self, clear):
        hit = False
        for m in self.markers:
            if os.path.exists(m):
                hit = True
                if clear:
                    try:
                        os.remove(m)
                    except OSError:
                        pass
        return hit

    def _child(self, indices):
        """Run ``indices`` in one child; ({index: Outcome} it reported, (kind, detail) or None)."""
        with tempfile.TemporaryDirectory(prefix="kc-fuzz-") as tmp:
            job = os.path.join(tmp, "job.json")
            results = os.path.join(tmp, "results.jsonl")
            log = os.path.join(tmp, "child.log")
            with open(job, "w") as fh:
                json.dump({"load_code": self.load_code, "files": [self.files[i] for i in indices],
                           "markers": self.markers, "results": results}, fh)
            open(results, "w").close()
            code = ("import importlib.util, sys\n"
                    "s = importlib.util.spec_from_file_location('_keras_conformance_fuzz', sys.argv[1])\n"
                    "m = importlib.util.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); m._child_main(sys.argv[2])\n")
            with open(log, "wb") as logfh:
                proc = subprocess.Popen([sys.executable, "-P", "-c", code, os.path.abspath(__file__), job],
                                        stdin=subprocess.DEVNULL, stdout=logfh, stderr=subprocess.STDOUT,
                                        cwd=tmp, env=dict(os.environ, **self.env), close_fds=True)
                died = self._watch(proc, results, len(indices))
            done = {}
            with open(results) as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break                  # a line cut by the child's death
                    rec = json.loads(line)
                    if rec.get("ready"):
                        continue
                    i = indices[rec["n"]]
                    done[i] = Outcome(self.files[i], rec["kind"], rec["detail"], rec["seconds"], rec["code_ran"])
            if died is not None and died[0] == "crashed":
                died = (died[0], died[1] + _log_hint(log))
            if died is not None and _count_lines(results) == 0:
                with open(log, "rb") as fh:
                    tail = fh.read()[-3000:].decode("utf8", "replace")
                raise RuntimeError(f"the fuzz child could not get ready ({died[1]}); its output ends:\n{tail}")
            return done, died

    def _watch(self, proc, results, count):
        """Wait for the child, killing it when one case (or the start) stalls; None when it finished
        on its own with status 0, else (kind, detail)."""
        started = last = time.monotonic()
        seen, ready = 0, False
        while True:
            rc = proc.poll()
            lines = _count_lines(results)
            if lines != seen:
                if not ready and lines >= 1:
                    ready = True
                seen, last = lines, time.monotonic()
            if rc is not None:
                if rc == 0 and seen >= count + 1:
                    return None
                return ("crashed", _describe_exit(rc))
            # the first case of a bare body imports the framework: it gets the start-up allowance too
            allowance = self.startup_timeout if not ready or (seen == 1 and not self._has_setup()) else 0.0
            if time.monotonic() - last > self.timeout + allowance:
                proc.kill()
                proc.wait()
                what = "starting the child" if not ready else "one load"
                return ("hung", f"killed after {time.monotonic() - last:.0f} s ({what}; limit {self.timeout:g} s)")
            time.sleep(0.02 if time.monotonic() - started < 2 else 0.05)

    def _has_setup(self):
        if _is_callable_spec(self.load_code):
            return True
        try:
            tree = ast.parse(self.load_code)
        except SyntaxError:
            return False
        return any(isinstance(n, ast.FunctionDef) and n.name == "load" for n in tree.body)


def _count_lines(path):
    try:
        with open(path, "rb") as fh:
            return fh.read().count(b"\n")
    except OSError:
        return 0


def _describe_exit(rc):
    if rc < 0:
        import signal
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = "signal"
        return f"died by {name} (signal {-rc})"
    return f"exited with status {rc} while loading"


def _log_hint(log):
    try:
        with open(log, "rb") as fh:
            tail = fh.read()[-4000:].decode("utf8", "replace")
    except OSError:
        return ""
    for line in tail.splitlines():
        if "Fatal Python error" in line or "Segmentation fault" in line or "Aborted" in line:
            return f": {line.strip()[:200]}"
    return ""


# ----------------------------------------------------------------------------------------------
# the child side
# ----------------------------------------------------------------------------------------------

def _child_main(job_path):
    import faulthandler
    faulthandler.enable()          # a crash leaves "Fatal Python error" in the log for the detail
    with open(job_path) as fh:
        job = json.load(fh)
    out = open(job["results"], "a", buffering=1)

    def emit(rec):
        out.write(json.dumps(rec) + "\n")
        out.flush()

    load = _make_loader(job["load_code"])
    emit({"ready": True})
    for n, path in enumerate(job["files"]):
        t = time.perf_counter()
        try:
            load(path)
            kind, detail = "loaded", ""
        except Exception as exc:  # noqa: BLE001 - classifying is the point
            msg = str(exc)
            named = path in msg or os.path.basename(path) in msg
            kind = "refused-named" if named else "refused-unnamed"
            first = msg.strip().splitlines()[0] if msg.strip() else ""
            detail = f"{type(exc).__name__}: {first}"[:300]
        except BaseException as exc:  # noqa: BLE001 - SystemExit & co. would end a user's program
            kind, detail = "crashed", f"raised {type(exc).__name__} (not an Exception): {exc}"[:300]
        seconds = time.perf_counter() - t
        ran = False
        for m in job["markers"]:
            if os.path.exists(m):
                ran = True
                try:
                    os.remove(m)
                except OSError:
                    pass
        emit({"n": n, "kind": kind, "detail": detail, "seconds": seconds, "code_ran": ran})
    out.close()
    sys.stdout.flush()
    os._exit(0)      # skip interpreter teardown: a framework's atexit hooks are not under test


def _make_loader(code):
    if _is_callable_spec(code):
        import importlib
        mod, _, fn = code.strip().partition(":")
        obj = importlib.import_module(mod)
        for part in fn.split("."):
            obj = getattr(obj, part)
        return obj
    namespace = {"__name__": "__keras_conformance_fuzz_load__"}
    try:
        tree = ast.parse(code)
        defines = any(isinstance(n, ast.FunctionDef) and n.name == "load" for n in tree.body)
    except SyntaxError:
        defines = False
    if not defines:
        code = "def load(path):\n" + _indent(code)
    exec(compile(code, "<load_code>", "exec"), namespace)  # noqa: S102 - the harness runs the caller's code
    return namespace["load"]
