"""The kill command: each mutant of a catalogue against only its items' checks, in parallel, time-bound.

    keras-conformance mutants [--catalogue DIR] [--adapter reference|keras3-jax] [--api-version V ...]
                              [--quick] [--mutant NAME ...] [--jobs N] [--timeout S] [--report-json PATH]

A mutant is an implementation with ONE documented behaviour broken (tests/mutants.py breaks copies of the
reference, tests/mutants_real.py patches keras 3 itself). The suite has teeth where each is caught: its
kill run is a fresh pytest process over the check modules of the mutant's category, selecting only the
checks of the documented items it names (``--item``), and the mutant is killed when one of those checks
fails or crashes. A survivor is a finding about the suite; the catalogue declares the known ones with the
reason (``survives``), and a declared survivor that is caught is reported too (its declaration is stale).

A catalogue is a folder (the repository's tests/) whose ``mutants.py`` offers ``catalogue()``: a list of
``Mutant``. The folder goes on the kill runs' PYTHONPATH, so ``--adapter mutants:NAME`` resolves there.

Exit status: 0 when every mutant run was killed or is a declared survivor; 1 when one survived undeclared,
a declared one was caught, a run timed out or gave no report; 2 for a bad catalogue, mutant name or version.
"""
from __future__ import annotations

import argparse
import ast
import concurrent.futures
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

#: outcomes of a check that catch a mutant
KILLING_OUTCOMES = ("failed", "crashed")
DEFAULT_TIMEOUT_S = 300


@dataclass(frozen=True)
class Mutant:
    """One entry of a catalogue."""
    name: str
    of: str                          # the implementation it breaks: "reference", "keras3-jax"
    adapter: str                     # the suite's --adapter that runs it ("mutants:NAME")
    category: str                    # the check category that must catch it (CONFORMANCE_CATEGORY)
    versions: tuple[str, ...]        # the API versions it applies to
    description: str
    items: tuple[str, ...]           # the documented items whose checks must catch it
    survives: dict = field(default_factory=dict)      # version -> why the suite does not catch it
    suite_args: tuple[str, ...] = ()                  # more suite options for its runs (--examples 3)


@dataclass
class Result:
    mutant: Mutant
    version: str
    outcome: str                     # killed, killed-unreadably, survived, caught-declared, timed-out, no-report
    by: list
    readable: bool
    messages: list
    seconds: float
    report: dict | None = None
    output: str = ""

    @property
    def killed(self) -> bool:
        return self.outcome in ("killed", "killed-unreadably", "caught-declared")

    @property
    def as_expected(self) -> bool:
        return self.outcome == "killed" or (self.outcome == "survived" and self.version in self.mutant.survives)

    def why(self) -> str:
        if self.outcome == "survived":
            declared = self.mutant.survives.get(self.version)
            return (f"declared: {declared}" if declared else
                    f"no {self.mutant.category} check of {', '.join(self.mutant.items)} failed")
        if self.outcome == "caught-declared":
            return f"declared a survivor ({self.mutant.survives[self.version]}), but caught by {', '.join(self.by)}"
        if self.outcome == "killed-unreadably":
            return f"caught, but no failure message names {' or '.join(self.mutant.items)}: {self.messages[:1]}"
        if self.outcome == "killed":
            return "by " + ", ".join(self.by[:3]) + (f" (+{len(self.by) - 3})" if len(self.by) > 3 else "")
        return self.output


def category_modules(conformance_dir: Path | None = None) -> dict[str, list[Path]]:
    """CONFORMANCE_CATEGORY -> its check modules (conformance/test_*.py; numerics spans two), read from
    each module's source, so the parent process imports none of them."""
    if conformance_dir is None:
        import keras_conformance.conformance as pkg
        conformance_dir = Path(pkg.__file__).resolve().parent
    out: dict[str, list[Path]] = {}
    for path in sorted(Path(conformance_dir).glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) == "CONFORMANCE_CATEGORY"):
                out.setdefault(ast.literal_eval(node.value), []).append(path)
    return out


def quick_version(mutant: Mutant) -> str:
    """The one version a quick run tries a mutant in: taken in turn by a stable hash of its name, so
    every version is covered and each mutant shown killed once."""
    return mutant.versions[zlib.crc32(mutant.name.encode()) % len(mutant.versions)]


def aim(items) -> list[str]:
    """The suite's options selecting the checks of exactly these documented items."""
    return [arg for item in items for arg in ("--item", item)]


def kill_command(mutant: Mutant, version: str, report: Path, modules) -> list[str]:
    return [sys.executable, "-m", "pytest", *map(str, modules), "-q", "-p", "no:cacheprovider",
            "-p", "no:xdist", "--no-shrink", "--adapter", mutant.adapter, "--api-version", version,
            *aim(mutant.items), "--allow-untested", *mutant.suite_args, "--report-json", str(report)]


