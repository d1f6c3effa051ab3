"""The main job: certify one implementation against the documented Keras API.

    keras-conformance [--adapter reference] [--api-version V] [--report-dir reports] [--allow-untested]
                      [-- pytest args]
    keras-conformance update-expectations REPORT.json [--expectations FILE]
    keras-conformance compare reports/*.json -o matrix.html
    keras-conformance diff run1.json run2.json [...]
    keras-conformance mutants [--catalogue tests] [--adapter reference|keras3-jax] [--quick] [--jobs N] [...]
    python -m keras_conformance ...

Each API version runs in its own pytest process (a Keras backend cannot be switched in-process, and it
keeps runs isolated) over the installed conformance package, writing ``<report-dir>/<adapter>-<V>.json`` and, beside it, the same report as a self-contained HTML page
``<adapter>-<V>.html``. ``compare`` joins several JSON reports into one HTML compatibility matrix (one
column per report); ``diff`` says whether several runs of one implementation gave every check the same
verdict (exit 1 where one differs); ``mutants`` runs each mutant of the catalogue against its items' checks
(keras_conformance/mutation.py says how).
Without ``--api-version`` the reference is certified for every version in turn, any other adapter for the
version it claims. Exit status: pytest's (the first non-zero one over several versions; 1 when a documented
item is untested, unless --allow-untested); 2 for an unknown or unusable adapter or version.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

FAILING = ("failed", "not-implemented", "unexpected-pass", "crashed")


def _conformance_dir() -> Path:
    import keras_conformance.conformance as pkg
    return Path(pkg.__file__).resolve().parent


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _split(argv):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def _summary_line(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"(no report: {exc})"
    totals = data.get("totals", {})
    items = data.get("items_totals", {})
    checks = ", ".join(f"{n} {o}" for o, n in totals.items()) or "no checks"
    per_item = ", ".join(f"{n} {o}" for o, n in items.items() if n)
    return (f"{sum(totals.values())} checks ({checks}); "
            f"{sum(items.values())} documented items ({per_item or 'none'})")


def run(args, extra) -> int:
    from keras_conformance import adapters
    from keras_conformance.spec import VERSIONS

    try:
        adapter = adapters.resolve(args.adapter)
    except adapters.AdapterUnavailable as exc:
        print(f"keras-conformance: {exc.message}", file=sys.stderr)
        return 2
    if args.api_version is not None:
        if args.api_version not in VERSIONS:
            print(f"keras-conformance: unknown API version {args.api_version!r}: known versions are "
                  f"{', '.join(VERSIONS)}", file=sys.stderr)
            return 2
        versions = [args.api_version]
    elif adapter.name == "reference":
        versions = list(VERSIONS)
    else:
        versions = [adapter.api_version]

    report_dir = Path(args.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    results = []
    for v in versions:
        path = report_dir / f"{_safe(args.adapter)}-{v}.json"
        html_path = path.with_suffix(".html")
        for old in (path, html_path):
            if old.exists():
                old.unlink()
        cmd = [sys.executable, "-m", "pytest", str(_conformance_dir()), "--adapter", args.adapter,
               "--api-version", v, "--report-json", str(path), "--report-html", str(html_path),
               "-p", "no:cacheprovider", *extra]
        print(f"keras-conformance: {args.adapter} against API {v}: {' '.join(cmd[1:])}", flush=True)
        code = subprocess.call(cmd, env=env)
        results.append((v, code, path))
    print()
    print(f"keras-conformance summary for adapter {args.adapter}:")
    for v, code, path in results:
        print(f"  API {v:<6} exit {code}: {_summary_line(path)}  [{path}]")
    return next((code for _, code, _ in results if code != 0), 0)


def update_expectations(argv) -> int:
    from keras_conformance import adapters
    p = argparse.ArgumentParser(prog="keras-conformance update-expectations",
                                description="Rewrite an adapter's expectations file from a JSON report.")
    p.add_argument("report", help="a JSON report written by --report-json / keras-conformance")
    p.add_argument("--expectations", default=None, help="the file to rewrite (default: the built-in "
                                                        "adapter's adapters/expectations/<name>.yaml)")
    a = p.parse_args(argv)
    data = json.loads(Path(a.report).read_text(encoding="utf-8"))
    name = data["adapter"]["name"]
    path = a.expectations or adapters.expectations_path(name)
    checks = data.get("checks", [])
    # a check already expected to fail stays expected; an unexpected pass is dropped
    failed = {c["id"]: c.get("message") or c["outcome"] for c in checks
              if c["outcome"] in ("failed", "not-implemented", "crashed", "expected-fail")}
    new = adapters.update_expectations(path, data["api_version"], failed, seen=[c["id"] for c in checks])
    print(f"{path}: {len(new)} expected failures for API {data['api_version']}")
    return 0


def compare(argv) -> int:
    from keras_conformance.conformance.report_html import write_matrix
    p = argparse.ArgumentParser(prog="keras-conformance compare",
                                description="Join several JSON reports into one HTML compatibility matrix "
                                            "(rows: documented items; one column per report).")
    p.add_argument("reports", nargs="+", help="JSON reports written by --report-json / keras-conformance")
    p.add_argument("-o", "--output", default="matrix.html", help="the HTML file to write (default: matrix.html)")
    a = p.parse_args(argv)
    unreadable = []
    for path in a.reports:
        try:
            json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            unreadable.append(f"{path}: {exc}")
    if unreadable:
        print("keras-conformance compare: cannot read " + "; ".join(unreadable), file=sys.stderr)
        return 2
    out = write_matrix(a.output, a.reports)
    print(f"{out}: {len(a.reports)} runs side by side")
    return 0


def diff(argv) -> int:
    p = argparse.ArgumentParser(prog="keras-conformance diff",
                                description="Compare the verdicts of several runs of one implementation "
                                            "(repeated, or in another --check-order): every check's outcome "
                                            "must be the same in each. Exit 0 when they are, 1 when not.")
    p.add_argument("reports", nargs="+", help="JSON reports written by --report-json / keras-conformance")
    a = p.parse_args(argv)
    if len(a.reports) < 2:
        p.error("at least two reports are needed")
    runs = []
    for path in a.reports:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            runs.append({c["id"]: c["outcome"] for c in data["checks"]})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            print(f"keras-conformance diff: cannot read {path}: not a conformance JSON report ({exc})",
                  file=sys.stderr)
            return 2
    ids = sorted(set().union(*runs))
    differ = [(i, [r.get(i, "absent") for r in runs]) for i in ids if len({r.get(i, "absent") for r in runs}) > 1]
    for check, outcomes in differ:
        print(f"{check}: " + ", ".join(f"{o} ({path})" for o, path in zip(outcomes, a.reports)))
    print(f"{len(ids)} checks in {len(runs)} runs: "
          + (f"{len(differ)} with different verdicts" if differ else "identical verdicts"))
    return 1 if differ else 0


def main(argv=None) -> int:
    own, extra = _split(argv)
    if own and own[0] == "update-expectations":
        return update_expectations(own[1:])
    if own and own[0] == "compare":
        return compare(own[1:])
    if own and own[0] == "diff":
        return diff(own[1:])
    if own and own[0] == "mutants":
        from keras_conformance import mutation
        return mutation.main(own[1:])
    p = argparse.ArgumentParser(
        prog="keras-conformance",
        description="Certify a Keras implementation against the documented Keras API "
                    "(extra pytest arguments after --).")
    p.add_argument("--adapter", default="reference",
                   help="reference, keras3-tensorflow, keras3-jax, keras3-torch, tf_keras, "
                        "package.module:factory or an entry point name (default: reference)")
    p.add_argument("--api-version", default=None,
                   help="2.2.4, 2.3 or 3 (default: all three for the reference, else the adapter's)")
    p.add_argument("--report-dir", default="reports", help="where <adapter>-<version>.json go (default: reports)")
    p.add_argument("--allow-untested", action="store_true",
                   help="exit 0 even when a documented item is untested (a check of it could not be generated)")
    args = p.parse_args(own)
    if args.allow_untested:
        extra = ["--allow-untested", *extra]
    return run(args, extra)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
