"""The reference's activations, losses, metrics, optimizers and initializers, checked against real
Keras (Keras 3 for version-3 semantics, tf_keras / its legacy optimizers for 2.x semantics where
they coincide) on seeded random inputs, plus hand-derived expectations where versions differ.

Run: python3 -m pytest tests/test_reference_functions.py -q
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_conformance.reference import activations, backend, initializers, losses, metrics, optimizers  # noqa: E402
from keras_conformance.reference.autodiff import Variable, as_tensor, grad, ops  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6


@pytest.fixture(scope="module")
def keras3():
    try:
        import keras
    except Exception as exc:  # pragma: no cover - environment dependent
        pytest.skip(f"keras 3 is not importable: {exc}")
    if not keras.__version__.startswith("3"):
        pytest.skip(f"keras {keras.__version__} is not Keras 3")
    return keras


@pytest.fixture(scope="module")
def tf_keras():
    try:
        import tf_keras
    except Exception as exc:  # pragma: no cover
        pytest.skip(f"tf_keras is not importable: {exc}")
    return tf_keras


def to_np(x):
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def rng(seed=0):
    return np.random.default_rng(seed)


# --- activations ---------------------------------------------------------------------------

ACTIVATION_CASES = [
    ("linear", {}), ("relu", {}), ("sigmoid", {}), ("tanh", {}), ("softmax", {}),
    ("softplus", {}), ("softsign", {}), ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}),
    ("exponential", {}), ("hard_sigmoid", {}), ("relu6", {}), ("silu", {}), ("log_softmax", {}),
    ("leaky_relu", {"negative_slope": 0.1}),
    ("relu", {"max_value": 1.0}), ("relu", {"threshold": 0.5}),
]


@pytest.mark.parametrize("name,kwargs", ACTIVATION_CASES,
                         ids=[f"{n}-{k}" for n, k in ACTIVATION_CASES])
def test_activation_matches_keras3(keras3, name, kwargs):
    x = rng(1).normal(scale=3.0, size=(4, 7)).astype("float32")
    ours = activations.for_version("3")[name](x, **kwargs)
    theirs = getattr(keras3.activations, name)(x, **kwargs)
    np.testing.assert_allclose(ours.data, to_np(theirs), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softmax", "softplus", "softsign",
                                  "elu", "selu", "exponential", "hard_sigmoid", "linear"])
def test_activation_matches_tf_keras_2x(tf_keras, name):
    x = rng(2).normal(scale=3.0, size=(4, 7)).astype("float32")
    ours = activations.for_version("2.3")[name](x)
    import tensorflow as tf
    theirs = getattr(tf_keras.activations, name)(tf.constant(x))
    np.testing.assert_allclose(ours.data, to_np(theirs), rtol=RTOL, atol=ATOL)


def test_relu_alpha_max_value_threshold_follow_the_seed_formula():
    # Seed 003: f = max_value for x >= max_value; x for threshold <= x < max_value;
    # alpha * (x - threshold) otherwise.
    x = np.array([-3.0, -1.0, 0.2, 0.9, 1.5, 4.0, 7.0], dtype="float32")
    alpha, max_value, threshold = 0.3, 4.0, 0.5
    expected = np.where(x >= max_value, max_value,
                        np.where(x >= threshold, x, alpha * (x - threshold)))
    out = activations.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)


def test_hard_sigmoid_is_version_aware():
    x = np.linspace(-4, 4, 33).astype("float32")
    v2 = activations.for_version("2.2.4")["hard_sigmoid"](x).data
    v3 = activations.for_version("3")["hard_sigmoid"](x).data
    np.testing.assert_allclose(v2, np.clip(0.2 * x + 0.5, 0, 1), rtol=1e-6)
    np.testing.assert_allclose(v3, np.clip(x / 6 + 0.5, 0, 1), rtol=1e-6)


def test_softmax_1d_raises_in_2x_only():
    with pytest.raises(ValueError, match="1D"):
        activations.for_version("2.2.4")["softmax"](np.ones(3, "float32"))
    out = activations.for_version("3")["softmax"](np.ones(4, "float32"))
    np.testing.assert_allclose(out.data, np.full(4, 0.25), rtol=1e-6)


def test_activation_gradients_flow():
    # d/dx sum(elu(x)) = 1 for x > 0, exp(x) for x < 0 (alpha = 1); no NaN from a large x.
    x = Variable(np.array([-2.0, -0.5, 0.5, 100.0]), name="x")
    (g,) = grad(ops.sum(activations.elu(x)), [x])
    np.testing.assert_allclose(g, np.where(x.data > 0, 1.0, np.exp(np.minimum(x.data, 0))))


def test_activation_get_and_serialize():
    assert activations.get(None)(np.ones(2)).data.tolist() == [1.0, 1.0]
    assert activations.get("relu").__name__ == "relu"
    assert activations.serialize(activations.get("tanh")) == "tanh"
    fn = lambda x: x  # noqa: E731
    assert activations.get(fn) is fn
    with pytest.raises(ValueError, match="not_an_activation"):
        activations.get("not_an_activation")
    with pytest.raises(ValueError, match="relu6"):  # relu6 is a Keras 3 name only
        activations.get("relu6", api_version="2.2.4")


# --- losses --------------------------------------------------------------------------------

def _loss_inputs(name, seed=3):
    r = rng(seed)
    shape = (6, 5)
    if name in ("categorical_crossentropy", "kullback_leibler_divergence", "categorical_hinge"):
        y_true = np.eye(5, dtype="float32")[r.integers(0, 5, 6)]
        y_pred = r.uniform(0.05, 1.0, shape).astype("float32")
        y_pred /= y_pred.sum(-1, keepdims=True)
        if name == "kullback_leibler_divergence":
            y_true = r.uniform(0.05, 1.0, shape).astype("float32")
            y_true /= y_true.sum(-1, keepdims=True)
    elif name == "sparse_categorical_crossentropy":
        y_true = r.integers(0, 5, (6,))
        y_pred = r.uniform(0.05, 1.0, shape).astype("float32")
        y_pred /= y_pred.sum(-1, keepdims=True)
    elif name == "binary_crossentropy":
        y_true = r.integers(0, 2, shape).astype("float32")
        y_pred = r.uniform(0.01, 0.99, shape).astype("float32")
    elif name in ("hinge", "squared_hinge"):
        y_true = r.choice([-1.0, 1.0], shape).astype("float32")
        y_pred = r.normal(size=shape).astype("float32")
    elif name in ("mean_squared_logarithmic_error", "poisson"):
        y_true = r.uniform(0.0, 3.0, shape).astype("float32")
        y_pred = r.uniform(0.1, 3.0, shape).astype("float32")
    else:
        y_true = r.normal(size=shape).astype("float32")
        y_pred = r.normal(size=shape).astype("float32")
    return y_true, y_pred


LOSS_NAMES = ["mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
              "mean_squared_logarithmic_error", "squared_hinge", "hinge", "categorical_hinge",
              "categorical_crossentropy", "sparse_categorical_crossentropy",
              "binary_crossentropy", "kullback_leibler_divergence", "poisson"]


@pytest.mark.parametrize("name", LOSS_NAMES + ["logcosh", "cosine_proximity"])
def test_loss_matches_tf_keras(tf_keras, name):
    y_true, y_pred = _loss_inputs(name)
    ours = losses.for_version("2.3" if name != "cosine_proximity" else "2.2.4")[name](y_true, y_pred)
    their_name = {"cosine_proximity": "cosine_similarity", "logcosh": "log_cosh"}.get(name, name)
    import tensorflow as tf
    theirs = getattr(tf_keras.losses, their_name)(tf.constant(y_true), tf.constant(y_pred))
    assert ours.shape == (6,)
    np.testing.assert_allclose(ours.data, to_np(theirs), rtol=1e-5, atol=1e-5)


K3_LOSS_NAMES = [{"logcosh": "log_cosh", "kullback_leibler_divergence": "kl_divergence"}.get(n, n)
                 for n in LOSS_NAMES + ["logcosh"]] + ["cosine_similarity", "huber"]


@pytest.mark.parametrize("name", K3_LOSS_NAMES)
def test_loss_matches_keras3(keras3, name):
    y_true, y_pred = _loss_inputs({"kl_divergence": "kullback_leibler_divergence"}.get(name, name),
                                  seed=4)
    ours = losses.for_version("3")[name](y_true, y_pred)
    ours_again = losses.get(name, api_version="3")(y_true, y_pred)
    theirs = keras3.losses.get(name)(y_true, y_pred)
    np.testing.assert_allclose(ours_again.data, ours.data)
    np.testing.assert_allclose(ours.data, to_np(theirs), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs", [{"from_logits": True}, {"label_smoothing": 0.2},
                                    {"from_logits": True, "label_smoothing": 0.1}])
def test_crossentropy_options_match_keras3(keras3, kwargs):
    y_true, _ = _loss_inputs("categorical_crossentropy", seed=5)
    logits = rng(5).normal(size=y_true.shape).astype("float32")
    y_pred = logits if kwargs.get("from_logits") else np.asarray(
        activations.softmax(logits).data)
    for name in ("categorical_crossentropy", "binary_crossentropy"):
        ours = getattr(losses, name)(y_true, y_pred, **kwargs)
        theirs = getattr(keras3.losses, name)(y_true, y_pred, **kwargs)
        np.testing.assert_allclose(ours.data, to_np(theirs), rtol=1e-5, atol=1e-5)
    if "label_smoothing" not in kwargs:
        labels = np.argmax(y_true, -1)
        ours = losses.sparse_categorical_crossentropy(labels, y_pred, **kwargs)
        theirs = keras3.losses.sparse_categorical_crossentropy(labels, y_pred, **kwargs)
        np.testing.assert_allclose(ours.data, to_np(theirs), rtol=1e-5, atol=1e-5)


def test_hinge_label_conversion_by_version():
    y_true = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]], dtype="float32")
    y_pred = rng(6).normal(size=(2, 3)).astype("float32")
    raw = np.mean(np.maximum(1 - y_true * y_pred, 0), -1)                 # 2.2.4: as given
    converted = np.mean(np.maximum(1 - (2 * y_true - 1) * y_pred, 0), -1)  # 2.3, 3: {0,1}->{-1,1}
    np.testing.assert_allclose(losses.for_version("2.2.4")["hinge"](y_true, y_pred).data, raw,
                               rtol=1e-6)
    for v in ("2.3", "3"):
        np.testing.assert_allclose(losses.for_version(v)["hinge"](y_true, y_pred).data, converted,
                                   rtol=1e-6)


def test_loss_gradient_flows_through_crossentropy():
    # d/dz CE(y, softmax(z)) = softmax(z) - y for one-hot y (away from the clipping bounds).
    y = np.eye(4)[[1, 3]]
    z = Variable(rng(7).normal(size=(2, 4)), name="z")
    (g,) = grad(ops.sum(losses.categorical_crossentropy(y, activations.softmax(z))), [z])
    p = np.exp(z.data) / np.exp(z.data).sum(-1, keepdims=True)
    np.testing.assert_allclose(g, p - y, rtol=1e-5, atol=1e-7)


def test_loss_get():
    assert losses.get("mse") is not None and losses.get("mse").__name__ == "mean_squared_error"
    assert losses.get(None) is None
    with pytest.raises(ValueError, match="no_such_loss"):
        losses.get("no_such_loss")
    with pytest.raises(ValueError, match="cosine_proximity"):  # renamed in Keras 3
        losses.get("cosine_proximity", api_version="3")


def test_reduce_weighted_by_version(keras3):
    per_sample = np.array([1.0, 2.0, 3.0, 4.0], dtype="float32")
    w = np.array([1.0, 0.0, 2.0, 0.5], dtype="float32")
    # 2.2.4: sum(w * l) / count(w != 0).
    got = losses.reduce_weighted(as_tensor(per_sample), w, api_version="2.2.4")
    np.testing.assert_allclose(got.data, np.sum(w * per_sample) / 3, rtol=1e-6)
    # 2.3 and 3: sum(w * l) / batch size; Keras 3's own reduction agrees.
    for v in ("2.3", "3"):
        got = losses.reduce_weighted(as_tensor(per_sample), w, api_version=v)
        np.testing.assert_allclose(got.data, np.sum(w * per_sample) / 4, rtol=1e-6)
    from keras.src.losses.loss import reduce_weighted_values
    theirs = reduce_weighted_values(per_sample, sample_weight=w, reduction="sum_over_batch_size")
    np.testing.assert_allclose(losses.reduce_weighted(as_tensor(per_sample), w,
                                                      api_version="3").data, to_np(theirs),
                               rtol=1e-6)
    # A mask: 2.2.4 and 3 average over the unmasked entries; 2.3 over all of them.
    mask = np.array([1, 1, 0, 1], dtype="float32")
    np.testing.assert_allclose(losses.reduce_weighted(as_tensor(per_sample), mask=mask,
                                                      api_version="2.2.4").data, 7 / 3, rtol=1e-6)
    np.testing.assert_allclose(losses.reduce_weighted(as_tensor(per_sample), mask=mask,
                                                      api_version="3").data, 7 / 3, rtol=1e-6)
    np.testing.assert_allclose(losses.reduce_weighted(as_tensor(per_sample), mask=mask,
                                                      api_version="2.3").data, 7 / 4, rtol=1e-6)


# --- metrics -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["binary_accuracy", "categorical_accuracy",
                                  "sparse_categorical_accuracy", "top_k_categorical_accuracy",
                                  "sparse_top_k_categorical_accuracy"])
def test_metric_matches_keras3(keras3, name):
    r = rng(8)
    y_pred = r.uniform(size=(20, 7)).astype("float32")
    if name == "binary_accuracy":
        y_true = r.integers(0, 2, (20, 7)).astype("float32")
    elif name.startswith("sparse"):
        y_true = r.integers(0, 7, (20, 1))
    else:
        y_true = np.eye(7, dtype="float32")[r.integers(0, 7, 20)]
    kwargs = {"k": 3} if "top_k" in name else {}
    ours = metrics.for_version("3")[name](y_true, y_pred, **kwargs)
    theirs = getattr(keras3.metrics, name)(y_true, y_pred, **kwargs)
    np.testing.assert_allclose(ours.data, to_np(theirs), rtol=1e-6)


def test_resolve_accuracy_rules():
    bce, scce, cce = (losses.get(n) for n in ("binary_crossentropy",
                                              "sparse_categorical_crossentropy",
                                              "categorical_crossentropy"))
    r = metrics.resolve_accuracy
    assert r(cce, (None, 1)).__name__ == "binary_accuracy"
    assert r(bce, (None, 5)).__name__ == "binary_accuracy"
    assert r(scce, (None, 5)).__name__ == "sparse_categorical_accuracy"
    assert r(cce, (None, 5)).__name__ == "categorical_accuracy"
    # Keras 3 looks at shapes only.
    assert r(bce, (None, 5), (None, 5), api_version="3").__name__ == "categorical_accuracy"
    assert r(cce, (None, 5), (None, 1), api_version="3").__name__ == \
        "sparse_categorical_accuracy"
    assert r(None, (None, 1), api_version="3").__name__ == "binary_accuracy"


def test_mean_accumulates_like_keras3(keras3):
    ours, theirs = metrics.Mean(), keras3.metrics.Mean()
    batches = [rng(9).normal(size=n).astype("float32") for n in (4, 7, 1)]
    for b in batches:
        ours.update_state(b)
        theirs.update_state(b)
    np.testing.assert_allclose(ours.result(), to_np(theirs.result()), rtol=1e-6)
    # The 2.x epoch log: per-batch means weighted by batch size is the same number.
    epoch = metrics.Mean()
    for b in batches:
        epoch.update_state(b.mean(), sample_weight=len(b))
    np.testing.assert_allclose(epoch.result(), np.concatenate(batches).mean(), rtol=1e-6)
    ours.reset_state()
    assert float(ours.result()) == 0.0


def test_metric_get_errors():
    with pytest.raises(ValueError, match="nope_metric"):
        metrics.get("nope_metric")
    assert metrics.get("mae").__name__ == "mean_absolute_error"


# --- optimizers ----------------------------------------------------------------------------

def _fixed_grads(shape=(3, 2), steps=5, seed=10):
    r = rng(seed)
    return r.normal(size=shape).astype("float32"), [
        r.normal(size=shape).astype("float32") for _ in range(steps)]


def _run_ours(opt, init, grads):
    v = Variable(init.copy(), name="kernel")
    for g in grads:
        opt.apply_gradients([(g, v)])
    return v.data, opt


def _run_keras3(keras, opt, init, grads):
    v = keras.Variable(init.copy())
    for g in grads:
        opt.apply_gradients([(g, v)])
    return to_np(v), opt


KERAS3_OPTIMIZERS = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.3, "weight_decay": 0.1}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "beta_1": 0.5, "epsilon": 1e-3}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
]


@pytest.mark.parametrize("cls,kwargs", KERAS3_OPTIMIZERS,
                         ids=[f"{c}-{k}" for c, k in KERAS3_OPTIMIZERS])
def test_optimizer_trajectory_matches_keras3(keras3, cls, kwargs):
    init, grads = _fixed_grads()
    ours, opt = _run_ours(getattr(optimizers, cls)(**kwargs, api_version="3"), init, grads)
    theirs, kopt = _run_keras3(keras3, getattr(keras3.optimizers, cls)(**kwargs), init, grads)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    assert opt.iterations == int(to_np(kopt.iterations)) == len(grads)
    # The state matches too, in Keras 3 order and shapes.
    their_state = [to_np(w) for w in kopt.variables]
    our_state = opt.get_weights()
    assert [w.shape for w in our_state] == [w.shape for w in their_state]
    for a, b in zip(our_state[2:], their_state[2:]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


LEGACY_OPTIMIZERS = [  # 2.x update rules, as tf_keras' legacy optimizers still implement them
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True, "decay": 0.1}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True, "decay": 0.05}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0}),
]


@pytest.mark.parametrize("cls,kwargs", LEGACY_OPTIMIZERS,
                         ids=[f"{c}-{k}" for c, k in LEGACY_OPTIMIZERS])
def test_optimizer_trajectory_matches_2x_rules(tf_keras, cls, kwargs):
    import tensorflow as tf
    init, grads = _fixed_grads(seed=11)
    ours_kwargs = {k: v for k, v in kwargs.items() if k != "initial_accumulator_value"}
    ours, opt = _run_ours(getattr(optimizers, cls)(**ours_kwargs, api_version="2.2.4"),
                          init, grads)
    legacy = getattr(tf_keras.optimizers.legacy, cls)(**kwargs, epsilon=1e-7) \
        if cls != "SGD" else tf_keras.optimizers.legacy.SGD(**kwargs)
    v = tf.Variable(init.copy())
    for g in grads:
        legacy.apply_gradients([(tf.constant(g), v)])
    tol = 1e-4 if cls == "Adagrad" else 1e-5  # TF's Adagrad kernel adds eps inside differently
    np.testing.assert_allclose(ours, v.numpy(), rtol=tol, atol=1e-6)


def test_sgd_momentum_by_hand():
    # Two steps, derived from the 2.2.4 rule v = m v - lr g; p += v (nesterov: p += m v - lr g).
    g1, g2 = np.array([1.0, -2.0], "float32"), np.array([0.5, 0.5], "float32")
    lr, m = 0.1, 0.9
    for nesterov in (False, True):
        p = np.array([1.0, 1.0], "float32")
        v = np.zeros(2)
        for g in (g1, g2):
            v = m * v - lr * g
            p = p + (m * v - lr * g if nesterov else v)
        ours, _ = _run_ours(optimizers.SGD(lr=lr, momentum=m, nesterov=nesterov),
                            np.ones(2, "float32"), [g1, g2])
        np.testing.assert_allclose(ours, p, rtol=1e-6)


def test_2x_clipnorm_uses_the_global_norm():
    # 2.2.4 get_gradients: n = sqrt(sum of all squared gradients); each g -> g * c / n if n >= c.
    a, b = Variable(np.zeros(2, "float32"), name="a"), Variable(np.zeros(1, "float32"), name="b")
    ga, gb = np.array([3.0, 0.0], "float32"), np.array([4.0], "float32")  # global norm 5
    optimizers.SGD(lr=1.0, clipnorm=1.0).apply_gradients([(ga, a), (gb, b)])
    np.testing.assert_allclose(a.data, -ga / 5, rtol=1e-6)
    np.testing.assert_allclose(b.data, -gb / 5, rtol=1e-6)


def test_optimizer_weights_order_and_set_weights_before_first_step():
    init, grads = _fixed_grads(seed=12)
    a = optimizers.Adam(lr=0.01)
    _run_ours(a, init, grads[:3])
    saved = a.get_weights()
    # 2.x order: [iterations, m, v, vhat(1,)] for one variable.
    assert [w.shape for w in saved] == [(), init.shape, init.shape, (1,)]
    assert int(saved[0]) == 3
    # A fresh optimizer given the saved state before its first step continues identically.
    resumed = optimizers.Adam(lr=0.01)
    resumed.set_weights(saved)
    v_resumed = Variable(_run_ours(optimizers.Adam(lr=0.01), init, grads[:3])[0], name="kernel")
    for g in grads[3:]:
        resumed.apply_gradients([(g, v_resumed)])
    straight, _ = _run_ours(optimizers.Adam(lr=0.01), init, grads)
    np.testing.assert_allclose(v_resumed.data, straight, rtol=1e-6)
    assert resumed.iterations == len(grads)
    bad = optimizers.Adam(lr=0.01)
    bad.set_weights(saved[:2])
    with pytest.raises(ValueError, match="Length of the specified weight list"):
        bad.apply_gradients([(grads[0], Variable(init.copy(), name="k"))])


def test_2_2_4_rmsprop_has_no_iterations_weight_and_2_3_accepts_old_lists():
    v = Variable(np.zeros(3, "float32"), name="w")
    old = optimizers.RMSprop(api_version="2.2.4")
    old.apply_gradients([(np.ones(3, "float32"), v)])
    assert [w.shape for w in old.get_weights()] == [(3,)]
    new = optimizers.RMSprop(api_version="2.3")
    new.apply_gradients([(np.ones(3, "float32"), Variable(np.zeros(3, "float32"), name="w"))])
    new.set_weights(old.get_weights())  # one shorter: iterations is prepended as 0
    assert new.iterations == 0


def test_optimizer_config_keys_by_version(keras3):
    c224 = optimizers.SGD(lr=0.1, momentum=0.9, api_version="2.2.4").get_config()
    assert set(c224) == {"lr", "momentum", "decay", "nesterov"}
    c23 = optimizers.SGD(learning_rate=0.1, api_version="2.3").get_config()
    assert set(c23) == {"learning_rate", "momentum", "decay", "nesterov"}
    for cls in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam"):
        ours = getattr(optimizers, cls)(api_version="3").get_config()
        theirs = getattr(keras3.optimizers, cls)().get_config()
        theirs["name"] = ours["name"]  # Keras 3 numbers repeated names (sgd_1); we do not
        assert ours == theirs, cls
    again = optimizers.SGD.from_config(c224)
    assert again.api_version == "2.2.4" and again.get_config() == c224


def test_optimizer_validation_and_get():
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.SGD(learning_rate=-1.0)
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Adam(beta_1=1.5)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=2.0, api_version="3")
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0, api_version="3")
    with pytest.raises(TypeError, match="bogus"):
        optimizers.SGD(bogus=1)
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert optimizers.get("Adadelta", api_version="2.2.4").learning_rate == 1.0
    assert optimizers.get("adadelta", api_version="3").learning_rate == 0.001
    with pytest.raises(ValueError, match="no_such_optimizer") as info:
        optimizers.get("no_such_optimizer")
    assert "sgd" in str(info.value)


# --- initializers --------------------------------------------------------------------------

def test_glorot_uniform_bounds_and_variance():
    fan_in, fan_out = 400, 300
    backend.set_seed(123)
    w = initializers.get("glorot_uniform")((fan_in, fan_out), dtype="float64")
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    assert np.all(np.abs(w) <= limit)
    n = w.size
    # Hoeffding: for i.i.d. samples in an interval of width R, P(|mean - E| >= t) <= 2 exp(-2 n t^2
    # / R^2).  Solve 2 exp(-2 n t^2 / R^2) = 1e-9 -> t = R sqrt(ln(2e9) / (2 n)).
    #  - w in [-limit, limit] (R = 2 limit), E[w] = 0;
    #  - w^2 in [0, limit^2] (R = limit^2), E[w^2] = limit^2 / 3 (the variance of U(-L, L)).
    # A correct implementation fails either check with probability < 2e-9; with n = 120000 the
    # variance band is +-2.8% of limit^2/3, so a wrong scale (e.g. sqrt(3/(fan_in+fan_out)),
    # half the variance) cannot pass.
    c = math.sqrt(math.log(2e9) / (2 * n))
    assert abs(w.mean()) <= 2 * limit * c
    assert abs(np.mean(w ** 2) - limit ** 2 / 3) <= limit ** 2 * c
    assert initializers.GlorotUniform().get_config() == {"seed": None}


def test_initializers_basic():
    assert np.all(initializers.get("zeros")((2, 3)) == 0)
    assert np.all(initializers.get("ones")((2, 3)) == 1)
    assert initializers.Zeros()((2,)).dtype == np.float32
    a = initializers.RandomNormal(seed=5)((4, 4))
    np.testing.assert_array_equal(a, initializers.RandomNormal(seed=5)((4, 4)))
    q = initializers.Orthogonal()((5, 3), dtype="float64")
    np.testing.assert_allclose(q.T @ q, np.eye(3), atol=1e-10)
    assert np.all(np.abs(initializers.TruncatedNormal(stddev=1.0)((1000,))) <= 2.0)
    with pytest.raises(ValueError, match="glorot_unifrom"):
        initializers.get("glorot_unifrom")
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sideways")


def test_backend_rng_is_seeded():
    backend.set_seed(7)
    a = backend.rng().normal(size=3)
    backend.set_seed(7)
    np.testing.assert_array_equal(a, backend.rng().normal(size=3))
    assert backend.epsilon() == 1e-7 and backend.floatx() == "float32"
