"""The ``shiftgate`` command: assembles the parser, calls a command's handler, exits in one place.

Exit codes follow docs/architecture.md rule 7: 0 ok, 1 a gate failed or a release was rolled back,
2 usage or configuration error, 3 shiftgate itself broke.

Each command group lives in its own module of ``shiftgate.cli`` and adds its commands here.
Building the parser imports no engine module of the fast paths (gate, config, report): each
CI stage starts a gate as its own process, so start-up is paid on every one.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence

from shiftgate.cli.config import add_config_command
from shiftgate.cli.gate import add_gate_command
from shiftgate.cli.options import with_env
from shiftgate.cli.report import add_report_command
from shiftgate.errors import ExitCode, ShiftgateError
from shiftgate.redact import redact

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
        _error(f"[bold red]shiftgate:[/] {redact(str(exc))}")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _error("[bold red]shiftgate:[/] interrupted")
        return ExitCode.INTERNAL
    except Exception:  # a bug: say so, with the traceback that lets someone fix it
        _error("[bold red]shiftgate broke (a bug, please report):[/]")
        _error(redact(traceback.format_exc()))
        return ExitCode.INTERNAL


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiftgate", description="Deployment gates for blue-green releases."
    )
    commands = parser.add_subparsers(title="commands")

    from shiftgate.cli.loadtest import add_loadtest_command
    from shiftgate.cli.run import add_runner_commands
    from shiftgate.cli.sandbox import add_sandbox_commands

    add_gate_command(commands)
    add_config_command(commands)
    add_runner_commands(commands, with_env)
    add_loadtest_command(commands, with_env)
    add_report_command(commands)
    add_sandbox_commands(commands)
    return parser


def _error(text: str) -> None:
    # rich only when there is something to print: it is not needed on the way to a gate.
    from rich.console import Console

    Console(stderr=True, highlight=False).print(text)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
