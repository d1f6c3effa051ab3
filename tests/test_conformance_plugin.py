"""The conformance suite end to end, through its JSON report (the interface the mutant suite builds on).

Each run is a subprocess: ``python3 -m pytest <conformance dir> --adapter ... --report-json ...``.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _suite import _env, by_id, run_suite
from keras_conformance.conformance.signatures import compare, defaults_equal


# (that the reference conforms in every version, up to every check passing, is
# tests/test_certification.py's test_certifies_up_to_declared_deviations[reference-*], which also checks that a
# full reference run holds the checks of every category, NEW_CHECKS among them)


# -- a third-party adapter that breaks one documented default ---------------------------------------------
BROKEN_ADAPTER = '''
import inspect, types
from keras_conformance.adapters.reference import ReferenceAdapter

class Broken(ReferenceAdapter):
    name = "broken"
    expectations_file = {expectations!r}

    def load_keras(self):
        K = super().load_keras()
        Base = K.models.Model
        sig = inspect.signature(Base.fit)
        params = [p.replace(default=2) if p.name == "verbose" else p for p in sig.parameters.values()]

        def fit(self, *args, **kwargs):
            return Base.fit(self, *args, **kwargs)

        fit.__signature__ = sig.replace(parameters=params)
        Model = type("Model", (Base,), {{"fit": fit}})
        models = types.SimpleNamespace(**{{n: getattr(K.models, n) for n in dir(K.models) if not n.startswith("_")}})
        models.Model = Model
        if {break_compile!r}:
            def compile(self, *args, **kwargs):
                raise TypeError("compile is broken in this build")
            models.Sequential = type("Sequential", (K.models.Sequential,), {{"compile": compile}})
        ns = types.SimpleNamespace(**{{n: getattr(K, n) for n in dir(K) if not n.startswith("__")}})
        ns.models = models
        return ns

def factory():
    return Broken()
'''


def _write_adapter(tmp_path, expectations=None, break_compile=False):
    pkg = tmp_path / "thirdparty"
    pkg.mkdir()
    exp = None
    if expectations is not None:
        exp = str(tmp_path / "expectations.yaml")
        Path(exp).write_text(json.dumps(expectations))   # JSON is YAML
    (pkg / "broken_adapter.py").write_text(BROKEN_ADAPTER.format(expectations=exp, break_compile=break_compile))
    return pkg


def test_third_party_adapter_wrong_default_fails_readably(tmp_path):
    pkg = _write_adapter(tmp_path)
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "-k", "test_signature", extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    fit = checks["test_signature[Model.fit]"]
    assert fit["outcome"] == "failed"
    assert "Model.fit: parameter 'verbose' default is 2, documented 1" in fit["message"], fit["message"]
    assert "inspect.signature" in fit["reproducer"]
    others = {i: c["outcome"] for i, c in checks.items() if i != "test_signature[Model.fit]"}
    assert set(others.values()) == {"passed"}, others
    assert proc.returncode == 1


def test_broken_compile_blocks_dependents_once(tmp_path):
    pkg = _write_adapter(tmp_path, break_compile=True)
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "-k", "not test_signature", "--examples", "1", extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    probe = checks["test_capability[Model.compile]"]
    assert probe["outcome"] == "failed" and "compile is broken in this build" in probe["message"]
    assert checks["test_capability[Model.train_on_batch]"]["outcome"] == "skipped"
    blocked = [c for c in data["checks"] if c["message"].startswith("blocked by Model.compile: TypeError")]
    assert {c["id"] for c in blocked} >= {"test_gradient[Model.train_on_batch]", "test_numerics[optimizers.Adam]",
                                          "test_raises[Model.fit-ValueError-sample_count_mismatch]"}
    assert all(c["outcome"] == "skipped" for c in blocked)
    assert checks["test_numerics[layers.Dense]"]["outcome"] == "passed"   # needs no compile
    # compile's own documented errors cannot be judged on a compile that always raises
    for cid in ("test_raises[Model.compile-ValueError-invalid_loss]",
                "test_raises[Model.compile-ValueError-invalid_optimizer]"):
        assert checks[cid]["outcome"] == "skipped", checks[cid]
        assert checks[cid]["message"].startswith("blocked by Model.compile"), checks[cid]
    failing = [c["id"] for c in data["checks"] if c["outcome"] in ("failed", "crashed")]
    assert "test_capability[Model.compile]" in failing


def test_expectations_xfail_strict_and_stale(tmp_path):
    pkg = _write_adapter(tmp_path, {"2.3": {
        "test_signature[Model.fit]": "verbose default changed on purpose",
        "test_signature[Model.evaluate]": "claimed broken, but it is not",
        "test_signature[Model.no_such_method]": "an entry that matches nothing",
    }})
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "-k", "test_signature", extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    assert checks["test_signature[Model.fit]"]["outcome"] == "expected-fail"
    assert checks["test_signature[Model.evaluate]"]["outcome"] == "unexpected-pass"
    assert list(data["stale_expectations"]) == ["test_signature[Model.no_such_method]"]
    assert "stale expectation" in proc.stdout
    assert proc.returncode == 1          # the unexpected pass fails the run


def test_quick_run_reports_an_unreached_deviation_passed_with_a_note(tmp_path):
    """Under --examples (a quick run) a declared deviation that does not show is not a failure: the check is
    passed, and its message says it was declared; a failing declared check stays an expected failure."""
    pkg = _write_adapter(tmp_path, {"2.3": {
        "test_signature[Model.fit]": "verbose default changed on purpose",
        "test_signature[Model.evaluate]": "data-dependent, not reached by few examples",
    }})
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "--examples", "2", "-k", "test_signature[Model.fit] or test_signature[Model.evaluate]",
                           extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    assert checks["test_signature[Model.fit]"]["outcome"] == "expected-fail"
    evaluate = checks["test_signature[Model.evaluate]"]
    assert evaluate["outcome"] == "passed", evaluate
    assert "not reached on the examples of this quick run" in evaluate["message"], evaluate["message"]
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_layer_shards_partition_the_families(tmp_path):
    """--layer-shard K/N runs the layer families whose index (name order) is K modulo N, and the report lists
    the classes left out: the N shards together run every layer class once; a bad K/N is a usage error."""
    from keras_conformance import spec
    layers = {i.name for i in spec.load("2.3").items() if i.is_layer and i.area.startswith("layers/")}
    ran = []
    for k in range(3):
        proc, data = run_suite(tmp_path, "--adapter", "reference", "--api-version", "2.3", "--layer-shard",
                               f"{k}/3", "-k", "test_signature", "--allow-untested")
        assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert f"shard {k}/3" in proc.stdout
        items = {c["item"] for c in data["checks"]} & layers
        assert items and not items & set(data["layers_sampled_out"])
        assert items | set(data["layers_sampled_out"]) == layers
        ran.append(items)
    assert set().union(*ran) == layers and sum(len(r) for r in ran) == len(layers)
    proc, _ = run_suite(tmp_path, "--adapter", "reference", "--layer-shard", "3/3", "-k", "test_signature")
    assert proc.returncode == 4 and "--layer-shard" in proc.stdout + proc.stderr


def test_expectation_with_match_covers_only_its_deviation(tmp_path):
    """An entry that names its deviation (`match`) keeps the check an expected failure while it fails that
    way; a failure the patterns do not cover (a different default, a new problem) is reported failed."""
    pkg = _write_adapter(tmp_path, {"2.3": {
        "test_signature[Model.fit]": {"reason": "verbose default changed on purpose",
                                      "match": ["parameter 'verbose' default is 2, documented 1"]},
        "test_signature[Model.compile]": {"reason": "declared for another deviation than the one it has",
                                          "match": ["parameter 'verbose' default is 3"]},
    }})
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "-k", "test_signature[Model.fit] or test_signature[Model.compile]", extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    assert checks["test_signature[Model.fit]"]["outcome"] == "expected-fail", checks["test_signature[Model.fit]"]
    # compile conforms in this adapter: its entry is an unexpected pass, not hidden by the patterns
    assert checks["test_signature[Model.compile]"]["outcome"] == "unexpected-pass"
    # the same deviation declared with patterns it no longer matches: a failure that says so
    (tmp_path / "thirdparty").rename(tmp_path / "old")
    pkg = _write_adapter(tmp_path, {"2.3": {
        "test_signature[Model.fit]": {"reason": "an older deviation", "match": ["default is 3, documented 1"]}}})
    proc, data = run_suite(tmp_path, "--adapter", "broken_adapter:factory", "--api-version", "2.3",
                           "-k", "test_signature[Model.fit]", extra_path=pkg)
    fit = by_id(data)["test_signature[Model.fit]"]
    assert fit["outcome"] == "failed", fit
    assert "not as declared" in fit["message"] and "default is 2, documented 1" in fit["message"], fit["message"]
    assert proc.returncode == 1


def test_unknown_adapter_is_one_line_usage_error(tmp_path):
    proc, data = run_suite(tmp_path, "--adapter", "no_such_adapter")
    assert proc.returncode not in (0, 1)
    err = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(err) == 1 and "unknown adapter 'no_such_adapter'" in err[0], err
    assert "Traceback" not in proc.stderr


def test_cli_unknown_adapter_exit_2():
    proc = subprocess.run([sys.executable, "-m", "keras_conformance", "--adapter", "no_such_adapter"],
                          capture_output=True, text=True, env=_env())
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "no_such_adapter" in proc.stderr


# -- each safety / round-trip check can fail: a third-party adapter with those behaviours broken -------------
NEW_CHECKS = ("test_safety[models.load_model-code]", "test_safety[models.load_model-truncated]",
              "test_safety[models.load_model-not_hdf5]", "test_safety[Model.save-interrupted]",
              "test_config_roundtrip[Model.get_config]", "test_config_roundtrip[Model.to_json]",
              "test_config_roundtrip[Model.to_yaml]", "test_load_weights_by_name[Model.load_weights]",
              "test_resume_training[Model.save]")

MUTANT_ADAPTER = '''
import codecs, errno, json, marshal, os, types
import h5py
from keras_conformance.adapters.reference import ReferenceAdapter
from keras_conformance.reference.saving.hdf5 import SaveFileError


class Mutant(ReferenceAdapter):
    name = "mutant"

    def load_keras(self):
        K = super().load_keras()
        real_load, Base = K.models.load_model, K.models.Sequential
        real_json, real_yaml = K.models.model_from_json, K.models.model_from_yaml

        def run_carried_code(filepath):          # an unsafe loader: it runs a Lambda's bytecode
            try:
                with h5py.File(filepath, "r") as f:
                    cfg = json.loads(f.attrs["model_config"])
            except (OSError, KeyError, ValueError):
                return
            for layer in cfg["config"]["layers"]:
                if layer["class_name"] == "Lambda":
                    raw = codecs.decode(layer["config"]["function"][0].encode("ascii"), "base64")
                    types.FunctionType(marshal.loads(raw), {"open": open})(0)

        def load_model(filepath, custom_objects=None, compile=True):
            run_carried_code(filepath)
            try:
                model = real_load(filepath, custom_objects=custom_objects, compile=compile)
            except SaveFileError:                 # an errno string only: not a clear error
                raise OSError(errno.EIO, os.strerror(errno.EIO)) from None
            if compile and getattr(model, "optimizer", None) is not None:   # optimizer state dropped
                opt = model.optimizer
                model.compile(optimizer=type(opt).from_config(opt.get_config()), loss=model.loss)
            return model

        class Sequential(Base):
            def save(self, filepath, *args, **kwargs):
                open(filepath, "wb").close()      # not atomic: empties the target first
                return Base.save(self, filepath, *args, **kwargs)

            def load_weights(self, filepath, by_name=False, **kwargs):
                if by_name:
                    return None                   # by_name=True silently loads nothing
                return Base.load_weights(self, filepath, **kwargs)

            @classmethod
            def from_config(cls, config, custom_objects=None):
                config = {k: v for k, v in config.items() if k != "name"}   # the model's name is lost
                return Base.from_config(config)

        models = types.SimpleNamespace(**{n: getattr(K.models, n) for n in dir(K.models) if not n.startswith("_")})
        models.Sequential, models.load_model = Sequential, load_model
        models.model_from_json = lambda text, custom_objects=None: Sequential.from_config(real_json(text).get_config())
        models.model_from_yaml = lambda text, custom_objects=None: Sequential.from_config(real_yaml(text).get_config())
        ns = types.SimpleNamespace(**{n: getattr(K, n) for n in dir(K) if not n.startswith("__")})
        ns.models = models
        return ns


def factory():
    return Mutant()
'''


def test_safety_and_roundtrip_checks_catch_a_broken_implementation(tmp_path):
    pkg = tmp_path / "thirdparty"
    pkg.mkdir()
    (pkg / "mutant_adapter.py").write_text(MUTANT_ADAPTER)
    proc, data = run_suite(tmp_path, "--adapter", "mutant_adapter:factory", "--api-version", "2.3", "-k",
                           "test_safety or test_config_roundtrip or test_load_weights_by_name or test_resume",
                           extra_path=pkg)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = by_id(data)
    expected = {
        "test_safety[models.load_model-code]": "ran the code the file carries",
        "test_safety[models.load_model-truncated]": "[Errno 5] Input/output error: not a clear error",
        "test_safety[models.load_model-not_hdf5]": "[Errno 5] Input/output error: not a clear error",
        "test_safety[Model.save-interrupted]": "an interrupted Model.save destroyed the existing file",
        "test_config_roundtrip[Model.get_config]": "config['name']",
        "test_config_roundtrip[Model.to_json]": "the configuration changed in the round trip",
        "test_config_roundtrip[Model.to_yaml]": "the configuration changed in the round trip",
        "test_load_weights_by_name[Model.load_weights]": "dense_1 kernel (loaded by name)",
        "test_resume_training[Model.save]": "the loaded optimizer has 0 state arrays, the saved one 7",
    }
    assert set(expected) == set(NEW_CHECKS)
    for cid, fragment in expected.items():
        c = checks[cid]
        assert c["outcome"] == "failed", (cid, c["outcome"], c["message"][:1500])
        assert fragment in c["message"], (cid, c["message"][:1500])
        assert c["reproducer"].startswith("import numpy as np"), (cid, c["reproducer"])
    assert proc.returncode == 1


def test_tolerances_used_collected_from_xdist_workers(tmp_path):
    proc, data = run_suite(tmp_path, "--adapter", "reference", "--api-version", "2.3", "-n", "2",
                           "-k", "test_numerics or test_signature", "--examples", "1")
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    per_check = set().union(*(c["tolerances"] for c in data["checks"]))
    assert per_check and set(data["tolerances"]) == per_check, (data["tolerances"], per_check)
    assert "float32/cpu/roundtrip" not in data["tolerances"]      # no round trip ran
    proc, data = run_suite(tmp_path, "--adapter", "reference", "--api-version", "2.3", "-n", "2",
                           "-k", "test_signature")
    assert data["tolerances"] == {} and "tolerances used: none" in proc.stdout


def test_cli_writes_report(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "keras_conformance", "--api-version", "3", "--report-dir",
                           str(tmp_path / "reports"), "--", "-k", "test_signature"],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / "reports" / "reference-3.json").read_text())
    assert data["api_version"] == "3" and data["totals"].get("passed", 0) > 0
    assert "<!DOCTYPE html>" in (tmp_path / "reports" / "reference-3.html").read_text()
    assert "keras-conformance summary" in proc.stdout


def test_plugin_inert_outside_conformance(tmp_path):
    (tmp_path / "test_plain.py").write_text(textwrap.dedent("""
        import sys
        def test_no_heavy_imports():
            heavy = [m for m in ("keras", "tensorflow", "jax", "torch", "tf_keras",
                                 "keras_conformance.reference", "keras_conformance.adapters")
                     if m in sys.modules]
            assert not heavy, heavy
    """))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--adapter",
                           "no_such_adapter", str(tmp_path / "test_plain.py")],
                          capture_output=True, text=True, env=_env(), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "keras-conformance" not in proc.stdout


# -- the signature comparison itself ----------------------------------------------------------------------
def _sig(fn):
    import inspect
    return inspect.signature(fn)


def test_compare_rules():
    def doc(x, y=None, verbose=1, rate=0, *, flag=False, **kwargs): ...
    assert compare(_sig(doc), _sig(doc)) == []

    def int_float(x, y=None, verbose=1, rate=0.0, *, flag=False, **kwargs): ...
    assert compare(_sig(doc), _sig(int_float)) == []

    def auto(x, y=None, verbose="auto", rate=0, *, flag=False, **kwargs): ...
    assert compare(_sig(doc), _sig(auto), default_source="seed 001") == [
        "parameter 'verbose' default is 'auto', documented 1 (seed 001)"]

    def absorbed(x, y=None, rate=0, *, flag=False, **kwargs): ...
    (msg,) = compare(_sig(doc), _sig(absorbed))
    assert msg.startswith("missing documented parameter 'verbose'") and "**kwargs" in msg

    def reordered(y=None, x=None, verbose=1, rate=0, *, flag=False, **kwargs): ...
    assert any("positional order" in m for m in compare(_sig(doc), _sig(reordered)))

    def kwonly(x, *, y=None, verbose=1, rate=0, flag=False, **kwargs): ...
    assert any("'y' is keyword-only" in m for m in compare(_sig(doc), _sig(kwonly)))

    def no_kwargs(x, y=None, verbose=1, rate=0, *, flag=False): ...
    assert any("**kwargs" in m for m in compare(_sig(doc), _sig(no_kwargs)))

    def extra_required(x, z, y=None, verbose=1, rate=0, *, flag=False, **kwargs): ...
    assert any("undocumented required parameter 'z'" in m for m in compare(_sig(doc), _sig(extra_required)))

    def required_y(x, y, verbose=1, rate=0, *, flag=False, **kwargs): ...
    assert any("'y' is required, documented default None" in m for m in compare(_sig(doc), _sig(required_y)))


@pytest.mark.parametrize("a,b,equal", [
    (0, 0.0, True), (1e-7, 1e-07, True), ("auto", 1, False), (None, 0, False), (True, 1, False),
    ((1, 1), [1, 1], True), ("glorot_uniform", "glorot_uniform", True), (False, False, True),
])
def test_defaults_equal(a, b, equal):
    assert defaults_equal(a, b) is equal


# -- a documented item the suite cannot check is untested, and the run fails ------------------------------
UNCHECKABLE = """
layers.Defrobnicate:
  kind: class
  doc: A fully described layer that the reference does not implement.
  source: a test
  params:
    - {name: strength, default: 1.0, domain: {floats: [0.5, 2.0]}}
  input: {rank: [2, 3]}
  output_shape: "input_shape"
  config_keys: [strength]
