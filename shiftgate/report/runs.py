"""Allure results grouped by run: what one report shows, and nothing of another run.

``reports/allure-results`` accumulates the results of every gate run. A report is per run of
the runner (the ``shiftgate_run`` label, else the ``run id`` parameter of older results) or,
for a gate run by hand, per pytest session (``shiftgate_session``). Inside a report, each gate
run (session) in the order it ran, with its verdict from the best witness there is: the
run's journal (handed in as a ``RunRecord``; the report never reads a journal itself), else
the session's own record (``shiftgate-session-<id>.json``: its exit status), else its checks.

A check that was not judged (Allure status ``unknown``, message tagged ``[not judged]``) is
neither passed nor failed here: it never makes a gate pass, and the gate's verdict is the
exit status's, which the criterion that stopped the window already decided.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shiftgate.report.allure import (
    FAULT_TAGS,
    NOT_JUDGED_STATUS,
    NOT_JUDGED_TAG,
    RUN_LABEL,
    SESSION_FILE,
    SESSION_LABEL,
    is_not_judged,
)

NOT_JUDGED = "not judged"
AD_HOC_PREFIX = "session-"
_NO_RUN = ("", "none", "none (ad hoc)")


class RunRecord(Protocol):
    """What a report shows of a run's journal (``shiftgate.run.journal.RunState`` is one)."""

    run_id: str
    events: list[Any]

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
    """passed, failed, broken (an exception, e.g. a source unreachable), skipped, not judged."""
    start: int
    session: str
    history_id: str
    message: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    run_id: str | None = None
    uuid: str = ""
    files: tuple[str, ...] = ()
    """The result file and its attachments, by name in the results folder."""

    @property
    def fault(self) -> str | None:
        if self.status in ("passed", NOT_JUDGED):
            return None
        for fault, tag in FAULT_TAGS.items():
            if tag in self.message:
                return fault
        return "infrastructure" if "SourceUnavailable" in self.message else None

    @property
    def reason(self) -> str:
        """The first line of the failure, without pytest's 'Failed:' and the tag."""
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        first = first.removeprefix("Failed: ")
        for tag in (*FAULT_TAGS.values(), NOT_JUDGED_TAG):
            first = first.removeprefix(tag + " ")
        return first

    @property
    def stopped_by(self) -> str:
        """For a check not judged: the criterion that stopped the window, as the verdict said."""
        marker = "not judged: the window stopped early on another criterion: "
        for line in self.message.splitlines():
            if marker in line:
                return line.split(marker, 1)[1].strip()
        return ""


@dataclass(frozen=True)
class SessionRecord:
    """``shiftgate-session-<id>.json``, written by the plugin when a session ends."""

    session: str
    gate: str | None
    run_id: str | None
    started: float
    exit_status: int
    notes: list[str]
    facts: dict[str, str]


@dataclass
class GateRun:
    """One gate run (one pytest session) of a report: its checks, latest result of each."""

    gate: str
    session: str
    checks: list[CheckResult]
    record: SessionRecord | None = None
    journal: Mapping[str, Any] | None = None
    """The journal's ``gate_passed`` / ``gate_failed`` of this gate run, when there is one."""

    @property
    def start(self) -> float:
        """Seconds since the epoch (Allure's times are in milliseconds)."""
        if self.checks:
            return min(c.start for c in self.checks) / 1000
        return self.record.started if self.record else 0.0

    def count(self, status: str) -> int:
        return sum(c.status == status or (status == "failed" and c.status == "broken")
                   for c in self.checks)

    @property
    def verdict(self) -> str:
        """passed, failed, or the exit status's word; never 'passed' on a not-judged check."""
        if self.journal is not None:
            return "passed" if self.journal.get("event") == "gate_passed" else "failed"
        if self.record is not None:
            return {0: "passed", 1: "failed", 4: "usage error"}.get(
                self.record.exit_status, f"broke (pytest exit status {self.record.exit_status})")
        undecided = self.count("failed") + self.count(NOT_JUDGED) + self.count("skipped")
        return "failed" if undecided or not self.checks else "passed"

    @property
    def notes(self) -> list[str]:
        """Why the gate failed beyond its checks (an entry without a check, a time limit)."""
        if self.record is not None:
            return list(self.record.notes)
        if self.journal is not None:  # e.g. killed at its time limit: no record of its own
            return [str(line) for line in self.journal.get("failures", [])
                    if not str(line).startswith("test_")]
        return []


