"""How many threads NumPy's BLAS may use while the reference computes.

The reference mostly multiplies small matrices (a batch of 32 by a few dozen units). There, a
multithreaded BLAS spends more time waking and synchronising its threads than multiplying, and its
threads fight every other thread pool in the process: the suite runs the reference as its oracle beside
the implementation under test (TensorFlow, XLA, torch each keep their own pools), and pytest-xdist runs
one such process per core. Measured on 2 cores (the reference certified for API 3, ``-n 2``): 75.8 s
with OpenBLAS's default of one thread per core, 64.9 s with one thread.

So the reference runs BLAS on one thread unless told otherwise, and never on more threads than the
cores left to this process: ``KERAS_CONFORMANCE_BLAS_THREADS=N`` asks for N, capped at this process's
share of the CPUs it may run on (its affinity mask divided by the number of pytest-xdist workers).
threadpoolctl does the limiting; it knows every BLAS NumPy may be linked against.

Two ways in:
- ``blas_limited()``: a context manager around one computation (the reference's Model methods use it,
  so a user's script gets it without asking); re-entrant, and cheap once the BLAS is found.
- ``limit_process()``: the limit for the rest of the process (the conformance plugin and the benchmark,
  where every NumPy product of the process is the reference's or the suite's own).
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading

ENV = "KERAS_CONFORMANCE_BLAS_THREADS"


def cores_free() -> int:
    """The CPUs this process may run on, shared among the pytest-xdist workers started beside it."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not every platform has an affinity mask
        cpus = os.cpu_count() or 1
    try:
        workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    except ValueError:
        workers = 1
    return max(1, cpus // max(1, workers))


def wanted() -> int:
    """The number of BLAS threads the reference uses: 1, or ``$KERAS_CONFORMANCE_BLAS_THREADS`` capped at
    ``cores_free()``. A value that is not a positive integer is refused, naming the variable."""
    raw = os.environ.get(ENV)
    if raw is None or raw.strip() == "":
        return 1
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{ENV}={raw!r}: expected a positive integer (the number of BLAS threads the "
                         "reference may use)")
    return min(n, cores_free())


@functools.lru_cache(maxsize=None)
def _controller():
    # Finding the loaded BLAS libraries walks the process's shared objects (milliseconds); once is enough,
    # as NumPy's BLAS is loaded with NumPy, before any of this runs.
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


_local = threading.local()


@contextlib.contextmanager
def blas_limited():
    """Run the enclosed computation with ``wanted()`` BLAS threads; the previous limits come back after."""
    depth = getattr(_local, "depth", 0)
    if depth:
        _local.depth = depth + 1
        try:
            yield
        finally:
            _local.depth = depth
        return
    limiter = _controller().limit(limits=wanted(), user_api="blas")
    _local.depth = 1
    try:
        yield
    finally:
        _local.depth = 0
        limiter.restore_original_limits()


def limited(method):
    """Decorate a method so that it runs under ``blas_limited()``."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with blas_limited():
            return method(*args, **kwargs)
    return wrapper


def limit_process() -> int:
    """Limit the BLAS to ``wanted()`` threads for the rest of this process; returns that number."""
    n = wanted()
    _controller().limit(limits=n, user_api="blas")
    return n


def current() -> list[int]:
    """The thread count of each BLAS library loaded in this process (for tests and reports)."""
    return [info["num_threads"] for info in _controller().info() if info.get("user_api") == "blas"]
