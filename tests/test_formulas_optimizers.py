"""The reference optimizers against their documented update rules (spec/optimizers.yaml), written out here.

Each case takes two steps on a small parameter vector with fixed gradients through the public route
(``optimizer.apply_gradients([(gradient, Variable)])``, as tests/test_reference_functions.py drives them),
with the optimizer built from ``reference.keras(version).optimizers``, so the documented signature and
defaults of that version are the ones in play. The expected values are the documented formula of that
version in plain NumPy (float64), never the reference's code. Hyper-parameters are chosen so that each part
of a rule moves the result well beyond the tolerance (a large epsilon where its placement matters, a
decay that halves the second step's rate).

Run: python -m pytest tests/test_formulas_optimizers.py -q -p no:cacheprovider
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from keras_conformance import reference
from keras_conformance.reference.autodiff import Variable

P0 = np.array([0.5, -1.0, 2.0], "float32")
GRADS = [np.array([0.4, -1.5, 0.02], "float32"), np.array([-0.1, -0.3, 0.05], "float32")]
RTOL, ATOL = 2e-5, 1e-7
K_EPSILON = 1e-7  # K.epsilon() of 2.x, the default epsilon of every keras 3 optimizer


def run(version, name, **kwargs):
    """The parameter after each of the two steps, and the optimizer."""
    opt = getattr(reference.keras(version).optimizers, name)(**kwargs)
    p = Variable(P0.copy(), name="kernel")
    out = []
    for g in GRADS:
        opt.apply_gradients([(g, p)])
        out.append(p.data.copy())
    return out, opt


def check(got, expected):
    assert len(got) == len(expected) == 2
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=ATOL, err_msg=f"after step {step}")


def steps():
    """(0-based iterations before the step, 1-based t, gradient in float64)."""
    return [(i, i + 1, g.astype(np.float64)) for i, g in enumerate(GRADS)]


def decayed(lr, decay, iterations):
    # 2.x: lr / (1 + decay * iterations), iterations counted before the step
    return lr / (1.0 + decay * iterations)


# --- SGD ---------------------------------------------------------------------------------------------------
def sgd_expected(lr, momentum=0.0, nesterov=False, decay=0.0):
    p, v, out = P0.astype(np.float64), np.zeros(3), []
    for i, _, g in steps():
        lr_t = decayed(lr, decay, i)
        v = momentum * v - lr_t * g
        p = p + momentum * v - lr_t * g if nesterov else p + v
        out.append(p)
    return out


@pytest.mark.parametrize("version,lr_name", [("2.2.4", "lr"), ("2.3", "learning_rate"), ("3", "learning_rate")])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd(version, lr_name, momentum, nesterov):
    got, _ = run(version, "SGD", **{lr_name: 0.1}, momentum=momentum, nesterov=nesterov)
    check(got, sgd_expected(0.1, momentum, nesterov))


def test_sgd_first_step_by_hand():
    # one step written out: v = 0.9 * 0 - 0.1 * g; p = p0 + v
    got, _ = run("2.2.4", "SGD", lr=0.1, momentum=0.9)
    np.testing.assert_allclose(got[0], [0.5 - 0.04, -1.0 + 0.15, 2.0 - 0.002], rtol=1e-6)


@pytest.mark.parametrize("version,kwargs", [("2.2.4", {"lr": 0.1}), ("2.3", {"lr": 0.1})])
def test_sgd_2x_decay(version, kwargs):
    # 2.2.4 names decay; 2.3.1 takes it (and lr) through **kwargs
    got, _ = run(version, "SGD", **kwargs, momentum=0.5, nesterov=True, decay=1.0)
    check(got, sgd_expected(0.1, 0.5, True, decay=1.0))


def test_sgd_3_ignores_decay_with_a_warning():
    with pytest.warns(UserWarning, match="decay"):
        got, _ = run("3", "SGD", learning_rate=0.1, momentum=0.5, decay=1.0)
    check(got, sgd_expected(0.1, 0.5))


# --- RMSprop -----------------------------------------------------------------------------------------------
def rmsprop_2x_expected(lr, rho, epsilon, decay=0.0):
    p, a, out = P0.astype(np.float64), np.zeros(3), []
    for i, _, g in steps():
        a = rho * a + (1.0 - rho) * g ** 2
        p = p - decayed(lr, decay, i) * g / (np.sqrt(a) + epsilon)
        out.append(p)
    return out


def rmsprop_3_expected(lr, rho, epsilon, momentum=0.0, centered=False):
    p, v, mg, mom, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), np.zeros(3), []
    for _, _, g in steps():
        v = rho * v + (1.0 - rho) * g ** 2
        if centered:
            mg = rho * mg + (1.0 - rho) * g
            denominator = v - mg ** 2 + epsilon
        else:
            denominator = v + epsilon
        increment = lr * g / np.sqrt(denominator)
        if momentum > 0:
            mom = momentum * mom + increment
            p = p - mom
        else:
            p = p - increment
        out.append(p)
    return out


def test_rmsprop_2_2_4():
    got, _ = run("2.2.4", "RMSprop", lr=0.01, rho=0.8, epsilon=0.1, decay=1.0)
    check(got, rmsprop_2x_expected(0.01, 0.8, 0.1, decay=1.0))


def test_rmsprop_2_3_epsilon_and_decay_through_kwargs():
    got, _ = run("2.3", "RMSprop", learning_rate=0.01, rho=0.8, epsilon=0.1, decay=1.0)
    check(got, rmsprop_2x_expected(0.01, 0.8, 0.1, decay=1.0))


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_rmsprop_2x_defaults(version):
    got, _ = run(version, "RMSprop")
    check(got, rmsprop_2x_expected(0.001, 0.9, K_EPSILON))


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.5, False), (0.0, True), (0.5, True)])
def test_rmsprop_3(momentum, centered):
    got, _ = run("3", "RMSprop", learning_rate=0.01, rho=0.8, epsilon=0.1, momentum=momentum, centered=centered)
    check(got, rmsprop_3_expected(0.01, 0.8, 0.1, momentum, centered))


def test_rmsprop_3_defaults():
    got, _ = run("3", "RMSprop")
    check(got, rmsprop_3_expected(0.001, 0.9, K_EPSILON))


def test_rmsprop_epsilon_placement_differs_by_version():
    # the same arguments, the two documented rules: epsilon outside the root (2.x) and inside it (3)
    two, _ = run("2.3", "RMSprop", learning_rate=0.01, rho=0.8, epsilon=0.1)
    three, _ = run("3", "RMSprop", learning_rate=0.01, rho=0.8, epsilon=0.1)
    assert np.max(np.abs(two[1] - three[1])) > 1e-3


# --- Adagrad -----------------------------------------------------------------------------------------------
def adagrad_2x_expected(lr, epsilon, decay=0.0):
    p, a, out = P0.astype(np.float64), np.zeros(3), []
    for i, _, g in steps():
        a = a + g ** 2
        p = p - decayed(lr, decay, i) * g / (np.sqrt(a) + epsilon)
        out.append(p)
    return out


def adagrad_3_expected(lr, initial_accumulator_value, epsilon):
    p, a, out = P0.astype(np.float64), np.full(3, initial_accumulator_value), []
    for _, _, g in steps():
        a = a + g ** 2
        p = p - lr * g / np.sqrt(a + epsilon)
        out.append(p)
    return out


@pytest.mark.parametrize("version,lr_name", [("2.2.4", "lr"), ("2.3", "lr"), ("2.3", "learning_rate")])
def test_adagrad_2x(version, lr_name):
    got, _ = run(version, "Adagrad", **{lr_name: 0.1}, epsilon=0.1, decay=1.0)
    check(got, adagrad_2x_expected(0.1, 0.1, decay=1.0))


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_adagrad_2x_defaults(version):
    got, _ = run(version, "Adagrad")
    check(got, adagrad_2x_expected(0.01, K_EPSILON))


def test_adagrad_3():
    got, _ = run("3", "Adagrad", learning_rate=0.1, initial_accumulator_value=0.5, epsilon=0.1)
    check(got, adagrad_3_expected(0.1, 0.5, 0.1))


def test_adagrad_3_defaults():
    # learning_rate 0.001 and the accumulators starting at 0.1 (2.x: 0.01 and 0)
    got, _ = run("3", "Adagrad")
    check(got, adagrad_3_expected(0.001, 0.1, K_EPSILON))


# --- Adadelta ----------------------------------------------------------------------------------------------
def adadelta_expected(lr, rho, epsilon, decay=0.0):
    p, a, d, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), []
    for i, _, g in steps():
        a = rho * a + (1.0 - rho) * g ** 2
        u = g * np.sqrt(d + epsilon) / np.sqrt(a + epsilon)   # the new a, the old d
        p = p - decayed(lr, decay, i) * u
        d = rho * d + (1.0 - rho) * u ** 2
        out.append(p)
    return out


@pytest.mark.parametrize("version,kwargs", [("2.2.4", {"lr": 0.5}), ("2.3", {"learning_rate": 0.5})])
def test_adadelta_2x(version, kwargs):
    got, _ = run(version, "Adadelta", **kwargs, rho=0.7, epsilon=0.01, decay=1.0)
    check(got, adadelta_expected(0.5, 0.7, 0.01, decay=1.0))


def test_adadelta_3():
    got, _ = run("3", "Adadelta", learning_rate=0.5, rho=0.7, epsilon=0.01)
    check(got, adadelta_expected(0.5, 0.7, 0.01))


@pytest.mark.parametrize("version,lr", [("2.2.4", 1.0), ("2.3", 1.0), ("3", 0.001)])
def test_adadelta_defaults(version, lr):
    got, _ = run(version, "Adadelta")
    check(got, adadelta_expected(lr, 0.95, K_EPSILON))


# --- Adam --------------------------------------------------------------------------------------------------
def adam_expected(lr, beta_1, beta_2, epsilon, amsgrad=False, decay=0.0):
    p, m, v, vhat, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), np.zeros(3), []
    for i, t, g in steps():
        lr_t = decayed(lr, decay, i) * np.sqrt(1.0 - beta_2 ** t) / (1.0 - beta_1 ** t)
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g ** 2
        vhat = np.maximum(vhat, v)
        p = p - lr_t * m / (np.sqrt(vhat if amsgrad else v) + epsilon)
        out.append(p)
    return out


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_2_2_4(amsgrad):
    got, _ = run("2.2.4", "Adam", lr=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01, decay=1.0, amsgrad=amsgrad)
    check(got, adam_expected(0.1, 0.5, 0.8, 0.01, amsgrad, decay=1.0))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_2_3(amsgrad):
    got, _ = run("2.3", "Adam", learning_rate=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01, decay=1.0,
                 amsgrad=amsgrad)
    check(got, adam_expected(0.1, 0.5, 0.8, 0.01, amsgrad, decay=1.0))


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_3(amsgrad):
    got, _ = run("3", "Adam", learning_rate=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01, amsgrad=amsgrad)
    check(got, adam_expected(0.1, 0.5, 0.8, 0.01, amsgrad))


def test_adam_amsgrad_changes_the_second_step():
    # |g2| < sqrt(1 - beta_2) |g1| on the first two entries: v shrinks there, vhat keeps the maximum
    assert np.max(np.abs(adam_expected(0.1, 0.5, 0.8, 0.01, True)[1]
                         - adam_expected(0.1, 0.5, 0.8, 0.01, False)[1])) > 1e-3


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_adam_defaults(version):
    got, _ = run(version, "Adam")
    check(got, adam_expected(0.001, 0.9, 0.999, K_EPSILON))


# --- Adamax ------------------------------------------------------------------------------------------------
def adamax_expected(lr, beta_1, beta_2, epsilon, decay=0.0):
    p, m, u, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), []
    for i, t, g in steps():
        m = beta_1 * m + (1.0 - beta_1) * g
        u = np.maximum(beta_2 * u, np.abs(g))
        p = p - decayed(lr, decay, i) / (1.0 - beta_1 ** t) * m / (u + epsilon)
        out.append(p)
    return out


@pytest.mark.parametrize("version,kwargs", [("2.2.4", {"lr": 0.1}), ("2.3", {"learning_rate": 0.1})])
def test_adamax_2x(version, kwargs):
    got, _ = run(version, "Adamax", **kwargs, beta_1=0.5, beta_2=0.8, epsilon=0.01, decay=1.0)
    check(got, adamax_expected(0.1, 0.5, 0.8, 0.01, decay=1.0))


def test_adamax_3():
    got, _ = run("3", "Adamax", learning_rate=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01)
    check(got, adamax_expected(0.1, 0.5, 0.8, 0.01))


@pytest.mark.parametrize("version,lr", [("2.2.4", 0.002), ("2.3", 0.002), ("3", 0.001)])
def test_adamax_defaults(version, lr):
    got, _ = run(version, "Adamax")
    check(got, adamax_expected(lr, 0.9, 0.999, K_EPSILON))


# --- Nadam -------------------------------------------------------------------------------------------------
def nadam_2x_expected(lr, beta_1, beta_2, epsilon, schedule_decay):
    def mu(t):
        return beta_1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))
    p, m, v, s, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), 1.0, []
    for _, t, g in steps():
        s = s * mu(t)                   # m_schedule: the product mu_1 ... mu_t
        s_next = s * mu(t + 1)
        m = beta_1 * m + (1.0 - beta_1) * g
        v = beta_2 * v + (1.0 - beta_2) * g ** 2
        m_bar = (1.0 - mu(t)) * g / (1.0 - s) + mu(t + 1) * m / (1.0 - s_next)
        p = p - lr * m_bar / (np.sqrt(v / (1.0 - beta_2 ** t)) + epsilon)
        out.append(p)
    return out


def nadam_3_expected(lr, beta_1, beta_2, epsilon):
    def u(t):
        return beta_1 * (1.0 - 0.5 * 0.96 ** t)
    p, m, v, u_product, out = P0.astype(np.float64), np.zeros(3), np.zeros(3), 1.0, []
    for _, t, g in steps():
        u_product = u_product * u(t)
        m = m + (g - m) * (1.0 - beta_1)
        v = v + (g ** 2 - v) * (1.0 - beta_2)
        m_hat = u(t + 1) * m / (1.0 - u_product * u(t + 1)) + (1.0 - u(t)) * g / (1.0 - u_product)
        p = p - lr * m_hat / (np.sqrt(v / (1.0 - beta_2 ** t)) + epsilon)
        out.append(p)
    return out


def test_nadam_2_2_4():
    got, _ = run("2.2.4", "Nadam", lr=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01, schedule_decay=0.5)
    check(got, nadam_2x_expected(0.1, 0.5, 0.8, 0.01, 0.5))


def test_nadam_2_3_schedule_decay_through_kwargs():
    got, _ = run("2.3", "Nadam", learning_rate=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01, schedule_decay=0.5)
    check(got, nadam_2x_expected(0.1, 0.5, 0.8, 0.01, 0.5))


def test_nadam_3():
    got, _ = run("3", "Nadam", learning_rate=0.1, beta_1=0.5, beta_2=0.8, epsilon=0.01)
    check(got, nadam_3_expected(0.1, 0.5, 0.8, 0.01))


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_nadam_2x_defaults(version):
    got, _ = run(version, "Nadam")
    check(got, nadam_2x_expected(0.002, 0.9, 0.999, K_EPSILON, 0.004))


def test_nadam_3_defaults():
    got, _ = run("3", "Nadam")
    check(got, nadam_3_expected(0.001, 0.9, 0.999, K_EPSILON))


def test_nadam_schedule_differs_by_version():
    # 0.96^(t * schedule_decay) (2.x) against 0.96^t (3), on otherwise equal arguments
    assert np.max(np.abs(nadam_2x_expected(0.1, 0.5, 0.8, 0.01, 0.004)[1]
                         - nadam_3_expected(0.1, 0.5, 0.8, 0.01)[1])) > 1e-3


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_nadam_2x_has_no_decay(version):
    with pytest.raises(TypeError, match="decay"):
        run(version, "Nadam", decay=0.1)


# --- what each version's optimizer weights hold (spec notes), after steps on two parameters ---------------
WEIGHT_SHAPES = {  # (version, optimizer, arguments) -> get_weights() shapes for parameters of shape (3,), (2,)
    ("2.2.4", "SGD", ()): [(), (3,), (2,)],
    ("2.2.4", "RMSprop", ()): [(3,), (2,)],
    ("2.3", "RMSprop", ()): [(), (3,), (2,)],
    ("2.2.4", "Adagrad", ()): [(3,), (2,)],
    ("2.3", "Adagrad", ()): [(), (3,), (2,)],
    ("2.2.4", "Adadelta", ()): [(3,), (2,), (3,), (2,)],
    ("2.3", "Adadelta", ()): [(), (3,), (2,), (3,), (2,)],
    ("2.3", "Adam", ()): [(), (3,), (2,), (3,), (2,), (1,), (1,)],
    ("2.3", "Adam", (("amsgrad", True),)): [(), (3,), (2,), (3,), (2,), (3,), (2,)],
    ("2.2.4", "Adamax", ()): [(), (3,), (2,), (3,), (2,)],
    ("2.2.4", "Nadam", ()): [(), (3,), (2,), (3,), (2,)],
    ("2.3", "Nadam", ()): [(), (), (3,), (2,), (3,), (2,)],
    ("3", "SGD", ()): [(), ()],
    ("3", "SGD", (("momentum", 0.5),)): [(), (), (3,), (2,)],
    ("3", "RMSprop", (("momentum", 0.5), ("centered", True))): [(), (), (3,), (2,), (3,), (2,), (3,), (2,)],
    ("3", "Adam", ()): [(), (), (3,), (3,), (2,), (2,)],
    ("3", "Adamax", ()): [(), (), (3,), (3,), (2,), (2,)],
    ("3", "Nadam", ()): [(), (), (3,), (3,), (2,), (2,), ()],
    # keras 3.15 BaseOptimizer.build: the EMA averages, then the gradient accumulators (each per variable),
    # then the subclass's slots
    ("3", "SGD", (("gradient_accumulation_steps", 2),)): [(), (), (3,), (2,)],
    ("3", "Adam", (("use_ema", True), ("gradient_accumulation_steps", 2))):
        [(), (), (3,), (2,), (3,), (2,), (3,), (3,), (2,), (2,)],
    ("3", "Nadam", (("use_ema", True),)): [(), (), (3,), (2,), (3,), (3,), (2,), (2,), ()],
}


@pytest.mark.parametrize("key", list(WEIGHT_SHAPES), ids=[f"{v}-{n}-{dict(a)}" for v, n, a in WEIGHT_SHAPES])
def test_optimizer_weights_layout(key):
    version, name, args = key
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = getattr(reference.keras(version).optimizers, name)(**dict(args))
    a, b = Variable(np.ones(3, "float32"), name="a"), Variable(np.ones(2, "float32"), name="b")
    for _ in range(2):
        opt.apply_gradients([(np.full(3, 0.5, "float32"), a), (np.full(2, -0.5, "float32"), b)])
    weights = opt.get_weights()
    assert [np.shape(w) for w in weights] == WEIGHT_SHAPES[key]
    if np.shape(weights[0]) == ():
        assert int(weights[0]) == 2, "the weights start with iterations, 2 after two steps"
    if version == "3":
        np.testing.assert_allclose(weights[1], opt.get_config()["learning_rate"])
    if (version, name) == ("2.3", "Nadam"):
        mu = [0.9 * (1.0 - 0.5 * 0.96 ** (t * 0.004)) for t in (1, 2)]
        np.testing.assert_allclose(weights[1], mu[0] * mu[1], rtol=1e-6)   # m_schedule


# --- keras 3 base-optimizer arguments (keras 3.15 BaseOptimizer; spec/optimizers.yaml param notes) ---------
# Two parameters (shapes (3,) and (2,)) so that per-variable and global clipping differ; SGD without momentum
# (p - lr * g) and Adam (beta_1 0.5, beta_2 0.8, epsilon 0.01) as the update rules the arguments wrap.
Q0 = np.array([1.5, -0.5], "float32")
QGRADS = [np.array([2.0, -1.0], "float32"), np.array([0.5, 3.0], "float32")]
LR = 0.1
ADAM = {"beta_1": 0.5, "beta_2": 0.8, "epsilon": 0.01}


def run_pair(name, grads=None, **kwargs):
    """Both parameters after each apply_gradients (keras 3), and the optimizer."""
    extra = ADAM if name == "Adam" else {}
    opt = getattr(reference.keras("3").optimizers, name)(learning_rate=LR, **extra, **kwargs)
    p, q = Variable(P0.copy(), name="kernel"), Variable(Q0.copy(), name="bias")
    out = []
    for g, h in grads or list(zip(GRADS, QGRADS)):
        opt.apply_gradients([(g, p), (h, q)])
        out.append((p.data.copy(), q.data.copy()))
    return out, opt


def sgd_rule(params, grads, state, t):
    return [x - LR * g for x, g in zip(params, grads)]


def adam_rule(params, grads, state, t):
    """Adam (keras 3) on each parameter; ``state`` holds [m, v] per parameter, updated in place."""
    b1, b2, eps = ADAM["beta_1"], ADAM["beta_2"], ADAM["epsilon"]
    out = []
    for i, (x, g) in enumerate(zip(params, grads)):
        m, v = state.setdefault(i, [np.zeros_like(x), np.zeros_like(x)])
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        state[i] = [m, v]
        out.append(x - LR * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps))
    return out


RULES = {"SGD": sgd_rule, "Adam": adam_rule}


def f64(xs):
    return [np.asarray(x, np.float64) for x in xs]


def check_pair(got, expected):
    assert len(got) == len(expected)
    for step, (g, e) in enumerate(zip(got, expected), start=1):
        for which, (a, b) in enumerate(zip(g, e)):
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-6, err_msg=f"after apply {step}, parameter {which}")


def plain(name, grads_per_step):
    """The rule alone, on already-processed gradients."""
    params, state, out = f64([P0, Q0]), {}, []
    for t, grads in enumerate(grads_per_step, start=1):
        params = RULES[name](params, f64(grads), state, t)
        out.append(params)
    return out


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_weight_decay_is_decoupled_before_the_update(name):
    wd = 0.5
    got, _ = run_pair(name, weight_decay=wd)
    params, state, expected = f64([P0, Q0]), {}, []
    for t, grads in enumerate(zip(GRADS, QGRADS), start=1):
        params = [x - x * wd * LR for x in params]          # p = p - p * weight_decay * lr, first
        params = RULES[name](params, f64(grads), state, t)  # then the rule on the unchanged gradient
        expected.append(params)
    check_pair(got, expected)
    if name == "SGD":
        return   # without momentum, p - lr * (g + wd * p) is the same step
    # coupled (L2: g + wd * p through Adam's moments) would differ well beyond the tolerance
    coupled, state, p = [], {}, f64([P0, Q0])
    for t, grads in enumerate(zip(GRADS, QGRADS), start=1):
        p = RULES[name](p, [g + wd * x for g, x in zip(f64(grads), p)], state, t)
        coupled.append(p)
    assert np.max(np.abs(coupled[1][0] - expected[1][0])) > 1e-3


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_clipnorm_clips_each_gradient_by_its_own_norm(name):
    c = 0.5
    got, _ = run_pair(name, clipnorm=c)
    clipped = [[g * c / max(np.linalg.norm(g.astype(np.float64)), c) for g in pair] for pair in zip(GRADS, QGRADS)]
    # step 1 clips both, step 2 only the second (norm(GRADS[1]) = 0.32 < 0.5)
    assert np.linalg.norm(GRADS[1]) < c < np.linalg.norm(QGRADS[1])
    check_pair(got, plain(name, clipped))


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_global_clipnorm_scales_every_gradient_by_the_global_norm(name):
    c = 1.0
    got, _ = run_pair(name, global_clipnorm=c)
    scaled = []
    for pair in zip(GRADS, QGRADS):
        n = np.sqrt(sum(np.sum(np.square(g.astype(np.float64))) for g in pair))
        scaled.append([g * c / max(n, c) for g in pair])
    check_pair(got, plain(name, scaled))
    per_variable, _ = run_pair(name, clipnorm=c)
    assert np.max(np.abs(per_variable[0][0] - got[0][0])) > 1e-3, "global and per-variable clipping differ"


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_clipvalue_clips_elementwise(name):
    c = 0.3
    got, _ = run_pair(name, clipvalue=c)
    check_pair(got, plain(name, [[np.clip(g, -c, c) for g in pair] for pair in zip(GRADS, QGRADS)]))


@pytest.mark.parametrize("kwargs", [{"clipnorm": 1.0, "clipvalue": 0.5}, {"clipnorm": 1.0, "global_clipnorm": 1.0},
                                    {"clipvalue": 0.5, "global_clipnorm": 1.0}])
def test_3_only_one_clipping_argument(kwargs):
    with pytest.raises(ValueError, match="Only one of"):
        reference.keras("3").optimizers.SGD(**kwargs)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_loss_scale_factor_unscales_the_gradients(name):
    s = 4.0
    # apply_gradients receives the gradients of the scaled loss, s * g, and steps with g
    scaled_grads = [(g * s, h * s) for g, h in zip(GRADS, QGRADS)]
    got, opt = run_pair(name, grads=scaled_grads, loss_scale_factor=s)
    check_pair(got, plain(name, list(zip(GRADS, QGRADS))))
    assert opt.scale_loss(2.5) == 10.0, "scale_loss multiplies the loss by the factor"
    assert opt.get_config()["loss_scale_factor"] == s
    assert reference.keras("3").optimizers.SGD().scale_loss(2.5) == 2.5


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_gradient_accumulation_steps(name):
    n = 2
    grads = [(GRADS[0], QGRADS[0]), (GRADS[1], QGRADS[1]), (GRADS[1], QGRADS[0]), (GRADS[0], QGRADS[1])]
    got, opt = run_pair(name, grads=grads, gradient_accumulation_steps=n)
    mean = [[(a.astype(np.float64) + b) / n for a, b in zip(grads[0], grads[1])],
            [(a.astype(np.float64) + b) / n for a, b in zip(grads[2], grads[3])]]
    stepped = plain(name, mean)          # the rule's t counts the updates: 1, then 2
    check_pair(got, [f64([P0, Q0]), stepped[0], stepped[0], stepped[1]])
    assert opt.iterations == 2, "iterations counts the updates (applies // n)"
    weights = opt.get_weights()
    assert int(weights[0]) == 4, "the iteration weight counts the applies"
    # the accumulators (after [iteration, learning_rate]) are zero after an update
    for w in weights[2:4]:
        np.testing.assert_array_equal(w, 0.0)


def test_3_gradient_accumulator_holds_the_sum_between_updates():
    _, opt = run_pair("SGD", grads=[(GRADS[0], QGRADS[0])], gradient_accumulation_steps=3)
    np.testing.assert_allclose(opt.get_weights()[2], GRADS[0])
    np.testing.assert_allclose(opt.get_weights()[3], QGRADS[0])


@pytest.mark.parametrize("n", [1, 0.5])
def test_3_gradient_accumulation_steps_below_two(n):
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        reference.keras("3").optimizers.SGD(gradient_accumulation_steps=n)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_3_ema_without_overwrite_leaves_the_variables(name):
    m = 0.5
    got, opt = run_pair(name, use_ema=True, ema_momentum=m)
    raw = plain(name, list(zip(GRADS, QGRADS)))
    check_pair(got, raw)                     # the variables follow the rule alone
    # the averages (weights 2 and 3): the first apply starts them at the variable, then m * avg + (1 - m) * p
    average = [m * a + (1 - m) * b for a, b in zip(raw[0], raw[1])]
    weights = opt.get_weights()
    for w, e in zip(weights[2:4], average):
        np.testing.assert_allclose(w, e, rtol=RTOL, atol=1e-6)
    # finalize_variable_values (the end of fit) puts the averages into the variables
    p, q = Variable(np.zeros(3, "float32"), name="p"), Variable(np.zeros(2, "float32"), name="q")
    opt.finalize_variable_values([p, q])
    check_pair([(p.data, q.data)], [average])


@pytest.mark.parametrize("name", ["SGD", "Adam"])
@pytest.mark.parametrize("frequency", [1, 2])
def test_3_ema_overwrites_the_variables_every_frequency_applies(name, frequency):
    m = 0.5
    got, _ = run_pair(name, use_ema=True, ema_momentum=m, ema_overwrite_frequency=frequency)
    params, state, average, expected = f64([P0, Q0]), {}, None, []
    for t, grads in enumerate(zip(GRADS, QGRADS), start=1):
        params = RULES[name](params, f64(grads), state, t)
        average = list(params) if average is None else [m * a + (1 - m) * p for a, p in zip(average, params)]
        if t % frequency == 0:             # (iterations + 1) % frequency == 0: the variables take the averages
            params = list(average)
        expected.append(params)
    check_pair(got, expected)
    if frequency == 1:   # the second apply's overwrite is visible: the average is not the raw step
        raw = plain(name, list(zip(GRADS, QGRADS)))
        assert np.max(np.abs(raw[1][0] - expected[1][0])) > 1e-3


@pytest.mark.parametrize("name,default", [("SGD", "sgd"), ("Adam", "adam")])
def test_3_name(name, default):
    K = reference.keras("3")
    assert getattr(K.optimizers, name)(name="my_optimizer").get_config()["name"] == "my_optimizer"
    assert getattr(K.optimizers, name)().get_config()["name"].startswith(default)
