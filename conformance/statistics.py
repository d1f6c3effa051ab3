"""Training-mode statistics of stochastic layers (the spec's ``stochastic`` field), with explicit bounds.

Each ``kind`` states what one call with ``training=True`` must do to its input ``x``; the check computes
the statistic from the implementation's output and requires it within a bound that a correct
implementation misses with probability below ``layers.DELTA`` (Hoeffding for the fraction of dropped
units, a Gaussian tail for a mean, Laurent-Massart for a variance). The values a correct output takes
exactly (kept units scaled by 1 / (1 - rate), alpha dropout's affine map) are compared with the
``forward`` tolerance.
"""
from __future__ import annotations

import numpy as np

from . import layers as harness
from .tolerances import assert_close

# SELU's constants (keras source: activations.selu / AlphaDropout): alpha_p = -alpha * scale
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
ALPHA_P = -_SELU_ALPHA * _SELU_SCALE


def _value(expr, item, case):
    return float(harness.evaluate(str(expr), item, case))


def _fail(msg, reproducer):
    raise AssertionError(f"{msg}\nreproducer:\n{reproducer}")


def _fraction(item, case, dropped: np.ndarray, units: int, rate: float, reproducer: str) -> None:
    frac = float(np.mean(dropped))
    bound = harness.hoeffding(units)
    if abs(frac - rate) > bound:
        _fail(f"{case!r}: in training {frac:.4f} of the {units} independent units were dropped, documented "
              f"rate {rate} (bound +-{bound:.4f}: a correct implementation is outside it with probability "
              f"< {harness.DELTA:g}); {item.source}", reproducer)


def check(item, case, x: np.ndarray, out: np.ndarray, reproducer: str, device: str = "cpu") -> None:
    st = item.stochastic
    kind = st["kind"]
    if out.shape != x.shape:
        _fail(f"{case!r}: training output shape {out.shape}, input {x.shape}", reproducer)
    if kind == "dropout":
        rate = _value(st["rate"], item, case)
        shared = tuple(harness.evaluate(st["shared_axes"], item, case)) if st.get("shared_axes") else ()
        dropped = out == 0
        if shared:
            whole = dropped.all(axis=shared)
            if not np.array_equal(whole, dropped.any(axis=shared)):
                _fail(f"{case!r}: in training some units were dropped only in part along axes {shared}; "
                      f"documented: whole feature maps are dropped ({item.doc})", reproducer)
            dropped = whole
        _fraction(item, case, dropped, int(dropped.size), rate, reproducer)
        kept = out != 0
        if rate < 1:
            assert_close(out[kept], (x / (1.0 - rate))[kept].astype(x.dtype), kind="forward",
                         device=device, reproducer=reproducer,
                         what=f"{case!r}: kept units in training (input / (1 - rate))")
        return
    if kind == "additive_gaussian":
        sigma = _value(st["stddev"], item, case)
        _gaussian(item, case, (out - x).ravel(), 0.0, sigma, "out - x", reproducer, device)
        return
    if kind == "multiplicative_gaussian":
        sigma = _value(st["stddev"], item, case)
        _gaussian(item, case, (out / x).ravel(), 1.0, sigma, "out / x", reproducer, device)
        return
    if kind == "alpha_dropout":
        rate = _value(st["rate"], item, case)
        a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
        b = -a * ALPHA_P * rate
        fill = a * ALPHA_P + b
        dropped = np.isclose(out, fill, rtol=1e-5, atol=1e-6)
        _fraction(item, case, dropped, int(dropped.size), rate, reproducer)
        kept = ~dropped
        assert_close(out[kept], (a * x + b)[kept].astype(x.dtype), kind="forward", device=device,
                     reproducer=reproducer,
                     what=f"{case!r}: kept units in training (a * x + b, a = {a:.6g}, b = {b:.6g})")
        return
    raise ValueError(f"unknown stochastic kind {kind!r}")


def _gaussian(item, case, d: np.ndarray, mean: float, sigma: float, what: str, reproducer: str,
              device: str = "cpu") -> None:
    n = d.size
    if sigma == 0:
        assert_close(d, np.full_like(d, mean), kind="forward", device=device, reproducer=reproducer,
                     what=f"{case!r}: {what} in training with a zero standard deviation")
        return
    m = float(np.mean(d))
    bound = harness.gaussian_mean_bound(n, sigma)
    if abs(m - mean) > bound:
        _fail(f"{case!r}: in training the mean of {what} over {n} units is {m:.5f}, documented {mean} "
              f"(bound +-{bound:.5f}, probability < {harness.DELTA:g} for a correct implementation)", reproducer)
    ratio = float(np.mean((d - mean) ** 2)) / sigma ** 2
    lo, hi = harness.chi2_ratio_bounds(n)
    if not lo <= ratio <= hi:
        _fail(f"{case!r}: in training the variance of {what} is {ratio:.4f} x the documented {sigma:.5g}^2 "
              f"(bounds [{lo:.4f}, {hi:.4f}], probability < {harness.DELTA:g} for a correct implementation)",
              reproducer)
