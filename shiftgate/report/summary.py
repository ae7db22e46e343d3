"""``reports/summary.md``: gates, checks, verdicts and key figures, for a pull request or CI.

Read from the Allure result files of ``reports/allure-results`` (one ``*-result.json`` per
check and run: the folder accumulates across gate runs) and from the run journals
(``reports/runs/<id>/journal.jsonl``). For each gate (the ``epic`` label) only its latest run
counts (the ``shiftgate_session`` label the plugin sets), and in it the latest result of each
check: a check removed from a gate, or one that passed last week, does not linger.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shiftgate.redact import redact
from shiftgate.report.allure import FAULT_TAGS, SESSION_LABEL

_ICONS = {"passed": "✅", "failed": "❌", "broken": "❌", "skipped": "⏭️"}
RUNS_SHOWN = 5


class RunRecord(Protocol):
    """What the summary shows of a run (``shiftgate.run.journal.RunState`` is one)."""

    run_id: str

    @property
    def candidate(self) -> str: ...

    @property
    def completed_stages(self) -> list[str]: ...

    @property
    def finished(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class CheckResult:
    gate: str
    check: str
    status: str
    """Allure's status: passed, failed, broken (an exception, e.g. a source unreachable), skipped."""
    start: int
    session: str
    history_id: str
    message: str = ""
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def fault(self) -> str | None:
        if self.status == "passed":
            return None
        for fault, tag in FAULT_TAGS.items():
            if tag in self.message:
                return fault
        return "infrastructure" if "SourceUnavailable" in self.message else None

    @property
    def verdict(self) -> str:
        icon = _ICONS.get(self.status, "❔")
        label = "failed" if self.status == "broken" else self.status
        return f"{icon} {label}" + (f" ({self.fault})" if self.fault else "")

    @property
    def reason(self) -> str:
        """The first line of the failure, without pytest's 'Failed:' and the fault tag."""
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        first = first.removeprefix("Failed: ")
        for tag in FAULT_TAGS.values():
            first = first.removeprefix(tag + " ")
        return first


def read_results(folder: Path) -> list[CheckResult]:
    results = []
    for path in sorted(folder.glob("*-result.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue  # a file cut by a crash mid-write: the others still count
        labels = {label.get("name"): label.get("value") for label in data.get("labels", [])}
        if "epic" not in labels:
            continue  # not a shiftgate check (e.g. a test of the project itself)
        results.append(CheckResult(
            gate=str(labels["epic"]),
            check=str(data.get("name") or data.get("fullName") or path.stem),
            status=str(data.get("status") or "unknown"),
            start=int(data.get("start") or 0),
            session=str(labels.get(SESSION_LABEL) or ""),
            history_id=str(data.get("historyId") or data.get("fullName") or path.stem),
            message=str((data.get("statusDetails") or {}).get("message") or ""),
            parameters={str(p.get("name")): str(p.get("value")) for p in data.get("parameters", [])},
        ))
    return results


def latest_by_gate(results: Iterable[CheckResult]) -> dict[str, list[CheckResult]]:
    """Per gate, the latest result of each check in the gate's latest run, in run order."""
    by_gate: dict[str, list[CheckResult]] = {}
    for result in results:
        by_gate.setdefault(result.gate, []).append(result)
    latest: dict[str, list[CheckResult]] = {}
    for gate, items in sorted(by_gate.items()):
        newest = max(items, key=lambda r: r.start)
        session = [r for r in items if r.session == newest.session]
        per_check: dict[str, CheckResult] = {}
        for result in sorted(session, key=lambda r: r.start):
            per_check[result.history_id] = result  # a rerun in the same session replaces
        latest[gate] = sorted(per_check.values(), key=lambda r: r.start)
    return latest


def render(gates: dict[str, list[CheckResult]], runs: Sequence[RunRecord]) -> str:
    lines = ["# shiftgate report", ""]
    if not gates:
        lines += ["No gate results yet: run `shiftgate gate <name>` first.", ""]
    for gate, checks in gates.items():
        failed = [c for c in checks if c.status in ("failed", "broken")]
        verdict = "❌ blocked" if failed else "✅ passed"
        passed = sum(c.status == "passed" for c in checks)
        params = checks[0].parameters if checks else {}
        context = ", ".join(
            f"{key} {params[key]}" for key in ("environment", "candidate version", "stable version")
            if key in params
        )
        lines += [
            f"## Gate `{gate}`: {verdict} ({passed}/{len(checks)} checks passed, {len(failed)} failed)",
            "",
            *([f"_{_cell(context)}_", ""] if context else []),
            "| check | verdict | measured | threshold |",
            "|---|---|---|---|",
        ]
        for check in checks:
            measured = check.parameters.get("measured") or (check.reason if check.status != "passed" else "")
            lines.append(
                f"| {_cell(check.check)} | {check.verdict} | {_cell(measured)} "
                f"| {_cell(check.parameters.get('threshold', ''))} |"
            )
        reasons = [c for c in checks if c.status != "passed" and c.reason]
        if reasons:
            lines += ["", "Why:", ""]
            lines += [f"- **{_cell(c.check)}**: {_cell(c.reason)}" for c in reasons]
        lines.append("")
    if runs:
        lines += ["## Runs", "", "| run | candidate | stages done | outcome |", "|---|---|---|---|"]
        for run in runs:
            finished = run.finished
            outcome = str(finished.get("outcome")) if finished else "unfinished"
            stages = ", ".join(run.completed_stages) or "none"
            lines.append(f"| `{run.run_id}` | {_cell(run.candidate)} | {_cell(stages)} | {_cell(outcome)} |")
        lines.append("")
    lines.append("Full evidence (queries, plans, samples, attachments): the HTML report, `reports/html/`.")
    return redact("\n".join(lines)) + "\n"


def write_summary(results_dir: Path, runs: Sequence[RunRecord], out: Path) -> dict[str, list[CheckResult]]:
    """``runs``: the recent runs, newest first, read by the caller (the report does not read
    journals: the runner's package owns them)."""
    gates = latest_by_gate(read_results(results_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(gates, list(runs)[:RUNS_SHOWN]), encoding="utf-8")
    return gates


def _cell(value: Any) -> str:
    # One table cell: no line breaks, no column separators, not endless.
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= 160 else text[:159] + "…"
