"""pytest plugin of the conformance suite (entry point ``pytest11: keras_conformance``).

Loaded in every pytest run of an environment where keras-conformance is installed, so it is inert unless
conformance checks are collected: it imports only pytest and the standard library at import time, and
resolves the adapter only when the run targets the conformance package (or a check module is collected).

Options: ``--adapter NAME`` (default ``reference``; a built-in name, ``package.module:factory`` or an entry
point), ``--api-version 2.2.4|2.3|3`` (default: the adapter's claimed version), ``--report-json PATH``,
``--report-html PATH``, ``--no-expectations`` (report known deviations as failures).
"""
from __future__ import annotations

import fnmatch
import importlib.util
import os
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
_STATE = pytest.StashKey()
_PROP = "keras_conformance"
NO_SHRINK_ENV = "KERAS_CONFORMANCE_NO_SHRINK"


# --------------------------------------------------------------------------------------------------
# options and session state
# --------------------------------------------------------------------------------------------------
def pytest_addoption(parser):
    group = parser.getgroup("keras-conformance", "keras-conformance: certify a Keras implementation")
    group.addoption("--adapter", default="reference", metavar="NAME",
                    help="implementation under test: reference, keras3-tensorflow, keras3-jax, "
                         "keras3-torch, tf_keras, package.module:factory or an entry point name "
                         "(default: reference)")
    group.addoption("--api-version", default=None, metavar="V",
                    help="documented API version to certify against: 2.2.4, 2.3 or 3 "
                         "(default: the version the adapter claims)")
    group.addoption("--report-json", default=None, metavar="PATH",
                    help="write the conformance report (per check, per item, per category) as JSON")
    group.addoption("--no-expectations", action="store_true", default=False,
                    help="ignore the adapter's expectations file: every known deviation is reported "
                         "as the failure it is")
    group.addoption("--spec", default=None, metavar="DIR",
                    help="a directory of spec YAML files to certify against (default: the shipped spec/; "
                         "for drafting entries: what the suite can generate from them shows at once)")
    group.addoption("--item", action="append", default=None, metavar="NAME",
                    help="run only the checks of this documented item (exact, case-sensitive name such as "
                         "layers.Add; repeatable)")
    group.addoption("--examples", type=int, default=None, metavar="N",
                    help="at most N hypothesis examples per check (a quick run; a certification uses the "
                         "full number, 12 for most checks)")
    group.addoption("--no-shrink", action="store_true", default=False,
                    help="a failing check reports its first failing example without minimising it (for "
                         "runs that only need to know whether checks fail, such as mutant kill runs)")
    group.addoption("--fuzz-cases", type=int, default=None, metavar="N",
                    help="at most N mutated files per format in the fuzzing safety check (a quick run; a "
                         "certification uses the full number)")
    group.addoption("--layers-per-family", type=int, default=None, metavar="N",
                    help="a quick profile: of each layer family (spec/layers/<family>.yaml) only the checks "
                         "of its first N layer classes run (the report says which were left out); a "
                         "certification runs them all")
    group.addoption("--layer-shard", default=None, metavar="K/N",
                    help="a quick profile: of the layer families (spec/layers/*.yaml, in name order) only "
                         "those whose index modulo N is K run (several quick runs share the families); the "
                         "report says which layer classes were left out")
    group.addoption("--allow-untested", action="store_true", default=False,
                    help="do not fail the run when a documented item is untested (a check of it could "
                         "not be generated from the spec, or no check covers it)")
    group.addoption("--check-order", default="spec", metavar="ORDER",
                    help="the order the checks run in: spec (default: category by category, as the spec "
                         "lists the items), reversed, or shuffled[:SEED] (a seeded permutation); a correct "
                         "implementation gets the same verdicts in every order (no check depends on state "
                         "another left behind)")
    group.addoption("--report-html", default=None, metavar="PATH",
                    help="write the conformance report as one self-contained HTML page (items x "
                         "categories, failures with their reproducers, coverage table)")


class _Session:
    """Per pytest-session plugin state (stored in config.stash)."""

    def __init__(self, config):
        self.config = config
        self.ctx = None                 # context.Conformance, created on demand
        self.error: str | None = None
        self.report = None
        self.collected_ids: list[str] = []
        self.matched_expectations: set[str] = set()
        self.active = False             # conformance checks were collected
        self.started = time.time()

    def context(self):
        if self.ctx is None and self.error is None:
            from ..adapters import AdapterUnavailable
            from .context import Conformance
            opt = self.config.getoption
            try:
                self.ctx = Conformance(opt("--adapter"), opt("--api-version"),
                                       use_expectations=not opt("--no-expectations"), spec_root=opt("--spec"))
            except AdapterUnavailable as exc:
                self.error = exc.message
            except ValueError as exc:  # spec.SpecError, unknown version
                self.error = " ".join(str(exc).split())
        if self.error is not None:
            raise _UsageError(self.error)
        return self.ctx


