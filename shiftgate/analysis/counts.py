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
Requests the router answered with a 5xx of its own or could not deliver to the candidate's
color (``slo.router_failures``: HAProxy's per-server connection and response errors in the
sandbox) never reach the service's counters: they are added to both the requests and the
errors. The probe reads only series with a sample in the last two scrape intervals, so a
series that stopped being scraped (a dead replica) stops counting, and a look without any
is "no data" (``Counts.fresh_series``).

The recent counts (``recent_looks``) are the increases over the last looks only, so the
sequential rule can judge a fault that began mid-window without the clean requests before
it (docs/analysis-method.md). Pure: values in, totals out (docs/architecture.md rule 10).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from shiftgate.probes.prometheus_facts import Sample, Series

SeriesKey = frozenset[tuple[str, str]]


def key(labels: Mapping[str, str]) -> SeriesKey:
    """A series by its labels; the metric name is dropped (``last_over_time`` drops it, a raw
    selector keeps it: both must name the same series)."""
    return frozenset((k, v) for k, v in labels.items() if k != "__name__")


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
    router_failures: int = 0
    """Of ``requests`` and ``errors``: the router's own failures for the color."""
    fresh_series: int = 1
    """Requests series with a recent sample in this look; 0: no data."""
    recent: tuple[int, int, int, int] | None = None
    """(requests, errors, timed, slow) over the last ``recent_looks`` looks; None: not judged."""
    threshold_bucket: bool = True
    """False: the histogram has series but no bucket at the threshold; ``slow`` means
    nothing then (the latency criterion fails closed, it never rolls back on it)."""


@dataclass
class CandidateCounts:
    """Both counter families of the candidate, tracked look after look."""

    error_status: str
    latency_threshold_s: float
    recent_looks: int = 0
    """Looks the recent counts span (``analysis.recent_s`` / ``interval_s``); 0: none."""
    requests: CounterTrack = field(default_factory=CounterTrack)
    buckets: CounterTrack = field(default_factory=CounterTrack)
    router: CounterTrack = field(default_factory=CounterTrack)
    history: list[tuple[int, int, int, int]] = field(default_factory=list)

    def baseline(
        self, requests: Sequence[Sample], router: Sequence[Sample] | None = None
    ) -> None:
        """The counters' values at the shift (``run.shifted_at``): counts start there, not at
        the first look, so the requests between the shift and the gate's start count too."""
        self.requests.update({key(s.labels): s.value for s in requests})
        self.router.update({key(s.labels): s.value for s in router or []})

    def update(
        self, requests: Sequence[Sample], buckets: Sequence[Sample] | None,
        router: Sequence[Sample] | None = None,
    ) -> Counts:
        """One look: the requests counter's series, the histogram's bucket series (None:
        not yet, the latency warm-up; its baseline is the first look that has them) and the
        router's failure counters of the color (None: none configured)."""
        self.requests.update({key(s.labels): s.value for s in requests})
        self.router.update({key(s.labels): s.value for s in router or []})
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
        failed = self.router.total()
        totals = (
            self.requests.total() + failed,
            self.requests.total(status=self.error_status) + failed,
            timed,
            max(0, timed - fast),
        )
        recent = None
        if self.recent_looks > 0:
            enough = len(self.history) >= self.recent_looks
            before = self.history[-self.recent_looks] if enough else (0, 0, 0, 0)
            n, x, timed_n, slow_n = (max(0, now - then) for now, then in zip(totals, before, strict=True))
            recent = (n, min(x, n), timed_n, min(slow_n, timed_n))
        self.history.append(totals)
        return Counts(
            requests=totals[0],
            errors=totals[1],
            timed=totals[2],
            slow=totals[3],
            resets=self.requests.resets + self.buckets.resets + self.router.resets,
            router_failures=failed,
            fresh_series=len(requests),
            recent=recent,
            threshold_bucket=bool(at_threshold) or not self.buckets.increase,
        )


def at_shift(series: Sequence[Series], shifted_at: float) -> list[Sample]:
    """Each series' value at the shift: its first sample at or after ``shifted_at``, else
    its last before (a series with neither did not exist yet and counts from zero). Only
    requests after the shift count; a series first sampled after it loses at most the
    requests of one scrape interval, which errs on the side of counting fewer."""
    out: list[Sample] = []
    for s in series:
        after = [(t, v) for t, v in s.points if t >= shifted_at]
        before = [(t, v) for t, v in s.points if t < shifted_at]
        point = after[0] if after else (before[-1] if before else None)
        if point is not None:
            out.append(Sample(s.labels, point[1], point[0]))
    return out
