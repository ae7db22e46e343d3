"""Runbook checklist, Database: "Increase Database Max Connections" (Critical).

The last incident: both colors' pools opened during the shift and hit max_connections.
Other clients count at their peak over ``database.other_clients_lookback_s``: a job connected
20 s of every 30 s must be counted whenever the check runs, not by chance.
"""

from __future__ import annotations

import time

import pytest

from shiftgate.analysis.connections import (
    OthersPeak,
    connection_capacity,
    connections_in_use,
    peak_from_series,
    peak_of_snapshots,
)
from shiftgate.analysis.rollout import iso
from shiftgate.config.models import Environment
from shiftgate.probes.postgres import PostgresProbe
from shiftgate.probes.prometheus import PrometheusProbe

CHECKLIST = "Increase Database Max Connections"
MAX_POINTS = 1000  # Prometheus refuses more than 11,000 points per series


def others_peak(environment: Environment, db: PostgresProbe, prometheus: PrometheusProbe) -> OthersPeak:
    """The other clients' peak: a Prometheus range query over the look-back where one is
    configured, else snapshots of pg_stat_activity a configured interval apart."""
    config = environment.database
    end = time.time()
    query = config.other_clients_query
    if query is None:
        snapshots = []
        for index in range(config.other_clients_samples):
            if index:
                time.sleep(config.other_clients_sample_interval_s)
            snapshots.append(db.activity())
        apart = config.other_clients_sample_interval_s
        window = (f"{len(snapshots)} snapshots of pg_stat_activity {apart:g} s apart, "
                  f"{iso(end)} to {iso(time.time())}")
        return peak_of_snapshots(snapshots, environment, window)
    lookback = config.other_clients_lookback_s
    step = max(environment.prometheus.scrape_interval_s, lookback / MAX_POINTS)
    series = prometheus.query_range(query, end - lookback, end, step)
    values = [v for s in series for _, v in s.points]
    window = (f"the look-back of {lookback:g} s ({iso(end - lookback)} to {iso(end)}, step {step:g} s) "
              f"of `{query}`")
    evidence: dict[str, object] = {
        "source": "prometheus", "query": query, "start": iso(end - lookback), "end": iso(end),
        "step_s": step, "series": [{"labels": s.labels, "points": len(s.points),
                                    "max": max((v for _, v in s.points), default=None)} for s in series],
    }
    return peak_from_series(values, window, evidence)


@pytest.mark.critical
@pytest.mark.checklist(CHECKLIST)
def test_max_connections_hold_both_colors_at_peak(db, prometheus, environment, expect):
    """max_connections holds both colors' pools at their peak, other clients at theirs and headroom."""
    others = others_peak(environment, db, prometheus)
    expect(connection_capacity(db.settings(), db.activity(), environment, others))


@pytest.mark.checklist(CHECKLIST)
def test_connections_in_use_below_limit(db, environment, expect):
    """Connection pool usage before deploying: connections in use / usable below the limit."""
    expect(connections_in_use(db.settings(), db.activity(), environment.database))