class _UsageError(Exception):
    pass


def _targets_conformance(config) -> bool:
    """Does the command line point at the conformance package (or a folder that contains it)?"""
    pyargs = config.getoption("pyargs", False)
    for arg in config.args:
        base = str(arg).split("::", 1)[0]
        path = None
        if pyargs and not os.path.exists(base):
            try:
                spec = importlib.util.find_spec(base)
            except (ImportError, ValueError):
                spec = None
            if spec is not None:
                origin = spec.origin if spec.origin not in (None, "namespace") else None
                locs = list(spec.submodule_search_locations or [])
                path = Path(locs[0]) if locs else (Path(origin) if origin else None)
        else:
            path = Path(base)
        if path is None:
            continue
        try:
            path = path.resolve()
        except OSError:
            continue
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_configure(config):
    config.addinivalue_line("markers", "conformance: a generated keras-conformance check")
    if config.getoption("--examples", None):
        # strategies.EXAMPLES_ENV, read when the check modules are imported (collection, after this)
        os.environ["KERAS_CONFORMANCE_EXAMPLES"] = str(config.getoption("--examples"))
    if config.getoption("--no-shrink", False):
        os.environ[NO_SHRINK_ENV] = "1"                 # strategies.NO_SHRINK_ENV, read as --examples is
    if config.getoption("--fuzz-cases", None) is not None:
        os.environ["KERAS_CONFORMANCE_SUITE_FUZZ_CASES"] = str(config.getoption("--fuzz-cases"))
    _check_order(config.getoption("--check-order", "spec"))
    if not config.pluginmanager.has_plugin("keras_conformance_no_hypothesis_patch"):
        config.pluginmanager.register(_NoHypothesisPatch(), "keras_conformance_no_hypothesis_patch")
    state = _Session(config)
    config.stash[_STATE] = state
    _CONFIG[:] = [config]
    if _targets_conformance(config):
        try:
            state.context()
        except _UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
        # the reference is the oracle of every check, in this process beside the implementation's own
        # thread pools: its small products run on one BLAS thread (reference/threads.py says why)
        from keras_conformance.reference import threads
        try:
            threads.limit_process()
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None


def _state(config) -> _Session:
    return config.stash[_STATE]


