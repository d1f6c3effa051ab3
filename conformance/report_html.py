"""Self-contained HTML pages from JSON reports (standard library only: no scripts, no external files).

- :func:`render_report` / :func:`write_report`: one run. A header (adapter, version string, device and
  its proof, API version, the tolerances used), the outcome table (rows: documented items; columns:
  check categories; each cell the item's worst outcome in that category, its checks with message and
  reproducer in a ``<details>`` element), and the coverage table (which documented parameters some
  check's call named).
- :func:`render_matrix` / :func:`write_matrix`: several runs side by side (``keras-conformance compare``):
  rows: documented items (the union), one column per report, each cell the item's outcome in that run.
"""
from __future__ import annotations

import html
import json
import os

from .context import CATEGORIES
from .report import FAILING, worst

COLORS = {"passed": "#c8ecc8", "failed": "#f6b8b8", "crashed": "#f09090", "not-implemented": "#f3d0a0",
          "expected-fail": "#e8e0a8", "unexpected-pass": "#e4b8f0", "untested": "#f8f0c0",
          "skipped": "#dddddd",
          "no check": "#ffffff", "absent": "#ffffff"}

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:0.8em 0}
th,td{border:1px solid #bbb;padding:3px 6px;vertical-align:top;text-align:left;font-size:13px}
th{background:#eee} td.o{min-width:7em}
pre{white-space:pre-wrap;max-width:70em;margin:2px 0;font-size:12px;background:#f7f7f7;padding:4px}
details summary{cursor:pointer} .legend span{padding:2px 6px;margin-right:4px;border:1px solid #bbb}
code{font-size:12px}
"""


def _e(x) -> str:
    return html.escape("" if x is None else str(x), quote=True)


def _cell_style(outcome: str) -> str:
    return f' style="background:{COLORS.get(outcome, "#ffffff")}"'


def _page(title: str, body: list[str]) -> str:
    return "\n".join(["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
                      f"<title>{_e(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
                      *body, "</body>", "</html>", ""])


def _legend() -> str:
    return '<p class="legend">' + "".join(f"<span{_cell_style(o)}>{_e(o)}</span>" for o in
                                          ("passed", "failed", "crashed", "not-implemented",
                                           "expected-fail", "unexpected-pass", "untested", "skipped")) + "</p>"


def _check_details(check: dict) -> str:
    parts = [f"<b>{_e(check['id'])}</b>: {_e(check['outcome'])}"
             + (" (self-referential: generated from the same spec, cannot fail here)"
                if check.get("self_referential") else "")]
    if check.get("message"):
        parts.append(f"<pre>{_e(check['message'])}</pre>")
    if check.get("reproducer") and check["outcome"] != "passed":
        parts.append(f"<div>reproducer:</div><pre>{_e(check['reproducer'])}</pre>")
    return "<div>" + "".join(parts) + "</div>"


def _categories(data: dict) -> list[str]:
    seen = list(data.get("categories") or {})
    return [c for c in CATEGORIES if c in seen] + [c for c in seen if c not in CATEGORIES]


def _items(data: dict) -> list[str]:
    """Documented items in spec order (coverage lists every one), then any only the checks name."""
    names = list(data.get("coverage") or {})
    return names + [i for i in (data.get("items") or {}) if i not in names]


def render_report(data: dict) -> str:
    a = data.get("adapter") or {}
    title = f"keras-conformance: {a.get('name')} against Keras API {data.get('api_version')}"
    body = [f"<h1>{_e(title)}</h1>", "<table>"]
    tol = data.get("tolerances") or {}
    tol_text = "; ".join(f"{k}: {v}" for k, v in tol.items()) or "none (no check compared numbers)"
    for k, v in (("adapter", a.get("name")), ("version", a.get("version_string")), ("device", a.get("device")),
                 ("device proof", a.get("device_proof")), ("API version", data.get("api_version")),
                 ("tolerances used", tol_text), ("exit status", data.get("exitstatus")),
                 ("duration", f"{data.get('duration_s', '?')} s")):
        body.append(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>")
    body.append("</table>")
    totals = data.get("totals") or {}
    body.append("<p>checks: " + _e(", ".join(f"{n} {o}" for o, n in totals.items()) or "none") + "; documented items: "
                + _e(", ".join(f"{n} {o}" for o, n in (data.get("items_totals") or {}).items()) or "none") + "</p>")
    body.append(_legend())

    cats = _categories(data)
    by_cell: dict[tuple[str, str], list[dict]] = {}
    for c in data.get("checks") or []:
        by_cell.setdefault((c["item"], c["category"]), []).append(c)
    body.append('<h2>Outcomes per documented item</h2><table id="outcomes">')
    body.append("<tr><th>documented item</th><th>outcome</th>" + "".join(f"<th>{_e(c)}</th>" for c in cats)
                + "</tr>")
    items = data.get("items") or {}
    for name in _items(data):
        overall = (items.get(name) or {}).get("outcome", "no check")
        row = [f'<tr data-item="{_e(name)}"><th>{_e(name)}</th><td class="o"{_cell_style(overall)}>'
               f"{_e(overall)}</td>"]
        for cat in cats:
            checks = by_cell.get((name, cat))
            if not checks:
                row.append("<td></td>")
                continue
            outcome = worst(c["outcome"] for c in checks)
            details = "".join(_check_details(c) for c in checks)
            row.append(f'<td class="o"{_cell_style(outcome)}><details><summary>{_e(outcome)} '
                       f"({len(checks)})</summary>{details}</details></td>")
        body.append("".join(row) + "</tr>")
    body.append("</table>")

    cov = data.get("coverage") or {}
    if cov:
        n_items = sum(1 for v in cov.values() if v.get("checks"))
        n_params = sum(len(v.get("params") or []) for v in cov.values())
        n_ex = sum(len(v.get("exercised") or []) for v in cov.values())
        body.append("<h2>Coverage</h2>")
        body.append(f"<p>{n_items} of {len(cov)} documented items have a check; {n_ex} of {n_params} documented "
                    "parameters are named by some check's call (a signature check inspects every "
                    "parameter of its item but calls nothing, so it does not count here).</p>")
        body.append('<table id="coverage"><tr><th>documented item</th><th>kind</th><th>checks</th>'
                    "<th>categories</th><th>parameters exercised</th><th>parameters not exercised</th></tr>")
        for name, v in cov.items():
            params = v.get("params") or []
            ex = v.get("exercised") or []
            missing = [p for p in params if p not in ex]
            body.append(f'<tr data-item="{_e(name)}"><th>{_e(name)}</th><td>{_e(v.get("kind"))}</td>'
                        f"<td>{_e(v.get('checks', 0))}</td><td>{_e(', '.join(v.get('categories') or []))}</td>"
                        f"<td>{_e(f'{len(ex)}/{len(params)}: ' + ', '.join(ex) if params else '(no parameters)')}</td>"
                        f"<td>{_e(', '.join(missing))}</td></tr>")
        body.append("</table>")
    stale = data.get("stale_expectations") or {}
    if stale:
        body.append("<h2>Stale expectations (match no check)</h2><ul>"
                    + "".join(f"<li><code>{_e(k)}</code>: {_e(v)}</li>" for k, v in stale.items()) + "</ul>")
    return _page(title, body)


def _write(path: str, text: str) -> str:
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def write_report(path: str, data: dict) -> str:
    return _write(path, render_report(data))


def run_label(data: dict) -> str:
    a = data.get("adapter") or {}
    return f"{a.get('name')} (API {data.get('api_version')})"


def render_matrix(reports: list[dict]) -> str:
    """The compatibility matrix: one column per report, one row per documented item."""
    title = "keras-conformance compatibility matrix"
    body = [f"<h1>{_e(title)}</h1>", _legend(), '<table id="matrix">', "<tr><th>documented item</th>"]
    for data in reports:
        a = data.get("adapter") or {}
        body.append(f'<th class="run">{_e(run_label(data))}<br><small>{_e(a.get("version_string"))}; '
                    f"{_e(a.get('device'))}</small></th>")
    body.append("</tr>")
    names: list[str] = []
    for data in reports:
        names += [n for n in _items(data) if n not in names]
    body.append("<tr><th>documented items passing</th>")
    for data in reports:
        it = data.get("items_totals") or {}
        ok = it.get("passed", 0) + it.get("expected-fail", 0)
        body.append(f"<td>{ok}/{sum(it.values())}</td>")
    body.append("</tr>")
    for name in names:
        row = [f'<tr data-item="{_e(name)}"><th>{_e(name)}</th>']
        for data in reports:
            item = (data.get("items") or {}).get(name)
            if item is None:
                documented = name in (data.get("coverage") or {})
                label = "no check" if documented else "absent"
                row.append(f'<td class="o" title="{"documented, no check" if documented else "not documented in this API version"}">{label}</td>')
                continue
            outcome = item["outcome"]
            bad = [c for c in data.get("checks") or [] if c["item"] == name and c["outcome"] in FAILING | {"expected-fail"}]
            if bad:
                row.append(f'<td class="o"{_cell_style(outcome)}><details><summary>{_e(outcome)}</summary>'
                           + "".join(_check_details(c) for c in bad) + "</details></td>")
            else:
                row.append(f'<td class="o"{_cell_style(outcome)}>{_e(outcome)}</td>')
        body.append("".join(row) + "</tr>")
    body.append("</table>")
    return _page(title, body)


def write_matrix(path: str, report_paths: list[str]) -> str:
    reports = []
    for p in report_paths:
        with open(p, encoding="utf-8") as f:
            reports.append(json.load(f))
    return _write(path, render_matrix(reports))
