"""The HTML report (Allure Report 3) and ``reports/summary.md``, for ``shiftgate report``.

The HTML comes from the Allure 3 command line of the npm package ``allure``, installed into
the project by ``make report-deps`` (``node_modules/.bin/allure``, pinned by
``package-lock.json``). shiftgate writes its configuration, ``reports/allurerc.json``, on
each call: the report's name, the fault categories of ``shiftgate.report.allure``
(Allure 3 reads categories from its configuration; ``categories.json`` in the results serves
Allure 2 readers), and ``historyPath`` — ``reports/history.jsonl``, to which each generation
appends one entry, so the report shows each check's history across runs as long as the file
is kept (CI restores it from a cache).

Exit codes (docs/architecture.md rule 7): 0 written, whatever the gates' verdicts (judging is the gate's
job); 2 when the results or the Allure command line are missing — a setup the user fixes
(``make report-deps``, run a gate first), not a bug of shiftgate; 3 when Allure itself fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shiftgate.config.paths import project_root, reports_dir
from shiftgate.errors import ShiftgateError, UsageError
from shiftgate.report.allure import CATEGORIES, SESSION_LABEL
from shiftgate.report.summary import RunRecord, write_summary

REPORT_NAME = "shiftgate: deployment gates"
_TIMEOUT_S = 300


@dataclass(frozen=True)
class ReportPaths:
    results: Path
    html: Path
    summary: Path
    history: Path
    config: Path

    @classmethod
    def under(cls, reports: Path) -> ReportPaths:
        return cls(
            results=reports / "allure-results", html=reports / "html",
            summary=reports / "summary.md", history=reports / "history.jsonl",
            config=reports / "allurerc.json",
        )


def allure_cli(root: Path | None = None) -> Path:
    """The project's Allure 3 command line; a usage error naming the fix when missing."""
    binary = (root or project_root()) / "node_modules" / ".bin" / "allure"
    if not binary.exists():
        raise UsageError(
            f"Allure Report 3 is not installed ({binary} missing): run `make report-deps` "
            "(npm install of package.json's `allure`), or `shiftgate report --no-html`"
        )
    if shutil.which("node") is None:
        raise UsageError("Node.js is missing (Allure Report 3 runs on it): install nodejs and npm")
    return binary


def allure_config(paths: ReportPaths, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "output": str(paths.html),
        "historyPath": str(paths.history),
        "hideLabels": [SESSION_LABEL],
        "categories": {"rules": CATEGORIES},
        "plugins": {
            "awesome": {
                "options": {"reportName": name, "singleFile": False, "groupBy": ["epic", "feature", "story"]}
            }
        },
    }


def generate_html(paths: ReportPaths, name: str = REPORT_NAME, binary: Path | None = None) -> None:
    allure = binary or allure_cli()
    paths.config.parent.mkdir(parents=True, exist_ok=True)
    paths.config.write_text(json.dumps(allure_config(paths, name), indent=2), encoding="utf-8")
    command = [str(allure), "generate", str(paths.results), "--config", str(paths.config),
               "--output", str(paths.html)]
    try:
        done = subprocess.run(command, cwd=project_root(), capture_output=True, text=True,
                              timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ShiftgateError(f"allure generate took more than {_TIMEOUT_S} s") from None
    if done.returncode != 0 or not (paths.html / "index.html").is_file():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ShiftgateError(f"allure generate failed (exit {done.returncode}):\n{tail}")


def build_report(
    reports: Path | None = None, *, runs: Sequence[RunRecord] = (), html: bool = True,
    name: str = REPORT_NAME,
) -> ReportPaths:
    paths = ReportPaths.under(reports or reports_dir())
    if not paths.results.is_dir() or not any(paths.results.glob("*-result.json")):
        raise UsageError(
            f"no Allure results in {paths.results}: run a gate first "
            "(`shiftgate gate preflight`, or `shiftgate stage …`)"
        )
    if html:
        allure_cli()  # before any file is written: a missing tool changes nothing
    write_summary(paths.results, runs, paths.summary)
    if html:
        generate_html(paths, name)
    return paths
