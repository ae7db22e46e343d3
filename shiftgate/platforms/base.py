"""The platform Protocol: what the runner and the rollout checks need from where colors run.

Implementations: ``shiftgate.platforms.sandbox`` (processes of the embedded sandbox) and
``shiftgate.platforms.kubernetes`` (Deployments through the official client). Reads are
safe on production; only ``deploy`` and ``undo`` change anything, and only the runner calls
them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shiftgate.config import Color
from shiftgate.errors import ExitCode, ShiftgateError


class PlatformError(ShiftgateError):
    """The platform refused or failed an action (forbidden, timed out, rejected manifest)."""

    exit_code = ExitCode.FAILED


@dataclass(frozen=True)
class RolloutStatus:
    """A color's rollout, decided the way ``kubectl rollout status`` decides it."""

    color: Color
    version: str | None
    desired: int
    updated: int
    ready: int
    available: int
    complete: bool
    failed: bool
    message: str


@dataclass(frozen=True)
class ResourceUse:
    """One replica's CPU and memory now (``kubectl top pods``)."""

    replica: str
    cpu_cores: float
    memory_bytes: int


@dataclass(frozen=True)
class LogLine:
    replica: str
    timestamp: float
    text: str


class Platform(Protocol):
    name: str

    def versions(self) -> dict[Color, str | None]:
        """The version each color runs now, read from the platform (None: nothing runs)."""
        ...

    def deploy(self, color: Color, version: str) -> None:
        """Start rolling ``version`` out to ``color`` (returns before it is complete)."""
        ...

    def rollout_status(self, color: Color) -> RolloutStatus: ...

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        """Block until the rollout is complete or failed, or the timeout passes."""
        ...

    def logs(self, color: Color, since: float) -> list[LogLine]:
        """Log lines of the color's replicas since a Unix time."""
        ...

    def resource_use(self, color: Color) -> list[ResourceUse]: ...

    def max_replicas(self, color: Color) -> int | None:
        """The autoscaler's ceiling for the color (None: no autoscaler)."""
        ...

    def undo(self, color: Color) -> None:
        """``kubectl rollout undo``: the color goes back to its previous revision."""
        ...
