"""``shiftgate loadtest``: an engineer's run of the traffic profile, outside any gate.

The engine (Locust's runner, the analysis, the Prometheus client) is imported in the handler:
building the parser, which every ``shiftgate`` command does, must not pay for it.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from shiftgate.errors import ExitCode


def add_loadtest_command(commands: Any, with_env: Any) -> None:
    parser = commands.add_parser(
        "loadtest", help="run the environment's traffic profile against one color and judge it"
    )
    with_env(parser)
    parser.add_argument(
        "--color", choices=["idle", "live", "blue", "green"], help="target (default: load.target)"
    )
    parser.add_argument("--url", help="any URL instead of a color's own")
    parser.add_argument("--workers", type=int, help="Locust worker processes (default: load.workers)")
    parser.add_argument("--profile", help="profile file (default: load.profile)")
    parser.set_defaults(handler=_loadtest)


def _loadtest(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from shiftgate.analysis import load
    from shiftgate.config.loader import load_environment
    from shiftgate.config.paths import project_root, reports_dir
    from shiftgate.load.results import failure_lines
    from shiftgate.load.run import resolve_target, run_profile

    out = Console(highlight=False)
    overrides = list(args.overrides)
    if args.color:
        overrides.append(f"load.target={args.color}")
    if args.workers is not None:
        overrides.append(f"load.workers={args.workers}")
    if args.profile:
        overrides.append(f"load.profile={args.profile}")
    environment = load_environment(args.env, overrides=overrides)
    color, url = (None, args.url) if args.url else resolve_target(environment)
    out_dir = reports_dir() / "load" / time.strftime("%Y%m%d-%H%M%S")
    out.print(f"loading {color or 'URL'} at {url} with {environment.load.profile} …")
    result = run_profile(
        project_root() / environment.load.profile, url, out_dir=out_dir,
        workers=environment.load.workers,
    )
    table = Table("endpoint", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "rps")
    for stats in [*result.endpoints, result.total]:
        table.add_row(
            stats.name, str(stats.requests), str(stats.failures), f"{stats.p50_ms:.0f}",
            f"{stats.p95_ms:.0f}", f"{stats.p99_ms:.0f}", f"{stats.rps:.1f}",
        )
    out.print(table)
    verdicts = [
        load.load_was_real(result, environment.load),
        load.error_ratio_within_slo(result, environment.slo, failure_lines(result)),
        load.latency_within_slo(result, environment.slo),
    ]
    for verdict in verdicts:
        out.print(verdict.message(), style="green" if verdict.passed else "red")
    out.print(f"CSV files in {out_dir}")
    return ExitCode.OK if all(v.passed for v in verdicts) else ExitCode.FAILED
