"""The write side of a platform: what the runner needs from where colors run.

Implementations are registered by kind in ``shiftgate.platforms.registry``: the embedded
sandbox's processes and Kubernetes Deployments. Each extends its read view (what checks get);
only ``deploy`` and ``undo`` change anything, and only the runner calls them.
"""

from __future__ import annotations

from typing import Protocol

from shiftgate.config.models import Color
from shiftgate.probes.platform import LogLine, PlatformError, PlatformView, ResourceUse, RolloutStatus

__all__ = ["LogLine", "Platform", "PlatformError", "ResourceUse", "RolloutStatus"]


class Platform(PlatformView, Protocol):
    """The write side: only the runner holds one."""

    def deploy(self, color: Color, version: str) -> None:
        """Start rolling ``version`` out to ``color`` (returns before it is complete)."""
        ...

    def undo(self, color: Color) -> None:
        """``kubectl rollout undo``: the color goes back to its previous revision."""
        ...
