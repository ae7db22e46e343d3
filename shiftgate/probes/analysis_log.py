"""The analysis window's log, ``reports/runs/<run.id>/analysis.jsonl``: one JSON line per
measurement, which the runner's live view tails while a gate observes the SLOs.

Writing it is the checks' job (the window only judges); a check run alone writes none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from shiftgate.config.models import Environment
from shiftgate.config.paths import reports_dir


def analysis_log(environment: Environment) -> Path | None:
    """``reports/runs/<run.id>/analysis.jsonl`` inside a run; None when a check runs alone."""
    run_id = environment.run.id
    return reports_dir() / "runs" / run_id / "analysis.jsonl" if run_id else None


def jsonl_appender(path: Path, **context: Any) -> Callable[[Mapping[str, Any]], None]:
    """Appends each record as one JSON line; ``context`` (colors, versions) is repeated on
    every line."""

    def append(record: Mapping[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({**context, **record}, default=str) + "\n")

    return append


WINDOW_STOPPED = "window_stopped"
"""The record the window appends when it stops early: the gate it belongs to fails."""


def window_stopped(reason: str, on: Iterable[str]) -> dict[str, Any]:
    """The record of a window that stopped early (a proportion above its limit, the wrong
    version, a source down): written at once, before the checks report."""
    return {"event": WINDOW_STOPPED, "reason": reason, "on": sorted(on)}


class StopWatch:
    """Reads what a gate appends to the analysis log from now on, and answers whether its
    window stopped early.

    Only whole lines count (the writer may be half-way through one), and only lines written
    after this watch was made (the log holds earlier gates' windows of the same run). A line
    that is not JSON is skipped: the log is evidence, the gate's own verdict stays the rule."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._offset = path.stat().st_size
        except OSError:
            self._offset = 0
        self._partial = b""

    def stopped(self) -> str | None:
        """The reason of a stop written since the last call, or None."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
        except OSError:
            return None
        self._offset += len(chunk)
        *whole, self._partial = (self._partial + chunk).split(b"\n")
        for line in whole:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == WINDOW_STOPPED:
                return str(record.get("reason") or "the analysis window stopped early")
        return None
