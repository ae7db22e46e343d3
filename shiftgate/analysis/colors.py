"""Which color is which in a release: live, idle, and where the candidate runs."""

from __future__ import annotations

from collections.abc import Callable

from shiftgate.config.models import COLORS, Color, Environment, other_color
from shiftgate.probes.router import Weights, live_color


def candidate_color(
    environment: Environment, versions: Callable[[], dict[Color, str | None]], weights: Weights
) -> Color:
    """The runner says it (``run.candidate_color``); alone, a check takes the color that runs
    the candidate version (the idle one if both do), else the idle color. ``versions`` is
    asked only when the runner did not say."""
    if environment.run.candidate_color is not None:
        return environment.run.candidate_color
    idle = other_color(live_color(weights))
    running = [c for c in COLORS if versions().get(c) == environment.versions.candidate]
    if idle in running or not running:
        return idle
    return running[0]
