"""The reference's keras 3 `.keras` archive and `.weights.h5` store: the layout keras 3.15 writes, round
trips with the compiled state, files moving both ways with real keras 3, the saving API's choice of
format by file name, and the archive's safety rules (members outside the root, corrupt archives, code in
the config, interrupted saves).

Authority: keras 3.15 `keras/src/saving/saving_lib.py` (save_model / load_model, _save_state, the
zip-bomb guard) and `saving_api.py` (the names each call accepts); the layouts were read off files
keras 3.15.1 writes.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from keras_conformance import reference
from keras_conformance.reference.saving.files import SaveFileError

from test_reference_saving import _have, _run, needs_keras3


@pytest.fixture
def K():
    return reference.keras("3")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((6, 4, 3)).astype("float32"), rng.random((6, 2)).astype("float32")


def _model(K, compile=True):
    """Recurrent, wrapped and normalised layers: nested groups, own and non-trainable variables."""
    inp = K.layers.Input((4, 3), name="x")
    h = K.layers.LSTM(2, return_sequences=True, name="lstm")(inp)
    h = K.layers.Bidirectional(K.layers.GRU(2, name="gru"), name="bi")(h)
    h = K.layers.BatchNormalization(name="bn")(h)
    model = K.models.Model(inp, K.layers.Dense(2, name="out")(h), name="m")
    if compile:
        model.compile(K.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def _trained(K):
    model = _model(K)
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=3, verbose=0)
    return model, x, y


def _tree(h5):
    out = {}
    h5.visititems(lambda name, obj: out.__setitem__(name, tuple(obj.shape) if isinstance(obj, h5py.Dataset)
                                                     else dict(obj.attrs).get("name")))
    return out


# -- layout --------------------------------------------------------------------------------------

def test_archive_members_metadata_and_config(K, tmp_path):
    model, _, _ = _trained(K)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
    assert set(meta) == {"keras_version", "date_saved"} and meta["keras_version"].startswith("3.")
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras.src.models.functional", "Functional", "Functional")
    assert config["build_config"] == {"input_shape": None}
    cc = config["compile_config"]
    assert set(cc) == {"optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
                       "steps_per_execution", "jit_compile"}
    assert cc["optimizer"]["class_name"] == "Adam" and cc["optimizer"]["module"] == "keras.optimizers"
    assert (cc["loss"], cc["metrics"]) == ("mse", ["mae"])


def test_weights_store_is_the_object_tree_keras3_writes(K, tmp_path):
    model, _, _ = _trained(K)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
        tree = _tree(f)
    # read off keras 3.15.1's file of the same model (LSTM(2) on 3 features; Bidirectional(GRU(2)) on 2)
    expected_datasets = {
        "layers/lstm/cell/vars/0": (3, 8), "layers/lstm/cell/vars/1": (2, 8), "layers/lstm/cell/vars/2": (8,),
        "layers/bidirectional/forward_layer/cell/vars/0": (2, 6),
        "layers/bidirectional/forward_layer/cell/vars/1": (2, 6),
        "layers/bidirectional/forward_layer/cell/vars/2": (2, 6),
        "layers/bidirectional/backward_layer/cell/vars/0": (2, 6),
        "layers/bidirectional/backward_layer/cell/vars/1": (2, 6),
        "layers/bidirectional/backward_layer/cell/vars/2": (2, 6),
        "layers/batch_normalization/vars/0": (4,), "layers/batch_normalization/vars/1": (4,),
        "layers/batch_normalization/vars/2": (4,), "layers/batch_normalization/vars/3": (4,),
        "layers/dense/vars/0": (4, 2), "layers/dense/vars/1": (2,),
    }
    for name, shape in expected_datasets.items():
        assert tree.get(name) == shape, name
    assert tree["layers/input_layer/vars"] == "x" and tree["vars"] == "m"
    assert tree["layers/bidirectional/forward_layer/vars"] == "forward_gru"
    # Adam: iterations, learning rate, then (m, v) per trainable variable
    n_trainable = len(model.trainable_weights)
    assert sum(1 for k in tree if k.startswith("optimizer/vars/")) == 2 + 2 * n_trainable
    assert tree["optimizer/vars/0"] == () and tree["optimizer/vars/1"] == ()


# -- round trips ---------------------------------------------------------------------------------

@pytest.mark.parametrize("zipped", [True, False])
def test_round_trip_restores_weights_and_compiled_state(K, tmp_path, zipped):
    model, x, y = _trained(K)
    path = tmp_path / ("m.keras" if zipped else "m_folder")
    model.save(path, zipped=zipped)
    if not zipped:
        assert sorted(os.listdir(path)) == ["config.json", "metadata.json", "model.weights.h5"]
    loaded = K.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    # training resumes where it stopped: one more epoch on both gives the same weights
    model.fit(x, y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_compile_false_and_uncompiled_models(K, tmp_path):
    model, x, _ = _trained(K)
    model.save(tmp_path / "m.keras")
    loaded = K.models.load_model(tmp_path / "m.keras", compile=False)
    assert not loaded._is_compiled
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    bare = _model(K, compile=False)
    bare.save(tmp_path / "bare.keras")
    with zipfile.ZipFile(tmp_path / "bare.keras") as zf:
        assert "compile_config" not in json.loads(zf.read("config.json"))
    np.testing.assert_array_equal(K.models.load_model(tmp_path / "bare.keras").predict(x), bare.predict(x))


@pytest.mark.parametrize("version", ["2.3", "3"])
@pytest.mark.parametrize("custom_objects", [["Dense"], {1: object}, "Dense"])
def test_custom_objects_not_a_dict_is_the_callers_error_not_the_files(version, custom_objects, tmp_path):
    """A bad argument is refused before the file is read, as a TypeError naming it (not a SaveFileError
    blaming a good file)."""
    R = reference.keras(version)
    model = R.models.Sequential([R.layers.Dense(2, input_shape=(3,))])
    path = tmp_path / ("m.keras" if version == "3" else "m.h5")
    model.save(path)
    with pytest.raises(TypeError, match="custom_objects must be None or a dict") as info:
        R.models.load_model(path, custom_objects=custom_objects)
    assert not isinstance(info.value, SaveFileError)


def test_sequential_archive_and_weights_file(K, tmp_path):
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(4), K.layers.Dense(1)], name="s")
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).random((5, 3)).astype("float32")
    model.save(tmp_path / "s.keras")
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        config = json.loads(zf.read("config.json"))
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as f:
            tree = _tree(f)
    assert config["build_config"] == {"input_shape": [None, 3]} and config["module"] == "keras"
    assert "layers/input_layer/vars" not in tree        # keras 3's Sequential does not track its InputLayer
    assert tree["layers/dense/vars/0"] == (3, 4) and tree["layers/dense_1/vars/0"] == (4, 1)
    fresh = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(4), K.layers.Dense(1)])
    fresh.load_weights(tmp_path / "s.keras")       # load_weights reads an archive's weights too
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    model.save_weights(tmp_path / "s.weights.h5")
    fresh2 = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(4), K.layers.Dense(1)])
    fresh2.load_weights(tmp_path / "s.weights.h5")
    np.testing.assert_array_equal(fresh2.predict(x), model.predict(x))


def test_a_weights_file_of_another_architecture_is_refused_naming_the_path(K, tmp_path):
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(4)])
    model.save_weights(tmp_path / "a.weights.h5")
    other = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(5)])
    with pytest.raises(ValueError, match=r"shape \(3, 5\).*a\.weights\.h5|a\.weights\.h5.*shape"):
        other.load_weights(tmp_path / "a.weights.h5")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        other.load_weights(tmp_path / "a.weights.h5", skip_mismatch=True)
    assert any("Skipping loading" in str(w.message) for w in caught)


# -- the names each call accepts (keras 3.15 saving_api) -----------------------------------------

def test_file_names_choose_the_format(K, tmp_path):
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Invalid filepath extension.*m\.bin"):
        model.save(tmp_path / "m.bin")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`.*w\.h5"):
        model.save_weights(tmp_path / "w.h5")
    model.save(tmp_path / "m.h5")
    with open(tmp_path / "m.h5", "rb") as fh:
        assert fh.read(8) == b"\x89HDF\r\n\x1a\n"          # .h5 stays the legacy HDF5 file
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(ValueError, match=r"File format not supported.*m\.txt"):
        K.models.load_model(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"File format not supported.*m\.txt"):
        model.load_weights(tmp_path / "m.txt")


# -- safety --------------------------------------------------------------------------------------

def _rewrite(src, dst, change):
    """A copy of archive `src` with member contents changed by change(name, data) -> (name, data) | None."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            out = change(info.filename, zin.read(info))
            if out is not None:
                zout.writestr(zipfile.ZipInfo(out[0]), out[1])
        return dst


