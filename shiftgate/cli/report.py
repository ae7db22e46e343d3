"""``shiftgate report``: the HTML report (Allure Report 3, with history) and ``reports/summary.md``.

The logic lives in ``shiftgate.report.html``, imported only when the command runs. Exit codes:
0 written, whatever the gates' verdicts; 2 results or the Allure command line missing; 3 Allure
itself failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from shiftgate.errors import ExitCode


def add_report_command(commands: Any) -> None:
    parser = commands.add_parser(
        "report", help="HTML report (Allure 3, with history) and reports/summary.md"
    )
    parser.add_argument("--no-html", action="store_true", help="write only reports/summary.md")
    # Default None, resolved in the handler: the parser stays free of the report's imports.
    parser.add_argument("--name", default=None, help="the report's title")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from shiftgate.config.paths import reports_dir
    from shiftgate.report.html import REPORT_NAME, build_report
    from shiftgate.report.summary import RUNS_SHOWN
    from shiftgate.run.journal import recent_runs

    out = Console(highlight=False)
    name = REPORT_NAME if args.name is None else args.name
    runs = recent_runs(reports_dir(), RUNS_SHOWN)
    paths = build_report(runs=runs, html=not args.no_html, name=name)
    out.print(f"summary: {paths.summary}")
    if not args.no_html:
        out.print(f"HTML report: {paths.html / 'index.html'} (history: {paths.history})")
    return ExitCode.OK
