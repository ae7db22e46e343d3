"""The platform Protocol: what the runner and the rollout checks need from where colors run.

Implementations: ``shiftgate.sandbox.platform`` (processes of the embedded sandbox) and
``shiftgate.platforms.kubernetes`` (Deployments through the official client). Reads are
safe on production; only ``deploy`` and ``undo`` change anything, and only the runner calls
them.
"""

from __future__ import annotations

from typing import Protocol

from shiftgate.config.models import Color
from shiftgate.errors import ExitCode, ShiftgateError
from shiftgate.probes.platform import LogLine, PlatformView, ResourceUse, RolloutStatus

__all__ = ["LogLine", "Platform", "PlatformError", "ResourceUse", "RolloutStatus"]


class PlatformError(ShiftgateError):
    """The platform refused or failed an action (forbidden, timed out, rejected manifest)."""

    exit_code = ExitCode.FAILED


class Platform(PlatformView, Protocol):
    """The write side: only the runner holds one."""

    def deploy(self, color: Color, version: str) -> None:
        """Start rolling ``version`` out to ``color`` (returns before it is complete)."""
        ...

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        """Block until the rollout is complete or failed, or the timeout passes."""
        ...

    def undo(self, color: Color) -> None:
        """``kubectl rollout undo``: the color goes back to its previous revision."""
        ...