def verdict(data: dict, category: str, items) -> dict:
    """Did a check of ``category`` on one of ``items`` fail? ``readable``: one of those failures names its
    item in the check's own words (not only in hypothesis' "Falsifying example" dump)."""
    killing = [c for c in data["checks"] if c["category"] == category and c["outcome"] in KILLING_OUTCOMES
               and c["item"] in items]
    readable = [c for c in killing if c["item"] in c["message"].split("Falsifying example")[0]
                or c["item"] in c["id"]]
    return {"killed": bool(killing), "readable": bool(readable),
            "by": sorted(c["id"] for c in (readable or killing)),
            "messages": [f"{c['id']}: {c['outcome']}: {c['message'][:300]}" for c in killing]}


def run_case(mutant: Mutant, version: str, catalogue: Path, workdir: Path, *, modules,
             timeout: float = DEFAULT_TIMEOUT_S) -> Result:
    """One kill run, in a fresh pytest process under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / "report.json"
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONPATH"] = os.pathsep.join([str(catalogue), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    started = time.perf_counter()
    try:
        proc = subprocess.run(kill_command(mutant, version, report, modules), capture_output=True, text=True,
                              env=env, cwd=workdir, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Result(mutant, version, "timed-out", [], False, [], time.perf_counter() - started,
                      output=f"ran past the time bound of {timeout:g} s")
    seconds = time.perf_counter() - started
    tail = (proc.stdout[-3000:] + proc.stderr[-3000:]).strip()
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Result(mutant, version, "no-report", [], False, [], seconds,
                      output=f"the kill run wrote no report ({exc}); exit {proc.returncode}: {tail[-1500:]}")
    v = verdict(data, mutant.category, mutant.items)
    if v["killed"]:
        outcome = ("caught-declared" if version in mutant.survives else
                   "killed" if v["readable"] else "killed-unreadably")
    else:
        outcome = "survived"
    return Result(mutant, version, outcome, v["by"], v["readable"], v["messages"], seconds, data, tail)


def load_catalogue(directory: Path) -> list[Mutant]:
    """``catalogue()`` of ``<directory>/mutants.py``; ValueError naming the folder when there is none."""
    directory = Path(directory).resolve()
    if not (directory / "mutants.py").is_file():
        raise ValueError(f"--catalogue {directory}: no mutants.py there (expected the folder of the "
                         f"mutant catalogue, the repository's tests/)")
    sys.path.insert(0, str(directory))
    try:
        module = importlib.import_module("mutants")
        if Path(module.__file__).resolve().parent != directory:
            raise ValueError(f"--catalogue {directory}: `import mutants` found {module.__file__} instead")
        entries = module.catalogue()
    finally:
        sys.path.remove(str(directory))
    bad = [e for e in entries if not isinstance(e, Mutant)]
    if bad:
        raise ValueError(f"--catalogue {directory}: catalogue() returned {len(bad)} entries that are not Mutant")
    return entries


def documented_items(versions) -> dict[str, set[str]]:
    from keras_conformance import spec
    return {v: {i.name for i in spec.load(v).items()} for v in versions}


def summarise(results: list[Result], mutants: list[Mutant], out=None) -> dict:
    """The kill rate per category, the survivors with why, and the documented items ``mutants`` (the
    whole catalogue of the implementation) aim at."""
    out = out or sys.stdout
    by_category: dict[str, list[Result]] = {}
    for r in results:
        by_category.setdefault(r.mutant.category if r.mutant.of == "reference"
                               else f"{r.mutant.category} ({r.mutant.of})", []).append(r)
    width = max([13, *(len(c) for c in by_category)])
    categories = {}
    print("\nkill rate per category:", file=out)
    for category in sorted(by_category):
        got = by_category[category]
        killed = sum(r.killed for r in got)
        categories[category] = {"killed": killed, "runs": len(got)}
        print(f"  {category:<{width}} {killed:>4} / {len(got):<4} killed ({100.0 * killed / len(got):.1f}%)", file=out)
    killed = sum(r.killed for r in results)
    rate = 100.0 * killed / len(results) if results else 0.0
    print(f"  {'total':<{width}} {killed:>4} / {len(results):<4} killed ({rate:.1f}%)", file=out)
    not_killed = [r for r in results if not r.killed]
    if not_killed:
        print("\nsurvivors:", file=out)
        for r in sorted(not_killed, key=lambda r: (r.mutant.category, r.mutant.name, r.version)):
            print(f"  {r.mutant.name}[{r.version}] ({r.outcome}): {r.why()}", file=out)
    unexpected = [r for r in results if not r.as_expected]
    versions = sorted({v for m in mutants for v in m.versions})
    documented = documented_items(versions)
    coverage = {}
    print("\ndocumented items a mutant aims at:", file=out)
    for v in versions:
        aimed = {i for m in mutants if v in m.versions for i in m.items} & documented[v]
        coverage[v] = {"aimed": len(aimed), "documented": len(documented[v]),
                       "not_aimed": sorted(documented[v] - aimed)}
        print(f"  API {v:<6} {len(aimed)} of {len(documented[v])} "
              f"({100.0 * len(aimed) / max(1, len(documented[v])):.0f}%), by {sum(v in m.versions for m in mutants)} "
              f"mutants", file=out)
    if unexpected:
        print(f"\n{len(unexpected)} run(s) not as the catalogue declares: "
              + ", ".join(f"{r.mutant.name}[{r.version}] {r.outcome}" for r in unexpected), file=out)
    return {"categories": categories, "killed": killed, "runs": len(results), "kill_rate": rate,
            "coverage": coverage, "unexpected": [f"{r.mutant.name}[{r.version}]" for r in unexpected]}


def main(argv) -> int:
    p = argparse.ArgumentParser(
        prog="keras-conformance mutants",
        description="Run each mutant of the catalogue against only its items' checks (in parallel, each "
                    "in its own pytest process with a time bound); print the kill rate per category and "
                    "every survivor with why.")
    p.add_argument("--catalogue", default="tests", metavar="DIR",
                   help="the folder holding mutants.py (default: tests, the repository's)")
    p.add_argument("--adapter", default="reference", metavar="NAME",
                   help="the implementation whose mutants run: reference (default) or keras3-jax (mutants "
                        "of keras 3 itself)")
    p.add_argument("--api-version", action="append", default=None, metavar="V",
                   help="only runs in this API version (repeatable; default: every version a mutant applies to)")
    p.add_argument("--quick", action="store_true",
                   help="each mutant in one of its versions only (taken in turn by its name), as CI runs them")
    p.add_argument("--mutant", action="append", default=None, metavar="NAME",
                   help="only this mutant (repeatable)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="kill runs at a time (default: the cores this process may use)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"the time bound of one kill run in seconds (default {DEFAULT_TIMEOUT_S})")
    p.add_argument("--report-json", default=None, metavar="PATH", help="write every run's result as JSON")
    a = p.parse_args(argv)
    if a.jobs is not None and a.jobs < 1:
        p.error(f"--jobs must be at least 1, got {a.jobs}")
    if a.timeout <= 0:
        p.error(f"--timeout must be positive, got {a.timeout:g}")
    try:
        entries = load_catalogue(Path(a.catalogue))
    except ValueError as exc:
        print(f"keras-conformance mutants: {exc}", file=sys.stderr)
        return 2
    of = sorted({m.of for m in entries})
    mutants = catalogue_of = [m for m in entries if m.of == a.adapter]
    if not mutants:
        print(f"keras-conformance mutants: --adapter {a.adapter}: the catalogue has no mutants of it "
              f"(it has mutants of: {', '.join(of)})", file=sys.stderr)
        return 2
    if a.mutant:
        names = {m.name for m in mutants}
        unknown = sorted(set(a.mutant) - names)
        if unknown:
            print(f"keras-conformance mutants: --mutant {', '.join(unknown)}: no such mutant of {a.adapter} "
                  f"in the catalogue", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.name in a.mutant]
    if a.api_version:
        known = sorted({v for m in mutants for v in m.versions})
        unknown = sorted(set(a.api_version) - set(known))
        if unknown:
            print(f"keras-conformance mutants: --api-version {', '.join(unknown)}: the mutants apply to "
                  f"{', '.join(known)}", file=sys.stderr)
            return 2
    cases = [(m, v) for m in mutants for v in ((quick_version(m),) if a.quick else m.versions)
             if not a.api_version or v in a.api_version]
    modules = category_modules()
    missing = sorted({m.category for m, _ in cases} - set(modules))
    if missing:
        print(f"keras-conformance mutants: the catalogue names categories no check module has: "
              f"{', '.join(missing)}", file=sys.stderr)
        return 2
    jobs = a.jobs or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    catalogue = Path(a.catalogue).resolve()
    print(f"keras-conformance mutants: {len(cases)} kill runs of {len(mutants)} mutants of {a.adapter}, "
          f"{jobs} at a time, {a.timeout:g} s each at most", flush=True)
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="keras-conformance-mutants-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_case, m, v, catalogue, Path(tmp) / f"{i:04d}", modules=modules[m.category],
                               timeout=a.timeout) for i, (m, v) in enumerate(cases)]
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            results.append(r)
            mark = "ok  " if r.as_expected else "FAIL"
            print(f"{mark} {r.outcome:<15} {r.mutant.name}[{r.version}] ({r.seconds:.1f} s): {r.why()[:200]}",
                  flush=True)
    elapsed = time.perf_counter() - started
    results.sort(key=lambda r: (r.mutant.name, r.version))
    summary = summarise(results, catalogue_of)
    print(f"\n{len(results)} kill runs in {elapsed:.0f} s", flush=True)
    if a.report_json:
        summary["results"] = [{"mutant": r.mutant.name, "version": r.version, "category": r.mutant.category,
                               "items": list(r.mutant.items), "outcome": r.outcome, "by": r.by,
                               "readable": r.readable, "seconds": round(r.seconds, 2), "why": r.why()}
                              for r in results]
        summary["seconds"] = round(elapsed, 1)
        path = Path(a.report_json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0 if not summary["unexpected"] else 1
