"""The load test runs once per module; every load check reads the same run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shiftgate.config.models import Environment
from shiftgate.config.paths import project_root, reports_dir
from shiftgate.load.results import LoadResult
from shiftgate.load.run import resolve_target, run_profile


@pytest.fixture(scope="module")
def load_run(environment: Environment) -> LoadResult:
    """The environment's traffic profile against the target color's own URL (not the router)."""
    color, url = resolve_target(environment)
    out_dir = reports_dir() / "load" / time.strftime("%Y%m%d-%H%M%S")
    profile = Path(environment.load.profile)
    profile = profile if profile.is_absolute() else project_root() / profile
    result = run_profile(profile, url, out_dir=out_dir, workers=environment.load.workers)
    result.color = color
    return result

