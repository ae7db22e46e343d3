"""SLO measurements from (fake) Prometheus answers, and the verdicts of whole windows."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pytest

from shiftgate.analysis import selectors, slo
from shiftgate.analysis.counts import Counts
from shiftgate.analysis.slo import ERROR_RATIO, LATENCY, POOL, SLOW_SHARE, STABLE_LATENCY
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
    """Answers each query of the target from a list of values, one per look; the counters
    from per-second traffic: ``traffic`` is a list of (requests, errors, slow) per look."""

    def __init__(
        self, target: slo.SloTarget, traffic: list[tuple[int, int, int]] | None = None,
        buckets: tuple[str, ...] = ("0.25", "0.3", "0.5", "+Inf"), **values: list[float | None],
    ) -> None:
        self.target = target
        self.by_query = {target.queries[m]: list(v) for m, v in values.items()}
        self.traffic = list(traffic if traffic is not None else [(20, 0, 0)])
        self.buckets = buckets
        self.totals = [0, 0, 0]  # requests, errors, slow
        self.queries: list[str] = []
        self.down = False
        self.running = [("blue", target.candidate_version), ("green", target.stable_version)]
        self.router: list[int] = [0]  # the router's own failures per look
        self.router_total = 0
        self.gone_after: int | None = None  # looks after which the candidate's series stop
        self.looks = 0

    def query(self, promql: str, at: float | None = None) -> list[Sample]:
        if self.down:
            raise SourceUnavailable("prometheus http://p:9090", "ConnectionError: refused")
        self.queries.append(promql)
        if promql == self.target.versions_query:
            return [Sample({"color": c, "version": v}, 2, 0.0) for c, v in self.running]
        if promql in [self.target.fresh(q) for q in self.target.router_failures]:
            step = self.router.pop(0) if len(self.router) > 1 else self.router[0]
            self.router_total += step
            return [Sample({"proxy": "bk_router", "server": "blue-1"}, self.router_total, 0.0)]
        gone = self.gone_after is not None and self.looks > self.gone_after
        if promql in (self.target.counters["requests"], self.target.fresh(self.target.counters["requests"])):
            self.looks += 1
            if gone:
                return []
            step = self.traffic.pop(0) if len(self.traffic) > 1 else self.traffic[0]
            self.totals = [t + d for t, d in zip(self.totals, step, strict=True)]
            requests, errors, _ = self.totals
            return [Sample({"status": "200"}, requests - errors, 0.0), Sample({"status": "500"}, errors, 0.0)]
        if promql in (self.target.counters["buckets"], self.target.fresh(self.target.counters["buckets"])):
            if gone:
                return []
            requests, _, slow = self.totals
            return [
                Sample({"le": le}, requests if le == "+Inf" or float(le) > 0.3 else requests - slow, 0.0)
                for le in self.buckets
            ]
        values = self.by_query.get(promql, [None])
        value = values.pop(0) if len(values) > 1 else values[0]
        return [] if value is None else [Sample({}, value, 0.0)]


def measurer(probe: FakeProbe, target: slo.SloTarget) -> Callable[[], Measurement]:
    """The ``measure`` the check wires (checks/slo/conftest.py), without a warm-up."""
    counts = slo.new_counts(target)

    def measure() -> Measurement:
        values = instant_values(probe, target.queries)  # type: ignore[arg-type]
        running = probe.query(target.versions_query)
        requests = probe.query(target.fresh(target.counters["requests"]))
        router = [s for q in target.router_failures for s in probe.query(target.fresh(q))]
        buckets = probe.query(target.fresh(target.counters["buckets"]))
        wrong = slo.wrong_versions(target, running, "color", "version")
        return slo.measurement(target, values, counts.update(requests, buckets, router), wrong)

    return measure


def window(
    environment: Environment, compare: bool = True, traffic: list[tuple[int, int, int]] | None = None,
    buckets: tuple[str, ...] = ("0.25", "0.3", "0.5", "+Inf"),
    setup: Callable[[FakeProbe], None] | None = None,
    **values: list[float | None],
) -> slo.SloWindow:
    target = slo.slo_target(environment, "blue", compare=compare)
    defaults: dict[str, list[float | None]] = {LATENCY: [0.05], POOL: [0.2], STABLE_LATENCY: [0.05]}
    probe = FakeProbe(target, traffic, buckets, **{**defaults, **values})
    if setup is not None:
        setup(probe)
    result = observe(
        measurer(probe, target), environment.analysis, FakeClock(), stop=slo.sequential_stop(target)
    )
    return slo.SloWindow(target, result)


@pytest.mark.parametrize(("query", "expected"), [
    ("color:x:rate30s", 'color:x:rate30s{color="blue"}'),
    ('m{route="/r"}', 'm{color="blue", route="/r"}'),
    (" m {} ", 'm{color="blue"}'),
])
def test_color_selector(query: str, expected: str) -> None:
    assert selectors.color_selector(query, "color", "blue", "k") == expected


def test_a_value_cannot_end_its_matcher() -> None:
    """A version label value is quoted as PromQL reads it: a quote in it stays inside."""
    built = selectors.color_selector("m", "color", "blue", "k", version='2.5.1"} or vector(1) #')
    assert built == 'm{color="blue", version="2.5.1\\"} or vector(1) #"}'


def test_an_expression_is_a_configuration_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"monitoring\.error_ratio_query"):
        selectors.color_selector("sum(rate(x[5m]))", "color", "blue", "monitoring.error_ratio_query")


def test_target_queries_select_the_colors_and_the_candidates_version() -> None:
    environment = env()
    monitoring = environment.monitoring
    target = slo.slo_target(environment, "blue", compare=True)
    assert target.stable_color == "green"
    assert target.queries[LATENCY] == f'max({monitoring.latency_p95_query}{{color="blue"}})'
    assert 'color="green"' in target.queries[STABLE_LATENCY]
    assert target.counters["requests"] == (
        'recommendation_requests_total{color="blue", version="2.5.0", route="/recommendations"}'
    )
    assert target.counters["buckets"].startswith(
        'recommendation_request_duration_seconds_bucket{color="blue", version="2.5.0"'
    )
    assert target.thresholds == {ERROR_RATIO: 0.05, LATENCY: 300, SLOW_SHARE: 0.05, POOL: 0.9}
    rule = target.rules[ERROR_RATIO]
    assert (rule.alpha, rule.bad, rule.looks) == (0.01, 0.10, 6)  # 10 s every 2 s: 6 looks
    assert STABLE_LATENCY not in slo.slo_target(env(), "blue", compare=False).queries


def test_healthy_window_passes_every_metric() -> None:
    w = window(env(), traffic=[(20, 0, 0)])  # 6 looks: a baseline, then 100 requests
    for verdict in (slo.error_ratio(w), slo.latency_p95(w), slo.pool_utilization(w)):
        assert verdict.passed, verdict.message()
    verdict = slo.latency_p95(w)
    assert "ruled out 10%" in verdict.reason and "0 slower than 300 ms in 100 requests" in verdict.reason
    names = [a.name for a in verdict.attachments]
    assert names == ["decisions", "estimate and bounds over time", "measurements", "analysis"]
    assert verdict.attachments[1].kind == "png" and bytes(verdict.attachments[1].body)[:4] == b"\x89PNG"
    analysis = json.loads(verdict.attachments[3].body)
    assert analysis["candidate"] == {"color": "blue", "version": "2.5.0"}
    assert any("docs/analysis-method.md" in line for line in verdict.details)


def test_a_few_errors_within_the_slo_pass() -> None:
    """3 % errors: today's 2-breach rule rolled such releases back; the proportion does not."""
    w = window(env("analysis.window_s=40"), traffic=[(100, 3, 0)])
    verdict = slo.error_ratio(w)
    assert verdict.passed, verdict.message()
    assert not w.result.stopped_early


