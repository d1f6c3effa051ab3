"""reference.regularizers and reference.constraints against tf_keras (2.x semantics) and Keras 3.

Cross-checks skip with the import error as the reason when a library is missing.
"""
from __future__ import annotations

import numpy as np
import pytest

from keras_conformance.reference import backend, constraints, regularizers
from keras_conformance.reference.autodiff import Variable, grad


def _tf_keras():
    try:
        import tf_keras
    except Exception as exc:  # pragma: no cover - depends on the environment
        pytest.skip(f"tf_keras is not importable: {exc!r}")
    return tf_keras


def _keras3():
    try:
        import keras
    except Exception as exc:  # pragma: no cover
        pytest.skip(f"keras 3 is not importable: {exc!r}")
    if not keras.__version__.startswith("3"):
        pytest.skip(f"installed keras is {keras.__version__}, not Keras 3")
    return keras


def _w(shape=(5, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# --- regularizers ---------------------------------------------------------------------------------

V2_CASES = [("l1", {}), ("l2", {}), ("l1_l2", {}), ("L1L2", {"l1": 0.3, "l2": 0.05}),
            ("L1L2", {})]


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
@pytest.mark.parametrize("name,kwargs", V2_CASES)
def test_v2_penalty_matches_tf_keras(version, name, kwargs):
    tfk = _tf_keras()
    w = _w()
    ours = regularizers.for_version(version)[name](**kwargs)
    theirs = getattr(tfk.regularizers, name)(**kwargs)
    np.testing.assert_allclose(float(ours(w).data), float(np.asarray(theirs(w))), rtol=1e-6)


def test_v2_configs_are_float32_rounded_like_keras():
    tfk = _tf_keras()
    for version in ("2.2.4", "2.3"):
        table = regularizers.for_version(version)
        assert table["l1"]().get_config() == {"l1": np.float64(np.float32(0.01)), "l2": 0.0}
        assert table["l2"]().get_config() == {"l1": 0.0, "l2": 0.009999999776482582}
        assert table["l1_l2"]().get_config() == tfk.regularizers.l1_l2().get_config()
        assert table["L1L2"](0.3, 0.05).get_config() == tfk.regularizers.L1L2(0.3, 0.05).get_config()
        assert table["serialize"](table["l1_l2"]()) == {
            "class_name": "L1L2", "config": {"l1": 0.009999999776482582, "l2": 0.009999999776482582}}


K3_CASES = [("L1", {}), ("L2", {}), ("L1L2", {"l1": 0.3, "l2": 0.05}), ("L1L2", {}),
            ("OrthogonalRegularizer", {}), ("OrthogonalRegularizer", {"factor": 0.2,
                                                                      "mode": "columns"})]


@pytest.mark.parametrize("name,kwargs", K3_CASES)
def test_keras3_penalty_and_config(name, kwargs):
    keras = _keras3()
    w = _w()
    cls = regularizers.for_version("3")[name]
    ours = cls(**kwargs, api_version="3") if cls is regularizers.L1L2 else cls(**kwargs)
    theirs = getattr(keras.regularizers, name)(**kwargs)
    got = float(ours(w).data)
    want = float(keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(w))))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert ours.get_config() == theirs.get_config()
    assert regularizers.serialize(ours, api_version="3") == keras.regularizers.serialize(theirs)


