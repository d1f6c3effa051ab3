"""The kill command, ``keras-conformance mutants`` (keras_conformance/mutation.py): what it runs, what it
prints, and that each way a kill run can go wrong turns its exit status to 1 with the reason."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from _suite import _env

from keras_conformance import mutation, spec

TESTS_DIR = Path(__file__).resolve().parent


def _command(tmp_path, *args, timeout=300):
    cmd = [sys.executable, "-m", "keras_conformance", "mutants", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=timeout)


def test_kills_exit_0_with_the_kill_rate_and_the_whole_catalogues_coverage(tmp_path):
    report = tmp_path / "mutants.json"
    proc = _command(tmp_path, "--catalogue", str(TESTS_DIR), "--mutant", "compile_raises", "--mutant",
                    "sgd_2x_decay_ignored", "--api-version", "2.3", "--jobs", "2", "--report-json", str(report))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "2 kill runs of 2 mutants of reference, 2 at a time" in out
    assert "capabilities     1 / 1    killed (100.0%)" in out
    assert "numerics         1 / 1    killed (100.0%)" in out
    assert "total            2 / 2    killed (100.0%)" in out
    data = json.loads(report.read_text())
    got = {(r["mutant"], r["version"]): r for r in data["results"]}
    assert got[("compile_raises", "2.3")]["outcome"] == "killed"
    assert got[("compile_raises", "2.3")]["by"] == ["test_capability[Model.compile]"]
    # decay is a **kwargs key in 2.3: only the -kwargs case draws it
    assert got[("sgd_2x_decay_ignored", "2.3")]["by"] == ["test_numerics[optimizers.SGD-kwargs]"]
    assert data["unexpected"] == [] and data["runs"] == 2 and data["killed"] == 2
    # coverage is the whole catalogue's, not only the runs chosen
    documented = {i.name for i in spec.load("2.3").items()}
    aimed = {i for m in mutation.load_catalogue(TESTS_DIR) if m.of == "reference" and "2.3" in m.versions
             for i in m.items} & documented
    assert data["coverage"]["2.3"]["aimed"] == len(aimed) > 2
    assert data["coverage"]["2.3"]["documented"] == len(documented)
    assert data["coverage"]["2.3"]["not_aimed"] == sorted(documented - aimed)


def test_a_declared_survivor_exits_0_saying_why_it_survives(tmp_path):
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    (catalogue / "mutants.py").write_text(
        "from keras_conformance.mutation import Mutant\n"
        "def catalogue():\n"
        "    return [Mutant('not_a_mutant', 'reference', 'reference', 'signatures', ('2.3',),\n"
        "                   'the unchanged reference', ('layers.Dense',),\n"
        "                   survives={'2.3': 'nothing is changed, so nothing can fail'})]\n")
    proc = _command(tmp_path, "--catalogue", str(catalogue), "--jobs", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "signatures       0 / 1    killed (0.0%)" in proc.stdout
    assert "not_a_mutant[2.3] (survived): declared: nothing is changed, so nothing can fail" in proc.stdout


def test_an_undeclared_survivor_exits_1_saying_which_checks_did_not_fail(tmp_path):
    catalogue = tmp_path / "catalogue"
    catalogue.mkdir()
    (catalogue / "mutants.py").write_text(
        "from keras_conformance.mutation import Mutant\n"
        "def catalogue():\n"
        "    return [Mutant('not_a_mutant', 'reference', 'reference', 'signatures', ('2.3',),\n"
        "                   'the unchanged reference', ('layers.Dense',))]\n")
    proc = _command(tmp_path, "--catalogue", str(catalogue), "--jobs", "1")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "FAIL survived        not_a_mutant[2.3]" in proc.stdout
    assert "not_a_mutant[2.3] (survived): no signatures check of layers.Dense failed" in proc.stdout
    assert "1 run(s) not as the catalogue declares: not_a_mutant[2.3] survived" in proc.stdout


def test_a_declared_survivor_that_is_caught_is_reported_stale(tmp_path):
    m = mutation.Mutant("compile_raises", "reference", "mutants:compile_raises", "capabilities", ("2.3",),
                        "compile raises", ("Model.compile",), survives={"2.3": "said to survive"})
    r = mutation.run_case(m, "2.3", TESTS_DIR, tmp_path,
                          modules=mutation.category_modules()["capabilities"])
    assert r.outcome == "caught-declared" and r.killed and not r.as_expected
    assert r.why() == ("declared a survivor (said to survive), but caught by test_capability[Model.compile]")


def test_a_run_past_its_time_bound_is_not_a_kill(tmp_path):
    proc = _command(tmp_path, "--catalogue", str(TESTS_DIR), "--mutant", "compile_raises", "--api-version", "3",
                    "--timeout", "0.2")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "compile_raises[3] (timed-out): ran past the time bound of 0.2 s" in proc.stdout
    assert "total            0 / 1    killed (0.0%)" in proc.stdout


@pytest.mark.parametrize("args,says", [
    (("--catalogue", "no/such/folder"), "--catalogue "),
    (("--mutant", "no_such_mutant"), "--mutant no_such_mutant: no such mutant of reference"),
    (("--adapter", "tf_keras"), "--adapter tf_keras: the catalogue has no mutants of it (it has mutants of: "
                                "keras3-jax, reference)"),
    (("--mutant", "compile_raises", "--api-version", "4"), "--api-version 4: the mutants apply to 2.2.4, 2.3, 3"),
])
def test_bad_arguments_exit_2_naming_the_argument(tmp_path, args, says):
    catalogue = () if args[0] == "--catalogue" else ("--catalogue", str(TESTS_DIR))
    proc = _command(tmp_path, *catalogue, *args, timeout=120)
    assert proc.returncode == 2, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert says in proc.stderr
    assert proc.stdout == ""


def test_quick_takes_each_mutant_in_one_of_its_versions_by_its_name():
    m = mutation.Mutant("x", "reference", "mutants:x", "shapes", ("2.2.4", "2.3", "3"), "", ("layers.Dense",))
    picked = [mutation.quick_version(dataclasses.replace(m, name=f"m{i}")) for i in range(60)]
    assert set(picked) == {"2.2.4", "2.3", "3"}
    assert picked == [mutation.quick_version(dataclasses.replace(m, name=f"m{i}")) for i in range(60)]
    assert mutation.quick_version(dataclasses.replace(m, versions=("3",))) == "3"
