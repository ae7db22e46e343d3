"""Enhance Deployment Monitoring Protocols: the latency histogram has a bucket boundary at
the SLO's latency threshold (``slo.latency_p95_max_ms``), so the analysis counts the
requests slower than it exactly."""

from __future__ import annotations

import pytest

from shiftgate.analysis import latency_buckets
from shiftgate.analysis.selectors import color_selector
from shiftgate.config.models import Environment
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.pytest_plugin import Expect

pytestmark = pytest.mark.checklist("Enhance Deployment Monitoring Protocols")


def test_latency_histogram_has_a_bucket_at_the_threshold(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Deployment monitoring: a latency bucket at {environment.slo.latency_p95_max_ms:g} ms."""
    selector = environment.slo.latency_histogram
    # Any color's series: the buckets are the service's, the same for every version.
    key = "slo.latency_histogram"
    color_selector(selector, environment.monitoring.color_label, "blue", key)  # a selector, or exit 2
    samples = prometheus.query(selector)
    expect(latency_buckets.threshold_bucket(
        samples, environment.slo.latency_p95_max_ms, selector, prometheus.source
    ))
