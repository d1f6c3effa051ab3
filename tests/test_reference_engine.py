"""The reference engine and the per-version namespace: the seeds' snippets run as written against
``reference.keras(v)``, training works end to end, and each version's documented surface holds."""
from __future__ import annotations

import inspect
import json
import os

import numpy as np
import pytest

from keras_conformance import reference, spec
from keras_conformance.reference import backend

VERSIONS = ("2.2.4", "2.3", "3")


@pytest.fixture(params=VERSIONS)
def K(request):
    backend.set_seed(1234)
    return reference.keras(request.param)


def _toy(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, :1] - 0.5 * x[:, 1:2] > 0).astype("float32")
    return x, y


def _mlp(K, hidden=8):
    return K.models.Sequential([
        K.layers.Dense(hidden, activation="relu", input_shape=(4,)),
        K.layers.Dense(1, activation="sigmoid"),
    ])


# --- the seeds' snippets ------------------------------------------------------------------------

SEED_002_SUMMARY = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
dense_1 (Dense)              (None, 32)                25120     
_________________________________________________________________
activation_1 (Activation)    (None, 32)                0         
_________________________________________________________________
dense_2 (Dense)              (None, 10)                330       
_________________________________________________________________
activation_2 (Activation)    (None, 10)                0         
=================================================================
Total params: 25,450
Trainable params: 25,450
Non-trainable params: 0
_________________________________________________________________"""


def test_seed_002_summary_printout_2_2_4():
    K = reference.keras("2.2.4")
    K.backend.clear_session()
    Sequential, Dense, Activation = K.models.Sequential, K.layers.Dense, K.layers.Activation
    model = Sequential()
    model.add(Dense(32, input_shape=(784,)))
    model.add(Activation('relu'))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    lines = []
    model.summary(print_fn=lines.append)
    assert "\n".join(lines) == SEED_002_SUMMARY


def test_seed_002_list_constructor_equals_add(K):
    a = K.models.Sequential([K.layers.Dense(32, input_shape=(784,)), K.layers.Activation("relu"),
                             K.layers.Dense(10), K.layers.Activation("softmax")])
    lines = []
    a.summary(print_fn=lines.append)
    assert "Total params: 25,450" in lines
    assert a.count_params() == 25450


def test_seed_002_input_dim_and_input_shape_are_equivalent():
    K = reference.keras("2.3")
    a = K.models.Sequential()
    a.add(K.layers.Dense(32, input_shape=(784,)))
    b = K.models.Sequential()
    b.add(K.layers.Dense(32, input_dim=784))
    assert a.layers[0].input_shape == b.layers[0].input_shape == (None, 784)
    c = K.models.Sequential([K.layers.Dense(4, batch_size=32, input_shape=(6, 8))])
    assert c.inputs[0].shape == (32, 6, 8) and c.outputs[0].shape == (32, 6, 4)


def test_seed_001_functional_snippet(K):
    Input, Dense, Model = K.layers.Input, K.layers.Dense, K.models.Model
    a = Input(shape=(32,))
    b = Dense(32)(a)
    model = Model(inputs=a, outputs=b)
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Dense"]
    assert model.predict(np.ones((3, 32), "float32")).shape == (3, 32)


def test_seed_002_example_two_and_custom_metric():
    K = reference.keras("2.2.4")
    backend.set_seed(7)
    Sequential, Dense = K.models.Sequential, K.layers.Dense
    model = Sequential()
    model.add(Dense(32, activation='relu', input_dim=100))
    model.add(Dense(10, activation='softmax'))

    def mean_pred(y_true, y_pred):
        return K.backend.mean(y_pred)

    model.compile(optimizer='rmsprop', loss='categorical_crossentropy',
                  metrics=['accuracy', mean_pred])
    data = np.random.default_rng(0).random((100, 100))
    labels = np.random.default_rng(1).integers(10, size=(100, 1))
    one_hot_labels = K.utils.to_categorical(labels, num_classes=10)
    history = model.fit(data, one_hot_labels, epochs=2, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "acc", "mean_pred"}
    assert model.metrics_names == ["loss", "acc", "mean_pred"]
    np.testing.assert_allclose(history.history["mean_pred"], 0.1, rtol=1e-5)  # softmax rows / 10


def test_seed_000_subclassed_model_trains():
    K = reference.keras("2.2.4")
    backend.set_seed(3)

    class SimpleMLP(K.Model):
        def __init__(self, use_bn=False, use_dp=False, num_classes=10):
            super(SimpleMLP, self).__init__(name='mlp')
            self.use_dp = use_dp
            self.num_classes = num_classes
            self.dense1 = K.layers.Dense(32, activation='relu')
            self.dense2 = K.layers.Dense(num_classes, activation='softmax')
            if self.use_dp:
                self.dp = K.layers.Dropout(0.5)

        def call(self, inputs):
            x = self.dense1(inputs)
            if self.use_dp:
                x = self.dp(x)
            return self.dense2(x)

    model = SimpleMLP(use_dp=True)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = np.random.default_rng(0).random((64, 5)).astype("float32")
    y = K.utils.to_categorical(np.arange(64) % 10, 10)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model.name == "mlp" and len(history.history["loss"]) == 2
    assert [w.shape for w in model.get_weights()] == [(5, 32), (32,), (32, 10), (10,)]


# --- training end to end -----------------------------------------------------------------------

def test_mlp_learns_a_separable_problem(K):
    """Seeded: after 30 epochs of Adam the training loss is at most a third of the first epoch's
    and accuracy is above 0.9."""
    x, y = _toy()
    model = _mlp(K, hidden=16)
    model.compile(optimizer=K.optimizers.Adam(**{("lr" if K.api_version == "2.2.4" else
                                                  "learning_rate"): 0.02}),
                  loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    acc = "acc" if K.api_version == "2.2.4" else "accuracy"
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert history.history[acc][-1] > 0.9
    assert history.epoch == list(range(30))


def test_fit_evaluate_predict_returns(K):
    x, y = _toy(100)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert history.model is model and history.params["epochs"] == 2
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert model.predict(x).shape == (100, 1)
    assert model.predict(x, batch_size=7).shape == (100, 1)
    assert model.predict_on_batch(x[:5]).shape == (5, 1)
    assert len(model.train_on_batch(x[:8], y[:8])) == 2
    assert len(model.test_on_batch(x[:8], y[:8])) == 2
    if K.api_version == "3":
        d = model.evaluate(x, y, verbose=0, return_dict=True)
        assert set(d) == {"loss", "accuracy"}
        assert set(model.train_on_batch(x[:8], y[:8], return_dict=True)) == {"loss", "accuracy"}
    model.compile(optimizer="sgd", loss="mse")
    assert np.ndim(model.evaluate(x, y, verbose=0)) == 0   # a scalar without metrics


def test_epoch_loss_is_batch_size_weighted_mean():
    K = reference.keras("2.3")
    x, y = _toy(10)
    model = _mlp(K)
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    losses = [model.test_on_batch(x[i:i + 4], y[i:i + 4]) for i in (0, 4, 8)]
    expected = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_validation_split_takes_the_last_samples(K):
    x, y = _toy(50)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    np.testing.assert_allclose(history.history["val_loss"][0],
                               model.evaluate(x[40:], y[40:], verbose=0), rtol=1e-5)
    history = model.fit(x, y, validation_data=(x[:10], y[:10]), epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0],
                               model.evaluate(x[:10], y[:10], verbose=0), rtol=1e-5)


@pytest.mark.parametrize("version", ["2.3", "3"])
def test_validation_freq(version):
    K = reference.keras(version)
    x, y = _toy(40)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    h = model.fit(x, y, validation_split=0.25, epochs=4, validation_freq=2, verbose=0)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    h = model.fit(x, y, validation_split=0.25, epochs=3, validation_freq=[1, 3], verbose=0)
    assert len(h.history["val_loss"]) == 2


def test_initial_epoch_and_history_epochs(K):
    x, y = _toy(20)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    h = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4] and len(h.history["loss"]) == 2


def test_sample_weight_zero_drops_samples(K):
    x, y = _toy(8)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    w = np.array([1, 1, 1, 1, 0, 0, 0, 0], "float32")
    weighted = model.test_on_batch(x, y, sample_weight=w)
    first_half = model.test_on_batch(x[:4], y[:4])
    if K.api_version == "2.2.4":       # sum(w l) / count(w != 0)
        np.testing.assert_allclose(weighted, first_half, rtol=1e-5)
    else:                               # sum(w l) / batch size
        np.testing.assert_allclose(weighted, first_half / 2, rtol=1e-5)


def test_class_weight_scales_the_loss():
    K = reference.keras("2.3")
    x, y = _toy(16)
    model = _mlp(K)
    model.compile(optimizer=K.optimizers.SGD(learning_rate=0.0), loss="mse")
    base = model.train_on_batch(x, y)
    doubled = model.train_on_batch(x, y, class_weight={0: 2.0, 1: 2.0})
    np.testing.assert_allclose(doubled, 2 * base, rtol=1e-5)


def test_one_sgd_step_equals_w_minus_finite_difference_gradient(K):
    """train_on_batch with SGD(lr=1): new weights = old - dL/dw, dL/dw by central differences
    in float64 on the documented formula (mse of a Dense layer)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 3)).astype("float32")
    y = rng.normal(size=(6, 2)).astype("float32")
    model = K.models.Sequential([K.layers.Dense(2, input_shape=(3,))])
    lr_kw = "lr" if K.api_version == "2.2.4" else "learning_rate"
    model.compile(optimizer=K.optimizers.SGD(**{lr_kw: 1.0}), loss="mse")
    w0, b0 = [a.astype("float64") for a in model.get_weights()]

    def loss(w, b):
        return np.mean(np.mean((x.astype("float64") @ w + b - y) ** 2, axis=-1))

    def fd(f, a, eps=1e-6):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            d = np.zeros_like(a)
            d[i] = eps
            g[i] = (f(a + d) - f(a - d)) / (2 * eps)
        return g

    gw = fd(lambda w: loss(w, b0), w0)
    gb = fd(lambda b: loss(w0, b), b0)
    model.train_on_batch(x, y)
    w1, b1 = model.get_weights()
    np.testing.assert_allclose(w1, w0 - gw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(b1, b0 - gb, rtol=1e-4, atol=1e-5)


# --- generators (2.x) --------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_generators(version):
    K = reference.keras(version)
    x, y = _toy(40)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")

    def gen():
        while True:
            for i in range(0, 40, 10):
                yield x[i:i + 10], y[i:i + 10]

    h = model.fit_generator(gen(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    np.testing.assert_allclose(model.evaluate_generator(gen(), steps=4),
                               model.evaluate(x, y, verbose=0), rtol=1e-5)
    assert model.predict_generator(gen(), steps=2).shape == (20, 1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit_generator(gen())

    class Batches(K.utils.Sequence):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]

    assert len(model.fit_generator(Batches(), epochs=1, verbose=0).history["loss"]) == 1


# --- errors ------------------------------------------------------------------------------------

def test_using_an_uncompiled_model(K):
    x, y = _toy(4)
    model = _mlp(K)
    if K.api_version == "3":
        with pytest.raises(ValueError, match=r"must call `compile\(\)`"):
            model.fit(x, y, verbose=0)
    else:
        for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                     lambda: model.train_on_batch(x, y)):
            with pytest.raises(RuntimeError, match="You must compile a model before "
                                                   "training/testing"):
                call()
    assert model.predict(x).shape == (4, 1)    # predict needs no compile


def test_input_shape_mismatch_names_expected_and_given(K):
    model = K.models.Sequential([K.layers.Dense(2, input_shape=(4,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((3, 5), "float32"), np.ones((3, 2), "float32")
    if K.api_version == "3":
        pattern = r"expected shape=\(None, 4\), found shape=\(3, 5\)"
    else:
        pattern = (r"Error when checking input: expected dense_\d+_input to have shape \(4,\) but "
                   r"got array with shape \(5,\)")
    with pytest.raises(ValueError, match=pattern):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match=pattern):
        model.predict(x)


def test_sample_count_mismatch(K):
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="10|9"):
        model.fit(np.ones((10, 4)), np.ones((9, 1)), verbose=0)


def test_get_layer(K):
    model = _mlp(K)
    first = model.layers[0]
    assert model.get_layer(first.name) is first
    assert model.get_layer(index=1) is model.layers[1]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="at index 5 but model only has 2 layers"):
        model.get_layer(index=5)


def test_compile_rejects_unknown_names(K):
    model = _mlp(K)
    with pytest.raises(ValueError, match="nosuchopt"):
        model.compile(optimizer="nosuchopt", loss="mse")
    with pytest.raises(ValueError, match="nosuchloss"):
        model.compile(optimizer="sgd", loss="nosuchloss")


def test_constructor_validation(K):
    with pytest.raises(ValueError, match="units"):
        K.layers.Dense(units=0)
    # an undocumented keyword: 2.x TypeError ("Keyword argument not understood"),
    # 3 ValueError ("Unrecognized keyword arguments"), each naming it
    with pytest.raises(ValueError if K.api_version == "3" else TypeError, match="bogus"):
        K.layers.Dense(3, bogus=1)


# --- the version surfaces ----------------------------------------------------------------------

def test_optimizer_keywords_per_version():
    assert reference.keras("2.2.4").optimizers.SGD(lr=0.1).learning_rate == pytest.approx(0.1)
    assert reference.keras("2.3").optimizers.SGD(lr=0.1).learning_rate == pytest.approx(0.1)
    with pytest.raises(TypeError, match="learning_rate"):
        reference.keras("2.2.4").optimizers.SGD(learning_rate=0.1)
    # keras 3.15 base_optimizer.py: "Argument(s) not recognized: {'lr': 0.1}" (a ValueError)
    with pytest.raises(ValueError, match="lr"):
        reference.keras("3").optimizers.SGD(lr=0.1)


def test_methods_present_per_version():
    m2 = reference.keras("2.2.4").models.Sequential()
    m3 = reference.keras("3").models.Sequential()
    assert hasattr(m2, "fit_generator") and hasattr(m2, "to_yaml")
    assert not hasattr(m3, "fit_generator") and not hasattr(m3, "to_yaml")
    assert not hasattr(reference.keras("3").models, "model_from_yaml")


@pytest.mark.parametrize("version", VERSIONS)
def test_signatures_come_from_the_spec(version):
    K = reference.keras(version)
    s = spec.load(version)
    for name in ("Model.fit", "Model.compile", "Model.evaluate", "Model.predict",
                 "Model.train_on_batch"):
        assert inspect.signature(getattr(K.models.Model, name.split(".")[1])).parameters.keys() \
            >= {"self"}
        method = getattr(K.models.Sequential(), name.split(".")[1])
        assert inspect.signature(method) == s[name].signature(), name
    assert inspect.signature(K.layers.Dense) == s["layers.Dense"].signature()
    with pytest.raises(TypeError, match="undocumented_kw"):
        K.models.Sequential().fit(undocumented_kw=1)


def test_names_and_weight_names_per_version():
    for version, dense, weight, model in (("2.2.4", "dense_1", "dense_1/kernel:0", "sequential_1"),
                                          ("3", "dense", "kernel", "sequential")):
        K = reference.keras(version)
        K.backend.clear_session()
        m = K.models.Sequential([K.layers.Dense(2, input_shape=(3,))])
        assert (m.name, m.layers[0].name, m.weights[0].name) == (model, dense, weight)
        assert [w.shape for w in m.get_weights()] == [(3, 2), (2,)]


def test_config_round_trip_and_json(K):
    model = _mlp(K)
    config = model.get_config()
    assert config["name"] == model.name and len(config["layers"]) == (3 if K.api_version == "3"
                                                                      else 2)
    clone = K.models.Sequential.from_config(config)
    assert [type(l).__name__ for l in clone.layers] == ["Dense", "Dense"]
    clone.set_weights(model.get_weights())
    x, _ = _toy(5)
    np.testing.assert_allclose(clone.predict(x), model.predict(x), rtol=1e-6)
    payload = json.loads(model.to_json())
    assert set(payload) == {"class_name", "config", "keras_version", "backend"}
    assert payload["class_name"] == "Sequential" and payload["keras_version"] == K.__version__
    again = K.models.model_from_json(model.to_json())
    assert len(again.get_weights()) == 4

    a = K.layers.Input(shape=(4,))
    f = K.models.Model(inputs=a, outputs=K.layers.Dense(3, activation="relu")(a))
    g = K.models.Model.from_config(f.get_config())
    g.set_weights(f.get_weights())
    np.testing.assert_allclose(g.predict(x), f.predict(x), rtol=1e-6)


def test_save_and_load_model(K, tmp_path):
    try:
        from keras_conformance.reference.saving import hdf5  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"reference.saving.hdf5 unavailable: {exc}")
    x, y = _toy(20)
    model = _mlp(K)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = K.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    wpath = str(tmp_path / ("w.weights.h5" if K.api_version == "3" else "w.h5"))
    model.save_weights(wpath)
    other = _mlp(K)
    other.load_weights(wpath)
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6)


# --- numerics against tf_keras -----------------------------------------------------------------

def test_dense_activation_forward_matches_tf_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import tf_keras
    except Exception as exc:  # noqa: BLE001 - any import failure means "not available here"
        pytest.skip(f"tf_keras unavailable: {exc}")
    K = reference.keras("2.3")
    ours = K.models.Sequential([K.layers.Dense(5, input_shape=(4,)), K.layers.Activation("tanh"),
                                K.layers.Dense(3, activation="softmax")])
    theirs = tf_keras.Sequential([tf_keras.layers.Dense(5, input_shape=(4,)),
                                  tf_keras.layers.Activation("tanh"),
                                  tf_keras.layers.Dense(3, activation="softmax")])
    theirs.set_weights(ours.get_weights())
    x = np.random.default_rng(2).normal(size=(7, 4)).astype("float32")
    np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)


