"""Fixtures of the rollout checks: the platform where colors run, the router, the candidate.

Nothing here reads the world: the candidate's color is resolved on first use inside a check,
so an unreachable platform or router is a failed check with its reason (DESIGN.md rule 1),
not a setup error.
"""

from __future__ import annotations

import time

import pytest

from shiftgate.analysis.rollout import Candidate, log_window
from shiftgate.config import Color, Environment
from shiftgate.platforms.base import Platform
from shiftgate.platforms.factory import platform_for
from shiftgate.routers.base import Router
from shiftgate.routers.factory import router_for
from shiftgate.targets import candidate_color


@pytest.fixture
def platform(environment: Environment) -> Platform:
    return platform_for(environment)


@pytest.fixture
def router(environment: Environment) -> Router:
    return router_for(environment)


@pytest.fixture
def candidate(environment: Environment, platform: Platform, router: Router) -> Candidate:
    """Where the candidate runs: the runner's ``run.candidate_color``, else the color running
    the candidate version, else the idle one; logs count since ``run.deployed_at``, else
    since 15 minutes ago (a check run alone; its evidence says so)."""

    def color() -> Color:
        return candidate_color(environment, platform, router.weights())

    since, note = log_window(environment.run.deployed_at, time.time())
    return Candidate(
        version=environment.versions.candidate,
        since=since,
        since_note=note,
        platform=platform.name,
        resolve_color=color,
    )
