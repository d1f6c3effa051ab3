"""The reference's Keras HDF5 files: layout per version, round trips, resumed training, weights by
topology and by name, safety (atomic saves, refusing bad files and code), and interop with real Keras
(tf_keras 2.x and keras 3, each run in a subprocess so their imports never meet).

Authorities: Keras 2.2.4 / 2.3.1 `keras/engine/saving.py` (and `io_utils.H5Dict`), keras 3.15
`keras/src/legacy/saving/legacy_h5_format.py`; seed 002 for save/load_model and load_weights(by_name).
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import warnings

import h5py
import numpy as np
import pytest

from keras_conformance.reference.saving import hdf5
from keras_conformance.reference.saving.hdf5 import SaveFileError

VERSIONS = ("2.2.4", "2.3", "3")


def _reference(version):
    try:
        from keras_conformance import reference
        K = reference.keras(version)
        K.models.Sequential, K.layers.Dense  # noqa: B018
    except Exception as e:  # the engine is written by another part of the project
        pytest.skip(f"reference.keras({version!r}) cannot build models yet: {e}")
    return K


def _data(n=16, d_in=3, d_out=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d_in)).astype("float32")
    y = rng.normal(size=(n, d_out)).astype("float32")
    return x, y


def _seq(K, version, optimizer="adam", compile=True, loss="mse"):
    model = K.models.Sequential()
    model.add(K.layers.Dense(4, activation="relu", input_shape=(3,)))
    model.add(K.layers.Dense(2))
    if compile:
        opt = K.optimizers.Adam(0.01) if optimizer == "adam" else K.optimizers.SGD(0.05, momentum=0.9)
        model.compile(optimizer=opt, loss=loss, metrics=["mae"])
    return model


def _functional(K, version, loss="mse"):
    inp = K.layers.Input(shape=(3,))
    h = K.layers.Dense(5, activation="tanh")(inp)
    out = K.layers.Dense(2)(h)
    model = K.models.Model(inp, out)
    model.compile(optimizer=K.optimizers.SGD(0.1, momentum=0.5), loss=loss)
    return model


def _fit(model, epochs=1):
    x, y = _data()
    model.fit(x, y, epochs=epochs, batch_size=4, shuffle=False, verbose=0)


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for p, q in zip(wa, wb):
        np.testing.assert_array_equal(p, q)


# ------------------------------------------------------------------------------------------------
# layout, per version
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_keras2_layout(tmp_path, version):
    K = _reference(version)
    model = _seq(K, version)
    _fit(model)
    path = tmp_path / "m.h5"
    hdf5.save_model(model, path)
    with h5py.File(path, "r") as f:
        # Keras 2 wrote strings as fixed-length bytes (h5py 2): np.bytes_ on read.
        assert f.attrs["keras_version"] == np.bytes_({"2.2.4": b"2.2.4", "2.3": b"2.3.1"}[version])
        assert f.attrs["backend"] == np.bytes_(b"tensorflow")
        mc = json.loads(f.attrs["model_config"].decode("utf8"))
        assert mc["class_name"] == "Sequential" and mc["config"] == json.loads(json.dumps(model.get_config()))
        tc = json.loads(f.attrs["training_config"].decode("utf8"))
        keys = ["optimizer_config", "loss", "metrics", "sample_weight_mode", "loss_weights"]
        if version == "2.3":
            keys.insert(3, "weighted_metrics")
        assert list(tc) == keys
        assert tc["optimizer_config"]["class_name"] == "Adam"
        assert tc["loss"] == "mse" and tc["metrics"] == ["mae"]
        mw = f["model_weights"]
        assert mw.attrs["layer_names"].dtype.kind == "S"
        names = [n.decode() for n in mw.attrs["layer_names"]]
        assert names == [l.name for l in model.layers]
        assert mw.attrs["keras_version"] == f.attrs["keras_version"]
        for layer in model.layers:
            wn = [n.decode() for n in mw[layer.name].attrs["weight_names"]]
            assert wn == [f"{layer.name}/kernel:0", f"{layer.name}/bias:0"]
            # "dense_1/kernel:0" is the dataset kernel:0 inside the sub-group dense_1
            assert isinstance(mw[layer.name][layer.name], h5py.Group)
            np.testing.assert_array_equal(mw[layer.name][wn[0]][()], layer.get_weights()[0])
        ow = f["optimizer_weights"]
        on = [n.decode() for n in ow.attrs["weight_names"]]
        values = model.optimizer.get_weights()
        assert len(on) == len(values) and "iterations" in on[0]
        assert int(ow[on[0]][()]) == 4  # 16 samples / batch 4, one epoch: iterations first
        for n, v in zip(on, values):
            np.testing.assert_array_equal(ow[n][()], v)


def test_keras3_layout(tmp_path):
    K = _reference("3")
    model = _seq(K, "3")
    _fit(model)
    path = tmp_path / "m.h5"
    hdf5.save_model(model, path)
    with h5py.File(path, "r") as f:
        # keras 3's legacy writer: str attrs, variable-length name lists, empty top-level group
        assert f.attrs["keras_version"] == "3.15.1" and f.attrs["backend"] == "tensorflow"
        tc = json.loads(f.attrs["training_config"])
        assert list(tc) == ["loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
                            "steps_per_execution", "jit_compile", "optimizer_config"]
        mw = f["model_weights"]
        assert h5py.check_string_dtype(mw.attrs.get_id("layer_names").dtype).length is None
        assert list(mw.attrs["layer_names"]) == [l.name for l in model.layers]
        assert "top_level_model_weights" in mw
        assert len(mw["top_level_model_weights"].attrs["weight_names"]) == 0
        for layer in model.layers:
            wn = list(mw[layer.name].attrs["weight_names"])
            assert [w.split("/")[-1] for w in wn] == ["kernel", "bias"] and ":" not in "".join(wn)


# ------------------------------------------------------------------------------------------------
# round trips
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_save_load_model_round_trip(tmp_path, version, kind):
    K = _reference(version)
    model = _seq(K, version) if kind == "sequential" else _functional(K, version)
    _fit(model)
    path = tmp_path / "m.h5"
    hdf5.save_model(model, path)
    loaded = hdf5.load_model(path, api_version=version)
    assert type(loaded).__name__ == type(model).__name__
    assert loaded.get_config() == model.get_config()
    _weights_equal(loaded, model)
    x, _ = _data(seed=1)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_resumed_training_equals_uninterrupted(tmp_path, version, optimizer):
    K = _reference(version)
    straight = _seq(K, version, optimizer)
    resumed = _seq(K, version, optimizer)
    resumed.set_weights(straight.get_weights())
    _fit(straight, epochs=2)
    _fit(resumed, epochs=1)
    path = tmp_path / "half.h5"
    hdf5.save_model(resumed, path)
    reloaded = hdf5.load_model(path, api_version=version)
    _fit(reloaded, epochs=1)
    _weights_equal(reloaded, straight)
    for a, b in zip(reloaded.optimizer.get_weights(), straight.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("version", VERSIONS)
def test_without_optimizer_and_compile_false(tmp_path, version):
    K = _reference(version)
    model = _seq(K, version)
    _fit(model)
    path = tmp_path / "m.h5"
    hdf5.save_model(model, path, include_optimizer=False)
    with h5py.File(path, "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    with pytest.warns(UserWarning, match="not.* compiled"):
        loaded = hdf5.load_model(path, api_version=version)
    assert getattr(loaded, "optimizer", None) is None
    hdf5.save_model(model, path)
    loaded = hdf5.load_model(path, compile=False, api_version=version)
    assert getattr(loaded, "optimizer", None) is None
    _weights_equal(loaded, model)


# ------------------------------------------------------------------------------------------------
# save_weights / load_weights
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", VERSIONS)
def test_weights_topological_round_trip(tmp_path, version):
    K = _reference(version)
    a, b = _seq(K, version, compile=False), _seq(K, version, compile=False)
    path = tmp_path / ("w.weights.h5" if version == "3" else "w.h5")
    hdf5.save_weights(a, path)
    hdf5.load_weights(b, path)
    _weights_equal(a, b)
    full = tmp_path / "full.h5"  # load_weights also reads the model_weights of a save_model file
    c = _seq(K, version, compile=False)
    hdf5.save_model(c, full)
    hdf5.load_weights(b, full)
    _weights_equal(c, b)


@pytest.mark.parametrize("version", VERSIONS)
def test_topological_mismatch_names_layers_and_counts(tmp_path, version):
    K = _reference(version)
    a = _seq(K, version, compile=False)
    b = K.models.Sequential()
    b.add(K.layers.Dense(4, input_shape=(3,), name="only"))
    path = tmp_path / "w.h5"
    hdf5.save_weights(a, path)
    before = b.get_weights()
    with pytest.raises(ValueError) as e:
        hdf5.load_weights(b, path)
    msg = str(e.value)
    assert "2 layers" in msg and "1 layers" in msg and "only" in msg and a.layers[0].name in msg
    _weights_equal_list(b.get_weights(), before)
    # same count, wrong shape: names the layer and both shapes, assigns nothing
    c = K.models.Sequential()
    c.add(K.layers.Dense(4, input_shape=(3,), name="first"))
    c.add(K.layers.Dense(7, name="second"))
    before = c.get_weights()
    with pytest.raises(ValueError, match=r"second.*\(4, 7\).*\(4, 2\)"):
        hdf5.load_weights(c, path)
    _weights_equal_list(c.get_weights(), before)


def _weights_equal_list(a, b):
    assert len(a) == len(b)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
def test_load_weights_by_name_seed_002(tmp_path, version):
    # seed 002: the new model shares dense_1 with the saved one; new_dense is left alone.
    K = _reference(version)
    old = K.models.Sequential()
    old.add(K.layers.Dense(2, input_dim=3, name="dense_1"))
    old.add(K.layers.Dense(3, name="dense_2"))
    path = tmp_path / "w.h5"
    hdf5.save_weights(old, path)
    new = K.models.Sequential()
    new.add(K.layers.Dense(2, input_dim=3, name="dense_1"))
    new.add(K.layers.Dense(10, name="new_dense"))
    untouched = new.layers[1].get_weights()
    hdf5.load_weights(new, path, by_name=True)
    _weights_equal_list(new.layers[0].get_weights(), old.layers[0].get_weights())
    _weights_equal_list(new.layers[1].get_weights(), untouched)
    # a same-named layer of another shape: ValueError, or skipped with a warning
    other = K.models.Sequential()
    other.add(K.layers.Dense(5, input_dim=3, name="dense_1"))
    with pytest.raises(ValueError, match="dense_1"):
        hdf5.load_weights(other, path, by_name=True)
    before = other.get_weights()
    with pytest.warns(UserWarning, match="dense_1"):
        hdf5.load_weights(other, path, by_name=True, skip_mismatch=True)
    _weights_equal_list(other.get_weights(), before)


# ------------------------------------------------------------------------------------------------
# safety
# ------------------------------------------------------------------------------------------------

def test_overwrite_false_leaves_existing_file_untouched(tmp_path):
    # Keras 2.x/3 prompt on the terminal here; the reference answers "no" (never prompts).
    K = _reference("2.3")
    model = _seq(K, "2.3")
    path = tmp_path / "m.h5"
    path.write_bytes(b"precious")
    stat = os.stat(path)
    with pytest.warns(UserWarning, match="overwrite=False"):
        assert hdf5.save_model(model, path, overwrite=False) is None
    with pytest.warns(UserWarning, match="overwrite=False"):
        hdf5.save_weights(model, path, overwrite=False)
    assert path.read_bytes() == b"precious" and os.stat(path).st_mtime_ns == stat.st_mtime_ns
    fresh = tmp_path / "new.h5"
    hdf5.save_model(model, fresh, overwrite=False)  # no file yet: saved
    assert h5py.is_hdf5(fresh)


@pytest.mark.parametrize("save", ["save_model", "save_weights"])
def test_interrupted_save_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, save):
    K = _reference("2.3")
    model = _seq(K, "2.3")
    path = tmp_path / "m.h5"
    getattr(hdf5, save)(model, path)
    old = path.read_bytes()
    real = hdf5._write_model_weights

    def half_then_crash(group, model, version):
        group.create_group("partial")
        raise KeyboardInterrupt("simulated crash mid-write")

    monkeypatch.setattr(hdf5, "_write_model_weights", half_then_crash)
    model.layers[0].set_weights([w + 1 for w in model.layers[0].get_weights()])
    with pytest.raises(KeyboardInterrupt):
        getattr(hdf5, save)(model, path)
    assert path.read_bytes() == old
    with pytest.raises(KeyboardInterrupt):
        getattr(hdf5, save)(model, tmp_path / "never.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]
    monkeypatch.setattr(hdf5, "_write_model_weights", real)
    getattr(hdf5, save)(model, path)  # and a completed save does replace it
    assert path.read_bytes() != old


def test_saved_file_permissions_follow_umask(tmp_path):
    K = _reference("2.3")
    path = tmp_path / "m.h5"
    hdf5.save_weights(_seq(K, "2.3", compile=False), path)
    mask = os.umask(0o022)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def _saved(tmp_path, version="2.3"):
    K = _reference(version)
    path = tmp_path / "good.h5"
    hdf5.save_model(_seq(K, version), path)
    return path


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_truncated_file_is_refused_clearly(tmp_path, cut):
    good = _saved(tmp_path)
    data = good.read_bytes()
    bad = tmp_path / "truncated.h5"
    bad.write_bytes(data[: int(len(data) * cut)])
    for call in (lambda: hdf5.load_model(bad, api_version="2.3"),
                 lambda: hdf5.load_weights(_seq(_reference("2.3"), "2.3"), bad)):
        with pytest.raises(SaveFileError) as e:
            call()
        assert str(bad) in str(e.value) and ("truncated" in str(e.value) or "corrupt" in str(e.value))
        assert isinstance(e.value, ValueError)


def test_corrupted_bytes_in_weights_are_refused_or_read_intact(tmp_path):
    good = _saved(tmp_path)
    data = bytearray(good.read_bytes())
    bad = tmp_path / "corrupt.h5"
    for i in range(64, len(data), 97):  # scribble over the middle of the file
        data[i] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError) as e:
        hdf5.load_model(bad, api_version="2.3")
    assert str(bad) in str(e.value) or "corrupt" in str(e.value).lower()


def test_json_renamed_h5_is_refused_clearly(tmp_path):
    K = _reference("2.3")
    bad = tmp_path / "model.h5"
    bad.write_text(_seq(K, "2.3", compile=False).to_json() if hasattr(K.models.Sequential, "to_json")
                   else '{"class_name": "Sequential", "config": {}}')
    with pytest.raises(SaveFileError, match="not an HDF5 file.*JSON") as e:
        hdf5.load_model(bad, api_version="2.3")
    assert str(bad) in str(e.value)


def test_other_non_keras_files(tmp_path):
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(SaveFileError, match="empty"):
        hdf5.load_model(empty, api_version="2.3")
    with pytest.raises(FileNotFoundError, match="missing.h5"):
        hdf5.load_model(tmp_path / "missing.h5", api_version="2.3")
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(SaveFileError, match="no 'model_config'.*not a Keras model file"):
        hdf5.load_model(plain, api_version="2.3")
    with pytest.raises(SaveFileError, match="no Keras weights"):
        hdf5.load_weights(_seq(_reference("2.3"), "2.3"), plain)
    zipped = tmp_path / "model.keras.h5"
    zipped.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(SaveFileError, match="zip"):
        hdf5.load_model(zipped, api_version="3")


def test_weights_file_given_to_load_model(tmp_path):
    K = _reference("2.3")
    path = tmp_path / "w.h5"
    hdf5.save_weights(_seq(K, "2.3"), path)
    with pytest.raises(SaveFileError, match="weights file .*load_weights"):
        hdf5.load_model(path, api_version="2.3")


def test_external_link_is_refused(tmp_path):
    good = _saved(tmp_path)
    secret = tmp_path / "secret.h5"
    with h5py.File(secret, "w") as f:
        f.create_group("stolen")
    with h5py.File(good, "a") as f:
        name = [n.decode() for n in f["model_weights"].attrs["layer_names"]][0]
        del f["model_weights"][name]
        f["model_weights"][name] = h5py.ExternalLink(str(secret), "/stolen")
    with pytest.raises(SaveFileError, match="ExternalLink"):
        hdf5.load_model(good, api_version="2.3")


def _inject_lambda(path, version):
    """Add a Keras-2-style Lambda layer (marshalled bytecode) to a saved model's config."""
    import base64
    import marshal
    code = base64.b64encode(marshal.dumps((lambda x: x * 2).__code__)).decode("ascii")
    with h5py.File(path, "a") as f:
        mc = json.loads(hdf5._read_string_attr(f, "model_config"))
        mc["config"]["layers"].append({"class_name": "Lambda", "config": {
            "name": "lambda_1", "trainable": True, "function": [code, None, None],
            "function_type": "lambda", "module": "__main__", "output_shape": None,
            "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}})
        f.attrs["model_config"] = hdf5._string_attr(json.dumps(mc), version, json_payload=True)


@pytest.mark.parametrize("version", VERSIONS)
def test_lambda_is_refused_unless_the_caller_opts_in(tmp_path, version):
    from keras_conformance import reference
    path = _saved(tmp_path, version)
    _inject_lambda(path, version)
    # the message says how to opt in, in the terms of the version: keras 3's load_model takes safe_mode;
    # 2.x documents none, so the reference's scope is the opt-in there
    opt_in = "safe_mode=False" if version == "3" else r"API .* documents no safe_mode.*unsafe_deserialization\(\)"
    with pytest.raises(ValueError, match=r"Lambda.*" + opt_in) as e:
        hdf5.load_model(path, api_version=version)
    assert str(path) in str(e.value)
    if version == "3":
        # With the opt-in the refusal is gone; whether the reference can rebuild a Keras 2 Lambda is the engine's.
        try:
            model = hdf5.load_model(path, safe_mode=False, api_version=version)
        except Exception as e:  # noqa: BLE001
            assert "safe_mode" not in str(e)
        else:
            assert any(type(l).__name__ == "Lambda" for l in model.layers)
        return
    K = reference.keras(version)
    with pytest.raises(TypeError, match="safe_mode"):      # not a 2.x argument
        K.models.load_model(path, safe_mode=False)
    with reference.unsafe_deserialization():
        model = K.models.load_model(path)
    lam = [l for l in model.layers if type(l).__name__ == "Lambda"]
    assert len(lam) == 1       # tf.keras's extra 'module' keys are read too
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(np.asarray(lam[0](x)), x * 2)
    with pytest.raises(ValueError, match="unsafe_deserialization"):     # the scope ended with the block
        K.models.load_model(path)


def test_keras3_style_lambda_is_refused(tmp_path):
    path = _saved(tmp_path, "3")
    with h5py.File(path, "a") as f:
        mc = json.loads(hdf5._read_string_attr(f, "model_config"))
        mc["config"]["layers"][-1]["config"]["activation"] = {
            "class_name": "__lambda__", "config": {"code": "abc", "defaults": None, "closure": None}}
        f.attrs["model_config"] = json.dumps(mc).encode()
    with pytest.raises(ValueError, match="safe_mode=False"):
        hdf5.load_model(path, api_version="3")


@pytest.mark.parametrize("version", VERSIONS)
def test_model_load_weights_skip_mismatch(tmp_path, version):
    """Model.load_weights(skip_mismatch=True) reaches the loader: a layer whose shapes differ is
    skipped with a warning, the others load. Keras 2.x: only with by_name=True (engine/network.py
    "only valid when by_name=True"); keras 3.15: by topology as well."""
    K = _reference(version)
    src = _seq(K, version, compile=False)
    path = tmp_path / ("w.weights.h5" if version == "3" else "w.h5")
    hdf5.save_weights(src, path) if version != "3" else src.save_weights(str(path))

    def target():
        m = K.models.Sequential()
        m.add(K.layers.Dense(4, activation="relu", input_shape=(3,), name=src.layers[0].name))
        m.add(K.layers.Dense(3, name=src.layers[1].name))
        return m

    with pytest.raises(ValueError):
        target().load_weights(str(path))
    by_name = {} if version == "3" else {"by_name": True}
    m = target()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        m.load_weights(str(path), skip_mismatch=True, **by_name)
    _layer_equal = [np.array_equal(a, b) for a, b in zip(m.layers[0].get_weights(),
                                                           src.layers[0].get_weights())]
    assert all(_layer_equal)
    if version != "3":   # topological loading ignores skip_mismatch in 2.x
        with pytest.raises(ValueError):
            target().load_weights(str(path), skip_mismatch=True)


# ------------------------------------------------------------------------------------------------
# interop with real Keras (each in its own interpreter)
# ------------------------------------------------------------------------------------------------

def _have(module, major=None):
    spec = importlib.util.find_spec(module)
    if spec is None:
        return False
    if major is not None:
        try:
            from importlib.metadata import version
            return version(module).split(".")[0] == str(major)
        except Exception:  # noqa: BLE001
            return False
    return True


def _run(code, tmp_path, backend="jax", timeout=240):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
               JAX_PLATFORMS="cpu", PYTHONWARNINGS="ignore")
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"subprocess failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc.stdout


needs_tf_keras = pytest.mark.skipif(not _have("tf_keras"), reason="tf_keras is not installed")
needs_keras3 = pytest.mark.skipif(not _have("keras", 3), reason="keras 3 is not installed")


@pytest.fixture(scope="module")
def tf_keras_files(tmp_path_factory):
    """Run tf_keras once: write its files and load the reference's (written first)."""
    if not _have("tf_keras"):
        pytest.skip("tf_keras is not installed")
    tmp = tmp_path_factory.mktemp("tfk")
    K = _reference("2.3")
    x, y = _data(seed=3)
    np.save(tmp / "x.npy", x)
    ref_models = {}
    for version in ("2.2.4", "2.3"):
        Kv = _reference(version)
        for kind in ("seq", "fun"):
            m = _seq(Kv, version) if kind == "seq" else _functional(Kv, version)
            _fit(m)
            hdf5.save_model(m, tmp / f"ref_{version}_{kind}.h5")
            hdf5.save_weights(m, tmp / f"ref_{version}_{kind}_w.h5")
            ref_models[(version, kind)] = m
    _run("""
        import numpy as np, tf_keras as keras
        x = np.load("x.npy")
        for v in ("2.2.4", "2.3"):
            for kind in ("seq", "fun"):
                m = keras.models.load_model(f"ref_{v}_{kind}.h5")
                np.save(f"tfk_pred_{v}_{kind}.npy", m.predict(x, verbose=0))
                m2 = keras.models.clone_model(m)
                m2.load_weights(f"ref_{v}_{kind}_w.h5")
                np.save(f"tfk_predw_{v}_{kind}.npy", m2.predict(x, verbose=0))
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)), keras.layers.Dense(2)])
        m.compile(optimizer=keras.optimizers.legacy.Adam(0.01), loss="mse", metrics=["mae"])
        m.fit(x, np.ones((len(x), 2)), epochs=1, verbose=0)
        m.save("tfk_seq.h5"); m.save_weights("tfk_seq_w.h5")
        np.save("tfk_seq_pred.npy", m.predict(x, verbose=0))
        i = keras.Input((3,)); o = keras.layers.Dense(2)(keras.layers.Dense(5, activation="tanh")(i))
        f = keras.Model(i, o); f.compile(optimizer="sgd", loss="mse")
        f.save("tfk_fun.h5"); np.save("tfk_fun_pred.npy", f.predict(x, verbose=0))
        l = keras.Sequential([keras.layers.Dense(2, input_shape=(3,)), keras.layers.Lambda(lambda t: t * 2)])
        l.save("tfk_lambda.h5")
    """, tmp)
    return tmp, ref_models, x


@needs_tf_keras
@pytest.mark.parametrize("version", ["2.2.4", "2.3"])
@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_reference_file_loads_in_tf_keras(tf_keras_files, version, kind):
    tmp, models, x = tf_keras_files
    want = models[(version, kind)].predict(x)
    np.testing.assert_allclose(np.load(tmp / f"tfk_pred_{version}_{kind}.npy"), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp / f"tfk_predw_{version}_{kind}.npy"), want, rtol=1e-5, atol=1e-6)


@needs_tf_keras
@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_tf_keras_file_loads_in_reference(tf_keras_files, kind):
    tmp, _, x = tf_keras_files
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = hdf5.load_model(tmp / f"tfk_{kind}.h5", api_version="2.3")
    np.testing.assert_allclose(model.predict(x), np.load(tmp / f"tfk_{kind}_pred.npy"), rtol=1e-5, atol=1e-6)
    assert model.optimizer is not None
    if kind == "seq":
        assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
        # tf_keras' legacy Adam keeps no `vhat` slots, Keras 2.3.1's Adam does: as in Keras 2.3.1,
        # the state does not fit, a warning says so and training restarts the optimizer.
        assert any("freshly initialized optimizer" in str(w.message) for w in caught)
        model.fit(x, np.ones((len(x), 2), "float32"), epochs=1, verbose=0)
        fresh = _seq(_reference("2.3"), "2.3", compile=False)
        hdf5.load_weights(fresh, tmp / "tfk_seq_w.h5")
        np.testing.assert_allclose(fresh.predict(x), np.load(tmp / "tfk_seq_pred.npy"), rtol=1e-5, atol=1e-6)


@needs_tf_keras
def test_tf_keras_lambda_file_is_refused_unless_the_caller_opts_in(tf_keras_files):
    from keras_conformance import reference
    tmp, _, x = tf_keras_files
    with pytest.raises(ValueError, match=r"Lambda.*unsafe_deserialization\(\)"):
        hdf5.load_model(tmp / "tfk_lambda.h5", api_version="2.3")
    with reference.unsafe_deserialization():
        model = reference.keras("2.3").models.load_model(tmp / "tfk_lambda.h5", compile=False)
    # tf_keras's Lambda config (with its 'module' keys) rebuilt: the model is its Dense, doubled
    dense = np.asarray(model.layers[0](x))
    np.testing.assert_allclose(model.predict(x), dense * 2, rtol=1e-6)


@pytest.fixture(scope="module")
def keras3_files(tmp_path_factory):
    if not _have("keras", 3):
        pytest.skip("keras 3 is not installed")
    tmp = tmp_path_factory.mktemp("k3")
    x, _ = _data(seed=4)
    np.save(tmp / "x.npy", x)
    K = _reference("3")
    models = {}
    for kind in ("seq", "fun"):
        # keras 3.15.1 cannot re-compile a legacy .h5 whose loss is the alias "mse" (not even
        # one it wrote itself: "Could not deserialize 'keras.metrics.mse'"), so use the full name.
        loss = "mean_squared_error"
        m = _seq(K, "3", loss=loss) if kind == "seq" else _functional(K, "3", loss=loss)
        _fit(m)
        hdf5.save_model(m, tmp / f"ref_{kind}.h5")
        hdf5.save_weights(m, tmp / f"ref_{kind}.weights.h5")
        models[kind] = m
    _run("""
        import numpy as np, keras
        x = np.load("x.npy")
        for kind in ("seq", "fun"):
            m = keras.saving.load_model(f"ref_{kind}.h5")
            np.save(f"k3_pred_{kind}.npy", np.asarray(m.predict(x, verbose=0)))
            np.save(f"k3_optw_{kind}.npy", np.asarray(len(m.optimizer.variables)))
            m2 = keras.models.clone_model(m)
            m2.load_weights(f"ref_{kind}.weights.h5")
            np.save(f"k3_predw_{kind}.npy", np.asarray(m2.predict(x, verbose=0)))
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
        m.compile(optimizer=keras.optimizers.Adam(0.01), loss="mean_squared_error", metrics=["mae"])
        m.fit(x, np.ones((len(x), 2)), epochs=1, verbose=0)
        m.save("k3_seq.h5"); m.save_weights("k3_seq.weights.h5")
        np.save("k3_seq_pred.npy", np.asarray(m.predict(x, verbose=0)))
        i = keras.Input((3,)); o = keras.layers.Dense(2)(keras.layers.Dense(5, activation="tanh")(i))
        f = keras.Model(i, o); f.compile(optimizer="sgd", loss="mean_squared_error")
        f.save("k3_fun.h5"); np.save("k3_fun_pred.npy", np.asarray(f.predict(x, verbose=0)))
    """, tmp)
    return tmp, models, x


@needs_keras3
@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_reference_file_loads_in_keras3(keras3_files, kind):
    tmp, models, x = keras3_files
    want = models[kind].predict(x)
    np.testing.assert_allclose(np.load(tmp / f"k3_pred_{kind}.npy"), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp / f"k3_predw_{kind}.npy"), want, rtol=1e-5, atol=1e-6)


