"""The histogram-bucket check: a boundary at the threshold passes; none fails naming the
nearest; no series fails closed."""

from __future__ import annotations

from shiftgate.analysis.latency_buckets import threshold_bucket
from shiftgate.probes.prometheus_facts import Sample


def buckets(*les: str) -> list[Sample]:
    return [Sample({"le": le, "color": "blue"}, 1.0, 0.0) for le in les]


def test_a_boundary_at_the_threshold_passes() -> None:
    verdict = threshold_bucket(buckets("0.25", "0.3", "0.4", "+Inf"), 300, "h", "p")
    assert verdict.passed, verdict.message()


def test_no_boundary_fails_naming_the_nearest() -> None:
    verdict = threshold_bucket(buckets("0.25", "0.5", "+Inf"), 300, "h", "p")
    assert not verdict.passed and verdict.fault == "configuration"
    assert "no bucket at 0.3 s; the nearest are 0.25 and 0.5 s" in verdict.reason


def test_a_threshold_above_every_boundary_names_inf() -> None:
    verdict = threshold_bucket(buckets("0.1", "0.2", "+Inf"), 300, "h", "p")
    assert not verdict.passed and "the nearest are 0.2 and +Inf s" in verdict.reason


def test_no_series_fails_closed() -> None:
    verdict = threshold_bucket([], 300, "h", "p")
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert "no histogram buckets" in verdict.reason
