"""Every built-in adapter, run through the whole suite the way a user runs it, conforms up to its
declared deviations; and those deviations are real (without the expectations file they fail, readably).

Each run is a subprocess (a Keras 3 backend cannot be switched in one process). An adapter whose
implementation is not installed is skipped with the one line the adapter gives.
"""
from __future__ import annotations

import pytest

from pathlib import Path

from _suite import NO_SHRINK, by_id, run_suite
from keras_conformance import adapters, spec

# (adapter, API version): the reference in every documented version, each other built-in adapter in the
# version it claims.
CERTIFICATIONS = [("reference", v) for v in spec.VERSIONS] + [
    ("keras3-tensorflow", "3"), ("keras3-jax", "3"), ("keras3-torch", "3"), ("tf_keras", "2.3")]

FAILING = {"failed", "not-implemented", "unexpected-pass", "crashed", "untested"}
QUICK_EXAMPLES = 3   # hypothesis draws the simplest examples first (batch 1, defaults): 2 miss data-dependent deviations
# and of each layer family the first QUICK_LAYERS classes (each real implementation builds, traces and saves a
# model per example: all ~120 layers at 3 examples are over an hour on two cores, and the recurrent families
# trace a loop per time step); tox certifies them all
QUICK_LAYERS = 1
# and of the fuzzing safety check the first QUICK_FUZZ mutants per format (each real implementation loads them in
# a child process that imports it first; tox fuzzes with all of them)
QUICK_FUZZ = 4
# and the layer families shared out between the real adapters (family i on adapter i mod 4): each family's
# first class is certified on one real implementation in tests/, every non-layer item on all of them
REAL_ADAPTERS = [a for a, _ in CERTIFICATIONS if a != "reference"]
# The seven training methods of the Keras 3 docs (seed 004), read from the spec rather than listed.
TRAINING_METHODS_3 = [i.name for i in spec.load("3").items(kind="method")
                      if i.attr in ("compile", "fit", "evaluate", "predict", "train_on_batch",
                                    "test_on_batch", "predict_on_batch")]


# checks each full reference run holds (the safety and round-trip checks a broken adapter is shown to fail in
# tests/test_conformance_plugin.py, and the documented error of fit before compile)
RUN_BY_EVERY_VERSION = ("test_safety[models.load_model-code]", "test_safety[models.load_model-truncated]",
                        "test_safety[models.load_model-not_hdf5]", "test_safety[Model.save-interrupted]",
                        "test_config_roundtrip[Model.get_config]", "test_config_roundtrip[Model.to_json]",
                        "test_resume_training[Model.save]")


def _usable(name):
    try:
        adapters.resolve(name)
    except adapters.AdapterUnavailable as exc:
        pytest.skip(exc.message)


