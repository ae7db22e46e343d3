"""Cumulative counts of the candidate's requests since the analysis began, from raw counters.

The probe reads the counters' current values per series (one instant query per family, so
the errors and the requests of one look come from the same scrapes). ``CounterTrack`` keeps
each series' last value and adds up its increases, look after look:

- the first look is the baseline: what the series counted before the shift is not the
  candidate's evidence;
- a series that appears later (a new status code, a new replica) counts from zero: its
  client library creates it at its first request;
- a value lower than the last one is a counter reset (the replica restarted): the increase
  is the new value, as Prometheus's ``increase()`` counts it;
- a series missing from one look keeps its last value: a reset while it was missing shows
  as a lower value when it returns.

Requests and errors come from ``<requests counter>{status=...}``; requests slower than the
latency threshold from the histogram: ``+Inf`` bucket minus the bucket at the threshold.
Pure: values in, totals out (docs/architecture.md rule 10).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shiftgate.probes.prometheus_facts import Sample

SeriesKey = frozenset[tuple[str, str]]


def key(labels: Mapping[str, str]) -> SeriesKey:
    return frozenset(labels.items())


@dataclass
class CounterTrack:
    """Increases of every series since its first look (counter resets handled)."""

    last: dict[SeriesKey, float] = field(default_factory=dict)
    increase: dict[SeriesKey, float] = field(default_factory=dict)
    looks: int = 0
    resets: int = 0

    def update(self, values: Mapping[SeriesKey, float]) -> None:
        baseline = self.looks == 0
        for series, value in values.items():
            if not math.isfinite(value) or value < 0:
                continue  # not a counter value; the next look will tell
            previous = self.last.get(series)
            if previous is None:
                grown = 0.0 if baseline else value
            elif value >= previous:
                grown = value - previous
            else:
                grown = value
                self.resets += 1
            self.increase[series] = self.increase.get(series, 0.0) + grown
            self.last[series] = value
        self.looks += 1

    def total(self, **matchers: str) -> int:
        """Sum of increases of the series whose labels fully match each regex."""
        patterns = {name: re.compile(rx) for name, rx in matchers.items()}
        return round(sum(
            grown for series, grown in self.increase.items()
            if all(p.fullmatch(dict(series).get(name, "")) for name, p in patterns.items())
        ))


def bucket_at(le: str, threshold_s: float) -> bool:
    """Is the histogram bucket label ``le`` the boundary at ``threshold_s`` (0.3 == "0.3")?"""
    try:
        return math.isclose(float(le), threshold_s, rel_tol=1e-9, abs_tol=1e-12)
    except ValueError:
        return False


@dataclass(frozen=True)
class Counts:
    """The candidate's cumulative counts at one look."""

    requests: int
    errors: int
    timed: int
    """Requests the latency histogram counted (its +Inf bucket)."""
    slow: int
    """Of those, slower than the threshold (+Inf bucket minus the threshold's bucket)."""
    resets: int = 0
    threshold_bucket: bool = True
    """False: the histogram has series but no bucket at the threshold; ``slow`` means
    nothing then (the latency criterion fails closed, it never rolls back on it)."""


@dataclass
class CandidateCounts:
    """Both counter families of the candidate, tracked look after look."""

    error_status: str
    latency_threshold_s: float
    requests: CounterTrack = field(default_factory=CounterTrack)
    buckets: CounterTrack = field(default_factory=CounterTrack)

    def update(self, requests: Sequence[Sample], buckets: Sequence[Sample] | None) -> Counts:
        """One look: the requests counter's series, and the histogram's bucket series (None:
        not yet, the latency warm-up; its baseline is the first look that has them)."""
        self.requests.update({key(s.labels): s.value for s in requests})
        if buckets is not None:
            # Only the two buckets that matter: +Inf and the one at the threshold.
            self.buckets.update({
                key(s.labels): s.value for s in buckets
                if (le := s.labels.get("le", "")) == "+Inf" or bucket_at(le, self.latency_threshold_s)
            })
        timed = self.buckets.total(le=r"\+Inf")
        at_threshold = [
            g for s, g in self.buckets.increase.items()
            if bucket_at(dict(s).get("le", ""), self.latency_threshold_s)
        ]
        fast = round(sum(at_threshold))
        return Counts(
            requests=self.requests.total(),
            errors=self.requests.total(status=self.error_status),
            timed=timed,
            slow=max(0, timed - fast),
            resets=self.requests.resets + self.buckets.resets,
            threshold_bucket=bool(at_threshold) or not self.buckets.increase,
        )
