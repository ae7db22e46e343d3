"""SLO measurements from (fake) Prometheus answers, and the verdicts of whole windows."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.slo import ERROR_RATIO, LATENCY, POOL, REQUESTS, STABLE_LATENCY
from shiftgate.analysis.window import Measurement, observe
from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.errors import ConfigError, SourceUnavailable
from shiftgate.probes.prometheus import instant_values
from shiftgate.probes.prometheus_facts import Sample

FAKE = {
    "SHIFTGATE_SANDBOX_DSN": "postgresql://p:s3cret@127.0.0.1:5/r",
    "SHIFTGATE_SANDBOX_ROUTER_URL": "http://r",
    "SHIFTGATE_SANDBOX_BLUE_URL": "http://b",
    "SHIFTGATE_SANDBOX_GREEN_URL": "http://g",
    "SHIFTGATE_SANDBOX_PROMETHEUS_URL": "http://p:9090",
    "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": "/tmp/s",
}


def env(*overrides: str) -> Environment:
    base = ("analysis.window_s=10", "analysis.interval_s=2", "analysis.no_data_grace_s=0")
    return load_environment("sandbox", environ=FAKE, overrides=[*base, *overrides])


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


class FakeProbe:
    """Answers each metric's query from a list of values, one per measurement."""

    def __init__(self, target: slo.SloTarget, **values: list[float | None]) -> None:
        self.by_query = {target.queries[m]: list(v) for m, v in values.items()}
        self.queries: list[str] = []
        self.down = False

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        if self.down:
            raise SourceUnavailable("prometheus http://p:9090", "ConnectionError: refused")
        self.queries.append(promql)
        values = self.by_query.get(promql, [None])
        value = values.pop(0) if len(values) > 1 else values[0]
        return [] if value is None else [Sample({}, value, 0.0)]


def measurer(probe: FakeProbe, target: slo.SloTarget) -> Callable[[], Measurement]:
    """The ``measure`` a check wires: the probe reads the values, analysis judges them."""
    return lambda: slo.measurement(target, instant_values(probe, target.queries))  # type: ignore[arg-type]


def window(environment: Environment, compare: bool = True, **values: list[float | None]) -> slo.SloWindow:
    target = slo.slo_target(environment, "blue", compare=compare)
    defaults: dict[str, list[float | None]] = {
        ERROR_RATIO: [0.01], LATENCY: [0.05], POOL: [0.2], REQUESTS: [10.0], STABLE_LATENCY: [0.05],
    }
    probe = FakeProbe(target, **{**defaults, **values})
    result = observe(measurer(probe, target), environment.analysis, FakeClock())
    return slo.SloWindow(target, result)


@pytest.mark.parametrize(("query", "expected"), [
    ("color:x:rate30s", 'color:x:rate30s{color="blue"}'),
    ('m{route="/r"}', 'm{color="blue", route="/r"}'),
    (" m {} ", 'm{color="blue"}'),
])
def test_color_selector(query: str, expected: str) -> None:
    assert slo.color_selector(query, "color", "blue", "k") == expected


def test_an_expression_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"monitoring\.error_ratio_query"):
        slo.color_selector("sum(rate(x[5m]))", "color", "blue", "monitoring.error_ratio_query")


def test_target_queries_select_the_colors() -> None:
    environment = env()
    monitoring = environment.monitoring
    target = slo.slo_target(environment, "blue", compare=True)
    assert target.stable_color == "green"
    assert target.queries[ERROR_RATIO] == f'max({monitoring.error_ratio_query}{{color="blue"}})'
    assert target.queries[REQUESTS] == f'sum({monitoring.requests_rate_query}{{color="blue"}})'
    assert 'color="green"' in target.queries[STABLE_LATENCY]
    assert target.thresholds == {ERROR_RATIO: 0.05, LATENCY: 300, POOL: 0.9}
    assert STABLE_LATENCY not in slo.slo_target(env(), "blue", compare=False).queries


