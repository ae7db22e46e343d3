"""``shiftgate report``: one HTML report per run (Allure Report 3) with an index, and the
summaries (``reports/summary.md``, ``reports/summaries/<run>.md``).

The logic lives in ``shiftgate.report.html``, imported only when the command runs; the
command reads the runs' journals and hands them over (the report never reads a journal).
Exit codes: 0 written, whatever the gates' verdicts; 2 results or the Allure command line
missing, or ``--run`` names a run without results; 3 Allure itself failed.
"""

from __future__ import annotations

import argparse
from typing import Any

from shiftgate.errors import ExitCode

RUNS_READ = 500
"""Journals read for the reports' outcomes, newest first; older runs show their gates only."""


def add_report_command(commands: Any) -> None:
    parser = commands.add_parser(
        "report", help="one HTML report per run (Allure 3) with an index, and reports/summary.md"
    )
    parser.add_argument("--no-html", action="store_true", help="write only the summaries")
    parser.add_argument(
        "--run", default=None, metavar="ID",
        help="the run reports/summary.md shows in full (default: the newest)",
    )
    # Default None, resolved in the handler: the parser stays free of the report's imports.
    parser.add_argument("--name", default=None, help="the reports' title")
    parser.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from rich.console import Console

    from shiftgate.config.paths import reports_dir
    from shiftgate.report.html import REPORT_NAME, build_report
    from shiftgate.report.summary import title
    from shiftgate.run.journal import recent_runs

    out = Console(highlight=False)
    name = REPORT_NAME if args.name is None else args.name
    runs = recent_runs(reports_dir(), RUNS_READ)
    built = build_report(runs=runs, html=not args.no_html, name=name, current=args.run)
    paths = built.paths
    shown = f" ({title(built.shown)})" if built.shown else ""
    out.print(f"summary: {paths.summary}{shown}; one per run in {paths.summaries}/", markup=False)
    if not args.no_html:
        out.print(
            f"HTML report: {paths.html / 'index.html'}, {len(built.reports)} runs "
            f"({len(built.generated)} generated now; history: {paths.history})", markup=False,
        )
    return ExitCode.OK