@dataclass
class RunReport:
    key: str
    """The run id, or ``session-<id>`` for a gate run by hand."""
    run_id: str | None
    gates: list[GateRun]
    record: RunRecord | None = None

    @property
    def start(self) -> float:
        return min((g.start for g in self.gates), default=0.0)

    @property
    def slug(self) -> str:
        """The key as a file name: a run id comes from a label, which anyone could set."""
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.key).lstrip(".") or "_"

    @property
    def checks(self) -> list[CheckResult]:
        return [c for g in self.gates for c in g.checks]

    @property
    def facts(self) -> dict[str, str]:
        """The run's metadata: its sessions' facts (a value that differed between its gate
        runs shows each), else the checks' parameters."""
        merged: dict[str, list[str]] = {}
        for gate in self.gates:
            for key, value in (gate.record.facts if gate.record else {}).items():
                if key != "gate" and value not in merged.setdefault(key, []):
                    merged[key].append(value)
        facts = {key: "; ".join(values) for key, values in merged.items()}
        if not facts and self.checks:
            params = self.checks[0].parameters
            names = {"environment": "environment", "stable version": "version.stable",
                     "candidate version": "version.candidate"}
            facts = {fact: params[p] for p, fact in names.items() if p in params}
        first = {
            "outcome": self.outcome,
            "run.id": self.run_id or f"none (gate run by hand, session {self.key[len(AD_HOC_PREFIX):]})",
            "gates": ", ".join(g.gate for g in self.gates),
        }
        return first | {key: value for key, value in facts.items() if key not in first}

    @property
    def outcome(self) -> str:
        """The run's outcome in words: the journal's, else what its gates show."""
        finished = self.record.finished if self.record else None
        if finished is not None:
            where = finished.get("gate") or finished.get("action") or finished.get("reason")
            return str(finished.get("outcome", "finished")).replace("_", " ") + (
                f" ({where})" if where else "")
        failed = [g.gate for g in self.gates if g.verdict != "passed"]
        if self.run_id is None:
            gate = self.gates[0] if self.gates else None
            return f"gate {gate.gate} {gate.verdict}" if gate else "no gate"
        state = "unfinished" if self.record is not None else "no journal"
        if failed:
            return f"blocked at gate {failed[0]} ({state})"
        return f"gates passed: {', '.join(g.gate for g in self.gates)} ({state})"

    @property
    def ok(self) -> bool | None:
        """True promoted or every gate passed, False blocked or rolled back, None unfinished."""
        finished = self.record.finished if self.record else None
        if finished is not None:
            return finished.get("outcome") == "promoted"
        if any(g.verdict != "passed" for g in self.gates):
            return False
        return True if self.run_id is None else None


def read_results(folder: Path) -> list[CheckResult]:
    results = []
    for path in sorted(folder.glob("*-result.json")):
        data = _json(path)
        if data is None:
            continue  # a file cut by a crash mid-write: the others still count
        labels = {label.get("name"): label.get("value") for label in data.get("labels", [])}
        if "epic" not in labels:
            continue  # not a shiftgate check (e.g. a test of the project itself)
        params = {str(p.get("name")): str(p.get("value")) for p in data.get("parameters", [])}
        message = str((data.get("statusDetails") or {}).get("message") or "")
        status = str(data.get("status") or "unknown")
        if status == NOT_JUDGED_STATUS or (status in ("failed", "broken") and is_not_judged(message)):
            status = NOT_JUDGED
        run_id = str(labels.get(RUN_LABEL) or params.get("run id") or "")
        results.append(CheckResult(
            gate=str(labels["epic"]),
            check=str(data.get("name") or data.get("fullName") or path.stem),
            status=status,
            start=int(data.get("start") or 0),
            session=str(labels.get(SESSION_LABEL) or ""),
            history_id=str(data.get("historyId") or data.get("fullName") or path.stem),
            message=message,
            parameters=params,
            run_id=None if run_id in _NO_RUN else run_id,
            uuid=str(data.get("uuid") or ""),
            files=(path.name, *_attachments(data)),
        ))
    return results