@needs_keras3
@pytest.mark.parametrize("kind", ["seq", "fun"])
def test_keras3_file_loads_in_reference(keras3_files, kind):
    tmp, _, x = keras3_files
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = hdf5.load_model(tmp / f"k3_{kind}.h5", api_version="3")
    np.testing.assert_allclose(model.predict(x), np.load(tmp / f"k3_{kind}_pred.npy"), rtol=1e-5, atol=1e-6)
    if kind == "seq":
        fresh = _seq(_reference("3"), "3", compile=False)
        hdf5.load_weights(fresh, tmp / "k3_seq.weights.h5")
        np.testing.assert_allclose(fresh.predict(x), np.load(tmp / "k3_seq_pred.npy"), rtol=1e-5, atol=1e-6)


# Three small functional models, built the same way in keras 3.15 and in the reference, every
# layer named so that name counters (global per process) do not matter: a chain with one input,
# a model built from lists (two heads), and a layer shared with a call outside the model (keras 3
# re-indexes node numbers to the nodes that belong to the model).
_V3_FUNCTIONAL_MODELS = """
def build(K):
    out = {}
    i = K.layers.Input(shape=(3,), name="x")
    h = K.layers.Dense(4, activation="relu", name="h")(i)
    out["chain"] = K.models.Model(i, K.layers.Dense(2, name="o")(h), name="chain")
    i = K.layers.Input(shape=(3,), name="a")
    h = K.layers.Dense(5, activation="tanh", name="trunk")(i)
    out["lists"] = K.models.Model([i], [K.layers.Dense(1, name="p")(h),
                                        K.layers.Dense(2, activation="softmax", name="q")(h)],
                                  name="lists")
    shared = K.layers.Dense(3, name="shared")
    shared(K.layers.Input(shape=(3,), name="elsewhere"))
    i = K.layers.Input(shape=(3,), name="b")
    out["shared"] = K.models.Model(i, K.layers.Dense(2, name="after")(shared(i)), name="shared_m")
    return out
"""


