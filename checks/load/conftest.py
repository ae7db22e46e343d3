"""The load test runs once per module; every load check reads the same run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shiftgate.config import Environment
from shiftgate.load_results import LoadResult
from shiftgate.loadtest import resolve_target, run_profile
from shiftgate.paths import project_root, reports_dir
from shiftgate.probes.prometheus import PrometheusProbe


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


@pytest.fixture(scope="module")
def prometheus(environment: Environment) -> PrometheusProbe:
    return PrometheusProbe(environment.prometheus)
