"""The read view of a router: the share of traffic each color gets now.

Checks receive only this view; the write side (``set_weights``), ``shiftgate.routers.base.Router``,
extends it and only the runner holds one. Weights are percentages per color summing to 100.
"""

from __future__ import annotations

from typing import Protocol

from shiftgate.config.models import COLORS, Color
from shiftgate.errors import ExitCode, ShiftgateError

Weights = dict[Color, int]


class RouterError(ShiftgateError):
    """The router refused a change or holds something else than what was written."""

    exit_code = ExitCode.FAILED


class RouterView(Protocol):
    """Reads only: all a check can reach."""

    name: str
    supports_partial: bool
    """False for routers that can only point at one color (Service selector)."""

    def weights(self) -> Weights: ...


def live_color(weights: Weights) -> Color:
    """The color with most traffic (green on a tie: the sandbox's initial live color)."""
    return max(COLORS, key=lambda c: (weights[c], c == "green"))
