"""Reads the database's other clients over the capacity check's look-back.

A job connected 20 s of every 30 s must be counted whenever the check runs, not by chance:
from Prometheus (a range query over ``database.other_clients_lookback_s``) where one is
configured, else several pg_stat_activity snapshots a configured interval apart. The check and
the sandbox's remediation read it the same way, so the fix is sized for what the check asks.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from shiftgate.config.models import Environment
from shiftgate.probes.postgres import PostgresProbe
from shiftgate.probes.postgres_facts import OtherClientsReading
from shiftgate.probes.prometheus import PrometheusProbe

MAX_POINTS = 1000  # Prometheus refuses more than 11,000 points per series


def read_other_clients(
    environment: Environment,
    db: PostgresProbe,
    prometheus: PrometheusProbe,
    *,
    now: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> OtherClientsReading:
    config = environment.database
    end = now()
    query = config.other_clients_query
    if query is None:
        snapshots = []
        for index in range(config.other_clients_samples):
            if index:
                sleep(config.other_clients_sample_interval_s)
            snapshots.append(db.activity())
        apart = config.other_clients_sample_interval_s
        window = (f"{len(snapshots)} snapshots of pg_stat_activity {apart:g} s apart, "
                  f"{_iso(end)} to {_iso(now())}")
        return OtherClientsReading(window=window, snapshots=snapshots)
    lookback = config.other_clients_lookback_s
    step = max(environment.prometheus.scrape_interval_s, lookback / MAX_POINTS)
    series = prometheus.query_range(query, end - lookback, end, step)
    window = (f"the look-back of {lookback:g} s ({_iso(end - lookback)} to {_iso(end)}, step {step:g} s) "
              f"of `{query}`")
    evidence: dict[str, object] = {
        "source": "prometheus", "query": query, "start": _iso(end - lookback), "end": _iso(end),
        "step_s": step, "series": [{"labels": s.labels, "points": len(s.points),
                                    "max": max((v for _, v in s.points), default=None)} for s in series],
    }
    return OtherClientsReading(
        window=window, values=[v for s in series for _, v in s.points], evidence=evidence
    )


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
