"""Connection capacity arithmetic: both colors at peak + other clients + headroom vs usable."""

from __future__ import annotations

import pytest

from shiftgate.analysis.connections import (
    connection_capacity,
    connections_in_use,
    peak_demand,
    peak_from_series,
    peak_of_snapshots,
    required_max_connections,
)
from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.probes.postgres_facts import Activity, ActivityGroup, ServerSettings

FAKE = {
    "SHIFTGATE_SANDBOX_DSN": "postgresql://shiftgate_probe:s3cret@127.0.0.1:5/recommendations",
    "SHIFTGATE_SANDBOX_ROUTER_URL": "http://r",
    "SHIFTGATE_SANDBOX_BLUE_URL": "http://b",
    "SHIFTGATE_SANDBOX_GREEN_URL": "http://g",
    "SHIFTGATE_SANDBOX_PROMETHEUS_URL": "http://p",
    "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": "/tmp/s",
}


def env(*overrides: str) -> Environment:
    return load_environment("sandbox", environ=FAKE, overrides=overrides)


def settings(max_connections: int, superuser: int = 3, reserved: int | None = None) -> ServerSettings:
    return ServerSettings(max_connections, superuser, reserved, 150000, "15.0")


def activity(**groups: int) -> Activity:
    return Activity([ActivityGroup(name.replace("_", "-"), n) for name, n in groups.items()])


POOLS_NOW = {"recommendation_blue_1": 2, "recommendation_green_1": 2, "shiftgate": 1}


def test_incident_numbers_fail_with_the_arithmetic() -> None:
    verdict = connection_capacity(settings(50), activity(**POOLS_NOW), env())
    assert not verdict.passed
    message = verdict.message()
    # 2.4.3: 2 x 1 x 10 = 20; 2.5.0: 2 x 1 x 25 = 50; no other client; headroom 5.
    assert "peak demand 75 > usable 47" in message
    assert "max_connections 50 − superuser_reserved_connections 3 = 47" in message
    assert "20  live color, stable 2.4.3" in message
    assert "50  idle color, candidate 2.5.0" in message
    assert "max_connections that would pass: 78" in message
    assert "ALTER SYSTEM SET max_connections = 78" in message


@pytest.mark.parametrize(
    ("max_connections", "passed"), [(77, False), (78, True), (79, True), (500, True), (3, False)]
)
def test_boundary_at_exactly_the_demand(max_connections: int, passed: bool) -> None:
    assert connection_capacity(settings(max_connections), activity(), env()).passed is passed


def test_other_clients_count_but_not_the_pools_or_shiftgate() -> None:
    now = activity(**POOLS_NOW, postgres_exporter=1, nightly_job=3, **{"": 2})
    peak = peak_demand(settings(100), now, env())
    assert peak.demand == 20 + 50 + 6 + 5
    assert {g.application_name for g in peak.others} == {"postgres-exporter", "nightly-job", ""}
    assert "other clients now (postgres-exporter 1, nightly-job 3, (no name) 2)" in (
        connection_capacity(settings(100), now, env()).message()
    )


def test_reserved_connections_of_postgres_16_reduce_usable() -> None:
    peak = peak_demand(settings(80, 3, 2), activity(), env())
    assert peak.usable == 75
    assert required_max_connections(settings(80, 3, 2), activity(), env()) == 75 + 5
    verdict = connection_capacity(settings(80, 3, 2), activity(), env())
    assert "− reserved_connections 2 = 75" in verdict.message()
    assert verdict.passed


@pytest.mark.parametrize(
    ("override", "pool_change", "demand"),
    [
        ("database.headroom_connections=0", {}, 70),
        ("versions.candidate=2.4.3", {}, 20 + 20 + 5),
        (None, {"max_replicas": 4}, 20 + 100 + 5),
        (None, {"processes_per_replica": 3}, 20 + 150 + 5),
    ],
)
def test_demand_follows_the_versions_each_color_runs(
    override: str | None, pool_change: dict[str, int], demand: int
) -> None:
    environment = env(override) if override else env()
    pool = environment.versions.candidate_spec.pool
    for key, value in pool_change.items():  # version keys hold dots: no --set path to them
        setattr(pool, key, value)
    assert peak_demand(settings(50), activity(), environment).demand == demand


def test_evidence_holds_settings_and_arithmetic() -> None:
    verdict = connection_capacity(settings(50), activity(), env())
    names = {a.name for a in verdict.attachments}
    assert "arithmetic" in names
    assert verdict.measured == "demand 75" and verdict.threshold == "usable 47"


@pytest.mark.parametrize(
    ("in_use", "max_connections", "passed"),
    [(8, 50, True), (37, 50, True), (38, 50, False), (47, 50, False), (1, 3, False)],
)
def test_connections_in_use_ratio(in_use: int, max_connections: int, passed: bool) -> None:
    # usable 47 at max_connections 50; the limit 0.8 allows 37.6 connections.
    verdict = connections_in_use(settings(max_connections), activity(app=in_use), env().database)
    assert verdict.passed is passed, verdict.message()
    assert "app" in verdict.message()


# -- other clients at their peak over the look-back (issue 13, item 6) ----------------------
WINDOW = "the look-back of 3600 s (2026-01-01T00:00:00Z to 2026-01-01T01:00:00Z, step 15 s)"


def test_a_job_absent_at_the_moment_of_the_check_counts_at_its_peak() -> None:
    """Issue 13 item 6. Before: other clients counted as connected at that moment; a batch job
    holding 20 connections 20 s of every 30 s, away when the check ran, was left out and the
    capacity check passed (preflight exit 0). Now its peak over the look-back counts (exit 1)."""
    environment = env()
    demand_now = peak_demand(settings(100), activity(**POOLS_NOW), environment).demand
    usable = demand_now + 10  # fits by 10 without the job
    server = settings(usable + 3)
    assert connection_capacity(server, activity(**POOLS_NOW), environment).passed  # before
    peak = peak_from_series([0, 20, 0, 20, 0], WINDOW, {"source": "prometheus"})
    verdict = connection_capacity(server, activity(**POOLS_NOW), environment, peak)
    assert not verdict.passed
    assert f"other clients at their peak 20 over {WINDOW}" in verdict.message()
    assert any(a.name == "other clients over the look-back" for a in verdict.attachments)


def test_the_peak_never_counts_fewer_than_connected_now() -> None:
    peak = peak_from_series([1, 2], WINDOW, {})
    demand = peak_demand(settings(200), activity(**POOLS_NOW, batch_job=7), env(), peak)
    assert demand.terms[2].connections == 7


@pytest.mark.parametrize("values", [[], [float("nan")], [-1.0]])
def test_no_value_over_the_look_back_fails_closed(values: list[float]) -> None:
    peak = peak_from_series(values, WINDOW, {"source": "prometheus"})
    verdict = connection_capacity(settings(500), activity(**POOLS_NOW), env(), peak)
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert f"no value of the other clients' connections over {WINDOW}" in verdict.reason


def test_snapshots_count_only_other_clients() -> None:
    snapshots = [activity(**POOLS_NOW), activity(**POOLS_NOW, batch_job=9), activity(**POOLS_NOW)]
    peak = peak_of_snapshots(snapshots, env(), "3 snapshots 1 s apart")
    assert (peak.connections, peak.points) == (9, 3)
