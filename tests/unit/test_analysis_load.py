"""Load verdicts on synthetic results: every way a load test can fail closed."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import pytest

from shiftgate.analysis import load
from shiftgate.config.models import LoadConfig, SloConfig
from shiftgate.errors import ConfigError
from shiftgate.load.profile import LoadProfile, Segments, UserPicker, load_profile
from shiftgate.load.results import EndpointStats, HistoryPoint, LoadResult
from shiftgate.probes.prometheus_facts import Series
from tests.unit.test_analysis_slo import env

SEGMENTS = {"source": "test", "popularity": [
    {"segment": 0, "share": 0.75, "users": [1, 2]},
    {"segment": 1, "share": 0.25, "users": [3]},
]}
PROFILE = LoadProfile.model_validate(
    {"name": "t", "target_rps": 40, "per_user_rps": 2, "min_requests": 100, "segments": SEGMENTS,
     "shape": {"ramp_s": 4, "steady_s": 10, "spike_s": 2, "spike_factor": 1.5}}
)
CONFIG = LoadConfig(profile="p.yaml")
SLO = SloConfig()


def stats(requests: int = 1000, failures: int = 0, p95: float = 50.0) -> EndpointStats:
    return EndpointStats("Aggregated", requests, failures, 10.0, p95, p95 * 1.5, 20.0, 40.0)


def result(rate: float = 40.0, total: EndpointStats | None = None, steady_points: int = 11) -> LoadResult:
    history = [HistoryPoint(100 + i, 20, rate, 0, 50, int(rate * i), 0) for i in range(steady_points)]
    return LoadResult(PROFILE, "http://127.0.0.1:1", 0, 0.0, 16.0, total or stats(), [], history)


def test_shape_ramps_holds_spikes_and_stops() -> None:
    assert PROFILE.steady_users == 20
    assert [PROFILE.users_at(t) for t in (0, 2, 4, 13.9, 14, 15.9, 16)] == [1, 10, 20, 20, 30, 30, None]


def test_picker_follows_segment_shares() -> None:
    picker = UserPicker(Segments.model_validate(SEGMENTS), random.Random(7))
    counts = Counter(picker.pick() for _ in range(20000))
    assert set(counts) == {1, 2, 3}
    assert counts[3] / 20000 == pytest.approx(0.25, abs=0.02)


def test_bad_profile_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: x\ntarget_rps: -1\nsegments: {source: s, popularity: []}\n")
    with pytest.raises(ConfigError, match=r"p\.yaml: target_rps"):
        load_profile(path)
    path.write_text("name: x\ntarget_rps: 5\nper_user_rps: 0\nsegments: " + str(SEGMENTS) + "\n")
    with pytest.raises(ConfigError, match="explicit users count"):
        load_profile(path)


@pytest.mark.parametrize(
    ("run", "passed", "words"),
    [
        (result(40), True, "held 40.0 rps"),
        (result(38.5), True, "held 38.5"),
        (result(30), False, "could not reach 40 rps: achieved 30"),
        (result(40, steady_points=1), False, "no steady phase"),
        (result(40, stats(requests=50)), False, "only 50 requests"),
    ],
)
def test_load_was_real(run: LoadResult, passed: bool, words: str) -> None:
    verdict = load.load_was_real(run, CONFIG)
    assert verdict.passed is passed
    assert words in verdict.reason


@pytest.mark.parametrize(
    ("total", "passed", "words"),
    [
        (stats(1000, 50), True, "5.00% ≤ 5%"),
        (stats(1000, 51), False, "5.10% > 5%"),
        (stats(0, 0), False, "no request was sent"),
    ],
)
def test_error_ratio(total: EndpointStats, passed: bool, words: str) -> None:
    verdict = load.error_ratio_within_slo(result(total=total), SLO, ["3× GET /x: 500"])
    assert verdict.passed is passed and words in verdict.reason
    assert "failure: 3× GET /x: 500" in verdict.message()


@pytest.mark.parametrize(
    ("total", "passed", "words"),
    [
        (stats(p95=300), True, "p95 300 ms ≤ 300 ms"),
        (stats(p95=301), False, "p95 301 ms > 300 ms"),
        (stats(p95=math.nan), False, "no latency samples"),
        (stats(100, 100, p95=3), False, "every request failed"),
    ],
)
def test_latency(total: EndpointStats, passed: bool, words: str) -> None:
    verdict = load.latency_within_slo(result(total=total), SLO)
    assert verdict.passed is passed and words in verdict.reason


@pytest.mark.parametrize(
    ("points", "passed", "words"),
    [
        ([0, 0, 0, 0], True, "peaked at 0 ≤ 0"),
        ([0, 3, 0, 0], False, "peaked at 3 > 0"),
        ([0], False, "too few samples"),
        ([math.nan] * 4, False, "NaN: 4"),
        ([], False, "too few samples"),
    ],
)
def test_series_peak_fails_closed(points: list[float], passed: bool, words: str) -> None:
    series = [Series({"color": "blue"}, [(float(i), v) for i, v in enumerate(points)])] if points else []
    verdict = load.series_peak("c", "q", series, 0, what="waiting", min_points=3)
    assert verdict.passed is passed and words in verdict.reason
    if not points or len(points) < 3 or math.isnan(points[0]):
        assert verdict.fault == "infrastructure"


def test_pool_waiting_query_names_the_color() -> None:
    assert load.pool_waiting_query(CONFIG, "blue") == 'max(recommendation_db_pool_waiting{color="blue"})'


def test_pool_waiting_and_db_connections_judge_the_series_they_are_given() -> None:
    environment = env("prometheus.scrape_interval_s=2")
    run = result()  # 16 s: 8 scrapes, at least 4 samples needed
    run.color = "blue"
    assert load.min_points(run, environment) == 4
    flat = [Series({"color": "blue"}, [(float(t), 0.0) for t in range(0, 16, 2)])]
    verdict = load.pool_waiting(run, environment, flat)
    assert verdict.passed and "waiting for a DB connection on blue" in verdict.check
    assert verdict.source == f"PromQL: {load.pool_waiting_query(environment.load, 'blue')}"
    busy = [Series({}, [(float(t), 0.95) for t in range(0, 16, 2)])]
    verdict = load.db_connections(run, environment, busy)
    assert not verdict.passed and "peaked at 0.95 >" in verdict.reason
    assert verdict.source == f"PromQL: {environment.load.db_connections_query}"
    sparse = [Series({}, [(0.0, 0.1), (2.0, 0.1), (4.0, 0.1)])]
    assert "too few samples" in load.db_connections(run, environment, sparse).reason


def with_ramp(run: LoadResult, ramp_s: float) -> LoadResult:
    run.profile = run.profile.model_copy(
        update={"shape": run.profile.shape.model_copy(update={"ramp_s": ramp_s})}
    )
    return run


@pytest.mark.parametrize(
    ("values", "passed", "words"),
    [
        ([0, 0, 3, 0, 0, 0, 0, 0], True, "for 1 sample(s) only"),  # one scrape caught a queue
        ([0, 3, 0, 2, 0, 4, 0, 0], True, "for 1 sample(s) only"),
        ([0, 0, 3, 5, 0, 0, 0, 0], False, "stayed above for 2 consecutive samples"),
        ([0, 1, 1, 1, 1, 1, 1, 0], False, "stayed above for 6 consecutive samples"),
        ([0, 0, 0, 0, 0, 0, 0, 0], True, "peaked at 0 ≤ 0"),
    ],
)
def test_pool_waiting_fails_on_a_queue_that_lasts(values: list[float], passed: bool, words: str) -> None:
    environment = env("prometheus.scrape_interval_s=2", "load.pool_warmup_s=0")
    run = with_ramp(result(), 0)
    run.color = "blue"
    series = [Series({"color": "blue"}, [(float(2 * i), float(v)) for i, v in enumerate(values)])]
    verdict = load.pool_waiting(run, environment, series)
    assert verdict.passed is passed and words in verdict.reason
    assert "2 consecutive samples" in verdict.threshold


def test_one_sample_is_enough_when_configured() -> None:
    environment = env(
        "prometheus.scrape_interval_s=2", "load.pool_waiting_samples=1", "load.pool_warmup_s=0"
    )
    run = with_ramp(result(), 0)
    run.color = "blue"
    series = [Series({}, [(float(2 * i), 3.0 if i == 2 else 0.0) for i in range(8)])]
    assert not load.pool_waiting(run, environment, series).passed


def test_the_pool_growing_with_the_ramp_is_not_judged() -> None:
    """Seen in CI: 2, then 4 requests waiting in the two scrapes after a 2 s ramp, none after
    (the pool opening its connections). The same queue once the load is held fails."""
    environment = env("prometheus.scrape_interval_s=1", "load.pool_warmup_s=3")
    run = result()  # 16 s from 0
    with_ramp(run, 2)
    run.color = "blue"
    ramp = [0.0, 0.0, 2.0, 4.0] + [0.0] * 12
    verdict = load.pool_waiting(run, environment, [Series({}, [(float(t), v) for t, v in enumerate(ramp)])])
    assert verdict.passed and "peaked at 0" in verdict.reason
    assert "from 5 s into the load (ramp + 3 s)" in verdict.threshold
    assert any(a.name == "samples of the warm-up (not judged)" for a in verdict.attachments)
    held = [0.0] * 8 + [2.0, 4.0] + [0.0] * 6
    verdict = load.pool_waiting(run, environment, [Series({}, [(float(t), v) for t, v in enumerate(held)])])
    assert not verdict.passed and "stayed above for 2 consecutive samples" in verdict.reason