def test_error_breach_rolls_back_early_with_the_numbers() -> None:
    w = window(env("analysis.window_s=60"), traffic=[(20, 0, 0), (20, 0, 0), (20, 10, 0)])
    assert w.result.stopped_early and w.result.elapsed_s == 4  # the third look
    error = slo.error_ratio(w)
    assert not error.passed and error.fault == "product"
    assert error.reason.startswith("roll back: error_ratio above 5% after 4.0 s: 10 errors in 40 requests")
    assert "stopped early after 4.0 s of 60 s: error_ratio above its limit" in w.result.stop_reason
    latency = slo.latency_p95(w)
    assert not latency.passed and "not judged over the whole window" in latency.reason


def test_slow_requests_roll_back_on_the_latency_criterion() -> None:
    w = window(env(), traffic=[(20, 0, 10)])
    verdict = slo.latency_p95(w)
    assert not verdict.passed and verdict.fault == "product"
    assert "roll back: slow_share above 5%" in verdict.reason and "slower than 300 ms" in verdict.reason


def test_a_histogram_without_a_bucket_at_the_threshold_never_passes_nor_rolls_back() -> None:
    w = window(env(), traffic=[(20, 0, 10)], buckets=("0.25", "0.5", "+Inf"))
    verdict = slo.latency_p95(w)
    assert not verdict.passed and verdict.fault == "configuration"
    assert "no bucket at 0.3 s" in verdict.reason
    assert not w.result.stopped_early


