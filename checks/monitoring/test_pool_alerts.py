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
from shiftgate.probes.prometheus import PrometheusProbe, recent_series
from shiftgate.probes.promtool import run_rule_tests
from shiftgate.probes.rule_files import read_rule_files
from shiftgate.pytest_plugin import Expect

pytestmark = pytest.mark.checklist("Set Up Alerts for Connection Pool Utilization")


def test_pool_alert_loaded_and_healthy(
    prometheus: PrometheusProbe, rule_files: list[Path], environment: Environment, expect: Expect
) -> None:
    """Pool utilization alerts are loaded by Prometheus and healthy (no lastError)."""
    loaded = Rules.loaded(prometheus.rules(), prometheus.source)
    disk = Rules.on_disk(read_rule_files(rule_files))
    expect(pool_alerts.alerts_loaded(loaded, disk, environment.monitoring))


def test_pool_alert_threshold_for_and_labels(
    environment: Environment, prometheus: PrometheusProbe, expect: Expect
) -> None:
    """Pool alerts are strict enough: threshold ≤ {environment.monitoring.pool_alert_threshold_max:g}.

    And `for` short, severity and runbook set (``monitoring.*``)."""
    loaded = Rules.loaded(prometheus.rules(), prometheus.source)
    expect(pool_alerts.alerts_strict(loaded, environment.monitoring))


def test_pool_alert_would_fire(rule_files: list[Path], environment: Environment, expect: Expect) -> None:
    """Pool alerts would fire: promtool unit tests with saturated and normal pools."""
    disk = Rules.on_disk(read_rule_files(rule_files))
    tests = pool_alerts.firing_tests(disk, rule_files, environment.monitoring)
    runs = {test.pool.name: run_rule_tests(test.files) for test in tests if test.files}
    expect(pool_alerts.alerts_would_fire(tests, runs))


def test_pool_alert_can_fire_here(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Pool alerts can fire here: every series they read exists now, for both colors."""
    loaded = Rules.loaded(prometheus.rules(), prometheus.source)
    series = recent_series(prometheus, pool_alerts.alert_selectors(loaded, environment.monitoring))
    expect(pool_alerts.alerts_can_fire(loaded, series, environment.monitoring))


def test_pool_alert_routed(prometheus: PrometheusProbe, environment: Environment, expect: Expect) -> None:
    """Pool alerts reach a receiver: Alertmanager routes their severity."""
    if not environment.prometheus.alertmanager_url:
        pytest.skip("no prometheus.alertmanager_url configured: routes are not checked here")
    loaded = Rules.loaded(prometheus.rules(), prometheus.source)
    cfg = environment.monitoring
    alerts = [pool_alerts.pool_alert(pool, loaded, cfg) for pool in cfg.pools]
    expect(routes_for_severity(prometheus.alertmanager_status(), [a for a in alerts if a is not None]))
