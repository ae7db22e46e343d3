"""Fixtures of the rollout checks: the platform where colors run, the router, the candidate.

Nothing here reads the world: the candidate's color is resolved on first use inside a check,
so an unreachable platform or router is a failed check with its reason (docs/architecture.md rule 1),
not a setup error.
"""

from __future__ import annotations

import time

import pytest

from shiftgate.analysis.colors import candidate_color
from shiftgate.analysis.rollout import Candidate, log_window
from shiftgate.config.models import Color, Environment
from shiftgate.probes.platform import PlatformView
from shiftgate.probes.router import RouterView


@pytest.fixture
def candidate(environment: Environment, platform: PlatformView, router: RouterView) -> Candidate:
    """Where the candidate runs: the runner's ``run.candidate_color``, else the color running
    the candidate version, else the idle one; logs count since ``run.deployed_at``, else
    since 15 minutes ago (a check run alone; its evidence says so)."""

    def color() -> Color:
        return candidate_color(environment, platform.versions, router.weights())

    since, note = log_window(environment.run.deployed_at, time.time())
    return Candidate(
        version=environment.versions.candidate,
        since=since,
        since_note=note,
        platform=platform.name,
        resolve_color=color,
    )
