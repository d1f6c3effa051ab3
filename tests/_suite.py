"""Running the conformance suite in a subprocess and reading its JSON report (shared by the suite's own
tests: test_conformance_plugin.py, test_mutants.py).

Each run is a subprocess: ``python3 -m pytest <target> --adapter ... --report-json ...``, where the target
is the conformance package (default) or one of its check modules.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras_conformance.conformance as conformance_pkg

CONFORMANCE_DIR = str(Path(conformance_pkg.__file__).resolve().parent)


def _env(extra_path=None):
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join([str(extra_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_suite(tmp_path, *args, extra_path=None, timeout=600, target=CONFORMANCE_DIR):
    """Run the suite (or the check modules ``target``: a path or a list of them) in a subprocess;
    (CompletedProcess, report or None)."""
    report = tmp_path / "report.json"
    targets = [str(t) for t in target] if isinstance(target, (list, tuple)) else [str(target)]
    cmd = [sys.executable, "-m", "pytest", *targets, "-q", "-p", "no:cacheprovider",
           "--report-json", str(report), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(extra_path), cwd=tmp_path,
                          timeout=timeout)
    data = json.loads(report.read_text()) if report.exists() else None
    return proc, data


def by_id(data):
    return {c["id"]: c for c in data["checks"]}


# A failing check still fails on its first failing example; only the minimisation of that example (seconds
# per failing check) is skipped: for runs that only need to know *whether* checks fail (the mutants, the
# quick certifications).
NO_SHRINK = ("--no-shrink",)