def test_keras3_names_and_validation():
    keras = _keras3()
    for name in ("l1", "l2", "l1l2", "L1L2", "orthogonal_regularizer"):
        ours = regularizers.get(name, api_version="3")
        theirs = keras.regularizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        assert ours.get_config() == theirs.get_config()
    assert regularizers.for_version("3")["l1_l2"] is regularizers.L1L2
    assert regularizers.L1L2(api_version="3").get_config() == {"l1": 0.0, "l2": 0.0}
    for bad in (-1.0, float("nan"), "x"):
        with pytest.raises(ValueError, match="l1"):
            regularizers.L1L2(l1=bad, api_version="3")


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_l1l2_gradient_matches_finite_differences(version):
    x = np.random.default_rng(3).normal(size=(4, 3))
    x[np.abs(x) < 0.05] = 0.5           # keep away from the kink of |x|
    reg = regularizers.L1L2(l1=0.3, l2=0.7, api_version=version)
    v = Variable(x, dtype="float64")
    (g,) = grad(reg(v), [v])
    h, fd = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (float(reg(up).data) - float(reg(down).data)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    l1, l2 = float(np.float32(0.3)) if version != "3" else 0.3, \
        float(np.float32(0.7)) if version != "3" else 0.7
    np.testing.assert_allclose(g, l1 * np.sign(x) + 2 * l2 * x, rtol=1e-12)


def test_orthogonal_regularizer_is_differentiable_and_rank_checked():
    x = np.random.default_rng(4).normal(size=(3, 5))
    reg = regularizers.OrthogonalRegularizer(factor=0.5)
    v = Variable(x, dtype="float64")
    (g,) = grad(reg(v), [v])
    h, fd = 1e-6, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        fd[i] = (float(reg(up).data) - float(reg(down).data)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
    with pytest.raises(ValueError, match="rank 2"):
        reg(np.ones(3))


def test_regularizer_returns_scalar_tensor_and_get_contract():
    for version in ("2.2.4", "3"):
        reg = regularizers.get("l2", api_version=version)
        out = reg(_w())
        assert out.shape == () and out.dtype == np.float32
        assert regularizers.get(None, api_version=version) is None
        assert regularizers.get(reg, api_version=version) is reg
        fn = lambda w: w  # noqa: E731 - any callable is accepted as is
        assert regularizers.get(fn, api_version=version) is fn
        again = regularizers.get(regularizers.serialize(reg, api_version=version),
                                 api_version=version)
        assert again.get_config() == reg.get_config()
    assert float(regularizers.L1L2()(_w()).data) == 0.0


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
@pytest.mark.parametrize("identifier", ["nonexistent_reg", {"class_name": "NoSuchReg", "config": {}}])
def test_regularizer_get_unknown_names_identifier(version, identifier):
    name = identifier if isinstance(identifier, str) else identifier["class_name"]
    with pytest.raises(ValueError, match=name):
        regularizers.get(identifier, api_version=version)
    with pytest.raises(ValueError, match="42"):
        regularizers.get(42, api_version=version)


def test_version_specific_regularizer_names():
    with pytest.raises(ValueError, match="OrthogonalRegularizer"):
        regularizers.get("OrthogonalRegularizer", api_version="2.2.4")
    with pytest.raises(ValueError, match="l1_l2"):     # as keras 3.15.1's get
        regularizers.get("l1_l2", api_version="3")
    assert regularizers.get("l1_l2", api_version="2.3").get_config()["l2"] > 0


# --- constraints ----------------------------------------------------------------------------------

C_CASES = [("MaxNorm", {}), ("MaxNorm", {"max_value": 0.7, "axis": 1}), ("NonNeg", {}),
           ("UnitNorm", {}), ("UnitNorm", {"axis": [0, 1]}), ("MinMaxNorm", {}),
           ("MinMaxNorm", {"min_value": 1.5, "max_value": 2.5, "rate": 0.5, "axis": 1})]


@pytest.mark.parametrize("name,kwargs", C_CASES)
@pytest.mark.parametrize("shape", [(5, 4), (3, 3, 2, 4)])
def test_constraints_match_tf_keras_and_keras3(name, kwargs, shape):
    w = _w(shape, seed=1) * 2.0
    ours = getattr(constraints, name)(**kwargs)
    got = ours(w)
    assert isinstance(got, np.ndarray) and got.shape == w.shape and got.dtype == w.dtype
    checked = 0
    for load in (_tf_keras, _keras3):
        try:
            lib = load()
        except pytest.skip.Exception:
            continue
        theirs = getattr(lib.constraints, name)(**kwargs)
        want = np.asarray(theirs(lib.backend.constant(w) if lib.__name__ == "tf_keras"
                                 else lib.ops.convert_to_tensor(w)))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        assert ours.get_config() == theirs.get_config()
        checked += 1
    if not checked:
        pytest.skip("neither tf_keras nor keras 3 is importable")


def test_constraint_formulas_and_epsilon():
    w = np.array([[3.0, 0.1], [4.0, 0.0]])
    np.testing.assert_allclose(constraints.MaxNorm(max_value=2)(w),
                               w * np.array([2.0, 0.1]) / (1e-7 + np.array([5.0, 0.1])))
    np.testing.assert_allclose(constraints.UnitNorm()(w), w / (1e-7 + np.array([5.0, 0.1])))
    np.testing.assert_array_equal(constraints.NonNeg()(np.array([-1.0, 0.0, 2.0])), [0, 0, 2])
    old = backend.epsilon()
    try:
        backend.set_epsilon(1.0)
        np.testing.assert_allclose(constraints.UnitNorm()(w), w / (1.0 + np.array([5.0, 0.1])))
    finally:
        backend.set_epsilon(old)
    mm = constraints.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(w)
    np.testing.assert_allclose(np.linalg.norm(mm, axis=0), [3.5, 0.55], rtol=1e-6)
    v = Variable(np.array([[-1.0, 2.0]]), dtype="float64")
    np.testing.assert_array_equal(constraints.NonNeg()(v), [[0.0, 2.0]])


def test_constraint_defaults_config_and_get():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0,
                                                    "rate": 1.0, "axis": 0}
    assert constraints.NonNeg().get_config() == {}
    for version in ("2.2.4", "2.3", "3"):
        for name, cls in (("max_norm", "MaxNorm"), ("non_neg", "NonNeg"),
                          ("unit_norm", "UnitNorm"), ("min_max_norm", "MinMaxNorm"),
                          ("MaxNorm", "MaxNorm")):
            assert type(constraints.get(name, api_version=version)).__name__ == cls
        c = constraints.MaxNorm(3, axis=1)
        s = constraints.serialize(c, api_version=version)
        assert s["class_name"] == "MaxNorm" and s["config"] == {"max_value": 3, "axis": 1}
        assert constraints.get(s, api_version=version).get_config() == c.get_config()
        assert constraints.get(None, api_version=version) is None
        assert constraints.get(c, api_version=version) is c
        with pytest.raises(ValueError, match="no_such_constraint"):
            constraints.get("no_such_constraint", api_version=version)
        with pytest.raises(ValueError, match="3.5"):
            constraints.get(3.5, api_version=version)
    assert type(constraints.get("maxnorm", api_version="2.2.4")).__name__ == "MaxNorm"
    with pytest.raises(ValueError, match="maxnorm"):
        constraints.get("maxnorm", api_version="3")


def test_keras3_constraint_serialize_matches():
    keras = _keras3()
    for name in ("MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"):
        ours = constraints.serialize(getattr(constraints, name)(), api_version="3")
        assert ours == keras.constraints.serialize(getattr(keras.constraints, name)())


def test_namespace_exposes_versioned_modules():
    from keras_conformance import reference
    K2, K3 = reference.keras("2.2.4"), reference.keras("3")
    assert K2.regularizers.l1().get_config() == {"l1": 0.009999999776482582, "l2": 0.0}
    assert K3.regularizers.l1().get_config() == {"l1": 0.009999999776482582}
    assert not hasattr(K2.regularizers, "OrthogonalRegularizer")
    assert hasattr(K2.constraints, "maxnorm") and not hasattr(K3.constraints, "maxnorm")
    assert K3.regularizers.get("l2").get_config() == {"l2": 0.01}