@pytest.mark.parametrize("adapter,version", CERTIFICATIONS, ids=[f"{a}-{v}" for a, v in CERTIFICATIONS])
def test_certifies_up_to_declared_deviations(tmp_path, adapter, version):
    _usable(adapter)
    # the quick profile (tests/ must stay fast as the spec grows): QUICK_EXAMPLES per check on the real
    # implementations, every example on the reference; `tox -e <adapter>` certifies with all of them. No
    # shrinking: a declared deviation fails on every run, and hypothesis shrinking its example rebuilds and
    # retraces a model up to hundreds of times (five minutes on one stateful LSTM check of tf_keras)
    quick = () if adapter == "reference" else (*NO_SHRINK, "--examples", str(QUICK_EXAMPLES),
                                                "--layers-per-family", str(QUICK_LAYERS),
                                                "--fuzz-cases", str(QUICK_FUZZ), "--layer-shard",
                                                f"{REAL_ADAPTERS.index(adapter)}/{len(REAL_ADAPTERS)}")
    proc, data = run_suite(tmp_path, "--adapter", adapter, "--api-version", version, *quick,
                           extra_path=Path(__file__).resolve().parent)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    bad = {c["id"]: f'{c["outcome"]}: {c["message"]}' for c in data["checks"] if c["outcome"] in FAILING}
    assert not bad, bad
    assert proc.returncode == 0, proc.stdout[-3000:]

    checks = by_id(data)
    numerics = [c for c in data["checks"] if c["category"] == "numerics"]
    # forward, one SGD step at learning rate 1 (the gradient) and the Adam trajectory all ran and passed
    # (Dense where this quick run's layer shard holds its family)
    for required in ("test_numerics[layers.Dense]", "test_gradient[Model.train_on_batch]",
                     "test_numerics[optimizers.Adam]"):
        if required == "test_numerics[layers.Dense]" and "layers.Dense" in data["layers_sampled_out"]:
            continue
        assert checks[required]["outcome"] == "passed", checks[required]
    # none skipped: every numerics check compared numbers, or is a declared deviation
    assert all(c["outcome"] in ("passed", "expected-fail") for c in numerics), numerics
    # the tolerances the numbers were compared with are in the report and on the terminal
    assert data["tolerances"], "the report names the tolerances it used"
    assert "tolerances used: float32/" in proc.stdout
    if version == "3":
        for name in TRAINING_METHODS_3:
            assert checks[f"test_signature[{name}]"]["outcome"] == "passed", checks[f"test_signature[{name}]"]
    if adapter == "reference":
        # a full run: every check passes (no declared deviation), and every category is there
        assert {c["outcome"] for c in data["checks"]} <= {"passed", "skipped"}, \
            {c["id"]: c["message"] for c in data["checks"] if c["outcome"] != "passed"}
        assert {"signatures", "numerics", "errors", "shapes", "roundtrips", "capabilities", "safety",
                "training"} <= set(data["categories"])
        for expected in ("test_signature[Model.fit]", "test_capability[Model.compile]",
                         "test_numerics[layers.Dense]", "test_roundtrip[Model.save]", *RUN_BY_EVERY_VERSION,
                         *(("test_raises[Model.fit-RuntimeError-not_compiled]",) if version != "3" else ())):
            assert expected in checks, sorted(checks)
        assert data["items"]["Model.fit"]["outcome"] == "passed"
        assert data["api_version"] == version and data["adapter"]["name"] == "reference"
        assert "keras-conformance" in proc.stdout
    if adapter == "reference":
        assert all(c["outcome"] in ("passed", "skipped") for c in data["checks"])
        # every concrete layer of the version: shapes, numerics and round trips generated and passing
        for item in spec.load(version).items():
            if item.is_layer:
                cats = data["items"][item.name]["categories"]
                for category in ("shapes", "numerics", "roundtrips"):
                    assert cats.get(category) == "passed", (item.name, category, cats)
        assert not data.get("uncovered")
    else:
        assert f"at most {QUICK_EXAMPLES} hypothesis examples" in proc.stdout
        assert f"the first {QUICK_LAYERS} layer classes of each family" in proc.stdout
        assert f"shard {REAL_ADAPTERS.index(adapter)}/{len(REAL_ADAPTERS)}" in proc.stdout
        # the classes left out are named in the report, and none of their checks ran
        assert data["layers_sampled_out"] and not {c["item"] for c in data["checks"]} & set(data["layers_sampled_out"])


def test_tf_keras_deviations_fail_readably_without_expectations(tmp_path):
    """The deviations of tf_keras from the 2.3 docs are failures with messages that say what differs."""
    _usable("tf_keras")
    proc, data = run_suite(tmp_path, "--adapter", "tf_keras", "--api-version", "2.3", "--no-expectations",
                           "-k", "test_signature")
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 1
    checks = by_id(data)
    compile_ = checks["test_signature[Model.compile]"]
    assert compile_["outcome"] == "failed"
    assert "missing documented parameter 'sample_weight_mode'" in compile_["message"]
    assert "missing documented parameter 'target_tensors'" in compile_["message"]
    fit = checks["test_signature[Model.fit]"]
    assert fit["outcome"] == "failed"
    assert "parameter 'verbose' default is 'auto', documented 1 (seed 001)" in fit["message"]
    # each of these is declared, with a reason, in tf_keras' expectations file
    declared = adapters.resolve("tf_keras").expectations("2.3")
    failing = {c["id"] for c in data["checks"] if c["outcome"] in FAILING}
    assert failing <= set(declared), failing - set(declared)
    assert all(declared[i].strip() for i in failing)