@needs_keras3
def test_keras3_functional_get_config_equals_reference(tmp_path):
    """`Model(...).get_config()` of a functional model: the reference's version 3 config is keras
    3.15's, keys, key order, nesting and the Python types (tuples for shapes and node args)."""
    K = _reference("3")
    _run(_V3_FUNCTIONAL_MODELS + """
import json, keras
class NS: pass
K = NS(); K.layers = keras.layers; K.models = keras.models
cfgs = {k: m.get_config() for k, m in build(K).items()}
json.dump({k: repr(c) for k, c in cfgs.items()}, open("repr.json", "w"))
json.dump(cfgs, open("cfg.json", "w"))
json.dump({k: m.to_json() for k, m in build(K).items()}, open("json.json", "w"))
""", tmp_path)
    want_repr = json.loads((tmp_path / "repr.json").read_text())
    want_json = json.loads((tmp_path / "json.json").read_text())
    ns = {}
    exec(_V3_FUNCTIONAL_MODELS, ns)
    models = ns["build"](K)
    for kind, model in models.items():
        config = model.get_config()
        assert repr(config) == want_repr[kind], kind
        # and the JSON of a whole model names it "Functional" with that config
        got = json.loads(model.to_json())
        want = json.loads(want_json[kind])
        assert got["class_name"] == want["class_name"] == "Functional"
        assert got["config"] == want["config"]
        # from_config rebuilds the same graph and config
        again = K.models.Model.from_config(config)
        assert repr(again.get_config()) == repr(config)