def test_healthy_window_passes_every_metric() -> None:
    w = window(env())
    for verdict in (slo.error_ratio(w), slo.latency_p95(w), slo.pool_utilization(w)):
        assert verdict.passed, verdict.message()
    verdict = slo.latency_p95(w)
    assert "worst 50 ms" in str(verdict.measured)  # seconds → ms
    names = [a.name for a in verdict.attachments]
    assert names == ["measurements", "analysis"]
    analysis = json.loads(verdict.attachments[1].body)
    assert analysis["candidate"] == {"color": "blue", "version": "2.5.0"}
    assert analysis["window"]["failure_limit"] == 2
    assert any("PromQL latency_p95_ms" in line for line in verdict.details)


def test_error_breach_fails_the_error_check_and_stops_early() -> None:
    w = window(env("analysis.window_s=60"), **{ERROR_RATIO: [0.0, 0.0, 0.3, 0.4, 0.0]})
    assert w.result.stopped_early and w.result.elapsed_s == 6
    error = slo.error_ratio(w)
    assert not error.passed and error.fault == "product"
    assert "error_ratio failed in 2 measurements" in error.reason
    assert "0.3 > 0.05" in error.reason
    latency = slo.latency_p95(w)
    assert not latency.passed and "not judged over the whole window" in latency.reason


def test_latency_breach_in_milliseconds() -> None:
    w = window(env(), **{LATENCY: [0.45]})
    verdict = slo.latency_p95(w)
    assert not verdict.passed and "450 ms > 300 ms" in verdict.reason


def test_pool_saturation_fails_the_pool_check() -> None:
    verdict = slo.pool_utilization(window(env(), **{POOL: [0.95]}))
    assert not verdict.passed and "0.95 > 0.9" in verdict.reason


def test_no_requests_on_the_candidate_is_no_data() -> None:
    w = window(env(), **{REQUESTS: [0.0], ERROR_RATIO: [math.nan], LATENCY: [math.nan]})
    verdict = slo.error_ratio(w)
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert "no data: no requests on blue" in verdict.reason or "NaN" in verdict.reason


def test_absent_series_fail_closed() -> None:
    verdict = slo.latency_p95(window(env(), **{LATENCY: [None]}))
    assert not verdict.passed and "no data: no series" in verdict.reason


def test_unreachable_prometheus_fails_every_check_with_the_reason() -> None:
    environment = env()
    target = slo.slo_target(environment, "blue", compare=True)
    probe = FakeProbe(target)
    probe.down = True
    result = observe(measurer(probe, target), environment.analysis, FakeClock())
    w = slo.SloWindow(target, result)
    for verdict in (slo.error_ratio(w), slo.latency_p95(w), slo.pool_utilization(w)):
        assert not verdict.passed and verdict.fault == "infrastructure"
        assert "refused" in verdict.reason


def test_too_few_samples_fail() -> None:
    # The loader refuses a window too short to hold min_samples (shiftgate.config.bounds);
    # the analysis must still fail closed when fewer arrive, so the window is cut after loading.
    environment = env("analysis.min_samples=5")
    environment.analysis.window_s = 4
    verdict = slo.error_ratio(window(environment))
    assert not verdict.passed and "too few samples of error_ratio: 3, need 5" in verdict.reason


def test_stable_latency_is_evidence_not_a_criterion() -> None:
    w = window(env(), **{STABLE_LATENCY: [None]})
    assert slo.latency_p95(w).passed



def test_measurement_judges_the_values_it_is_given() -> None:
    target = slo.slo_target(env(), "blue", compare=True)
    values = {ERROR_RATIO: 0.2, LATENCY: 0.1, POOL: 0.5, REQUESTS: 4.0, STABLE_LATENCY: None}
    readings = {r.name: r for r in slo.measurement(target, values).readings}
    assert readings[LATENCY].value == 100  # seconds → ms
    assert readings[ERROR_RATIO].problem() == ("breach", "0.2 > 0.05")
    assert readings[STABLE_LATENCY].problem() is None  # evidence only
    idle = slo.measurement(target, {**values, REQUESTS: math.nan}).readings
    assert next(r for r in idle if r.name == REQUESTS).problem() == (
        "no data", "no data: no requests on blue (rate nan)"
    )


def test_log_context_names_who_was_measured() -> None:
    target = slo.slo_target(env(), "blue", compare=False)
    assert slo.log_context(target) == {
        "candidate_color": "blue", "stable_color": "green",
        "candidate_version": "2.5.0", "stable_version": target.stable_version,
    }
