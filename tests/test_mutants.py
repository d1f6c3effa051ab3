"""The suite's mutation score: every mutant in tests/mutants.py must be caught by its target category.

Each case is one kill run of the kill command (``keras-conformance mutants``, keras_conformance/mutation.py):
the check modules of the mutant's category in a subprocess on ``--adapter mutants:<name>`` (tests/ on
PYTHONPATH), only the checks of the items it names, and the JSON report must show at least one of them
failed (or crashed), with a message that names the documented item. Hypothesis runs with ``--no-shrink``
there: a failing check fails on its first failing example either way; only the minimisation of the
reproducer is skipped.

A surviving mutant is a finding about the suite: its case is marked ``xfail(strict=True)`` from
``mutants.SURVIVORS`` with the reason, so it stays visible and turns into a failure once the suite catches
it. The kill rate per category is printed at the end of the run (tests/conftest.py).
"""
from __future__ import annotations

import os
import tempfile
import types
from pathlib import Path

import pytest

from _suite import NO_SHRINK, run_suite
from mutants import MUTANTS, REAL_SUITE_ARGS, SURVIVORS, TARGETS, MutantAdapter, catalogue
from mutants_real import REAL_MUTANTS

from keras_conformance import mutation

TESTS_DIR = Path(__file__).resolve().parent
KILLING_OUTCOMES = mutation.KILLING_OUTCOMES
CATEGORY_MODULES = mutation.category_modules()
CATALOGUE = {m.adapter: m for m in catalogue()}


@pytest.fixture(autouse=True)
def _bytecode_cache(monkeypatch):
    """Each case is a fresh interpreter importing hypothesis, numpy, h5py and the package; where the
    environment says PYTHONDONTWRITEBYTECODE, every one of them would compile those from source again
    (about a second a run, ~100 runs). Cache the bytecode under a private prefix in the temp folder
    instead (never beside the sources, so the checkout and site-packages stay untouched)."""
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
        uid = os.getuid() if hasattr(os, "getuid") else "user"
        monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
        monkeypatch.setenv("PYTHONPYCACHEPREFIX",
                           os.path.join(tempfile.gettempdir(), f"keras-conformance-pycache-{uid}"))


# The quick subset (tests/, CI): each mutant in one of the versions it applies to (mutation.quick_version),
# so every version is covered and each mutant shown killed once; each kill is a fresh interpreter running
# the mutant's checks (several seconds), and the catalogue grows with every item.
# KERAS_CONFORMANCE_MUTANTS_ALL=1 runs every mutant in every version (as `keras-conformance mutants` does).
ALL_VERSIONS = bool(os.environ.get("KERAS_CONFORMANCE_MUTANTS_ALL"))


def _versions_run(name: str) -> tuple[str, ...]:
    m = CATALOGUE[f"mutants:{name}"]
    return m.versions if ALL_VERSIONS else (mutation.quick_version(m),)


CASES = [pytest.param(name, version, id=f"{name}-{version}",
                      marks=[pytest.mark.xfail(reason=SURVIVORS[(name, version)], strict=True)]
                      if (name, version) in SURVIVORS else [])
         for name in MUTANTS for version in _versions_run(name)]


def _kill(adapter: str, version: str, tmp_path, record_property, label: str):
    """One kill run through the kill command's own code (keras_conformance/mutation.py), its result
    recorded for the mutation-score summary (tests/conftest.py)."""
    m = CATALOGUE[adapter]
    r = mutation.run_case(m, version, TESTS_DIR, tmp_path, modules=CATEGORY_MODULES[m.category])
    assert r.report is not None, f"no report for mutant {m.name!r} ({r.outcome}): {r.output}"
    assert r.report["adapter"]["name"] == adapter and r.report["api_version"] == version
    strays = sorted({c["item"] for c in r.report["checks"]} - set(m.items))
    assert not strays, f"the aimed run of mutant {m.name!r} ran checks of other items: {strays}"
    record_property("mutant", {"name": m.name, "version": version, "category": label, "killed": r.killed,
                               "readable": r.readable, "by": r.by, "items": list(m.items)})
    assert r.killed, (f"mutant {m.name!r} ({m.description}) SURVIVED the {m.category} checks of "
                      f"{', '.join(m.items)} in API {version}: "
                      + str({c["id"]: c["outcome"] for c in r.report["checks"]}))
    assert r.readable, (f"mutant {m.name!r} was caught, but no failure message names its item:\n"
                        + "\n".join(r.messages))
    return r


@pytest.mark.parametrize("name,version", CASES)
def test_mutant_is_killed(name, version, tmp_path, record_property):
    _kill(f"mutants:{name}", version, tmp_path, record_property, MUTANTS[name][0])


# -- mutants of a real Keras (tests/mutants_real.py): keras 3 on jax, patched in the suite's own process ------
def _real_keras_available():
    from keras_conformance.adapters import AdapterUnavailable
    from keras_conformance.adapters.keras3 import Keras3Adapter
    try:
        Keras3Adapter("jax")
    except AdapterUnavailable as exc:
        pytest.skip(f"real-Keras mutants need keras 3 on jax: {exc.message}")


@pytest.mark.parametrize("name", sorted(REAL_MUTANTS))
def test_real_keras_mutant_is_killed(name, tmp_path, record_property):
    _real_keras_available()
    _kill(f"mutants_real:{name}", "3", tmp_path, record_property, f"{REAL_MUTANTS[name][0]} (real keras3-jax)")


