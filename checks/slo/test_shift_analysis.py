"""Evaluate Performance: while part of the traffic reaches the candidate, its error rate and
latency stay within the runbook's rollback criteria over the analysis window."""

from __future__ import annotations

import pytest

from shiftgate.analysis import compare, slo
from shiftgate.analysis.slo import SloWindow

pytestmark = pytest.mark.checklist("Evaluate Performance")


@pytest.mark.critical
def test_error_rate(shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: error rate ≤ 5 % (else roll back)."""
    expect(slo.error_ratio_verdict(shift_window))


@pytest.mark.critical
def test_latency_p95(shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: p95 latency ≤ 300 ms (else roll back)."""
    expect(slo.latency_verdict(shift_window))


def test_pool_utilization(shift_window: SloWindow, expect) -> None:
    """Monitor database connection pool usage: the candidate's pool keeps headroom."""
    expect(slo.pool_verdict(shift_window))


def test_latency_against_stable(shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: the candidate is not clearly slower than the stable color."""
    expect(compare.comparison_verdict(shift_window))
