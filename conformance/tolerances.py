"""Every numerical tolerance of the suite, and the one comparison that uses them.

A check never carries its own rtol/atol: it names the *kind* of comparison (``forward``, ``loss``,
``gradient``, ``trajectory``, ``roundtrip``) and the device it ran on, and :func:`assert_close` looks the
tolerance up here. The report prints :func:`table` so every run says which tolerances it used.

Pass/fail rule (NumPy's ``allclose``): ``|actual - expected| <= atol + rtol * |expected|`` elementwise,
shapes equal, NaN only where the expected value is NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"rtol={self.rtol:g}, atol={self.atol:g}"


KINDS = ("forward", "loss", "gradient", "trajectory", "roundtrip")

# (dtype, device) -> kind -> Tolerance.
#  forward     a layer / activation output on identical weights and inputs
#  loss        a loss or metric function value
#  gradient    weights after one SGD(lr=1) train_on_batch step (old - grad): a backward pass more
#  trajectory  weights after several optimizer steps (Adam's 1/sqrt(v) amplifies round-off)
#  roundtrip   predictions before save and after load (the same implementation on the same weights)
# GPU: TF32 matmuls (default for TF and JAX on Ampere and later) keep 10 mantissa bits.
_TABLE: dict[tuple[str, str], dict[str, Tolerance]] = {
    ("float32", "cpu"): {
        "forward": Tolerance(rtol=1e-5, atol=1e-6),
        "loss": Tolerance(rtol=1e-5, atol=1e-6),
        "gradient": Tolerance(rtol=1e-4, atol=1e-5),
        "trajectory": Tolerance(rtol=1e-4, atol=2e-5),
        "roundtrip": Tolerance(rtol=1e-6, atol=1e-7),
    },
    ("float32", "gpu"): {
        "forward": Tolerance(rtol=5e-3, atol=5e-3),
        "loss": Tolerance(rtol=1e-4, atol=1e-5),
        "gradient": Tolerance(rtol=1e-2, atol=1e-2),
        "trajectory": Tolerance(rtol=1e-2, atol=1e-2),
        "roundtrip": Tolerance(rtol=1e-6, atol=1e-7),
    },
    ("float64", "cpu"): {
        "forward": Tolerance(rtol=1e-10, atol=1e-12),
        "loss": Tolerance(rtol=1e-10, atol=1e-12),
        "gradient": Tolerance(rtol=1e-8, atol=1e-10),
        "trajectory": Tolerance(rtol=1e-8, atol=1e-10),
        "roundtrip": Tolerance(rtol=0.0, atol=0.0),
    },
}
_TABLE[("float64", "gpu")] = _TABLE[("float32", "gpu")]

_USED: set[tuple[str, str, str]] = set()
# the tolerances looked up since the plugin last called begin_check(): recorded per check in the report,
# so an xdist controller (whose own process compares nothing) can say which ones the workers used
_CURRENT: set[tuple[str, str, str]] = set()


def key(dtype: str, device: str, kind: str) -> str:
    return f"{dtype}/{device}/{kind}"


def begin_check() -> None:
    _CURRENT.clear()


def used_in_check() -> list[str]:
    return sorted(key(*k) for k in _CURRENT)


def tolerance(kind: str, device: str = "cpu", dtype: str = "float32") -> Tolerance:
    if kind not in KINDS:
        raise KeyError(f"unknown tolerance kind {kind!r}; one of {KINDS}")
    device = "gpu" if str(device).lower() in ("gpu", "cuda", "tpu") else "cpu"
    dtype = "float64" if str(dtype) == "float64" else "float32"
    _USED.add((dtype, device, kind))
    _CURRENT.add((dtype, device, kind))
    return _TABLE[(dtype, device)][kind]


def table(device: str | None = None, used_only: bool = False, keys=None) -> dict[str, str]:
    """``{"float32/cpu/forward": "rtol=1e-05, atol=1e-06", ...}`` for the report; ``keys`` restricts it
    to those entries (the ones the report's checks say they used)."""
    out = {}
    for (dtype, dev), kinds in _TABLE.items():
        if device is not None and dev != ("gpu" if device in ("gpu", "cuda", "tpu") else "cpu"):
            continue
        for kind, tol in kinds.items():
            if used_only and (dtype, dev, kind) not in _USED:
                continue
            if keys is not None and key(dtype, dev, kind) not in keys:
                continue
            out[key(dtype, dev, kind)] = str(tol)
    return out


def differences(actual, expected) -> tuple[float, float]:
    """(largest absolute difference, largest relative difference) of two same-shape arrays."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.size == 0:
        return 0.0, 0.0
    diff = np.abs(a - e)
    both_nan = np.isnan(a) & np.isnan(e)
    diff = np.where(both_nan, 0.0, diff)
    diff = np.where(np.isnan(diff), np.inf, diff)
    rel = diff / np.maximum(np.abs(e), np.finfo(np.float32).tiny)
    rel = np.where(diff == 0, 0.0, rel)
    return float(np.max(diff)), float(np.max(rel))


def assert_close(actual, expected, *, kind: str, device: str = "cpu", reproducer: str = "",
                 what: str = "output", dtype: str | None = None) -> None:
    """Raise AssertionError (max abs/rel difference, the tolerance, the reproducer) unless close."""
    a = np.asarray(actual)
    e = np.asarray(expected)
    dt = dtype or "float32"   # Keras computes in float32 (floatx); float64 only where a check asks
    tol = tolerance(kind, device, dt)
    tail = f"\nreproducer:\n{reproducer}" if reproducer else ""
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape}, expected {e.shape}{tail}")
    a64 = a.astype(np.float64)
    e64 = e.astype(np.float64)
    ok = np.abs(a64 - e64) <= tol.atol + tol.rtol * np.abs(e64)
    ok |= np.isnan(a64) & np.isnan(e64)
    ok |= np.isinf(e64) & (a64 == e64)
    if bool(np.all(ok)):
        return
    max_abs, max_rel = differences(a64, e64)
    bad = int(np.size(ok) - np.count_nonzero(ok))
    idx = np.unravel_index(int(np.argmin(ok.ravel() if ok.ndim else ok)), ok.shape) if ok.ndim else ()
    raise AssertionError(
        f"{what} differs from the reference: max abs diff {max_abs:.3g}, max rel diff {max_rel:.3g} "
        f"({bad} of {ok.size} elements outside {kind} tolerance {tol} for {dt}/{device}); "
        f"first at index {tuple(int(i) for i in idx)}: got {a64[idx]!r}, expected {e64[idx]!r}{tail}")
