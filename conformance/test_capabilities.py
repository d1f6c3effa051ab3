"""Capabilities: the probes every later check depends on, each reported once.

construct (models.Sequential) -> call (Model.predict) -> compile (Model.compile) -> fit
(Model.train_on_batch) -> save (Model.save). When one fails, its check here fails with the error, and
every check that needs it is skipped as ``blocked by <label>: <one line>``.
"""
from __future__ import annotations

import pytest

from keras_conformance.conformance.context import Case
from keras_conformance.conformance.probes import LABELS, ORDER

CONFORMANCE_CATEGORY = "capabilities"

# the documented parameters each probe's calls name (probes.Probes._run)
EXERCISES = {
    "construct": [("models.Sequential", "layers"), ("layers.Dense", "units")],
    "call": [("Model.predict", "x", "verbose")],
    "compile": [("Model.compile", "optimizer", "loss")],
    "fit": [("Model.train_on_batch", "x", "y")],
    "save": [("Model.save", "filepath"), ("models.load_model", "filepath")],
}


def conformance_cases(ctx, function_name):
    return [Case(id=LABELS[cap], item=LABELS[cap], category=CONFORMANCE_CATEGORY, data={"capability": cap})
            for cap in ORDER]


def test_capability(conformance, case, conformance_check):
    result = conformance.probes.result(case.data["capability"])
    conformance_check.reproducer = conformance.probes.reproducer(case.data["capability"])
    for item, *params in EXERCISES[case.data["capability"]]:
        conformance_check.exercise(item, *params)
    if not result.ok and not result.failed_itself:
        pytest.skip(f"blocked by {result.blocker_label}: {result.message}")
    assert result.ok, f"{case.item} does not work: {result.message}"
