"""The reference's activations against their documented formulas (spec/activations.yaml), version by version.

Each expected value is the formula of the docs written out in plain NumPy here, in float64, never a call
into the reference; the reference's function is the one a user of that version sees,
``reference.keras(v).activations.<name>`` (its signature is the spec's: ``alpha`` in 2.x,
``negative_slope`` in 3). Every activation gets two hand-made inputs with edge values: 0, negatives, the
points where a piecewise formula changes branch, and values beyond them.
"""
from __future__ import annotations

import numpy as np
import pytest

from keras_conformance import reference

VERSIONS = ("2.2.4", "2.3", "3")
KERAS2 = ("2.2.4", "2.3")
RTOL, ATOL = 1e-6, 1e-7

# SELU's constants as seed 003 names them (scale * elu(x, alpha)), digits from the keras source of every
# version (2.2.4 / 2.3.1 activations.py selu; keras 3.15 ops.selu).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Two inputs per activation: A around 0 and the usual branch points, B far out on both sides.
A = np.array([[-3.0, -2.5, -1.0, -0.25, 0.0, 0.25, 1.0, 2.5, 3.0, 6.0]])
B = np.array([[-30.0, -6.0, -2.6, -1e-3, 1e-3, 0.5, 2.6, 4.0, 7.0, 30.0],
              [-4.0, -0.5, -0.1, 0.0, 0.1, 0.2, 1.5, 3.5, 5.0, 9.0]])


def act(version, name):
    return getattr(reference.keras(version).activations, name)


def run(version, name, x, **kwargs):
    out = act(version, name)(x.astype("float32"), **kwargs)
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out, dtype="float64")


def check(version, name, x, expected, **kwargs):
    got = run(version, name, x, **kwargs)
    assert got.shape == x.shape, (name, version, got.shape)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=f"{name}{kwargs} in API {version}")


# -- the formulas, each as its docs write it ---------------------------------------------------------------
def f_elu(x, alpha=1.0):            # x for x > 0, alpha * (exp(x) - 1) otherwise
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0.0)) - 1.0))


def f_relu(x, slope=0.0, max_value=None, threshold=0.0):
    # max_value for x >= max_value; x for threshold <= x < max_value; slope * (x - threshold) otherwise
    top = np.inf if max_value is None else max_value
    return np.where(x >= top, top, np.where(x >= threshold, x, slope * (x - threshold)))


def f_softmax(x, axis=-1):          # exp(x) / sum(exp(x), axis)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


ELEMENTWISE = {
    "linear": lambda x: x,
    "exponential": np.exp,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": lambda x: (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)),
    "softplus": lambda x: np.log(np.exp(x) + 1.0),
    "softsign": lambda x: x / (np.abs(x) + 1.0),
    "elu": f_elu,
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0.0)) - 1.0)),
    "relu": lambda x: np.maximum(x, 0.0),
}
KERAS3_ELEMENTWISE = {
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "silu": lambda x: x * (1.0 / (1.0 + np.exp(-x))),
}


@pytest.mark.parametrize("x", [A, B], ids=["A", "B"])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_formula(name, version, x):
    check(version, name, x, ELEMENTWISE[name](x))


@pytest.mark.parametrize("x", [A, B], ids=["A", "B"])
@pytest.mark.parametrize("name", sorted(KERAS3_ELEMENTWISE))
def test_keras3_elementwise_formula(name, x):
    check("3", name, x, KERAS3_ELEMENTWISE[name](x))


def test_keras3_additions_are_absent_from_2x():
    for version in KERAS2:
        for name in ("relu6", "leaky_relu", "silu", "swish", "log_softmax"):
            assert not hasattr(reference.keras(version).activations, name), (name, version)


