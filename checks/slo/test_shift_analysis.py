"""Evaluate Performance: while part of the traffic reaches the candidate, its error rate and
latency stay within the runbook's rollback criteria (``slo.error_ratio_max``,
``slo.latency_p95_max_ms``) over the analysis window.

Titles show the configured thresholds: Allure fills ``{environment...}`` from the check's
fixtures."""

from __future__ import annotations

import pytest

from shiftgate.analysis import compare, slo
from shiftgate.analysis.slo import SloWindow
from shiftgate.config.models import Environment

pytestmark = pytest.mark.checklist("Evaluate Performance")


@pytest.mark.critical
def test_error_rate(environment: Environment, shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: error rate ≤ {environment.slo.error_ratio_max:.0%} (else roll back)."""
    expect(slo.error_ratio(shift_window))


@pytest.mark.critical
def test_latency_p95(environment: Environment, shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: p95 latency ≤ {environment.slo.latency_p95_max_ms:g} ms (else roll back)."""
    expect(slo.latency_p95(shift_window))


def test_pool_utilization(shift_window: SloWindow, expect) -> None:
    """Monitor database connection pool usage: the candidate's pool keeps headroom."""
    expect(slo.pool_utilization(shift_window))


def test_latency_against_stable(shift_window: SloWindow, expect) -> None:
    """Evaluate Performance: the candidate is not clearly slower than the stable color."""
    expect(compare.latency_against_stable(shift_window))