def test_member_outside_the_archive_root_is_refused(K, tmp_path):
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    for bad in ("../evil.txt", "/etc/evil", "a/../../evil", "C:\\evil"):
        dst = _rewrite(tmp_path / "m.keras", tmp_path / "bad.keras", lambda n, d: (n, d))
        with zipfile.ZipFile(dst, "a") as zf:
            zf.writestr(zipfile.ZipInfo(bad), b"x")
        with pytest.raises(SaveFileError, match=r"bad\.keras.*outside the archive root"):
            K.models.load_model(dst)
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("damage", ["not_zip", "truncated", "no_config", "config_not_json", "no_weights",
                                    "weights_not_hdf5", "hdf5_named_keras"])
def test_damaged_archives_are_refused_naming_the_file(K, tmp_path, damage):
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2)])
    good = tmp_path / "good.keras"
    model.save(good)
    bad = tmp_path / "bad.keras"
    data = good.read_bytes()
    if damage == "not_zip":
        bad.write_text("{}")
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "hdf5_named_keras":
        model.save(tmp_path / "m.h5")
        bad.write_bytes((tmp_path / "m.h5").read_bytes())
    else:
        drop = {"no_config": "config.json", "no_weights": "model.weights.h5"}.get(damage)
        garble = {"config_not_json": "config.json", "weights_not_hdf5": "model.weights.h5"}.get(damage)
        _rewrite(good, bad, lambda n, d: None if n == drop else (n, b"\x00garbage" if n == garble else d))
    with pytest.raises(SaveFileError, match=r"bad\.keras"):
        K.models.load_model(bad)