@pytest.mark.parametrize("version", VERSIONS)
def test_model_from_json_and_yaml_refuse_code_unless_the_caller_opts_in(tmp_path, version):
    """One rule for every loader: a JSON / YAML architecture carrying a Lambda is not rebuilt (its code
    would run: building the model calls the function) unless the caller opted in."""
    from keras_conformance import reference
    K = reference.keras(version)
    marker = tmp_path / "ran.txt"
    fn = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x * 2.0)[1]")  # noqa: S307 - the payload
    first = [K.Input((3,))] if version == "3" else []
    model = K.models.Sequential(first + [K.layers.Dense(2, **({} if version == "3" else {"input_shape": (3,)})),
                                         K.layers.Lambda(fn)])
    marker.unlink(missing_ok=True)
    strings = {"json": (model.to_json(), K.models.model_from_json)}
    if version != "3":
        strings["yaml"] = (model.to_yaml(), K.models.model_from_yaml)
    for kind, (text, load) in strings.items():
        with pytest.raises(ValueError, match=r"Refusing to rebuild the model of `(json|yaml)_string`: it contains "
                                             r"a Lambda layer .*unsafe_deserialization\(\)"):
            load(text)
        assert not marker.exists(), f"model_from_{kind} ran the code before refusing"
        with reference.unsafe_deserialization():
            again = load(text)
        assert marker.exists()      # opted in: the function was rebuilt and called
        x = np.ones((2, 3), "float32")
        again.set_weights(model.get_weights())
        np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-6)
        marker.unlink()             # predicting calls it too


@pytest.mark.parametrize("bad,error,says", [
    ("{not json", json.JSONDecodeError, "model_from_json: json_string is not valid JSON: Expecting property name"),
    ("[1, 2]", ValueError, "model_from_json: json_string is not a JSON model configuration"),
    (b"\x00", json.JSONDecodeError, "model_from_json: json_string is not valid JSON"),
    (42, TypeError, "model_from_json: json_string must be a str, got int"),
])
def test_model_from_json_names_its_argument_on_bad_input(bad, error, says):
    from keras_conformance import reference
    with pytest.raises(error) as e:
        reference.keras("2.3").models.model_from_json(bad)
    assert says in str(e.value)


def test_model_from_yaml_reads_with_safe_load_only():
    import yaml
    from keras_conformance import reference
    with pytest.raises(yaml.YAMLError, match="model_from_yaml: yaml_string is not valid YAML for yaml.safe_load"):
        reference.keras("2.3").models.model_from_yaml("!!python/object/apply:os.system ['echo ran']")
    with pytest.raises(ValueError, match="model_from_yaml: yaml_string is not a YAML model configuration"):
        reference.keras("2.3").models.model_from_yaml("- 1\n- 2\n")