def test_pool_saturation_fails_the_pool_check() -> None:
    verdict = slo.pool_utilization(window(env(), **{POOL: [0.95]}))
    assert not verdict.passed and "0.95 > 0.9" in verdict.reason


def test_no_requests_on_the_candidate_is_no_data() -> None:
    w = window(env(), traffic=[(0, 0, 0)], **{LATENCY: [math.nan]})
    for verdict in (slo.error_ratio(w), slo.latency_p95(w)):
        assert not verdict.passed and verdict.fault == "infrastructure"
        assert "no data: no requests on blue (2.5.0)" in verdict.reason


def test_too_few_requests_are_inconclusive_with_the_number_needed() -> None:
    w = window(env(), traffic=[(4, 0, 0)])  # 20 requests: 0 errors rule out 10 % from 44
    verdict = slo.error_ratio(w)
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert verdict.reason.startswith("inconclusive: 20 requests seen; ruling out 10% needs 44")


def test_a_ratio_between_the_limit_and_twice_it_is_inconclusive_not_a_pass() -> None:
    w = window(env("analysis.window_s=40"), traffic=[(100, 8, 0)])  # 8 %
    verdict = slo.error_ratio(w)
    assert not verdict.passed and verdict.fault == "product"
    assert "inconclusive" in verdict.reason or "roll back" in verdict.reason


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


def test_stable_latency_is_evidence_not_a_criterion() -> None:
    w = window(env(), **{STABLE_LATENCY: [None]})
    assert slo.latency_p95(w).passed


def test_measurement_keeps_counts_and_judges_only_the_pool() -> None:
    target = slo.slo_target(env(), "blue", compare=True)
    values = {LATENCY: 0.1, POOL: 0.95, STABLE_LATENCY: None}
    counts = Counts(requests=50, errors=10, timed=50, slow=5)
    readings = {r.name: r for r in slo.measurement(target, values, counts).readings}
    assert readings[LATENCY].value == 100  # seconds → ms
    assert readings[ERROR_RATIO].value == 0.2 and readings[ERROR_RATIO].problem() is None
    assert readings[POOL].problem() == ("breach", "0.95 > 0.9")
    assert readings[STABLE_LATENCY].problem() is None  # evidence only


def test_the_target_refuses_a_zero_error_limit() -> None:
    with pytest.raises(ConfigError, match=r"slo\.error_ratio_max"):
        slo.slo_target(env("slo.error_ratio_max=0"), "blue", compare=False)


def test_log_context_names_who_was_measured() -> None:
    target = slo.slo_target(env(), "blue", compare=False)
    assert slo.log_context(target) == {
        "candidate_color": "blue", "stable_color": "green",
        "candidate_version": "2.5.0", "stable_version": target.stable_version,
    }


# -- issue 14 item 6: recent counts; issue 13 item 4: the right color, version and requests --
def test_a_fault_mid_window_is_rolled_back_by_the_recent_counts_before_the_cumulative_ones() -> None:
    """30 clean looks, then 30 % errors. The counts since the shift are diluted by the clean
    requests; the last 5 s's are not. Before the recent counts this took 9 looks."""
    traffic = [(10, 0, 0)] * 31 + [(10, 3, 0)]
    settings = ("analysis.window_s=60", "analysis.interval_s=1")
    fast = window(env(*settings), traffic=traffic)
    slow = window(env(*settings, "analysis.recent_s=0"), traffic=traffic)
    assert fast.result.stopped_early and slow.result.stopped_early
    fast_s, slow_s = fast.result.elapsed_s - 30, slow.result.elapsed_s - 30
    assert fast_s <= 5 < slow_s, (fast_s, slow_s)
    verdict = slo.error_ratio(fast)
    assert verdict.reason.startswith("roll back: error_ratio above 5%")
    assert "the recent counts" in verdict.reason, verdict.reason


def test_recent_counts_keep_the_stated_alpha_split() -> None:
    target = slo.slo_target(env(), "blue", compare=False)
    rule = target.rules[ERROR_RATIO]
    assert target.recent_looks == 2  # 5 s of 2 s looks (banker's rounding of 2.5)
    assert rule.alpha_per_look + rule.recent_alpha_per_look == pytest.approx(rule.alpha / rule.looks)
    alone = slo.slo_target(env("analysis.recent_s=0"), "blue", compare=False)
    assert alone.rules[ERROR_RATIO].recent_share == 0 and alone.recent_looks == 0