def test_swish_is_silu_in_keras3():
    np.testing.assert_allclose(run("3", "swish", B), B / (1.0 + np.exp(-B)), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("x", [A, B], ids=["A", "B"])
def test_leaky_relu_negative_slope(x):
    check("3", "leaky_relu", x, np.where(x >= 0, x, 0.05 * x), negative_slope=0.05)


@pytest.mark.parametrize("x", [A, B], ids=["A", "B"])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("alpha", [0.5, 2.0])
def test_elu_alpha(alpha, version, x):
    check(version, "elu", x, f_elu(x, alpha), alpha=alpha)


def test_selu_saturates_at_minus_scale_times_alpha():
    x = np.array([[-30.0, 0.0, 1.0]])
    expected = np.array([[-SELU_SCALE * SELU_ALPHA, 0.0, SELU_SCALE]])
    for version in VERSIONS:
        np.testing.assert_allclose(run(version, "selu", x), expected, rtol=RTOL, atol=1e-6)


def test_softplus_keeps_the_one():
    # log(exp(x) + 1): log(2) at 0 and above 0 for very negative x (log(exp(x)) would give x there)
    x = np.array([[0.0, -10.0, 10.0]])
    for version in VERSIONS:
        got = run(version, "softplus", x)
        np.testing.assert_allclose(got, [[np.log(2.0), np.log1p(np.exp(-10.0)), 10.0 + np.log1p(np.exp(-10.0))]],
                                   rtol=RTOL, atol=1e-9)
        assert got[0, 1] > 0


# -- relu with alpha / negative_slope, max_value and threshold ----------------------------------------------
# Inputs on every branch point: threshold itself, max_value itself, just below and beyond each.
RELU_CASES = [
    # slope, max_value, threshold
    (0.0, None, 0.5),
    (0.0, 4.0, 0.0),
    (0.3, None, 0.0),
    (0.3, 4.0, 0.5),
    (0.1, 6.0, 1.0),
]
R1 = np.array([[-3.0, -1.0, 0.0, 0.2, 0.5, 0.9, 1.0, 1.5, 4.0, 7.0]])
R2 = np.array([[-20.0, -0.5, 0.49, 0.51, 3.99, 4.01, 5.99, 6.0, 6.01, 100.0]])


@pytest.mark.parametrize("x", [R1, R2], ids=["R1", "R2"])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("slope,max_value,threshold", RELU_CASES)
def test_relu_slope_max_value_threshold(slope, max_value, threshold, version, x):
    slope_name = "negative_slope" if version == "3" else "alpha"
    kwargs = {slope_name: slope, "max_value": max_value, "threshold": threshold}
    check(version, "relu", x, f_relu(x, slope, max_value, threshold), **kwargs)


def test_relu_slope_keyword_by_version():
    x = np.array([[-2.0, 3.0]])
    for version in KERAS2:
        with pytest.raises(TypeError, match="negative_slope"):
            act(version, "relu")(x, negative_slope=0.1)
    with pytest.raises(TypeError, match="alpha"):
        act("3", "relu")(x, alpha=0.1)


# -- hard_sigmoid: keras 3 changed the slope ---------------------------------------------------------------
H1 = np.array([[-4.0, -3.0, -2.5, -2.0, -0.5, 0.0, 0.5, 2.0, 2.5, 3.0, 4.0]])
H2 = np.array([[-100.0, -2.9, -2.6, -2.4, -1e-3, 1e-3, 1.0, 2.4, 2.6, 2.9, 100.0]])


@pytest.mark.parametrize("x", [H1, H2], ids=["H1", "H2"])
@pytest.mark.parametrize("version", KERAS2)
def test_hard_sigmoid_2x(version, x):
    # seed 003: 0 for x < -2.5, 1 for x > 2.5, 0.2 * x + 0.5 for -2.5 <= x <= 2.5
    expected = np.where(x < -2.5, 0.0, np.where(x > 2.5, 1.0, 0.2 * x + 0.5))
    check(version, "hard_sigmoid", x, expected)


@pytest.mark.parametrize("x", [H1, H2], ids=["H1", "H2"])
def test_hard_sigmoid_3(x):
    # keras 3.15 activations.hard_sigmoid: 0 for x <= -3, 1 for x >= 3, x / 6 + 0.5 for -3 < x < 3
    expected = np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 6.0 + 0.5))
    check("3", "hard_sigmoid", x, expected)


def test_hard_sigmoid_versions_differ_where_the_slopes_do():
    x = np.array([[1.0, 2.7]])
    assert np.allclose(run("2.3", "hard_sigmoid", x), [[0.7, 1.0]])
    assert np.allclose(run("3", "hard_sigmoid", x), [[1.0 / 6.0 + 0.5, 2.7 / 6.0 + 0.5]])


# -- softmax and log_softmax along an axis -----------------------------------------------------------------
S1 = np.array([[0.0, 0.0, 0.0], [-1.0, 0.0, 1.0], [5.0, -5.0, 0.5]])
S2 = np.array([[[-2.0, 10.0], [3.0, 3.0]], [[0.0, -30.0], [1.0, 2.0]], [[4.0, 4.0], [-1.0, 0.25]]])
SOFTMAX_CASES = [(S1, -1), (S1, 0), (S1, 1), (S2, -1), (S2, 1), (S2, 0)]
SOFTMAX_IDS = ["S1-axis-1", "S1-axis0", "S1-axis1", "S2-axis-1", "S2-axis1", "S2-axis0"]


@pytest.mark.parametrize("x,axis", SOFTMAX_CASES, ids=SOFTMAX_IDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_softmax_along_axis(version, x, axis):
    check(version, "softmax", x, f_softmax(x, axis), axis=axis)


@pytest.mark.parametrize("x,axis", SOFTMAX_CASES, ids=SOFTMAX_IDS)
def test_log_softmax_along_axis(x, axis):
    # x - log(sum(exp(x), axis))
    check("3", "log_softmax", x, x - np.log(np.exp(x).sum(axis=axis, keepdims=True)), axis=axis)


@pytest.mark.parametrize("version", KERAS2)
def test_softmax_of_1d_raises_in_2x(version):
    # keras 2.2.4 / 2.3.1 activations.py: ValueError in case dim(x) == 1
    for x in (np.array([1.0, 2.0, 3.0]), np.zeros(1)):
        with pytest.raises(ValueError, match="1D"):
            act(version, "softmax")(x.astype("float32"))


def test_softmax_of_1d_normalises_in_3():
    for x in (np.array([1.0, 2.0, 3.0]), np.array([-40.0, 0.0])):
        check("3", "softmax", x, f_softmax(x))
