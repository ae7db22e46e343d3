"""``reports/html/index.html``: the runs, newest first, each with its outcome and a link to
its own Allure report.

A static page written by shiftgate (no script, no fetch: it opens from the file system too):
per run its outcome first, then when it started, the candidate and stable versions, the
environment, and its gates in the order they ran with their verdicts, a check that was not
judged counted apart. Every value is escaped and redacted.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence

from shiftgate.redact import redact
from shiftgate.report.runs import NOT_JUDGED, RunReport

_MARKS = {True: "✔", False: "✘", None: "…"}  # plain glyphs: every font has them, emoji not

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
.ok { color: #1a7f37; } .bad { color: #cf222e; } .open { color: #9a6700; }
code { font-size: .9em; }
"""


def _e(value: object) -> str:
    return html.escape(redact(str(value)))


def _gates(report: RunReport) -> str:
    parts = []
    for gate in report.gates:
        icon = _MARKS[gate.verdict == "passed"]
        counts = f"{gate.count('passed')}/{len(gate.checks)} passed"
        if gate.count(NOT_JUDGED):
            counts += f", {gate.count(NOT_JUDGED)} not judged"
        parts.append(f"{icon} {_e(gate.gate)} <small>({_e(gate.verdict)}; {counts})</small>")
    return "<br>".join(parts)


def render_index(reports: Sequence[RunReport], name: str, link: Callable[[RunReport], str]) -> str:
    rows = []
    for report in reports:
        facts = report.facts
        css = {True: "ok", False: "bad", None: "open"}[report.ok]
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.start)) if report.start else ""
        what = f"run {report.run_id}" if report.run_id else f"gate run by hand ({report.key})"
        rows.append(
            "<tr>"
            f'<td class="{css}">{_MARKS[report.ok]} {_e(report.outcome)}</td>'
            f'<td><a href="{html.escape(link(report))}">{_e(what)}</a></td>'
            f"<td>{_e(started)}</td>"
            f"<td>{_e(facts.get('version.candidate', ''))}</td>"
            f"<td>{_e(facts.get('version.stable', ''))}</td>"
            f"<td>{_e(facts.get('environment', ''))}</td>"
            f"<td>{_gates(report)}</td>"
            "</tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="7">No gate results yet.</td></tr>'
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(name)}: runs</title><style>{_STYLE}</style></head><body>\n"
        f"<h1>{_e(name)}</h1>\n<p>One report per run (a gate run by hand is its own), "
        "newest first. Each report holds only that run's results.</p>\n"
        "<table><thead><tr><th>outcome</th><th>report</th><th>started</th><th>candidate</th>"
        "<th>stable</th><th>environment</th><th>gates, in order</th></tr></thead>\n"
        f"<tbody>\n{body}\n</tbody></table>\n</body></html>\n"
    )
