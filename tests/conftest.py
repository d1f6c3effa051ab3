"""Project test configuration: the reference's BLAS threads, and the mutation-score summary of
tests/test_mutants.py."""
from __future__ import annotations


def pytest_configure(config):
    """The project's own tests drive the reference directly too (formulas, gradients, saving), beside
    TensorFlow and torch in the same worker: one BLAS thread, as in the conformance plugin."""
    from keras_conformance.reference import threads
    threads.limit_process()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Kill rate per category from the ``mutant`` property each test_mutant_is_killed case records (works
    under xdist: user_properties travel with the reports)."""
    rows = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "call":
                continue
            for key, value in getattr(report, "user_properties", ()):
                if key == "mutant":
                    rows[(value["name"], value["version"])] = value
    if not rows:
        return
    terminalreporter.section("mutation score")
    by_category: dict[str, list] = {}
    for row in rows.values():
        by_category.setdefault(row["category"], []).append(row)
    width = max(13, *(len(c) for c in by_category))
    for category in sorted(by_category):
        got = by_category[category]
        killed = sum(r["killed"] for r in got)
        survivors = sorted(f"{r['name']}[{r['version']}]" for r in got if not r["killed"])
        unreadable = sum(r["killed"] and not r.get("readable", True) for r in got)
        line = f"{category:<{width}} {killed:>3} / {len(got):<3} killed" + (f" ({unreadable} unreadably)" if unreadable else "")
        terminalreporter.line(line + (f"   survivors: {', '.join(survivors)}" if survivors else ""))
    killed = sum(r["killed"] for r in rows.values())
    terminalreporter.line(f"{'total':<{width}} {killed:>3} / {len(rows):<3} killed ({100.0 * killed / len(rows):.0f}%)")