def read_sessions(folder: Path) -> dict[str, SessionRecord]:
    records = {}
    for path in folder.glob(SESSION_FILE.format(session="*")):
        data = _json(path)
        if data is None or not data.get("session"):
            continue
        records[str(data["session"])] = SessionRecord(
            session=str(data["session"]), gate=data.get("gate"), run_id=data.get("run_id"),
            started=float(data.get("started") or 0), exit_status=int(data.get("exit_status", 3)),
            notes=[str(n) for n in data.get("notes", [])],
            facts={str(k): str(v) for k, v in (data.get("facts") or {}).items()},
        )
    return records


def group(
    results: Iterable[CheckResult],
    sessions: Mapping[str, SessionRecord],
    record_of: Callable[[str], RunRecord | None] = lambda _: None,
) -> list[RunReport]:
    """One report per run (and per gate run by hand), newest first."""
    by_key: dict[str, dict[str, list[CheckResult]]] = {}
    for result in results:
        key = result.run_id or f"{AD_HOC_PREFIX}{result.session}"
        by_key.setdefault(key, {}).setdefault(result.session, []).append(result)
    reports = []
    for key, by_session in by_key.items():
        run_id = None if key.startswith(AD_HOC_PREFIX) else key
        record = record_of(run_id) if run_id else None
        gates = sorted((_gate_run(s, items, sessions.get(s)) for s, items in by_session.items()),
                       key=lambda g: g.start)
        if record is not None:
            _match_journal(gates, record)
        reports.append(RunReport(key, run_id, gates, record))
    return sorted(reports, key=lambda r: r.start, reverse=True)


def _gate_run(session: str, items: list[CheckResult], record: SessionRecord | None) -> GateRun:
    per_check: dict[str, CheckResult] = {}
    for result in sorted(items, key=lambda r: r.start):
        per_check[result.history_id] = result  # a rerun in the same session replaces
    checks = sorted(per_check.values(), key=lambda r: r.start)
    return GateRun(checks[0].gate, session, checks, record)


def _match_journal(gates: list[GateRun], record: RunRecord) -> None:
    """Each gate run gets the journal's verdict: the first gate_passed / gate_failed of the
    same gate at or after it started (journal times in seconds, as ours)."""
    verdicts = [e for e in record.events
                if e.get("event") in ("gate_passed", "gate_failed")]
    for gate in gates:
        for event in verdicts:
            if event.get("gate") == gate.gate and float(event.get("ts", 0)) >= gate.start - 1:
                gate.journal = event
                verdicts.remove(event)
                break


def _attachments(data: Mapping[str, Any]) -> Iterator[str]:
    for attachment in data.get("attachments") or []:
        if attachment.get("source"):
            yield str(attachment["source"])
    for step in data.get("steps") or []:
        yield from _attachments(step)


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def containers(folder: Path) -> list[tuple[str, set[str], tuple[str, ...]]]:
    """(file name, the result uuids it holds, its attachments) of each fixture container."""
    out = []
    for path in sorted(folder.glob("*-container.json")):
        data = _json(path)
        if data is None:
            continue
        files = tuple(a for part in (*(data.get("befores") or []), *(data.get("afters") or []))
                      for a in _attachments(part))
        out.append((path.name, {str(c) for c in data.get("children") or []}, files))
    return out