def test_a_color_running_another_version_fails_at_the_first_look() -> None:
    """Hole (issue 13 item 4): the shift gate for 2.5.1 while blue runs a healthy 2.5.0. Before,
    the version-selected counters found nothing and the window ran to its end; now the first
    look stops it, naming the version."""
    def wrong(probe: FakeProbe) -> None:
        probe.running = [("blue", "2.4.3"), ("green", "2.4.3")]

    w = window(env("analysis.window_s=60"), setup=wrong)
    assert w.result.stopped_early and w.result.elapsed_s == 0
    error = slo.error_ratio(w)
    assert not error.passed
    assert "blue runs version 2.4.3, expected 2.5.0" in error.reason
    for other in (slo.latency_p95(w), slo.pool_utilization(w)):
        assert not other.passed and other.reason.startswith(f"{slo.NOT_JUDGED} version"), other.reason


def test_the_stable_color_running_another_version_fails_too() -> None:
    def wrong(probe: FakeProbe) -> None:
        probe.running = [("blue", "2.5.0"), ("green", "2.5.0")]

    error = slo.error_ratio(window(env(), setup=wrong))
    assert not error.passed and "green runs version 2.5.0, expected 2.4.3" in error.reason


def test_requests_the_router_could_not_deliver_count_as_errors() -> None:
    """Hole: a crashed replica's 502/503s never reach the service's counters. Before, 20
    router failures a look next to 100 clean requests passed; now they roll back."""
    queries = ('haproxy_server_connection_errors_total{proxy="bk_router", server=~"$color-.*"}',)

    def failing(probe: FakeProbe) -> None:
        probe.router = [0, 20]

    environment = env("analysis.window_s=40")
    environment.slo.router_failures = list(queries)
    w = window(environment, traffic=[(100, 0, 0)], setup=failing)
    target = w.target
    assert target.router_failures == [
        'haproxy_server_connection_errors_total{proxy="bk_router", server=~"blue-.*"}'
    ]
    error = slo.error_ratio(w)
    assert not error.passed and error.reason.startswith("roll back: error_ratio"), error.reason
    assert w.result.observations[-1].value(slo.ROUTER_FAILED) == 20


def test_a_candidate_whose_series_stop_is_no_data_not_a_pass() -> None:
    """Hole: the candidate's replicas die mid-window. Before, its counts froze and 100 clean
    requests passed at the end; now a look without a fresh series is no data and the window
    fails at the failure limit."""
    def dies(probe: FakeProbe) -> None:
        probe.gone_after = 3

    w = window(env("analysis.window_s=40"), traffic=[(100, 0, 0)], setup=dies)
    assert w.result.stopped_early and slo.FRESH in w.result.stopped_on
    error = slo.error_ratio(w)
    assert not error.passed and error.fault == "infrastructure"
    assert "no data from blue" in error.reason
    assert "no requests on blue (2.5.0) reported in the last 2 s" in error.reason
    latency = slo.latency_p95(w)
    assert latency.reason.startswith(f"{slo.NOT_JUDGED} fresh_series"), latency.reason


def test_checks_not_judged_after_a_rollback_say_so_and_get_no_chart() -> None:
    from shiftgate.analysis import compare

    w = window(env("analysis.window_s=60"), traffic=[(20, 0, 0), (20, 0, 0), (20, 10, 0)])
    for verdict in (slo.latency_p95(w), slo.pool_utilization(w), compare.latency_against_stable(w)):
        assert not verdict.passed
        assert verdict.reason.startswith(f"{slo.NOT_JUDGED} error_ratio"), verdict.reason
        assert all(a.kind != "png" for a in verdict.attachments)
    assert any(a.kind == "png" for a in slo.error_ratio(w).attachments)  # the deciding one has it


def test_versions_query_counts_fresh_series_of_both_colors() -> None:
    target = slo.slo_target(env(), "blue", compare=False)
    assert target.versions_query == (
        "count by (color, version) "
        '(last_over_time(recommendation_requests_total{route="/recommendations"}[2000ms]))'
    )
    assert target.fresh("m{a=\"b\"}") == 'last_over_time(m{a="b"}[2000ms])'


@pytest.mark.parametrize("query", [
    'haproxy_server_connection_errors_total{proxy="bk_router"}',  # no $color: both colors
    'sum(haproxy_server_connection_errors_total{server=~"$color-.*"})',  # not a selector
])
def test_router_failure_queries_must_be_per_color_selectors(query: str) -> None:
    with pytest.raises(ConfigError, match=r"router_failures"):
        env(f"slo.router_failures=[{json.dumps(query)}]")


def test_the_runner_passes_the_shift_time() -> None:
    assert env("run.shifted_at=1700000000.5").run.shifted_at == 1700000000.5
