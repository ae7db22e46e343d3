"""The ``shiftgate`` command: assembles the parser, calls a command's handler, exits in one place.

Exit codes follow docs/architecture.md rule 7: 0 ok, 1 a gate failed or a release was rolled back,
2 usage or configuration error, 3 shiftgate itself broke.

Each command group lives in its own module of ``shiftgate.cli`` and adds its commands here.
Each CI stage starts a gate as its own process, so start-up is paid on every one: a command of
the fast groups (gate, config, report) gets a parser of its own group only, and their modules
import the engine inside their handlers; the other groups (run, loadtest, sandbox) import the
runner, Locust and the sandbox at module level and are added only for their own commands and
for ``shiftgate --help``.

Messages are printed verbatim (``shiftgate.cli.output``): a message is never markup.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from shiftgate.cli.config import add_config_command
from shiftgate.cli.gate import add_gate_command
from shiftgate.cli.options import with_env
from shiftgate.cli.output import error
from shiftgate.cli.report import add_report_command
from shiftgate.config.paths import ROOT_ENV
from shiftgate.errors import ExitCode, ShiftgateError, UsageError
from shiftgate.redact import redact

Handler = Callable[[argparse.Namespace], int]
_FAST: dict[str, Callable[[argparse._SubParsersAction], None]] = {  # type: ignore[type-arg]
    "gate": add_gate_command,
    "config": add_config_command,
    "report": add_report_command,
}
"""Command groups whose parser costs nothing to build, by their first word."""


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        words = _take_project(words)
    except ShiftgateError as exc:
        error(str(exc))
        return int(exc.exit_code)
    parser = _parser(only=words[0] if words and words[0] in _FAST else None)
    args, extra = parser.parse_known_args(words)
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
        error(redact(str(exc)))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        error("interrupted")
        return ExitCode.INTERNAL
    except Exception:  # a bug: say so, with the traceback that lets someone fix it
        error(redact(traceback.format_exc()).rstrip(), headline="shiftgate broke (a bug, please report):",
              sep="\n")
        return ExitCode.INTERNAL


def _take_project(words: list[str]) -> list[str]:
    """``--project DIR`` before the command: the team's repository (checks/, gates/, plans/,
    environments/). Taken before any module is loaded, and passed on as ``SHIFTGATE_ROOT`` so
    the gate's pytest and every other process shiftgate starts find the same project."""
    if words and words[0].startswith("--project="):
        folder, rest = words[0].split("=", 1)[1], words[1:]
    elif words[:1] == ["--project"]:
        if len(words) < 2:
            raise UsageError("--project needs a folder: the team's repository")
        folder, rest = words[1], words[2:]
    else:
        return words
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"--project {folder}: no such folder (the team's repository)")
    os.environ[ROOT_ENV] = str(path)
    return rest


def _parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shiftgate", description="Deployment gates for blue-green releases."
    )
    parser.add_argument(
        "--project", metavar="DIR",
        help="the team's repository with checks/, gates/, plans/, environments/ (before the "
        "command; default $SHIFTGATE_ROOT, else the working directory)",
    )
    commands = parser.add_subparsers(title="commands")
    if only is not None:
        _FAST[only](commands)
        return parser

    from shiftgate.cli.loadtest import add_loadtest_command
    from shiftgate.cli.rules import add_rules_command
    from shiftgate.cli.run import add_runner_commands
    from shiftgate.cli.sandbox import add_sandbox_commands

    add_gate_command(commands)
    add_config_command(commands)
    add_runner_commands(commands, with_env)
    add_loadtest_command(commands, with_env)
    add_report_command(commands)
    add_rules_command(commands)
    add_sandbox_commands(commands)
    return parser


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
