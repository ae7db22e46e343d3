"""Finalize Deployment: with all traffic on the candidate, its error rate and latency stay
within the runbook's rollback criteria over the analysis window."""

from __future__ import annotations

import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.slo import SloWindow

pytestmark = pytest.mark.checklist("Finalize Deployment")


@pytest.mark.critical
def test_error_rate(promoted_window: SloWindow, expect) -> None:
    """Finalize Deployment: error rate ≤ 5 % with all traffic (else roll back)."""
    expect(slo.error_ratio_verdict(promoted_window))


@pytest.mark.critical
def test_latency_p95(promoted_window: SloWindow, expect) -> None:
    """Finalize Deployment: p95 latency ≤ 300 ms with all traffic (else roll back)."""
    expect(slo.latency_verdict(promoted_window))


def test_pool_utilization(promoted_window: SloWindow, expect) -> None:
    """Monitor database connection pool usage: the pool holds all the traffic with headroom."""
    expect(slo.pool_verdict(promoted_window))