# --------------------------------------------------------------------------------------------------
# generating the checks from the spec
# --------------------------------------------------------------------------------------------------
def pytest_generate_tests(metafunc):
    category = getattr(metafunc.module, "CONFORMANCE_CATEGORY", None)
    if category is None or "case" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    try:
        ctx = state.context()
    except _UsageError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)
    state.active = True
    cases = metafunc.module.conformance_cases(ctx, metafunc.function.__name__)
    metafunc.parametrize("case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="session")
def conformance(request):
    """The run's context.Conformance: adapter, api_version, spec, K (under test), R (reference)."""
    return _state(request.config).context()


@pytest.fixture
def conformance_check(request, conformance):
    """Per-check record (reproducer); skips the check when a capability it needs is blocked."""
    from .context import Blocked, CheckRecord
    case = getattr(getattr(request.node, "callspec", None), "params", {}).get("case")
    record = CheckRecord(case)
    request.node.stash[_RECORD] = record
    if case is not None:
        documented = conformance.spec.get(case.item)
        adapter = conformance.adapter
        if (documented is not None and documented.device == "gpu" and adapter.device != "gpu"
                and not getattr(adapter, "runs_gpu_only_layers", False)):
            pytest.skip(f"{case.item} is documented to run on a GPU only ({documented.source}); this "
                        f"implementation runs on {adapter.device}")
    if case is not None and case.needs:
        try:
            conformance.require(case.needs)
        except Blocked as exc:
            pytest.skip(str(exc))
    return record


_RECORD = pytest.StashKey()
_EXPECTATION = pytest.StashKey()


def _failure_texts(exc: BaseException) -> list[str]:
    """The messages of a failure: its own, or those of every exception in an exception group."""
    if isinstance(exc, BaseExceptionGroup):
        return [t for e in exc.exceptions for t in _failure_texts(e)]
    return [str(exc)]


def _check_match(item, call, report, case) -> None:
    """An expected failure whose expectation names its deviation (``match``) must fail that way; else it
    becomes a plain failure that says so (a new failure is not hidden behind an old entry)."""
    if not (report.skipped and hasattr(report, "wasxfail")) or call.excinfo is None:
        return
    expectation = item.stash.get(_EXPECTATION, None)
    mismatch = getattr(expectation, "mismatch", None)
    if mismatch is None:
        return
    exc = call.excinfo.value
    # hypothesis reports several distinct failures as one exception group: each must be the deviation
    why = next((w for w in (mismatch(text, case.category) for text in _failure_texts(exc)) if w), None)
    if why is None:
        return
    report.outcome = "failed"
    del report.wasxfail
    report.longrepr = (f"expected to fail, but not as declared ({why}; declared: "
                       f"{list(expectation.match)}, reason: {expectation})\n{exc}")


def _case(item):
    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("case") if callspec is not None else None
    return case if hasattr(case, "category") and hasattr(case, "item") else None


def _expectation_for(item, expectations: dict):
    if item.name in expectations:
        return item.name
    for key in expectations:
        if item.nodeid.endswith("::" + key) or (any(ch in key for ch in "*?[") and
                                                  fnmatch.fnmatchcase(item.name, key)):
            return key
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    state = _state(config)
    if state.ctx is None:
        return
    from .context import CATEGORIES
    only = config.getoption("--item")
    if only:
        keep = [i for i in items if _case(i) is None or _case(i).item in only]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    per_family, shard = config.getoption("--layers-per-family"), _shard(config)
    if per_family is not None or shard is not None:
        sampled = _sampled_out(state.ctx.spec, per_family, shard)
        dropped = [i for i in items if _case(i) is not None and _case(i).item in sampled]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [i for i in items if i not in dropped]
    expectations = state.ctx.expectations
    for item in items:
        case = _case(item)
        if case is None:
            continue
        item.add_marker(pytest.mark.conformance)
        state.collected_ids.append(item.name)
        key = _expectation_for(item, expectations)
        if key is not None:
            item.stash[_EXPECTATION] = expectations[key]
            state.matched_expectations.add(key)
            # a quick run (--examples) draws fewer examples than a certification: a declared deviation
            # that shows only on some inputs may not be reached, so there its absence is not a failure
            item.add_marker(pytest.mark.xfail(reason=f"expected to fail on {state.ctx.adapter_name}: "
                                                     f"{expectations[key]}",
                                              strict=config.getoption("--examples") is None))

    def order(item):
        case = _case(item)
        if case is None:
            return -1
        return CATEGORIES.index(case.category) if case.category in CATEGORIES else len(CATEGORIES)
    items[:] = sorted(items, key=order)   # stable: dependency order between categories
    items[:] = _reordered(items, config.getoption("--check-order"))


def _check_order(how: str) -> tuple[str, int]:
    """--check-order parsed: (spec | reversed | shuffled, seed); anything else is a usage error."""
    name, _, seed = how.partition(":")
    if how in ("spec", "reversed") or (name == "shuffled" and (seed == "" or seed.isdigit())):
        return name, int(seed or 0)
    raise pytest.UsageError(f"--check-order {how!r}: expected spec, reversed or shuffled[:SEED] "
                            "(SEED a non-negative integer)")


def _reordered(items, how: str):
    name, seed = _check_order(how)
    if name == "reversed":
        return items[::-1]
    if name == "shuffled":
        import random
        shuffled = list(items)
        random.Random(seed).shuffle(shuffled)
        return shuffled
    return items


# --------------------------------------------------------------------------------------------------
# outcomes
# --------------------------------------------------------------------------------------------------
def _classify(item, call, report):
    from .context import NotImplementedByAdapter
    reason = ""
    if report.passed:
        if hasattr(report, "wasxfail"):     # non-strict: a quick run did not reach a declared deviation
            return "passed", (f"declared as a deviation, not reached on the examples of this quick run "
                              f"(--examples): {report.wasxfail}")
        return "passed", ""
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return "expected-fail", report.wasxfail
        lr = report.longrepr
        reason = lr[2] if isinstance(lr, tuple) and len(lr) == 3 else str(lr)
        reason = reason.removeprefix("Skipped: ")
        from .layers import UNTESTED
        if reason.startswith(UNTESTED):
            return "untested", reason[len(UNTESTED):]
        return "skipped", reason
    # failed
    excinfo = call.excinfo
    if excinfo is None:
        text = str(report.longrepr)
        if "XPASS(strict)" in text:
            return "unexpected-pass", f"passed but expected to fail: {text.replace('[XPASS(strict)] ', '')}"
        return "failed", text
    exc = excinfo.value
    if isinstance(report.longrepr, str) and report.longrepr.startswith("expected to fail, but not as declared"):
        return "failed", report.longrepr
    notes = "\n".join(getattr(exc, "__notes__", []) or [])
    msg = str(exc) + (f"\n{notes}" if notes else "")
    leaves = [exc]
    if isinstance(exc, BaseExceptionGroup):
        leaves = list(exc.exceptions)
    if call.when == "call" and all(isinstance(e, NotImplementedByAdapter) for e in leaves):
        return "not-implemented", msg
    if call.when == "call" and all(isinstance(e, (AssertionError, pytest.fail.Exception)) for e in leaves):
        return "failed", msg
    return "crashed", f"{type(exc).__name__} during {call.when}: {msg}"


def pytest_runtest_setup(item):
    if _case(item) is not None:
        from . import tolerances
        tolerances.begin_check()


class _NoHypothesisPatch:
    """A failing check's reproducer is the report's (every failure carries one): hypothesis' own patch for
    a failing example would be a diff of the installed conformance module, written into the user's
    .hypothesis/, and making it parses that module with libcst (about 0.9 s a failing run, mostly its
    import). This report wrapper runs inside hypothesis' own (trylast), so it drops the examples before that
    hook looks for them. A plugin of its own: a module holds one function per hook name."""

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item, call):
        yield
        if _case(item) is not None:
            item.__dict__.pop("_hypothesis_failing_examples", None)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    case = _case(item)
    if case is None:
        return
    _check_match(item, call, report, case)
    try:
        kind, message = _classify(item, call, report)
    except Exception as exc:  # noqa: BLE001 - never break the run over the report
        kind, message = ("failed" if report.failed else report.outcome), f"(report error: {exc})"
    record = item.stash.get(_RECORD, None)
    reproducer = getattr(record, "reproducer", "") or ""
    if "\nreproducer:\n" in message:
        message, _, embedded = message.partition("\nreproducer:\n")
        reproducer = reproducer or embedded.split("\nFalsifying example")[0]
    data = {
        "id": item.name, "nodeid": item.nodeid, "category": case.category, "item": case.item,
        "outcome": kind, "message": message.strip(), "reproducer": reproducer,
        "duration": round(float(getattr(report, "duration", 0.0)), 4), "phase": call.when,
        # added fields (schema 1 stays readable): the documented parameters the check's calls named,
        # and the tolerance entries it looked up
        "exercises": {k: sorted(v) for k, v in sorted(getattr(record, "exercised", {}).items())},
        "tolerances": _tolerances_used(),
        # the reference's signatures are generated from the spec: comparing them with it cannot fail
        "self_referential": case.category == "signatures" and _adapter_name(item.config) == "reference",
    }
    report.user_properties = list(report.user_properties) + [(_PROP, data)]


