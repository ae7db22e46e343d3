"""Set Up Alerts for Connection Pool Utilization: for the service's own pool (per color) and
the database's connections against usable max_connections, an alert is loaded and healthy,
strict enough, would fire (promtool unit test), can fire here (its series exist), and is
routed by Alertmanager where one is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.analysis import pool_alerts
from shiftgate.analysis.alertmanager import routes_for_severity
from shiftgate.analysis.pool_alerts import Rules
from shiftgate.config.models import Environment
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.pytest_plugin import Expect

pytestmark = pytest.mark.checklist("Set Up Alerts for Connection Pool Utilization")


def test_pool_alert_loaded_and_healthy(
    prometheus: PrometheusProbe, rule_files: list[Path], environment: Environment, expect: Expect
) -> None:
    """Pool utilization alerts are loaded by Prometheus and healthy (no lastError)."""
    loaded = Rules.loaded(prometheus)
    expect(pool_alerts.alerts_loaded(loaded, Rules.on_disk(rule_files), environment.monitoring))


def test_pool_alert_threshold_for_and_labels(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Pool alerts are strict enough: threshold ≤ 0.8, `for` short, severity and runbook set."""
    expect(pool_alerts.alerts_strict(Rules.loaded(prometheus), environment.monitoring))


def test_pool_alert_would_fire(rule_files: list[Path], environment: Environment, expect: Expect) -> None:
    """Pool alerts would fire: promtool unit tests with saturated and normal pools."""
    expect(pool_alerts.alerts_would_fire(Rules.on_disk(rule_files), rule_files, environment.monitoring))


def test_pool_alert_can_fire_here(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Pool alerts can fire here: every series they read exists now, for both colors."""
    start, end = pool_alerts.series_window()

    def lookup(selector: str) -> list[dict[str, str]]:
        return prometheus.series(selector, start=start, end=end)

    expect(pool_alerts.alerts_can_fire(Rules.loaded(prometheus), lookup, environment.monitoring))


def test_pool_alert_routed(prometheus: PrometheusProbe, environment: Environment, expect: Expect) -> None:
    """Pool alerts reach a receiver: Alertmanager routes their severity."""
    if not environment.prometheus.alertmanager_url:
        pytest.skip("no prometheus.alertmanager_url configured: routes are not checked here")
    loaded = Rules.loaded(prometheus)
    cfg = environment.monitoring
    alerts = [pool_alerts.pool_alert(pool, loaded, cfg) for pool in cfg.pools]
    expect(routes_for_severity(prometheus.alertmanager_status(), [a for a in alerts if a is not None]))
