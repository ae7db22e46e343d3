"""The sandbox platform, written: ``deploy`` replaces a color's replicas one at a time (what
``shiftgate sandbox deploy`` does), ``undo`` deploys the color's previous version. The reads
are ``shiftgate.sandbox.platform_view.SandboxPlatformView``'s.
"""

from __future__ import annotations

from shiftgate.config.models import Color
from shiftgate.errors import SandboxError
from shiftgate.platforms.base import PlatformError
from shiftgate.sandbox import manager
from shiftgate.sandbox.platform_view import SandboxPlatformView, parse_log

__all__ = ["SandboxPlatform", "parse_log"]


class SandboxPlatform(SandboxPlatformView):
    """The ``Platform`` of the sandbox's replica processes."""

    def deploy(self, color: Color, version: str) -> None:
        try:
            manager.deploy(color, version, self.folder)
        except SandboxError as exc:
            raise PlatformError(f"deploy of {version} to {color} failed: {exc}") from None

    def undo(self, color: Color) -> None:
        previous = self._state().colors[color].previous
        if previous is None:
            raise PlatformError(f"{color} has no previous version to go back to")
        self.deploy(color, previous)
