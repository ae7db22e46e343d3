"""Finalize Deployment: with all traffic on the candidate, its error rate and latency stay
within the runbook's rollback criteria (``slo.error_ratio_max``, ``slo.latency_p95_max_ms``)
over the analysis window.

Titles show the configured thresholds: Allure fills ``{environment...}`` from the check's
fixtures."""

from __future__ import annotations

import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.slo import SloWindow
from shiftgate.config.models import Environment

pytestmark = pytest.mark.checklist("Finalize Deployment")


@pytest.mark.critical
def test_error_rate(environment: Environment, promoted_window: SloWindow, expect) -> None:
    """Finalize Deployment: error rate ≤ {environment.slo.error_ratio_max:.0%} with all traffic.

    Else roll back: the runbook's rollback criterion."""
    expect(slo.error_ratio(promoted_window))


@pytest.mark.critical
def test_latency_p95(environment: Environment, promoted_window: SloWindow, expect) -> None:
    """Finalize Deployment: p95 latency ≤ {environment.slo.latency_p95_max_ms:g} ms with all traffic.

    Else roll back: the runbook's rollback criterion."""
    expect(slo.latency_p95(promoted_window))


def test_pool_utilization(promoted_window: SloWindow, expect) -> None:
    """Monitor database connection pool usage: the pool holds all the traffic with headroom."""
    expect(slo.pool_utilization(promoted_window))
