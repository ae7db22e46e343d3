"""Enhance Deployment Monitoring Protocols: per-color error ratio and latency p95 have data for
the live color, both colors are scraped, SLO alerts are no laxer than the rollback criteria
(``slo.error_ratio_max``, ``slo.latency_p95_max_ms``), and the rule files pass
``promtool check rules``."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.analysis import deploy_monitoring
from shiftgate.analysis.pool_alerts import Rules
from shiftgate.config.models import Environment
from shiftgate.probes import promtool
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.probes.prometheus_facts import PromtoolRun
from shiftgate.probes.rule_files import read_rule_files
from shiftgate.pytest_plugin import Expect

pytestmark = pytest.mark.checklist("Enhance Deployment Monitoring Protocols")


def test_slo_series_have_data_for_live_color(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Deployment monitoring: error ratio and p95 per color return data for the live color."""
    cfg = environment.monitoring
    requests = prometheus.query(cfg.requests_rate_query)
    series = {q: prometheus.query(q) for q in (cfg.error_ratio_query, cfg.latency_p95_query)}
    expect(deploy_monitoring.slo_series(requests, series, cfg, prometheus.source))


def test_both_colors_scraped(prometheus: PrometheusProbe, environment: Environment, expect: Expect) -> None:
    """Deployment monitoring: both colors' scrape targets are up."""
    targets = prometheus.targets()
    expect(deploy_monitoring.targets_up(targets, environment.monitoring.color_label, prometheus.source))


def test_slo_alerts_no_laxer_than_rollback_criteria(
    prometheus: PrometheusProbe, environment: Environment, expect: Expect
) -> None:
    """Error-ratio and latency alerts are no laxer than the rollback criteria.

    ``slo.error_ratio_max`` and ``slo.latency_p95_max_ms``; the threshold shows their values."""
    loaded = Rules.loaded(prometheus.rules(), prometheus.source)
    expect(deploy_monitoring.slo_alerts(loaded, environment.monitoring, environment.slo))


def test_rule_files_pass_promtool_check(rule_files: list[Path], expect: Expect) -> None:
    """The team's rule files pass `promtool check rules`."""
    run = promtool.check_rules(rule_files) if rule_files else PromtoolRun([], 1, "")
    expect(deploy_monitoring.rules_valid(run, read_rule_files(rule_files)))
