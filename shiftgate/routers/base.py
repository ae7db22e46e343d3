"""The router Protocol: read and set the share of traffic each color gets.

Weights are percentages per color summing to 100. Every ``set_weights`` reads back what the
router holds afterwards and raises ``RouterError`` when it differs: a shift the router did
not accept must never be journaled as done.
"""

from __future__ import annotations

from typing import Protocol

from shiftgate.config.models import COLORS
from shiftgate.errors import UsageError
from shiftgate.probes.router import RouterError, RouterView, Weights, live_color

__all__ = ["Router", "RouterError", "Weights", "live_color", "validate_weights"]


class Router(RouterView, Protocol):
    """The write side: only the runner holds one."""

    def set_weights(self, weights: Weights) -> Weights:
        """Apply, read back, and return what the router holds; raise if it differs."""
        ...


def validate_weights(router: RouterView, weights: Weights) -> Weights:
    """Both colors, 0-100 each, summing to 100; partial splits only where supported."""
    if set(weights) != set(COLORS):
        raise UsageError(f"weights need both colors, got {sorted(weights)}")
    if any(not 0 <= w <= 100 for w in weights.values()) or sum(weights.values()) != 100:
        raise UsageError(f"weights must be 0-100 and sum to 100, got {weights}")
    if not router.supports_partial and 0 not in weights.values():
        raise UsageError(
            f"router {router.name} cannot split traffic ({weights}): it switches all traffic "
            "to one color; set router.skip_partial_shift to let plans skip partial steps"
        )
    return weights

