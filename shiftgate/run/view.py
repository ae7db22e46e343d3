"""What a run shows while it runs: a rich live view on a terminal, plain lines elsewhere (CI).

Both are fed the journal's events; the live view also reads the analysis figures the shift
gate appends to ``reports/runs/<run>/analysis.jsonl`` while it observes the SLOs.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from shiftgate.run.journal import Event
from shiftgate.run.plan import Plan

_FIELDS = ("stage", "gate", "action", "outcome", "reason", "error", "weights_after", "restored_s")


def describe(entry: Event) -> str:
    parts = [f"{k}={entry[k]}" for k in _FIELDS if k in entry and entry[k] not in (None, "")]
    if entry["event"] in ("gate_passed", "gate_failed"):
        parts.append(f"checks {entry.get('passed', 0)} passed, {entry.get('failed', 0)} failed")
        parts += [f"\n    ✗ {line}" for line in entry.get("failures", [])[:6]]
    return f"{time.strftime('%H:%M:%S', time.localtime(entry['ts']))} {entry['event']} " + " ".join(parts)


class PlainView:
    """One line per journal event: what CI logs keep."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def on_event(self, entry: Event) -> None:
        style = "red" if entry["event"] in ("gate_failed", "action_failed", "rollback_started") else None
        # Verbatim: a message holding "[/recommendations]" is text, never rich markup.
        self.console.print(Text(describe(entry), style=style or ""), highlight=False)


class LiveView:
    """Stage, gate, checks passed/failed, weights and the current SLO figures, redrawn live."""

    def __init__(self, plan: Plan, reports: Path) -> None:
        self.plan = plan
        self.reports = reports
        self.run_id: str | None = None
        self.header = ""
        self.weights: dict[str, Any] = {}
        self.rows: dict[str, dict[str, str]] = {s.name: {"gate": "", "action": ""} for s in plan.stages}
        self.current: str | None = None
        self.started_at = time.monotonic()
        self.lines: list[str] = []

    def on_event(self, entry: Event) -> None:
        kind, stage = entry["event"], entry.get("stage")
        self.run_id = entry["run"]
        if kind == "run_started":
            self.header = (
                f"run {entry['run']}: {entry['candidate']} → {entry['candidate_color']}, "
                f"stable {entry['stable']} on {entry['stable_color']}"
            )
            self.weights = entry["weights"]
        if stage and stage in self.rows:
            row = self.rows[stage]
            if kind == "gate_started":
                row["gate"], self.current, self.started_at = "running…", stage, time.monotonic()
            elif kind in ("gate_passed", "gate_failed"):
                verdict = "passed" if kind == "gate_passed" else "FAILED"
                row["gate"] = f"{verdict} ({entry.get('passed', 0)} ✓ {entry.get('failed', 0)} ✗)"
                self.current = None
            elif kind == "action_started":
                row["action"] = f"{entry['action']}…"
            elif kind in ("action_done", "action_skipped", "action_failed"):
                row["action"] = f"{entry['action']} " + kind.removeprefix("action_")
        for key in ("weights_after",):
            if isinstance(entry.get(key), dict):
                self.weights = entry[key]
        if kind in ("gate_failed", "rollback_started", "traffic_restored", "run_finished", "undo_done"):
            self.lines.append(describe(entry))

    def _analysis(self) -> str:
        if self.run_id is None:
            return ""
        path = self.reports / "runs" / self.run_id / "analysis.jsonl"
        try:
            last = path.read_text(encoding="utf-8").strip().splitlines()[-1]
            figures = json.loads(last)
        except (OSError, IndexError, json.JSONDecodeError):
            return ""
        decisions = figures.get("decisions") or {}
        if decisions:  # the sequential rule: running estimate and bounds of each proportion
            shown = "; ".join(
                f"{name} {d.get('events')}/{d.get('requests')}"
                + (f" = {d['estimate']:.1%}" if isinstance(d.get("estimate"), float) else "")
                + f" [{d.get('lower', 0):.1%}, {d.get('upper', 1):.1%}] {d.get('state')}"
                for name, d in decisions.items() if isinstance(d, dict)
            )
        else:
            values = figures.get("values", figures)
            shown = ", ".join(
                f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in values.items()
                if not isinstance(v, (dict, list))
            )
        failures = figures.get("failures") or {}
        alarm = f"; FAILING: {', '.join(f'{k} {v}' for k, v in failures.items())}" if failures else ""
        return f"analysis at {figures.get('elapsed_s', '?')} s: {shown}{alarm}"

    def __rich__(self) -> Group:
        table = Table("stage", "gate", "verdict", "action", title=self.header or self.plan.name)
        for stage in self.plan.stages:
            row = self.rows[stage.name]
            action = row["action"] or (f"{stage.action} {stage.weight}%" if stage.weight else stage.action)
            table.add_row(stage.name, stage.gate, row["gate"], action)
        parts: list[Any] = [table, Text(f"weights: {self.weights}")]
        if self.current:
            elapsed = time.monotonic() - self.started_at
            parts.append(Text(f"gate of {self.current} running for {elapsed:.0f} s"))
            analysis = self._analysis()
            if analysis:
                parts.append(Text(analysis, style="cyan"))
        parts += [Text(line, style="yellow") for line in self.lines[-6:]]
        return Group(*parts)
