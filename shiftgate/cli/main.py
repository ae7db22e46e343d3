"""The ``shiftgate`` command: parses arguments, calls the engine, exits in one place.

Exit codes follow DESIGN.md rule 7: 0 ok, 1 a gate failed or a release was rolled back,
2 usage or configuration error, 3 shiftgate itself broke.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from shiftgate.config.loader import load_environment
from shiftgate.errors import ExitCode, ShiftgateError
from shiftgate.redact import redact

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return ExitCode.USAGE
    if extra and not getattr(args, "passthrough", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return handler(args)
    except ShiftgateError as exc:
        err.print(f"[bold red]shiftgate:[/] {redact(str(exc))}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        err.print("[bold red]shiftgate:[/] interrupted")
        return ExitCode.INTERNAL
    except Exception:  # a bug: say so, with the traceback that lets someone fix it
        err.print("[bold red]shiftgate broke (a bug, please report):[/]")
        err.print(redact(traceback.format_exc()))
        return ExitCode.INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiftgate", description="Deployment gates for blue-green releases."
    )
    commands = parser.add_subparsers(title="commands")

    env_default = os.environ.get("SHIFTGATE_ENV", "sandbox")

    def with_env(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--env", default=env_default, help="environment name or file")
        sub.add_argument(
            "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
            help="override a config value (highest precedence), e.g. slo.error_ratio_max=0.02",
        )

    gate = commands.add_parser(
        "gate", help="run one gate suite; extra arguments go to pytest"
    )
    gate.add_argument("name", help="gate name: a file gates/NAME.yaml")
    with_env(gate)
    gate.add_argument("--candidate", help="candidate version (overrides versions.candidate)")
    gate.set_defaults(handler=_gate, passthrough=True)

    config = commands.add_parser("config", help="validate an environment file and print it")
    with_env(config)
    config.add_argument("--candidate", help="candidate version (overrides versions.candidate)")
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(handler=_config)

    from shiftgate.cli.loadtest import add_loadtest_command
    from shiftgate.cli.run import add_runner_commands
    from shiftgate.cli.sandbox import add_sandbox_commands
    from shiftgate.report.html import add_report_command

    add_runner_commands(commands, with_env)
    add_loadtest_command(commands, with_env)
    add_report_command(commands)
    add_sandbox_commands(commands)
    return parser


def _overrides(args: argparse.Namespace) -> list[str]:
    overrides = list(args.overrides)
    if getattr(args, "candidate", None):
        overrides.append(f"versions.candidate={args.candidate}")
    return overrides


def _gate(args: argparse.Namespace) -> int:
    from shiftgate.config.paths import reports_dir
    from shiftgate.run.gate import run_gate

    # Validate the environment here: a bad file is exit 2 before pytest even starts.
    load_environment(args.env, overrides=_overrides(args))
    extra = [*args.extra]
    for override in _overrides(args):
        extra += ["--set", override]
    result = run_gate(args.name, env=args.env, extra_args=extra, reports_dir=reports_dir())
    return int(result.exit_code)


def _config(args: argparse.Namespace) -> int:
    environment = load_environment(args.env, overrides=_overrides(args))
    data: dict[str, Any] = environment.model_dump(mode="json", by_alias=True)
    if args.json:
        out.print_json(json.dumps(data))
    else:
        table = Table("section", "value", title=f"environment {environment.name}")
        for key, value in data.items():
            table.add_row(key, json.dumps(value, indent=1)[:2000])
        out.print(table)
    return ExitCode.OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