# --- documented signatures of classmethods --------------------------------------------------------

@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_from_config_signature_shows_documented_parameters(version):
    """`inspect.signature` of a bound classmethod drops its first parameter: the wrapper's own
    signature must start with `cls` so that `config` stays visible."""
    import inspect
    K = reference.keras(version)
    for cls in (K.models.Model, K.models.Sequential):
        params = list(inspect.signature(cls.from_config).parameters)
        assert params == ["config", "custom_objects"], (cls, params)
        assert inspect.signature(cls.from_config).parameters["custom_objects"].default is None


# --- version 3 metric names ------------------------------------------------------------------------

def test_v3_metric_names_label_the_scalars_and_return_dict_keys():
    """Seed 004: metrics_names labels evaluate's scalars (keras 3.15 itself says
    ["loss", "compile_metrics"], its deviation); keras 3.15 where the seed is silent: a string
    metric is reported under the string given, return_dict keys sorted."""
    K = reference.keras("3")
    rng = np.random.default_rng(0)
    x = rng.random((8, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 8)]
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy", "mae"])
    assert model.metrics_names == ["loss", "accuracy", "mae"]
    values = model.evaluate(x, y, verbose=0)
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["accuracy", "loss", "mae"]
    assert values == [d[name] for name in model.metrics_names]
    assert list(model.test_on_batch(x, y, return_dict=True)) == ["accuracy", "loss", "mae"]