def _adapter_name(config) -> str:
    state = _state(config)
    return state.ctx.adapter.name if state.ctx is not None else config.getoption("--adapter")


def _tolerances_used() -> list[str]:
    import sys
    mod = sys.modules.get(__package__ + ".tolerances")
    return mod.used_in_check() if mod is not None else []


def pytest_runtest_logreport(report):
    data = next((v for k, v in getattr(report, "user_properties", ()) if k == _PROP), None)
    if data is None:
        return
    config = _CONFIG[0] if _CONFIG else None
    if config is None:
        return
    state = _state(config)
    state.active = True          # also on an xdist controller, which collects nothing itself
    if state.report is None:
        from .report import Report
        state.report = Report()
    state.report.add(dict(data))


_CONFIG: list = []


def _header(state) -> dict:
    ctx = state.ctx
    from . import tolerances
    a = ctx.adapter
    try:
        version_string = a.version_string
    except Exception as exc:  # noqa: BLE001
        version_string = f"(version_string failed: {exc})"
    try:
        proof = a.device_proof()
    except Exception as exc:  # noqa: BLE001
        proof = f"(device_proof failed: {exc})"
    # the entries the checks say they looked up (on an xdist controller the workers' checks did)
    keys = set(tolerances.key(*k) for k in tolerances._USED)
    if state.report is not None:
        for r in state.report.checks.values():
            keys.update(r.get("tolerances") or ())
    used = tolerances.table(keys=keys)
    return {
        "adapter": {"name": ctx.adapter_name, "version_string": version_string, "device": ctx.device,
                    "device_proof": proof},
        "api_version": ctx.api_version,
        "spec_items": len(ctx.spec),
        "tolerances": used,
        "tolerances_table": tolerances.table(device=ctx.device),
        "duration_s": round(time.time() - state.started, 2),
        "examples_cap": state.config.getoption("--examples"),
        "layers_per_family": state.config.getoption("--layers-per-family"),
        "layer_shard": state.config.getoption("--layer-shard"),
        "layers_sampled_out": sorted(_sampled_out(ctx.spec, state.config.getoption("--layers-per-family"),
                                                  _shard(state.config))),
    }