def test_real_keras_unmutated_passes_the_checks_that_kill_its_mutants(tmp_path):
    """The control: keras 3 on jax, unpatched, with its expectations, passes the same aimed checks (same
    examples), so each kill above is its mutation's and not a deviation keras 3 already has."""
    _real_keras_available()
    items = sorted({i for _, _, its, _ in REAL_MUTANTS.values() for i in its})
    modules = sorted({p for c, _, _, _ in REAL_MUTANTS.values() for p in CATEGORY_MODULES[c]})
    proc, data = run_suite(tmp_path, "-n", "0", *NO_SHRINK, *REAL_SUITE_ARGS, "--adapter", "keras3-jax",
                           "--api-version", "3", *mutation.aim(items), "--allow-untested", extra_path=TESTS_DIR,
                           target=modules, timeout=mutation.DEFAULT_TIMEOUT_S)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    categories = {c for c, _, _, _ in REAL_MUTANTS.values()}
    ran = [c for c in data["checks"] if c["category"] in categories]
    assert ran and {c["item"] for c in ran} == set(items)
    bad = {c["id"]: c["message"][:300] for c in ran if c["outcome"] in KILLING_OUTCOMES}
    assert not bad, bad


CONTROL_EXAMPLES = 2


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_unmutated_copy_passes(version, tmp_path, monkeypatch):
    """The control: MutantAdapter with nothing replaced passes every check, so a kill is the mutation's.
    On CONTROL_EXAMPLES examples a check: that every example of every check passes on the reference itself is
    the reference's certification (tests/test_certification.py); this shows that the copy-on-write namespace
    a mutant is made in changes nothing by itself (each check reaches the same objects through it)."""
    proc, data = run_suite(tmp_path, "-n", "0", *NO_SHRINK, "--examples", str(CONTROL_EXAMPLES),
                           "--adapter", "mutants:unmutated", "--api-version", version, extra_path=TESTS_DIR,
                           timeout=mutation.DEFAULT_TIMEOUT_S)
    assert data is not None, proc.stdout[-3000:] + proc.stderr[-3000:]
    bad = {c["id"]: c["message"][:300] for c in data["checks"] if c["outcome"] not in ("passed", "skipped")}
    assert not bad, bad
    assert set(data["categories"]) >= set(CATEGORY_MODULES), data["categories"]


def test_every_category_has_a_mutant():
    targeted = {category for category, _, _, _ in MUTANTS.values()}
    missing = sorted(set(CATEGORY_MODULES) - targeted)
    assert not missing, f"check categories without a mutant in tests/mutants.py: {missing}"
    unknown = sorted(targeted - set(CATEGORY_MODULES))
    assert not unknown, f"mutants target categories no conformance module has: {unknown}"


def test_registry_is_well_formed():
    import mutants
    from keras_conformance import spec
    documented = {n for v in spec.VERSIONS for n in spec.load(v)} | {"activations.relu"}
    for name, (category, versions, description, factory) in MUTANTS.items():
        assert TARGETS[name] and set(TARGETS[name]) <= documented, (name, TARGETS[name])
        assert getattr(mutants, name) is factory, f"{name}: no module-level factory of that name"
        assert versions and set(versions) <= {"2.2.4", "2.3", "3"}, name
        assert description.strip(), name
        adapter = factory()
        assert isinstance(adapter, MutantAdapter) and adapter.name == f"mutants:{name}"
    for category in CATEGORY_MODULES:
        for version in ("2.2.4", "2.3", "3"):
            n = sum(1 for c, vs, _, _ in MUTANTS.values() if c == category and version in vs)
            assert n >= 2, f"{category} has {n} mutant(s) for API {version}; at least two wanted"


def _snapshot(K) -> dict:
    out = {}
    for name, value in vars(K).items():
        out[name] = value
        if isinstance(value, types.ModuleType):
            out.update({f"{name}.{k}": v for k, v in vars(value).items()})
    return out


@pytest.mark.parametrize("version", ["2.2.4", "2.3", "3"])
def test_mutants_leave_the_reference_alone(version):
    """A mutant changes only its own copy: the cached reference namespace (the suite's oracle) is intact."""
    from keras_conformance import reference
    R = reference.keras(version)
    before = _snapshot(R)
    for name, (_, versions, _, factory) in MUTANTS.items():
        if version not in versions:
            continue
        adapter = factory()
        adapter.configure(version)
        K = adapter.keras
        assert K is not R
        changed = {k for k, v in _snapshot(K).items() if before.get(k) is not v}
        assert changed, f"mutant {name!r} changes nothing in API {version}"
        assert _snapshot(R) == before, f"mutant {name!r} modified reference.keras({version!r})"


def test_every_documented_layer_has_a_mutant():
    """Each concrete layer class of the spec (any version) is named by at least one mutant, so each layer's
    generated checks are shown to be able to fail."""
    from keras_conformance import spec
    targeted = {item for items in TARGETS.values() for item in items}
    layers = {i.name for v in spec.VERSIONS for i in spec.load(v).items() if i.is_layer}
    assert not sorted(layers - targeted), f"layers no mutant aims at: {sorted(layers - targeted)}"
