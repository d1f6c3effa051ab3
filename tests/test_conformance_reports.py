"""The HTML reports: one run's page (--report-html) and the compatibility matrix (keras-conformance compare)."""
from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import keras_conformance.conformance as conformance_pkg
from keras_conformance.conformance.report_html import render_report

CONFORMANCE_DIR = str(Path(conformance_pkg.__file__).resolve().parent)
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class Checker(HTMLParser):
    """Well-formedness: every element closed in order; collects table rows by table id, and <details>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.table = None
        self.rows: dict[str, list[str]] = {}
        self.run_columns = 0
        self.details_text: list[str] = []
        self._in_details = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and "data-item" in a:
            self.rows.setdefault(self.table, []).append(a["data-item"])
        if tag == "th" and a.get("class") == "run":
            self.run_columns += 1
        if tag == "details":
            self._in_details += 1
            self.details_text.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "details":
            self._in_details -= 1

    def handle_data(self, data):
        if self._in_details:
            self.details_text[-1] += data


def parse(text: str) -> Checker:
    c = Checker()
    c.feed(text)
    c.close()
    assert not c.errors, c.errors[:5]
    assert c.stack == [], c.stack
    return c


def _env():
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two reference runs (API 2.3, every check on one example: the page's structure, not a certification;
    API 3, signatures only), JSON + HTML each."""
    tmp = tmp_path_factory.mktemp("reports")
    out = {}
    for version, extra in (("2.3", ["--examples", "1"]), ("3", ["-k", "test_signature or test_capability"])):
        base = tmp / f"reference-{version}"
        cmd = [sys.executable, "-m", "pytest", CONFORMANCE_DIR, "-q", "-p", "no:cacheprovider",
               "--adapter", "reference", "--api-version", version, "--report-json", f"{base}.json",
               "--report-html", f"{base}.html", *extra]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=tmp, timeout=600)
        assert Path(f"{base}.html").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
        out[version] = (json.loads(Path(f"{base}.json").read_text()), Path(f"{base}.html").read_text(), base)
    return out


def test_html_report_well_formed_with_every_item(runs):
    data, text, _ = runs["2.3"]
    page = parse(text)
    documented = list(data["coverage"])
    assert documented and set(data["items"]) <= set(documented)
    assert page.rows["outcomes"] == documented          # one row per documented item, in spec order
    assert page.rows["coverage"] == documented
    for needle in (data["adapter"]["version_string"], data["adapter"]["device_proof"], "API version",
                   "float32/cpu/forward", "tolerances used"):
        assert html.escape(needle) in text, needle
    for category in data["categories"]:
        assert f"<th>{category}</th>" in text


def test_coverage_names_exercised_parameters(runs):
    data, _, _ = runs["2.3"]
    cov = data["coverage"]
    assert {"x", "y", "epochs", "batch_size", "shuffle", "verbose"} <= set(cov["Model.fit"]["exercised"])
    assert "by_name" in cov["Model.load_weights"]["exercised"]
    assert "units" in cov["layers.Dense"]["exercised"]
    for name, v in cov.items():
        assert set(v["exercised"]) <= set(v["params"]), name
    # "exercised" is derived from what the checks recorded, nothing else
    named = {}
    for c in data["checks"]:
        for item, params in c["exercises"].items():
            named.setdefault(item, set()).update(params)
    for name, v in cov.items():
        assert set(v["exercised"]) == named.get(name, set()) & set(v["params"]), name


def test_failure_cell_carries_message_and_reproducer():
    data = {"adapter": {"name": "x", "version_string": "x 1.0", "device": "cpu", "device_proof": "cpu proof"},
            "api_version": "2.3", "tolerances": {}, "categories": {"signatures": {}},
            "items": {"Model.fit": {"outcome": "failed", "categories": {"signatures": "failed"}}},
            "checks": [{"id": "test_signature[Model.fit]", "item": "Model.fit", "category": "signatures",
                        "outcome": "failed", "message": "Model.fit: parameter 'verbose' default is 2 <sic>",
                        "reproducer": "import numpy as np\nprint(1 < 2)"}],
            "coverage": {"Model.fit": {"kind": "method", "params": ["x"], "exercised": [], "categories": [],
                                       "checks": 1}}}
    page = parse(render_report(data))
    assert page.rows["outcomes"] == ["Model.fit"]
    (details,) = page.details_text
    assert "parameter 'verbose' default is 2 <sic>" in details and "print(1 < 2)" in details


def test_compare_matrix_one_column_per_report(runs, tmp_path):
    paths = [str(runs[v][2]) + ".json" for v in ("2.3", "3")]
    out = tmp_path / "matrix.html"
    proc = subprocess.run([sys.executable, "-m", "keras_conformance", "compare", *paths, "-o", str(out)],
                          capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = parse(out.read_text())
    assert page.run_columns == 2
    union = list(runs["2.3"][0]["coverage"]) + [n for n in runs["3"][0]["coverage"]
                                                 if n not in runs["2.3"][0]["coverage"]]
    assert page.rows["matrix"] == union
    assert "reference (API 2.3)" in out.read_text() and "reference (API 3)" in out.read_text()


def test_compare_unreadable_report_exit_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = subprocess.run([sys.executable, "-m", "keras_conformance", "compare", str(bad), "-o",
                           str(tmp_path / "m.html")], capture_output=True, text=True, env=_env())
    assert proc.returncode == 2 and "bad.json" in proc.stderr
