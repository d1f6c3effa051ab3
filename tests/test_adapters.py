"""Tests of keras_conformance.adapters: the registry, the built-in adapters, expectations files.

Keras 3 reads its backend once per process, so every real framework is probed in its own subprocess
(all started together, once per session); everything else runs in this process without importing one.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest
import yaml

from keras_conformance import adapters
from keras_conformance.adapters import Adapter, AdapterUnavailable, ExpectationsError

FRAMEWORK_ADAPTERS = {  # name -> (backend package, module prefix of its tensors)
    "keras3-tensorflow": ("tensorflow", "tensorflow"),
    "keras3-jax": ("jax", "jax"),
    "keras3-torch": ("torch", "torch"),
    "tf_keras": ("tensorflow", "tensorflow"),
}

PROBE = textwrap.dedent(r'''
    import json, sys
    import numpy as np
    from keras_conformance import adapters

    a = adapters.resolve(sys.argv[1])
    a.configure(a.api_version)
    K = a.keras
    out = {"name": a.name, "api_version": a.api_version, "version_string": a.version_string,
           "device": a.device, "device_proof": a.device_proof(),
           "supports": {v: a.supports(v) for v in adapters.VERSIONS}}

    x = np.arange(6, dtype="float32").reshape(2, 3)
    if hasattr(K, "ops"):
        t = K.ops.convert_to_tensor(x)
    else:
        import tensorflow as tf
        t = tf.constant(x)
    out["tensor_type"] = type(t).__module__ + "." + type(t).__name__
    back = a.to_numpy(t)
    out["round_trip"] = bool(type(back) is np.ndarray and back.dtype == x.dtype and np.array_equal(back, x))
    out["list_shape"] = list(a.to_numpy([t, t]).shape)

    def draw():
        init = a.to_numpy(K.initializers.GlorotUniform()((3, 4)))
        rand = K.random.normal((5,)) if hasattr(K, "random") else K.backend.random_normal((5,))
        return init, a.to_numpy(rand), np.random.rand(2)

    a.seed(7); first = draw()
    a.seed(7); again = draw()
    a.seed(8); other = draw()
    out["same_seed_same_draws"] = [bool(np.array_equal(p, q)) for p, q in zip(first, again)]
    out["other_seed_other_draws"] = [not np.array_equal(p, q) for p, q in zip(first, other)]
    print("PROBE-RESULT " + json.dumps(out))
''')

CONFLICT = textwrap.dedent(r'''
    import json, os
    os.environ["KERAS_BACKEND"] = "jax"
    import keras
    from keras_conformance import adapters
    try:
        adapters.resolve("keras3-torch")
        out = {"message": None}
    except adapters.AdapterUnavailable as exc:
        out = {"message": exc.message, "str": str(exc)}
    print("PROBE-RESULT " + json.dumps(out))
''')


WANT_GPU = textwrap.dedent(r'''
    import json
    from keras_conformance import adapters
    a = adapters.resolve("keras3-jax")
    try:
        out = {"device": a.device, "message": None}
    except adapters.AdapterUnavailable as exc:
        out = {"device": None, "message": exc.message}
    print("PROBE-RESULT " + json.dumps(out))
''')


def _installed(module):
    return importlib.util.find_spec(module) is not None


def _probe_env():
    env = dict(os.environ, KERAS_CONFORMANCE_DEVICE="cpu", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("KERAS_BACKEND", None)  # the adapter must set it
    return env


@pytest.fixture(scope="session")
def probes():
    """Start one subprocess per framework adapter (plus the backend-conflict one), all at once."""
    jobs = {}
    for name, (package, _) in FRAMEWORK_ADAPTERS.items():
        if _installed(package):
            jobs[name] = [sys.executable, "-c", PROBE, name]
    if _installed("jax") and _installed("torch"):
        jobs["conflict"] = [sys.executable, "-c", CONFLICT]
    if _installed("jax"):
        jobs["want-gpu"] = [sys.executable, "-c", WANT_GPU]
    running = {}
    for name, cmd in jobs.items():
        env = _probe_env()
        if name == "want-gpu":
            env[adapters.DEVICE_ENV] = "gpu"
        running[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    results, deadline = {}, time.monotonic() + 600
    for name, proc in running.items():
        try:
            stdout, stderr = proc.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        lines = [line for line in stdout.splitlines() if line.startswith("PROBE-RESULT ")]
        results[name] = (json.loads(lines[-1][len("PROBE-RESULT "):]) if lines
                         else {"error": f"exit {proc.returncode}\n{stdout[-3000:]}\n{stderr[-3000:]}"})
    return results


def _probe(probes, name):
    if name not in probes:
        pytest.skip(f"{FRAMEWORK_ADAPTERS[name][0]} is not installed")
    result = probes[name]
    assert "error" not in result, result.get("error")
    return result


# ---------------------------------------------------------------------------------------------------
# Built-in framework adapters, each in its own process
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(FRAMEWORK_ADAPTERS))
def test_framework_adapter_identity(probes, name):
    r = _probe(probes, name)
    package = FRAMEWORK_ADAPTERS[name][0]
    if name == "tf_keras":
        expected = f"tf_keras {importlib.metadata.version('tf_keras')} / tensorflow {importlib.metadata.version('tensorflow')}"
        assert r["api_version"] == "2.3"
        assert r["supports"] == {"2.2.4": False, "2.3": True, "3": False}
    else:
        expected = f"keras {importlib.metadata.version('keras')} / {package} {importlib.metadata.version(package)}"
        assert r["api_version"] == "3"
        assert r["supports"] == {"2.2.4": False, "2.3": False, "3": True}
    assert r["name"] == name
    assert r["version_string"] == expected


@pytest.mark.parametrize("name", list(FRAMEWORK_ADAPTERS))
def test_framework_adapter_runs_on_forced_cpu(probes, name):
    r = _probe(probes, name)
    assert r["device"] == "cpu"
    assert "cpu" in r["device_proof"].lower(), r["device_proof"]


@pytest.mark.parametrize("name", list(FRAMEWORK_ADAPTERS))
def test_framework_adapter_to_numpy_round_trip(probes, name):
    r = _probe(probes, name)
    assert r["tensor_type"].startswith(FRAMEWORK_ADAPTERS[name][1]), r["tensor_type"]  # a real backend tensor
    assert r["round_trip"]
    assert r["list_shape"] == [2, 2, 3]


@pytest.mark.parametrize("name", list(FRAMEWORK_ADAPTERS))
def test_framework_adapter_seed_reproducible(probes, name):
    r = _probe(probes, name)
    assert r["same_seed_same_draws"] == [True, True, True]  # initializer, framework random, numpy
    assert r["other_seed_other_draws"] == [True, True, True]


def test_keras3_refuses_a_second_backend_in_one_process(probes):
    if "conflict" not in probes:
        pytest.skip("needs jax and torch")
    r = probes["conflict"]
    assert "error" not in r, r.get("error")
    assert r["message"] == r["str"]
    assert "\n" not in r["message"]
    assert "keras3-torch" in r["message"] and "jax backend" in r["message"]
    assert "one backend per process" in r["message"]


def test_gpu_demanded_but_absent_is_one_line(probes):
    if "want-gpu" not in probes:
        pytest.skip("needs jax")
    r = probes["want-gpu"]
    assert "error" not in r, r.get("error")
    if r["device"] == "gpu":
        return  # a machine where jax sees a GPU: the demand is met
    assert "\n" not in r["message"]
    assert "KERAS_CONFORMANCE_DEVICE=gpu but the implementation runs on cpu" in r["message"]


# ---------------------------------------------------------------------------------------------------
# The reference adapter
# ---------------------------------------------------------------------------------------------------

def test_reference_adapter_versions():
    a = adapters.resolve("reference")
    assert a.name == "reference" and a.api_version == "3"
    assert all(a.supports(v) for v in adapters.VERSIONS)
    package_version = importlib.metadata.version("keras-conformance")
    for version in adapters.VERSIONS:
        a.configure(version)
        assert a.active_version == version
        assert a.version_string == f"keras-conformance reference {package_version} (API {version})"
    with pytest.raises(ValueError, match="known versions are 2.2.4, 2.3, 3"):
        a.configure("2.4")


def test_reference_adapter_device_numpy_seed():
    a = adapters.resolve("reference")
    assert a.device == "cpu"
    assert "CPU" in a.device_proof()
    assert a.to_numpy([[1, 2], [3, 4]]).shape == (2, 2)
    try:
        from keras_conformance.reference.autodiff import Tensor
    except ImportError:
        Tensor = None
    if Tensor is not None:
        x = np.arange(3, dtype="float32")
        back = a.to_numpy(Tensor(x))
        assert type(back) is np.ndarray and np.array_equal(back, x)
    from keras_conformance.reference import backend

    a.seed(5)
    first = (np.random.rand(3), backend.rng().random(3))
    a.seed(5)
    again = (np.random.rand(3), backend.rng().random(3))
    assert all(np.array_equal(p, q) for p, q in zip(first, again))


def test_reference_adapter_namespace_follows_configured_version():
    from keras_conformance import reference

    if not hasattr(reference, "keras"):
        pytest.skip("keras_conformance.reference.keras(version) is not written yet")
    a = adapters.resolve("reference")
    a.configure("2.2.4")
    old = a.keras
    a.configure("3")
    new = a.keras
    assert old is not new
    assert hasattr(new, "layers") and hasattr(new, "models")


def test_reference_adapter_without_namespace_is_one_line(monkeypatch):
    from keras_conformance import reference

    monkeypatch.delattr(reference, "keras", raising=False)
    with pytest.raises(AdapterUnavailable) as info:
        adapters.resolve("reference").keras
    assert "\n" not in info.value.message and "reference.keras" in info.value.message


# ---------------------------------------------------------------------------------------------------
# Registry: unknown names, missing packages, third parties
# ---------------------------------------------------------------------------------------------------

def test_available_adapters_lists_builtins():
    assert adapters.available_adapters()[:5] == [
        "reference", "keras3-tensorflow", "keras3-jax", "keras3-torch", "tf_keras"]


def test_versions_match_spec():
    from keras_conformance import spec

    if not hasattr(spec, "VERSIONS"):
        pytest.skip("keras_conformance.spec.VERSIONS is not written yet")
    assert adapters.VERSIONS == tuple(spec.VERSIONS)


def test_unknown_adapter_is_one_line_naming_known_ones():
    with pytest.raises(AdapterUnavailable) as info:
        adapters.resolve("keras4-numpy")
    message = info.value.message
    assert str(info.value) == message and "\n" not in message
    assert "unknown adapter 'keras4-numpy'" in message
    for name in adapters.BUILTIN_ADAPTERS:
        assert name in message


def _hide(monkeypatch, *hidden):
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] in hidden else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_missing_backend_is_one_line_with_pip_command(monkeypatch):
    _hide(monkeypatch, "jax")
    before = {k: os.environ.get(k) for k in ("KERAS_BACKEND", "CUDA_VISIBLE_DEVICES", "JAX_PLATFORMS")}
    with pytest.raises(AdapterUnavailable) as info:
        adapters.resolve("keras3-jax")
    assert info.value.message == (
        "adapter 'keras3-jax' needs jax, which is not installed: pip install \"keras-conformance[keras3-jax]\"")
    assert str(info.value) == info.value.message
    after = {k: os.environ.get(k) for k in before}
    assert after == before  # nothing was set before the check


def test_missing_packages_are_all_named(monkeypatch):
    _hide(monkeypatch, "keras", "torch")
    with pytest.raises(AdapterUnavailable, match=r"needs keras and torch, which are not installed: "
                                                 r"pip install \"keras-conformance\[keras3-torch\]\""):
        adapters.resolve("keras3-torch")
    _hide(monkeypatch, "tf_keras")
    with pytest.raises(AdapterUnavailable, match=r"'tf_keras' needs tf_keras, .*\[tf_keras\]"):
        adapters.resolve("tf_keras")


def test_bad_device_setting_is_one_line(monkeypatch):
    monkeypatch.setenv(adapters.DEVICE_ENV, "tpu")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    with pytest.raises(AdapterUnavailable, match="KERAS_CONFORMANCE_DEVICE='tpu' is not one of cpu, gpu, auto"):
        adapters.resolve("keras3-jax")
    assert "KERAS_BACKEND" not in os.environ


THIRD_PARTY = '''
import types
from keras_conformance.adapters import Adapter


class MyAdapter(Adapter):
    api_version = "2.3"
    supported_versions = ("2.3",)

    def load_keras(self):
        return types.SimpleNamespace(__version__="9.9", layers="my layers")

    @property
    def version_string(self):
        return "mykeras 9.9"


def factory():
    return MyAdapter()


def factory_named():
    adapter = MyAdapter()
    adapter.name = "mykeras"
    return adapter


def not_an_adapter():
    return 42


def broken():
    raise RuntimeError("license server down")
'''


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    module = f"kc_third_party_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(THIRD_PARTY)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield module
    sys.modules.pop(module, None)


def test_third_party_module_factory(third_party):
    a = adapters.resolve(f"{third_party}:factory")
    assert isinstance(a, Adapter)
    assert a.name == f"{third_party}:factory"  # unnamed adapters are named after how they were given
    assert a.api_version == "2.3" and a.supports("2.3") and not a.supports("3")
    assert a.keras.layers == "my layers" and a.keras is a.keras
    assert a.version_string == "mykeras 9.9"
    assert a.device == "cpu" and a.expectations("2.3") == {}
    assert adapters.resolve(f"{third_party}:factory_named").name == "mykeras"


def test_third_party_factory_returning_non_adapter(third_party):
    with pytest.raises(AdapterUnavailable) as info:
        adapters.resolve(f"{third_party}:not_an_adapter")
    message = info.value.message
    assert "\n" not in message
    assert "factory returned int (42), not a keras_conformance.adapters.Adapter" in message


@pytest.mark.parametrize("target, fragment", [
    (":broken", "its factory raised RuntimeError: license server down"),
    (":missing", "has no attribute 'missing'"),
])
def test_third_party_errors_are_one_line(third_party, target, fragment):
    with pytest.raises(AdapterUnavailable) as info:
        adapters.resolve(third_party + target)
    assert fragment in info.value.message and "\n" not in info.value.message


def test_third_party_module_not_found():
    with pytest.raises(AdapterUnavailable, match="cannot import module 'no_such_pkg_kc.mod': ModuleNotFoundError"):
        adapters.resolve("no_such_pkg_kc.mod:factory")


def test_entry_point_adapter(third_party, monkeypatch):
    ep = importlib.metadata.EntryPoint(name="mykeras-ep", value=f"{third_party}:factory",
                                       group=adapters.ENTRY_POINT_GROUP)
    real = importlib.metadata.entry_points

    def entry_points(**kwargs):
        if kwargs.get("group") == adapters.ENTRY_POINT_GROUP:
            return importlib.metadata.EntryPoints([ep])
        return real(**kwargs)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert "mykeras-ep" in adapters.available_adapters()
    a = adapters.resolve("mykeras-ep")
    assert a.name == "mykeras-ep" and a.version_string == "mykeras 9.9"
    with pytest.raises(AdapterUnavailable, match="mykeras-ep"):
        adapters.resolve("nothing-registered")


# ---------------------------------------------------------------------------------------------------
# Expectations files
# ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(adapters.BUILTIN_ADAPTERS))
def test_builtin_expectations_files_load(name):
    path = adapters.expectations_path(name)
    assert path.is_file()
    for version in adapters.VERSIONS:
        loaded = adapters.load_expectations(path, version)
        assert all(isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in loaded.items())


def test_adapter_expectations_come_from_its_file(tmp_path, monkeypatch):
    (tmp_path / "reference.yaml").write_text(
        "# header\n2.3:\n  test_signature[Model.fit]: https://example.org/issue/1\n3: {}\n")
    monkeypatch.setattr(adapters, "EXPECTATIONS_DIR", tmp_path)
    a = adapters.resolve("reference")
    assert a.expectations("2.3") == {"test_signature[Model.fit]": "https://example.org/issue/1"}
    assert a.expectations("3") == {} and a.expectations("2.2.4") == {}
    a.configure("2.3")
    assert a.expectations() == a.expectations("2.3")


def test_missing_expectations_file_is_empty(tmp_path):
    assert adapters.load_expectations(tmp_path / "nope.yaml", "3") == {}


def test_missing_builtin_expectations_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr(adapters, "EXPECTATIONS_DIR", tmp_path)  # as if installed without package data
    with pytest.raises(ExpectationsError, match="reference.yaml: missing"):
        adapters.resolve("reference").expectations("3")


@pytest.mark.parametrize("text, fragment", [
    ("- a\n- b\n", "expected a mapping of API version"),
    ("'4':\n  x: y\n", "unknown API version '4'"),
    ("'3':\n  test_x: ''\n", "test_x: the reason must be a non-empty string"),
    ("'3': [unclosed\n", "not valid YAML"),
])
def test_malformed_expectations_name_the_file(tmp_path, text, fragment):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ExpectationsError) as info:
        adapters.load_expectations(path, "3")
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_stale_expectations():
    expected = {"test_a[x]": "r1", "test_b[y]": "r2", "test_c[z]": "r3"}
    assert adapters.stale_expectations(expected, ["test_a[x]", "test_c[z]", "test_d[w]"]) == {"test_b[y]": "r2"}
    assert adapters.stale_expectations(expected, iter(expected)) == {}


def test_update_expectations_round_trip(tmp_path):
    path = tmp_path / "impl.yaml"
    path.write_text(
        "# My header, kept.\n"
        "2.3:\n  test_signature[Model.fit]: 'https://example.org/2.3-only'\n"
        "3:\n  test_signature[Model.compile]: 'https://github.com/keras-team/keras/issues/1'\n"
        "  test_numerics[layers.Dense]: 'fixed upstream'\n")
    failed = {
        "test_signature[Model.compile]": "AssertionError: default differs",
        "test_errors[Model.fit]": "AssertionError: expected ValueError\nlong traceback\n...",
    }
    new = adapters.update_expectations(path, "3", failed)
    assert new == {
        "test_errors[Model.fit]": "AssertionError: expected ValueError",  # new: first line of the failure
        "test_signature[Model.compile]": "https://github.com/keras-team/keras/issues/1",  # reason kept
    }  # test_numerics[layers.Dense] passes now: dropped
    text = path.read_text()
    assert text.startswith("# My header, kept.\n")
    assert yaml.safe_load(text)  # still plain YAML
    assert adapters.load_expectations(path, "3") == new
    assert adapters.load_expectations(path, "2.3") == {"test_signature[Model.fit]": "https://example.org/2.3-only"}
    assert not (tmp_path / "impl.yaml.tmp").exists()


def test_update_expectations_partial_run_keeps_unseen(tmp_path):
    path = tmp_path / "impl.yaml"
    path.write_text("'3':\n  test_a[x]: r1\n  test_b[y]: r2\n")
    new = adapters.update_expectations(path, "3", {}, seen=["test_a[x]"])
    assert new == {"test_b[y]": "r2"}  # test_a passed in this run; test_b was not run


def test_update_expectations_creates_file(tmp_path):
    path = tmp_path / "new.yaml"
    adapters.update_expectations(path, "2.2.4", {"test_x[y]": "boom"})
    assert path.read_text().startswith("#")
    assert adapters.load_expectations(path, "2.2.4") == {"test_x[y]": "boom"}
    adapters.update_expectations(path, "2.2.4", {})
    assert adapters.load_expectations(path, "2.2.4") == {}
    assert yaml.safe_load(path.read_text()) == {}


def test_expectation_match_names_the_deviation():
    e = adapters.Expectation("two causes", ["verbose.* 'auto'", r"\*\*kwargs is not accepted"])
    msg = ("Model.fit: parameter 'verbose' default is 'auto', documented 1 (seed 001); documented **kwargs is "
           "not accepted (seed 001 (argument list; not on the printed signature line))\nreproducer:\n...")
    assert e == "two causes" and e.mismatch(msg, "signatures") is None
    assert "no longer matches" in e.mismatch("Model.fit: parameter 'verbose' default is 'auto', documented 1",
                                             "signatures")
    new = msg.replace("\nreproducer", "; missing documented parameter 'epochs' (documented default 1)\nreproducer")
    assert "no pattern covers" in e.mismatch(new, "signatures")
    assert adapters.Expectation("no patterns").mismatch("anything") is None


def test_expectations_with_match_round_trip(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text("'2.3':\n  test_x[a]: {reason: why, match: ['p.q']}\n  test_y[b]: plain reason\n")
    loaded = adapters.load_expectations(path, "2.3")
    assert loaded["test_x[a]"] == "why" and loaded["test_x[a]"].match == ("p.q",)
    assert loaded["test_y[b]"].match == ()
    adapters.update_expectations(path, "2.3", {"test_x[a]": "msg", "test_z[c]": "new failure"})
    again = adapters.load_expectations(path, "2.3")
    assert again["test_x[a]"].match == ("p.q",) and "test_y[b]" not in again and again["test_z[c]"] == "new failure"
    path.write_text("'2.3':\n  test_x[a]: {reason: why, match: ['(']}\n")
    with pytest.raises(adapters.ExpectationsError, match="not a regular expression"):
        adapters.load_expectations(path, "2.3")


def test_tensorflow_environment_turns_onednn_on_unless_the_user_chose(monkeypatch):
    """Without oneDNN, TensorFlow's CPU kernels refuse channels_first convolutions on some CPUs and compute
    them on others: the TensorFlow adapters ask for it, so verdicts do not depend on the machine."""
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    adapters.tensorflow_environment()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "1"
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    adapters.tensorflow_environment()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
