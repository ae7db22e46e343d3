"""The other clients are read the same way for the capacity check and for the sandbox's
remediation: from Prometheus over the look-back, else from pg_stat_activity snapshots."""

from __future__ import annotations

from shiftgate.analysis.connections import others_peak
from shiftgate.config.loader import load_environment
from shiftgate.probes.other_clients import read_other_clients
from shiftgate.probes.postgres_facts import Activity
from shiftgate.probes.prometheus_facts import Series
from tests.unit.test_config import ENV


class FakePrometheus:
    def __init__(self) -> None:
        self.asked: list[tuple[str, float, float, float]] = []

    def query_range(self, query: str, start: float, end: float, step: float) -> list[Series]:
        self.asked.append((query, start, end, step))
        return [Series(labels={}, points=[(start, 3.0), (start + step, 9.0), (end, 2.0)])]


class FakeDb:
    def __init__(self) -> None:
        self.calls = 0

    def activity(self) -> Activity:
        self.calls += 1
        return Activity(groups=[])


QUERY = "sum(pg_stat_activity_count) - (sum(recommendation_db_pool_size) or vector(0))"


def test_prometheus_look_back_gives_the_peak_not_the_last_value() -> None:
    environment = load_environment(
        "sandbox", environ=ENV, overrides=[f"database.other_clients_query={QUERY}"]
    )
    prometheus = FakePrometheus()
    reading = read_other_clients(
        environment, FakeDb(), prometheus, now=lambda: 10_000.0  # type: ignore[arg-type]
    )
    query, start, end, _ = prometheus.asked[0]
    assert end - start == environment.database.other_clients_lookback_s
    assert query == environment.database.other_clients_query
    peak = others_peak(reading, environment)
    assert peak.connections == 9 and "look-back" in peak.window


def test_without_a_query_snapshots_are_taken_apart() -> None:
    environment = load_environment("sandbox", environ=ENV)  # the sandbox samples
    db = FakeDb()
    slept: list[float] = []
    reading = read_other_clients(
        environment, db, FakePrometheus(), sleep=slept.append  # type: ignore[arg-type]
    )
    assert db.calls == environment.database.other_clients_samples
    assert len(slept) == db.calls - 1
    assert reading.snapshots is not None and "snapshots" in reading.window
