"""The read view of a platform: what checks may ask of where colors run.

Checks receive only this view; the write side (deploy, undo), ``shiftgate.platforms.base.Platform``,
extends it and only the runner holds one. The facts it returns are plain data that analysis
judges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from shiftgate.config.models import Color
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


@dataclass(frozen=True)
class ReplicaState:
    """One replica of a color as the platform records it: the log check's way to tell a
    replica that logged nothing, or crashed and came back, from a healthy one.

    ``recorded`` False: the platform lists the replica but holds no record of it (the
    sandbox's state has no process for it): nothing can be read, so it fails closed.
    ``restarts``: container restarts (Kubernetes ``restartCount``, summed over containers);
    ``last_restart_at``: when the latest one ended (``lastState.terminated.finishedAt``),
    None when unknown."""

    replica: str
    recorded: bool = True
    restarts: int = 0
    last_restart_at: float | None = None

    def restarted_since(self, since: float) -> bool:
        """Restarted after ``since``; a restart of unknown time counts (fail closed)."""
        if self.restarts <= 0:
            return False
        if self.last_restart_at is not None:
            return self.last_restart_at >= since
        return True


class PlatformView(Protocol):
    """Reads only: safe on production, and all a check can reach."""

    name: str

    def versions(self) -> dict[Color, str | None]:
        """The version each color runs now, read from the platform (None: nothing runs)."""
        ...

    def rollout_status(self, color: Color) -> RolloutStatus: ...

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        """Poll the rollout status until complete or failed, or the timeout passes (reads
        only: the rollout check waits on a deploy the runner started)."""
        ...

    def logs(self, color: Color, since: float) -> list[LogLine]:
        """Log lines of the color's replicas since a Unix time, including the previous
        container's of a replica that restarted (``kubectl logs --previous``)."""
        ...

    def replicas(self, color: Color) -> list[ReplicaState]:
        """Every replica the color should run, with its restarts; one without a record too."""
        ...

    def resource_use(self, color: Color) -> list[ResourceUse]: ...

    def max_replicas(self, color: Color) -> int | None:
        """The autoscaler's ceiling for the color (None: no autoscaler)."""
        ...