# Two outputs named a, b; metrics=["mae"] and weighted_metrics=["mae"] on both. keras 2.2.4 compile
# prefixes weighted metrics with "weighted_" and dedupes with "_1" (training.py handle_metrics); keras
# 2.3.1 has no prefix (get_metric_name ignores `weighted`), so the weighted one is "<out>_mae_1"
# (_add_unique_metric_name; its tests/keras/metrics_correctness_test.py names them by hand to avoid
# that); both go output by output. keras 3.15 CompileMetrics.result: every output's metrics, then the
# weighted ones, a colliding weighted name becoming "<out>_weighted_<name>".
METRIC_NAMES_TWO_OUTPUTS = {
    "2.2.4": ["loss", "a_loss", "b_loss", "a_mean_absolute_error", "a_weighted_mean_absolute_error",
              "b_mean_absolute_error", "b_weighted_mean_absolute_error"],
    "2.3": ["loss", "a_loss", "b_loss", "a_mae", "a_mae_1", "b_mae", "b_mae_1"],
    "3": ["loss", "a_loss", "b_loss", "a_mae", "b_mae", "a_weighted_mae", "b_weighted_mae"],
}


@pytest.mark.parametrize("version", VERSIONS)
def test_metric_names_of_weighted_metrics_on_two_outputs(version):
    K = reference.keras(version)
    inp = K.layers.Input((2,))
    model = K.models.Model(inp, [K.layers.Dense(1, name="a")(inp), K.layers.Dense(1, name="b")(inp)])
    model.compile("sgd", "mse", metrics=["mae"], weighted_metrics=["mae"])
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 2)).astype("float32"), rng.random((4, 1)).astype("float32")
    model.train_on_batch(x, [y, y])
    assert model.metrics_names == METRIC_NAMES_TWO_OUTPUTS[version]
    history = model.fit(x, [y, y], epochs=1, verbose=0, sample_weight=[np.ones(4), np.ones(4)])
    assert sorted(history.history) == sorted(METRIC_NAMES_TWO_OUTPUTS[version])


