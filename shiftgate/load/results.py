"""A load test's statistics, read from Locust's CSV files.

Both ways of running (in-process, or a headless master with worker processes) write the same
CSV files, so there is one way to read them: totals and per-endpoint percentiles from
``<prefix>_stats.csv``, the per-second history from ``<prefix>_stats_history.csv``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from shiftgate.load.profile import LoadProfile

AGGREGATED = "Aggregated"


@dataclass(frozen=True)
class EndpointStats:
    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    avg_ms: float
    rps: float

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else math.nan


@dataclass(frozen=True)
class HistoryPoint:
    timestamp: float
    users: int
    rps: float
    failures_per_s: float
    p95_ms: float
    total_requests: int
    total_failures: int


@dataclass
class LoadResult:
    profile: LoadProfile
    url: str
    workers: int
    started: float
    ended: float
    total: EndpointStats
    endpoints: list[EndpointStats]
    history: list[HistoryPoint]
    csv_files: list[Path] = field(default_factory=list)
    color: str | None = None
    """The color that was loaded, when the target was a color of the service."""

    @property
    def error_ratio(self) -> float:
        return self.total.error_ratio

    def steady_rate(self) -> float:
        """Requests per second while the steady user count was held (ramp and spike left out):
        the difference of the cumulative request counts over that span, not an average of
        Locust's smoothed per-second rates."""
        steady = [p for p in self.history if p.users == self.profile.steady_users]
        if len(steady) < 2:
            return math.nan
        first, last = steady[0], steady[-1]
        span = last.timestamp - first.timestamp
        return (last.total_requests - first.total_requests) / span if span > 0 else math.nan


def _number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return math.nan  # Locust writes "N/A" where it has no sample


def read_stats(prefix: Path) -> tuple[EndpointStats, list[EndpointStats]]:
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open(encoding="utf-8")))
    parsed = [
        EndpointStats(
            name=row["Name"],
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            p50_ms=_number(row["50%"]),
            p95_ms=_number(row["95%"]),
            p99_ms=_number(row["99%"]),
            avg_ms=_number(row["Average Response Time"]),
            rps=_number(row["Requests/s"]),
        )
        for row in rows
    ]
    total = next((s for s in parsed if s.name == AGGREGATED), None)
    if total is None:
        raise ValueError(f"{prefix}_stats.csv has no {AGGREGATED} row")
    return total, [s for s in parsed if s.name != AGGREGATED]


def read_history(prefix: Path) -> list[HistoryPoint]:
    path = prefix.parent / f"{prefix.name}_stats_history.csv"
    points = []
    for row in csv.DictReader(path.open(encoding="utf-8")):
        if row["Name"] != AGGREGATED:
            continue
        points.append(
            HistoryPoint(
                timestamp=float(row["Timestamp"]),
                users=int(row["User Count"]),
                rps=_number(row["Requests/s"]),
                failures_per_s=_number(row["Failures/s"]),
                p95_ms=_number(row["95%"]),
                total_requests=int(row["Total Request Count"]),
                total_failures=int(row["Total Failure Count"]),
            )
        )
    return points


def csv_files(prefix: Path) -> list[Path]:
    return sorted(prefix.parent.glob(f"{prefix.name}_*.csv"))


def failure_lines(result: LoadResult) -> list[str]:
    """The most frequent failures, as Locust recorded them: 'N× GET /path: error'."""
    path = next((p for p in result.csv_files if p.name.endswith("_failures.csv")), None)
    if path is None:
        return []
    rows = sorted(
        csv.DictReader(path.open(encoding="utf-8")), key=lambda r: -int(r["Occurrences"])
    )
    return [f"{r['Occurrences']}× {r['Method']} {r['Name']}: {r['Error']}" for r in rows]
