"""Typed errors and the one exit-code contract (docs/architecture.md, rule 7).

Commands raise these; only ``shiftgate.cli.main`` turns them into exit codes, in one place.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The exit-code contract shared by every command."""

    OK = 0
    """Gate passed, release promoted, command done."""
    FAILED = 1
    """A gate failed (an unreachable source is a failed check) or the release was rolled back."""
    USAGE = 2
    """Usage or configuration error; the message names the file and key at fault."""
    INTERNAL = 3
    """shiftgate itself broke: a bug, an unwritable reports folder."""
    ROLLBACK_FAILED = 4
    """A rollback could not be completed: traffic may still reach the candidate. A person must
    act now."""


class ShiftgateError(Exception):
    """Base of shiftgate's own errors; ``exit_code`` says how the CLI ends."""

    exit_code: int = ExitCode.INTERNAL


class ConfigError(ShiftgateError):
    """Bad configuration or input: names where the bad value came from."""

    exit_code = ExitCode.USAGE

    def __init__(self, source: str, key: str | None, problem: str) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")


class UsageError(ShiftgateError):
    """A command was called in a way that cannot work (wrong state, bad arguments)."""

    exit_code = ExitCode.USAGE


class SandboxError(ShiftgateError):
    """The sandbox could not be brought to the asked state (a tool missing, a port taken)."""

    exit_code = ExitCode.INTERNAL


class SourceUnavailable(ShiftgateError):
    """A probe could not read its source (refused, timed out, no data where data must be).

    Not an error of shiftgate: the check that needed the source fails with this reason
    (docs/architecture.md rule 7: an unreachable source is a failed check)."""

    exit_code = ExitCode.FAILED

    def __init__(self, source: str, problem: str) -> None:
        self.source = source
        self.problem = problem
        super().__init__(f"{source} unavailable: {problem}")
