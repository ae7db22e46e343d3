"""``summary.md``: one run's gates, checks, verdicts and key figures, for a pull request or CI.

Per run (``shiftgate.report.runs``): the run's outcome first, then its gates in the order
they ran, each with a table of its checks (verdict, measured, threshold) and why the ones
that did not pass did not; that run's versions as its metadata, and the results of no other
run. ``reports/summaries/<key>.md`` holds one per report; ``reports/summary.md`` is the
newest (or the one asked for) followed by the index of runs, what CI appends to its step
summary.

A check that was not judged shows as "⏸️ not judged", with the criterion that stopped the
window: never as a failure of its own, and never as a pass.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shiftgate.redact import redact
from shiftgate.report.runs import NOT_JUDGED, CheckResult, GateRun, RunReport

_ICONS = {"passed": "✅", "failed": "❌", "broken": "❌", "skipped": "⏭️", NOT_JUDGED: "⏸️"}
_GATE_WORDS = {"passed": "✅ passed", "failed": "❌ blocked"}
_FACTS_SHOWN = ("version.candidate", "version.stable", "environment", "service", "git.commit")


def verdict_cell(check: CheckResult) -> str:
    icon = _ICONS.get(check.status, "❔")
    label = "failed" if check.status == "broken" else check.status
    return f"{icon} {label}" + (f" ({check.fault})" if check.fault else "")


def outcome_icon(report: RunReport) -> str:
    return {True: "✅", False: "❌", None: "⏳"}[report.ok]


def title(report: RunReport) -> str:
    what = f"run `{report.run_id}`" if report.run_id else f"gate run by hand `{report.key}`"
    return f"{what}: {outcome_icon(report)} {report.outcome}"


def render_run(report: RunReport) -> list[str]:
    facts = report.facts
    shown = [f"{key} {facts[key]}" for key in _FACTS_SHOWN if key in facts]
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(report.start)) if report.start else ""
    lines = [f"# shiftgate {title(report)}", ""]
    lines += [f"_{_cell(', '.join([*([f'started {started}'] if started else []), *shown]))}_", ""]
    overrides = [f"`{k.removeprefix('override.')}` {v}"
                 for k, v in facts.items() if k.startswith("override.")]
    if overrides:
        lines += ["Settings changed from the environment file: " + _cell("; ".join(overrides)), ""]
    seen: dict[str, int] = {}
    for gate in report.gates:
        seen[gate.gate] = seen.get(gate.gate, 0) + 1
        lines += _render_gate(gate, seen[gate.gate])
    return lines


def _render_gate(gate: GateRun, attempt: int) -> list[str]:
    checks = gate.checks
    verdict = _GATE_WORDS.get(gate.verdict, f"❌ {gate.verdict}")
    counts = [f"{gate.count('passed')}/{len(checks)} checks passed", f"{gate.count('failed')} failed"]
    if gate.count(NOT_JUDGED):
        counts.append(f"{gate.count(NOT_JUDGED)} not judged")
    again = f" (run {attempt})" if attempt > 1 else ""
    lines = [
        f"## Gate `{gate.gate}`: {verdict} ({', '.join(counts)}){again}",
        "",
        "| check | verdict | measured | threshold |",
        "|---|---|---|---|",
    ]
    for check in checks:
        measured = check.parameters.get("measured") or (check.reason if check.status != "passed" else "")
        lines.append(
            f"| {_cell(check.check)} | {verdict_cell(check)} | {_cell(measured)} "
            f"| {_cell(check.parameters.get('threshold', ''))} |"
        )
    why = [f"- **{_cell(c.check)}**: {_cell(c.reason)}"
           for c in checks if c.status not in ("passed", NOT_JUDGED) and c.reason]
    why += [f"- {_cell(note)}" for note in gate.notes]
    if why:
        lines += ["", "Why:", "", *why]
    not_judged = [c for c in checks if c.status == NOT_JUDGED]
    if not_judged:
        lines += ["", "Not judged (the analysis window stopped early on another criterion; "
                  "the gate's verdict is that criterion's):", ""]
        lines += [f"- **{_cell(c.check)}**: stopped by {_cell(c.stopped_by or c.reason)}" for c in not_judged]
    return [*lines, ""]


def render_index(reports: Sequence[RunReport], current: str | None = None) -> list[str]:
    lines = ["| run | started | candidate | stable | outcome | gates |", "|---|---|---|---|---|---|"]
    for report in reports:
        facts = report.facts
        started = time.strftime("%Y-%m-%d %H:%M", time.gmtime(report.start)) if report.start else ""
        name = f"`{report.key}`" + (" (this report)" if report.key == current else "")
        gates = " ".join(f"{_GATE_WORDS.get(g.verdict, '❌').split()[0]} {g.gate}" for g in report.gates)
        lines.append(
            f"| {name} | {started} | {_cell(facts.get('version.candidate', ''))} "
            f"| {_cell(facts.get('version.stable', ''))} | {outcome_icon(report)} {_cell(report.outcome)} "
            f"| {_cell(gates)} |"
        )
    return lines


def render(report: RunReport | None, reports: Sequence[RunReport]) -> str:
    """``summary.md``: ``report`` in full, then the index of ``reports``."""
    if report is None:
        lines = ["# shiftgate report", "", "No gate results yet: run `shiftgate gate <name>` first.", ""]
    else:
        lines = render_run(report)
    if reports:
        lines += ["## Runs", "", *render_index(reports, report.key if report else None), ""]
    lines.append("Full evidence (queries, query plans, samples, attachments): the HTML report, "
                 "`reports/html/index.html`, one Allure report per run.")
    return redact("\n".join(lines)) + "\n"


def write_summaries(
    reports: Sequence[RunReport], folder: Path, out: Path, current: str | None = None
) -> RunReport | None:
    """One ``<key>.md`` per report in ``folder``; ``out``: the report ``current`` (default
    the newest) and the index. Returns the report ``out`` shows."""
    folder.mkdir(parents=True, exist_ok=True)
    for report in reports:
        (folder / f"{report.slug}.md").write_text(render(report, ()), encoding="utf-8")
    shown = next((r for r in reports if r.key == current), None) if current else (
        reports[0] if reports else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(shown, reports), encoding="utf-8")
    return shown


def _cell(value: Any) -> str:
    # One table cell: no line breaks, no column separators, not endless.
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= 160 else text[:159] + "…"