"""


def test_layer_without_input_domain_or_reference_class_is_untested_not_passed(tmp_path):
    """A copy of spec/ where layers.Reshape lost its `input` field (which inputs the layer takes) and a
    new layers.Defrobnicate that the reference (the oracle) lacks: neither is reported passed."""
    import shutil
    from keras_conformance import spec as spec_pkg
    root = tmp_path / "spec"
    shutil.copytree(spec_pkg.ROOT, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    core = root / "layers" / "core.yaml"
    text = core.read_text(encoding="utf-8")
    start = text.index("layers.Reshape:")
    cut = text.index("  input: {rank: [2, 4]}", start)
    core.write_text(text[:cut] + text[cut:].split("\n", 1)[1], encoding="utf-8")
    (root / "layers" / "frobnicate.yaml").write_text(UNCHECKABLE, encoding="utf-8")
    args = ("--adapter", "reference", "--api-version", "3", "--spec", str(root), "-k", "Reshape or Defrobnicate")
    proc, data = run_suite(tmp_path, *args)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    reshape = data["items"]["layers.Reshape"]
    assert reshape["outcome"] == "untested", reshape
    assert reshape["categories"]["signatures"] == "passed"
    defrob = data["items"]["layers.Defrobnicate"]
    assert defrob["categories"]["signatures"] == "not-implemented", defrob
    for name, why, cats in (("layers.Reshape", "has no `input` field", ("shapes", "numerics", "roundtrips")),
                            ("layers.Defrobnicate", "the reference has no layers.Defrobnicate", ("numerics",))):
        for category in cats:
            assert data["items"][name]["categories"][category] == "untested", (name, category)
        checks = [c for c in data["checks"] if c["item"] == name]
        assert any(why in c["message"] for c in checks if c["outcome"] == "untested"), checks
        assert not any(c["outcome"] == "passed" and c["category"] != "signatures" for c in checks), checks
    assert proc.returncode != 0, "a run with untested documented items must fail"
    assert "untested" in proc.stdout and "--allow-untested" in proc.stdout
    proc2, data2 = run_suite(tmp_path, *args[:-2], "-k", "Reshape", "--allow-untested")
    assert proc2.returncode == 0, proc2.stdout[-3000:]
    assert data2["items"]["layers.Reshape"]["outcome"] == "untested"


def test_check_order_reversed_and_shuffled_run_the_same_checks(tmp_path):
    """--check-order reverses or permutes (seeded) the checks; a bad order is a usage error naming it."""
    args = ("--adapter", "reference", "--api-version", "2.3", "-k", "test_signature and layers", "--allow-untested")
    orders = {}
    for how in ("spec", "reversed", "shuffled:3"):
        proc, data = run_suite(tmp_path, *args, "--check-order", how)
        assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
        orders[how] = [c["id"] for c in data["checks"]]
    assert len(orders["spec"]) > 50
    assert orders["reversed"] == orders["spec"][::-1]
    assert sorted(orders["shuffled:3"]) == sorted(orders["spec"]) and orders["shuffled:3"] != orders["spec"]
    proc, _ = run_suite(tmp_path, *args, "--check-order", "sideways")
    assert proc.returncode == 4 and "--check-order 'sideways'" in proc.stdout + proc.stderr


def test_cli_diff_says_whether_runs_agree(tmp_path, capsys):
    from keras_conformance.cli import main

    def report(name, outcomes):
        path = tmp_path / name
        path.write_text(json.dumps({"checks": [{"id": i, "outcome": o} for i, o in outcomes.items()]}))
        return str(path)

    a = report("a.json", {"test_x[Model.fit]": "passed", "test_y[layers.Dense]": "expected-fail"})
    b = report("b.json", {"test_y[layers.Dense]": "expected-fail", "test_x[Model.fit]": "passed"})
    c = report("c.json", {"test_x[Model.fit]": "failed"})
    assert main(["diff", a, b]) == 0
    assert "identical verdicts" in capsys.readouterr().out
    assert main(["diff", a, b, c]) == 1
    out = capsys.readouterr().out
    assert "test_x[Model.fit]: passed" in out and "failed" in out and "test_y[layers.Dense]" in out
    assert "absent" in out and "2 with different verdicts" in out
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["diff", a, str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err