def test_the_core_never_imports_the_versioned_surface():
    """reference/engine, layers and saving are version-agnostic: they reach a version's classes through
    ``versions.classes`` (registered by namespace.py), never by importing namespace.py or surface.py."""
    import ast
    from pathlib import Path
    import keras_conformance.reference as ref
    root = Path(ref.__file__).resolve().parent
    offenders = []
    for folder in ("engine", "layers", "saving", "autodiff"):
        for path in sorted((root / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] + [a.name for a in node.names]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                if any(n.split(".")[-1] in ("namespace", "surface") for n in names):
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not offenders, offenders


def test_the_keras_version_string_is_defined_once():
    from keras_conformance import reference
    from keras_conformance.reference import versions
    from keras_conformance.reference.saving import hdf5
    assert reference.KERAS_VERSION is versions.KERAS_VERSION
    assert hdf5.KERAS_VERSION_STRINGS is versions.KERAS_VERSION
    for v, t in versions.TRAITS.items():
        assert reference.keras(v).__version__ == t.keras_version == versions.KERAS_VERSION[v]


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_a_masking_layer_s_mask_reaches_the_call_of_the_next_layer(version):
    # Masking(0.0) marks steps 2 and 3 of [1, 2, 0, 0, 3]; GlobalAveragePooling1D averages the kept steps,
    # (1 + 2 + 3) / 3 = 2 (keras 2.2.4 / 2.3.1 / 3.15 pooling.py: call(inputs, mask) when masked), not 6 / 5
    R = reference.keras(version)
    inp = R.layers.Input((5, 1))
    model = R.models.Model(inp, R.layers.GlobalAveragePooling1D()(R.layers.Masking(0.0)(inp)))
    out = model.predict(np.array([1, 2, 0, 0, 3], "float32").reshape(1, 5, 1), verbose=0)
    np.testing.assert_allclose(out, [[2.0]])


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_data_format_none_is_the_configured_image_data_format(version):
    # keras 2.2.4 / 2.3.1 K.normalize_data_format(None) and keras 3.15 standardize_data_format(None) read
    # image_data_format(), "channels_last" unless set_image_data_format changed it
    R = reference.keras(version)
    assert R.backend.image_data_format() == "channels_last"
    try:
        R.backend.set_image_data_format("channels_first")
        layer = R.layers.Conv2D(2, 3)
        assert layer.get_config()["data_format"] == "channels_first"
        out = R.models.Model(inp := R.layers.Input((3, 5, 6)), layer(inp)).predict(np.ones((1, 3, 5, 6), "float32"), verbose=0)
        assert out.shape == (1, 2, 3, 4)
        with pytest.raises(ValueError, match="data_format"):
            R.backend.set_image_data_format("channels_middle")
    finally:
        R.backend.set_image_data_format("channels_last")
    assert R.layers.MaxPooling2D().get_config()["data_format"] == "channels_last"


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
@pytest.mark.parametrize("inner_kind", ["sequential", "functional"])
def test_2x_model_added_first_to_a_sequential_gives_it_its_input(version, inner_kind):
    """keras 2.2.4 / 2.3.1 Sequential.add looks through a model added first for its input shape, so the
    outer model is built at once: its weights are the inner model's and its own, and it computes the
    composition (written out here: two affine maps)."""
    K = reference.keras(version)
    if inner_kind == "sequential":
        inner = K.models.Sequential([K.layers.Dense(2, input_shape=(3,))])
    else:
        a = K.layers.Input((3,))
        inner = K.models.Model(a, K.layers.Dense(2)(a))
    outer = K.models.Sequential([inner, K.layers.Dense(1)])
    assert [w.shape for w in outer.get_weights()] == [(3, 2), (2,), (2, 1), (1,)]
    rng = np.random.default_rng(3)
    w = [rng.standard_normal(s).astype("float32") for s in [(3, 2), (2,), (2, 1), (1,)]]
    outer.set_weights(w)
    x = rng.standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(outer.predict(x, verbose=0), (x @ w[0] + w[1]) @ w[2] + w[3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_2x_sequential_built_from_its_first_batch_records_its_input_shape(version):
    """A Sequential without an input shape, built by its first predict, records build_input_shape in its
    config (keras 2.x Model._set_inputs -> Sequential.build), so from_config(get_config()) is built."""
    K = reference.keras(version)
    model = K.models.Sequential([K.layers.Dense(2)])
    model.predict(np.ones((2, 3), "float32"), verbose=0)
    config = model.get_config()
    assert tuple(config["build_input_shape"]) == (None, 3)
    copy = K.models.Sequential.from_config(config)
    assert [w.shape for w in copy.get_weights()] == [(3, 2), (2,)]


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_outputs_of_one_layer_keep_their_own_losses_in_the_returned_lists(version):
    """Keras 2 names a model's outputs after their layers (network.py output_names), so the three outputs
    of one LSTM(return_state=True) share a name and metrics_names repeats "<name>_loss"; the lists
    train_on_batch, test_on_batch and evaluate return still hold each output's own loss in its place
    (keras 2.3.1: one loss metric per output index), each the mean squared error of that output computed
    here from predict, and the total their sum."""
    K = reference.keras(version)
    backend.set_seed(3)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3, 2)).astype("float32")
    i = K.layers.Input(shape=(3, 2))
    lstm = K.layers.LSTM(2, return_sequences=True, return_state=True)
    model = K.models.Model(i, lstm(i))
    model.compile(optimizer="sgd", loss="mean_squared_error")
    names = model.metrics_names
    assert names == ["loss"] + [f"{lstm.name}_loss"] * 3
    ys = [rng.standard_normal(s).astype("float32") for s in [(6, 3, 2), (6, 2), (6, 2)]]
    own = [float(np.mean((p.astype(np.float64) - y) ** 2)) for p, y in zip(model.predict(x), ys)]
    for got in (model.test_on_batch(x, ys), model.evaluate(x, ys, batch_size=6, verbose=0),
                model.evaluate(x, ys, batch_size=4, verbose=0)):
        np.testing.assert_allclose(got[1:], own, rtol=1e-5)
        np.testing.assert_allclose(got[0], sum(own), rtol=1e-5)
    got = model.train_on_batch(x, ys)
    np.testing.assert_allclose(got, [sum(own)] + own, rtol=1e-5)
