"""The sandbox platform, written: ``deploy`` replaces a color's replicas one at a time (what
``shiftgate sandbox deploy`` does), ``undo`` deploys the color's previous version. The reads
are ``shiftgate.sandbox.platform_view.SandboxPlatformView``'s.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from shiftgate.config.models import Color
from shiftgate.errors import SandboxError
from shiftgate.platforms.base import PlatformError, RolloutStatus
from shiftgate.sandbox import manager
from shiftgate.sandbox.platform_view import SandboxPlatformView, parse_log

__all__ = ["SandboxPlatform", "parse_log"]


class SandboxPlatform(SandboxPlatformView):
    """The ``Platform`` of the sandbox's replica processes."""

    def __init__(self, folder: Path | None = None, poll_s: float = 0.5) -> None:
        super().__init__(folder)
        self.poll_s = poll_s

    def deploy(self, color: Color, version: str) -> None:
        try:
            manager.deploy(color, version, self.folder)
        except SandboxError as exc:
            raise PlatformError(f"deploy of {version} to {color} failed: {exc}") from None

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.rollout_status(color)
            if status.complete or status.failed:
                return status
            if time.monotonic() >= deadline:
                return dataclasses.replace(
                    status, failed=True, message=f"timed out after {timeout_s:g} s: {status.message}"
                )
            time.sleep(self.poll_s)

    def undo(self, color: Color) -> None:
        previous = self._state().colors[color].previous
        if previous is None:
            raise PlatformError(f"{color} has no previous version to go back to")
        self.deploy(color, previous)
