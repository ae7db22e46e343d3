"""Cumulative counts from raw counters: the first look is the baseline, later series count
from zero, a lower value is a reset (a replica restarted), and the histogram's slow share is
+Inf minus the bucket at the threshold."""

from __future__ import annotations

from shiftgate.analysis.counts import CandidateCounts, CounterTrack, bucket_at, key
from shiftgate.probes.prometheus_facts import Sample


def s(value: float, **labels: str) -> Sample:
    return Sample(labels, value, 0.0)


def test_first_look_is_the_baseline_and_later_series_count_from_zero() -> None:
    counts = CandidateCounts("5..", 0.3)
    first = counts.update([s(1000, status="200", replica="b1")], [])
    assert (first.requests, first.errors) == (0, 0)  # before the shift: not the candidate's
    later = counts.update([s(1050, status="200", replica="b1"), s(4, status="500", replica="b1")], [])
    assert (later.requests, later.errors) == (54, 4)


def test_a_counter_reset_counts_the_new_value_not_a_negative_increase() -> None:
    track = CounterTrack()
    series = key({"replica": "b1"})
    for value in (100, 130, 5, 20):  # restarted between 130 and 5
        track.update({series: value})
    assert track.total() == 30 + 5 + 15 and track.resets == 1


def test_a_series_missing_from_one_look_keeps_its_value() -> None:
    track = CounterTrack()
    a, b = key({"r": "1"}), key({"r": "2"})
    track.update({a: 10, b: 10})
    track.update({a: 20})
    track.update({a: 25, b: 18})
    assert track.total() == 15 + 8


def test_nan_and_negative_values_are_skipped() -> None:
    track = CounterTrack()
    series = key({"r": "1"})
    for value in (10, float("nan"), -1, 12):
        track.update({series: value})
    assert track.total() == 2


def test_slow_share_from_the_histogram_and_the_bucket_label_match() -> None:
    counts = CandidateCounts("5..", 0.3)
    buckets = [s(90, le="0.3"), s(100, le="+Inf"), s(95, le="0.5")]
    counts.update([s(100, status="200")], buckets)
    now = counts.update(
        [s(200, status="200")], [s(180, le="0.3"), s(200, le="+Inf"), s(195, le="0.5")]
    )
    assert (now.timed, now.slow, now.threshold_bucket) == (100, 10, True)
    assert bucket_at("0.3", 0.3) and bucket_at("3e-1", 0.3) and not bucket_at("+Inf", 0.3)


def test_no_bucket_at_the_threshold_is_flagged() -> None:
    counts = CandidateCounts("5..", 0.3)
    counts.update([], [s(10, le="0.25"), s(10, le="+Inf")])
    assert not counts.update([], [s(12, le="0.25"), s(20, le="+Inf")]).threshold_bucket


def test_latency_counts_start_at_their_own_first_look() -> None:
    counts = CandidateCounts("5..", 0.3)
    counts.update([s(0, status="200")], None)  # the latency warm-up: buckets not read
    counts.update([s(50, status="200")], [s(10, le="0.3"), s(50, le="+Inf")])  # baseline
    now = counts.update([s(80, status="200")], [s(39, le="0.3"), s(80, le="+Inf")])
    assert (now.requests, now.timed, now.slow) == (80, 30, 1)


def test_router_failures_count_as_requests_and_errors() -> None:
    counts = CandidateCounts("5..", 0.3)
    counts.update([s(100, status="200")], [], [s(7, server="blue-1")])
    later = counts.update([s(150, status="200")], [], [s(12, server="blue-1")])
    assert (later.requests, later.errors, later.router_failures) == (55, 5, 5)


def test_recent_counts_cover_the_last_looks_only() -> None:
    counts = CandidateCounts("5..", 0.3, recent_looks=2)
    totals = [(0, 0), (10, 0), (20, 0), (30, 3), (40, 6)]
    seen = [counts.update([s(r - e, status="200"), s(e, status="500")], []) for r, e in totals]
    assert seen[1].recent == (10, 0, 0, 0)  # fewer looks than the span: since the baseline
    assert seen[4].recent == (20, 6, 0, 0)  # looks 2 → 4
    assert (seen[4].requests, seen[4].errors) == (40, 6)


def test_fresh_series_are_counted_and_none_is_zero() -> None:
    counts = CandidateCounts("5..", 0.3)
    assert counts.update([s(1, status="200"), s(0, status="500")], []).fresh_series == 2
    assert counts.update([], []).fresh_series == 0


def test_the_baseline_at_the_shift_counts_requests_between_the_shift_and_the_first_look() -> None:
    """Only requests after ``run.shifted_at``: the first sample at or after it is the baseline."""
    from shiftgate.analysis.counts import at_shift
    from shiftgate.probes.prometheus_facts import Series

    series = [
        Series({"__name__": "r", "status": "200"}, [(95.0, 900), (99.5, 1000), (100.5, 1010), (101.0, 1020)]),
        Series({"__name__": "r", "status": "500"}, [(90.0, 3)]),  # before the shift only
    ]
    base = at_shift(series, 100.0)
    assert [(b.value, b.timestamp) for b in base] == [(1010, 100.5), (3, 90.0)]
    counts = CandidateCounts("5..", 0.3)
    counts.baseline(base)
    first = counts.update([s(1100, status="200"), s(3, status="500")], [])  # no __name__: same series
    assert (first.requests, first.errors) == (90, 0)