def test_code_in_the_config_needs_safe_mode_false(K, tmp_path):
    marker = tmp_path / "ran"
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Lambda(lambda t: t * 2.0)])
    model.save(tmp_path / "lam.keras")
    with zipfile.ZipFile(tmp_path / "lam.keras") as zf:
        assert "__lambda__" in zf.read("config.json").decode()
    with pytest.raises(ValueError, match=r"lam\.keras.*safe_mode=False"):
        K.models.load_model(tmp_path / "lam.keras")
    loaded = K.models.load_model(tmp_path / "lam.keras", safe_mode=False)
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(loaded.predict(x), 2 * x)
    assert not marker.exists()


_KILL_MID_SAVE = """
import sys, time, zipfile
import numpy as np
from keras_conformance import reference
K = reference.keras("3")
model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2, kernel_initializer="ones")])
writestr = zipfile.ZipFile.writestr
def slow(self, info, data, *a, **k):
    writestr(self, info, data, *a, **k)
    print("half written", flush=True)
    time.sleep(60)
zipfile.ZipFile.writestr = slow
model.save(sys.argv[1])
"""


def test_a_save_killed_half_way_leaves_the_earlier_file_intact(K, tmp_path):
    path = tmp_path / "m.keras"
    model = K.models.Sequential([K.layers.Input((3,)), K.layers.Dense(2, kernel_initializer="zeros")])
    model.save(path)
    before = path.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", _KILL_MID_SAVE, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "half written"
        temps = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert temps, "the save writes beside the target first"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert path.read_bytes() == before
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(K.models.load_model(path).predict(x), np.zeros((2, 2), "float32"))


# -- interchange with keras 3 --------------------------------------------------------------------

@needs_keras3
def test_archives_move_both_ways_with_keras3(K, tmp_path):
    model, x, y = _trained(K)
    model.save(tmp_path / "ref.keras")
    model.save_weights(tmp_path / "ref.weights.h5")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "ref_pred.npy", model.predict(x))
    _run("""
        import numpy as np, keras
        x, y = np.load("x.npy"), np.load("y.npy")
        m = keras.saving.load_model("ref.keras")
        np.save("k3_pred_of_ref.npy", np.asarray(m.predict(x, verbose=0)))
        np.save("k3_iterations.npy", np.asarray(int(m.optimizer.iterations)))
        c = keras.models.clone_model(m)
        c.load_weights("ref.weights.h5")
        np.save("k3_predw_of_ref.npy", np.asarray(c.predict(x, verbose=0)))
        m.fit(x, y, epochs=1, batch_size=3, verbose=0, shuffle=False)
        m.save("k3.keras")
        m.save_weights("k3.weights.h5")
        np.save("k3_pred.npy", np.asarray(m.predict(x, verbose=0)))
    """, tmp_path)
    want = np.load(tmp_path / "ref_pred.npy")
    np.testing.assert_allclose(np.load(tmp_path / "k3_pred_of_ref.npy"), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "k3_predw_of_ref.npy"), want, rtol=1e-5, atol=1e-6)
    assert int(np.load(tmp_path / "k3_iterations.npy")) == model.optimizer.iterations
    back = K.models.load_model(tmp_path / "k3.keras")
    np.testing.assert_allclose(back.predict(x), np.load(tmp_path / "k3_pred.npy"), rtol=1e-5, atol=1e-6)
    assert back.optimizer.iterations == model.optimizer.iterations + 2
    fresh = _model(K, compile=False)
    fresh.load_weights(tmp_path / "k3.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), np.load(tmp_path / "k3_pred.npy"), rtol=1e-5, atol=1e-6)