def _stale(state) -> dict:
    """Expectation entries that match no collected (or, under xdist, no reported) check."""
    exp = state.ctx.expectations
    seen = set(state.collected_ids)
    nodeids = set()
    if state.report is not None:
        seen |= {r["id"] for r in state.report.checks.values()}
        nodeids = {r["nodeid"] for r in state.report.checks.values()}

    def matched(key):
        if key in state.matched_expectations or key in seen:
            return True
        if any(n.endswith("::" + key) for n in nodeids):
            return True
        return any(ch in key for ch in "*?[") and any(fnmatch.fnmatchcase(i, key) for i in seen)
    return {k: v for k, v in sorted(exp.items()) if not matched(k)}


def _shard(config) -> tuple[int, int] | None:
    value = config.getoption("--layer-shard")
    if value is None:
        return None
    try:
        k, n = (int(part) for part in str(value).split("/"))
    except ValueError:
        raise pytest.UsageError(f"--layer-shard: expected K/N (two integers, 0 <= K < N), got {value!r}") from None
    if not 0 <= k < n:
        raise pytest.UsageError(f"--layer-shard: expected 0 <= K < N, got {value!r}")
    return k, n


def _sampled_out(spec, per_family: int | None, shard: tuple[int, int] | None = None) -> set[str]:
    """The layer classes a quick profile leaves out: those past the first ``per_family`` of each layer
    family (file order; ``--layers-per-family``), and every class of the families outside the shard
    (``--layer-shard K/N``: the families in name order whose index modulo N is not K)."""
    layers = [i for i in spec.items() if i.is_layer and i.area.startswith("layers/")]
    families = sorted({i.area for i in layers})
    out, seen = set(), {}
    for item in layers:
        seen[item.area] = seen.get(item.area, 0) + 1
        if per_family is not None and seen[item.area] > per_family:
            out.add(item.name)
        if shard is not None and families.index(item.area) % shard[1] != shard[0]:
            out.add(item.name)
    return out


def _uncovered(ctx) -> list[str]:
    """The documented items of the run's version that no check of the suite is generated for (whatever
    ``-k`` selects): each check module's ``conformance_cases`` for each of its test functions."""
    import importlib
    covered = set()
    for path in sorted(HERE.glob("test_*.py")):
        module = importlib.import_module(f"{__package__}.{path.stem}")
        make = getattr(module, "conformance_cases", None)
        if make is None:
            continue
        for name in dir(module):
            if name.startswith("test_") and callable(getattr(module, name)):
                covered.update(c.item for c in make(ctx, name))
    return [i.name for i in ctx.spec.items() if i.name not in covered]


def pytest_sessionfinish(session, exitstatus):
    state = _state(session.config)
    if not state.active or getattr(session.config, "workerinput", None) is not None:
        return
    try:
        state.context()
    except _UsageError:
        return
    from .context import CATEGORIES
    from .report import Report
    if state.report is None:
        state.report = Report()
    state.header = _header(state)
    state.stale = _stale(state)
    state.uncovered = _uncovered(state.ctx)
    state.header["uncovered"] = state.uncovered
    untested = [r["id"] for r in state.report.checks.values() if r["outcome"] == "untested"]
    state.header["allow_untested"] = bool(session.config.getoption("--allow-untested"))
    if (untested or state.uncovered) and not state.header["allow_untested"] and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    path = session.config.getoption("--report-json")
    html_path = session.config.getoption("--report-html")
    if path or html_path:
        from .report import coverage
        data = state.report.to_json(header=state.header, stale=state.stale, exitstatus=exitstatus,
                                    order=CATEGORIES)
        data["coverage"] = coverage(state.ctx.spec, state.report)
        if path:
            state.report.write_json(path, data)
        if html_path:
            from .report_html import write_report
            write_report(html_path, data)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = _state(config)
    if state.ctx is None or not state.active or getattr(state, "header", None) is None:
        return
    from .context import CATEGORIES
    terminalreporter.section("keras-conformance")
    for line in state.report.summary_lines(header=state.header, stale=state.stale, order=CATEGORIES):
        terminalreporter.line(line)
    for opt in ("--report-json", "--report-html"):
        path = config.getoption(opt)
        if path:
            terminalreporter.line(f"report: {os.path.abspath(path)}")
