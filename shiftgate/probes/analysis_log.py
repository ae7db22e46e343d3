"""The analysis window's log, ``reports/runs/<run.id>/analysis.jsonl``: one JSON line per
measurement, which the runner's live view tails while a gate observes the SLOs.

Writing it is the checks' job (the window only judges); a check run alone writes none.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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
