"""The load test runs once per module; every load check reads the same run.

While Locust runs, a thread reads the loaded color's CPU and memory every
``RESOURCE_SAMPLE_S`` through the platform's read view (``kubectl top pods``), and once more
after the run: the candidate is judged under load, not on idle replicas (a candidate that
grows to 600 MB only under load must fail). A read that fails is kept as the reason.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from shiftgate.analysis.rollout import UnderLoad
from shiftgate.config.models import Color, Environment
from shiftgate.config.paths import project_root, reports_dir
from shiftgate.errors import ShiftgateError
from shiftgate.load.results import LoadResult
from shiftgate.load.run import resolve_target, run_profile
from shiftgate.probes.platform import PlatformView

RESOURCE_SAMPLE_S = 2.0


@pytest.fixture(scope="module")
def under_load() -> UnderLoad:
    return UnderLoad()


def _sample(platform: PlatformView, color: Color, into: UnderLoad, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            into.during.append(platform.resource_use(color))
        except ShiftgateError as exc:
            into.errors.append(f"during the load: {exc}")
        stop.wait(RESOURCE_SAMPLE_S)


@pytest.fixture(scope="module")
def load_run(environment: Environment, platform: PlatformView, under_load: UnderLoad) -> LoadResult:
    """The environment's traffic profile against the target color's own URL (not the router)."""
    color, url = resolve_target(environment)
    out_dir = reports_dir() / "load" / time.strftime("%Y%m%d-%H%M%S")
    profile = Path(environment.load.profile)
    profile = profile if profile.is_absolute() else project_root() / profile
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(platform, color, under_load, stop),
                               name="resource-sampler", daemon=True)
    sampler.start()
    try:
        result = run_profile(profile, url, out_dir=out_dir, workers=environment.load.workers)
    finally:
        stop.set()
        sampler.join(timeout=30)
    try:
        under_load.after = platform.resource_use(color)
    except ShiftgateError as exc:
        under_load.errors.append(f"after the load: {exc}")
    result.color = color
    return result
