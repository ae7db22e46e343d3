"""Conduct Load Testing with Realistic Traffic Patterns: the candidate on the idle color,
loaded directly with production-shaped traffic before it gets any production traffic."""

from __future__ import annotations

import time

import pytest

from shiftgate.analysis import load, rollout
from shiftgate.analysis.rollout import log_window
from shiftgate.analysis.verdicts import all_of
from shiftgate.config.models import Color, Environment
from shiftgate.load.chart import render
from shiftgate.load.results import LoadResult, failure_lines
from shiftgate.probes.platform import PlatformView
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.probes.prometheus_facts import Series
from shiftgate.verdict import Verdict

CHECKLIST = "Conduct Load Testing with Realistic Traffic Patterns"
pytestmark = pytest.mark.checklist(CHECKLIST)


def with_run_evidence(verdict: Verdict, run: LoadResult, environment: Environment) -> Verdict:
    verdict.attach_text("profile", run.profile.model_dump_json(indent=2, exclude={"segments"}), "json")
    for path in run.csv_files:
        verdict.attach_text(path.name, path.read_text(encoding="utf-8"), "csv")
    verdict.attachments.append(load.chart(render(run, environment.slo.latency_p95_max_ms)))
    return verdict


def test_load_reaches_target_rate(load_run: LoadResult, environment: Environment, expect) -> None:
    """The load was real: the target rate was held and enough requests were sent."""
    expect(with_run_evidence(load.load_was_real(load_run, environment.load), load_run, environment))


def test_error_ratio_under_load(environment: Environment, load_run: LoadResult, expect) -> None:
    """Error ratio under load ≤ {environment.slo.error_ratio_max:.0%}.

    The runbook's rollback criterion (``slo.error_ratio_max``)."""
    expect(load.error_ratio_within_slo(load_run, environment.slo, failure_lines(load_run)))


def test_latency_p95_under_load(environment: Environment, load_run: LoadResult, expect) -> None:
    """p95 latency under load ≤ {environment.slo.latency_p95_max_ms:g} ms; p99 reported.

    The runbook's rollback criterion (``slo.latency_p95_max_ms``)."""
    expect(load.latency_within_slo(load_run, environment.slo))


def over_the_run(
    prometheus: PrometheusProbe, query: str, run: LoadResult, environment: Environment
) -> list[Series]:
    """The query's series over the load run, one point per scrape."""
    step = environment.prometheus.scrape_interval_s
    return prometheus.query_range(query, run.started, run.ended, step)


def test_pool_waiting_during_load(
    load_run: LoadResult, environment: Environment, prometheus: PrometheusProbe, expect
) -> None:
    """Requests of the candidate did not keep waiting for a database connection once the pool
    had warmed up (``load.pool_waiting_max`` for ``load.pool_waiting_samples`` consecutive
    samples, from ``load.pool_warmup_s`` after the ramp)."""
    query = load.pool_waiting_query(environment.load, load_run.color or "")
    series = over_the_run(prometheus, query, load_run, environment)
    expect(load.pool_waiting(load_run, environment, series))


def test_db_connections_during_load(
    load_run: LoadResult, environment: Environment, prometheus: PrometheusProbe, expect
) -> None:
    """The database's connections stayed below their limit during the load."""
    series = over_the_run(prometheus, environment.load.db_connections_query, load_run, environment)
    expect(load.db_connections(load_run, environment, series))


def test_cpu_and_memory_under_load(
    load_run: LoadResult, under_load: rollout.UnderLoad, environment: Environment, expect
) -> None:
    """Evaluate Performance: CPU and memory of each replica within limits during and after the load."""
    expect(rollout.resources_under_load(
        under_load.during, under_load.after, under_load.errors, environment.rollout,
        source=f"{load_run.color} color under load",
    ))


def test_logs_clean_after_load(
    load_run: LoadResult, environment: Environment, platform: PlatformView, expect
) -> None:
    """Monitor Deployment: after the load, the logs since the deploy hold no error, and every
    replica logged and never restarted."""
    color: Color = load_run.color  # type: ignore[assignment]
    since, note = log_window(environment.run.deployed_at, time.time())
    lines = platform.logs(color, since)
    source = f"{platform.name} platform, {color} color after the load"
    expect(all_of(
        "the candidate's logs clean and its replicas steady after the load",
        [rollout.logs_clean(lines, environment.rollout.log_error_patterns, since,
                            source=source, since_note=note),
         rollout.replicas_steady(platform.replicas(color), lines, since, source=source, since_note=note)],
        empty_reason="nothing read", declare="(always two parts)",
    ))
