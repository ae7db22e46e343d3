"""Deployment-monitoring verdicts and Alertmanager routing, over many inputs."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from shiftgate.analysis import deploy_monitoring as dm
from shiftgate.analysis.alert_rules import AlertRule
from shiftgate.analysis.alertmanager import route_receiver, routes_for_severity
from shiftgate.analysis.pool_alerts import Rules
from shiftgate.config.models import MonitoringConfig, SloConfig
from shiftgate.probes.prometheus_facts import PromtoolRun, RuleFile, Sample

CFG = MonitoringConfig()
ERR, LAT = CFG.error_ratio_query, CFG.latency_p95_query


def s(color: str, value: float) -> Sample:
    return Sample({"color": color}, value, 0.0)


def test_live_colors_are_those_with_traffic() -> None:
    assert dm.live_colors([s("green", 3.0), s("blue", 0.0)], "color") == ["green"]
    assert dm.live_colors([s("green", 1.0), s("blue", 1.0)], "color") == ["blue", "green"]


@pytest.mark.parametrize(
    ("series", "passed", "reason"),
    [
        ({ERR: [s("green", 0.0)], LAT: [s("green", 0.01)]}, True, "data for green"),
        ({ERR: [], LAT: [s("green", 0.01)]}, False, "no sample for live color green"),
        ({ERR: [s("green", math.nan)], LAT: [s("green", 0.01)]}, False, "NaN"),
        ({ERR: [s("blue", 0.0)], LAT: [s("green", 0.01)]}, False, "no sample for live color green"),
    ],
)
def test_slo_series(series: dict[str, list[Sample]], passed: bool, reason: str) -> None:
    verdict = dm.slo_series([s("green", 2.0)], series, CFG, "p")
    assert verdict.passed is passed and reason in verdict.reason


def test_slo_series_without_traffic_fails_closed() -> None:
    verdict = dm.slo_series([s("green", 0.0)], {ERR: [s("green", 0.0)]}, CFG, "p")
    assert not verdict.passed and "no traffic" in verdict.reason


def target(color: str, health: str) -> dict[str, object]:
    return {"labels": {"color": color}, "health": health, "scrapeUrl": f"http://{color}", "lastError": "x"}


@pytest.mark.parametrize(
    ("targets", "passed"),
    [
        ([target("blue", "up"), target("green", "up")], True),
        ([target("green", "up")], False),
        ([target("blue", "down"), target("green", "up")], False),
        ([target("blue", "unknown"), target("green", "up")], False),
    ],
)
def test_targets_up(targets: list[dict[str, object]], passed: bool) -> None:
    assert dm.targets_up(targets, "color", "p").passed is passed


def alert(name: str, expr: str, for_s: float = 30, **labels: str) -> AlertRule:
    return AlertRule(name, expr, for_s, labels or {"severity": "page"}, {"runbook_url": "r"}, "ok")


@pytest.mark.parametrize(
    ("alerts", "passed", "reason"),
    [
        ([alert("E", f"{ERR} > 0.05"), alert("L", f"{LAT} > 0.3")], True, "in place"),
        ([alert("E", f"{ERR} > 0.1"), alert("L", f"{LAT} > 0.3")], False, "threshold 0.1 is laxer"),
        ([alert("E", f"{ERR} > 0.05"), alert("L", f"{LAT} > 0.5")], False, "threshold 0.5 is laxer"),
        ([alert("E", f"{ERR} > 0.05")], False, "latency p95: no loaded alert"),
        ([alert("E", f"{ERR} > 0.05", 3600), alert("L", f"{LAT} > 0.3")], False, "for 3600s"),
    ],
)
def test_slo_alerts(alerts: list[AlertRule], passed: bool, reason: str) -> None:
    verdict = dm.slo_alerts(Rules(alerts, {}, "p"), CFG, SloConfig())
    assert verdict.passed is passed and reason in verdict.reason


def test_slo_alert_on_raw_metrics_counts() -> None:
    recording = {ERR: "sum(rate(recommendation_requests_total[30s]))"}
    raw = alert("E", "sum(rate(recommendation_requests_total[30s])) > 0.05")
    verdict = dm.slo_alerts(Rules([raw, alert("L", f"{LAT} > 0.3")], recording, "p"), CFG, SloConfig())
    assert verdict.passed, verdict.message()


def test_rules_valid(tmp_path: Path) -> None:
    files = [RuleFile(tmp_path / "a.yml", "groups: []\n")]
    good = dm.rules_valid(PromtoolRun(["promtool"], 0, "SUCCESS"), files)
    assert good.passed
    assert any(a.name == "a.yml" and a.body == "groups: []\n" for a in good.attachments)
    run = PromtoolRun(["promtool"], 1, "a.yml: bad\n  FAILED: parse error")
    bad = dm.rules_valid(run, files)
    assert not bad.passed and "parse error" in bad.reason
    assert dm.rules_valid(PromtoolRun([], 1, ""), []).fault == "configuration"


AM = """
route:
  receiver: blackhole
  routes:
    - matchers: ['severity="page"']
      receiver: pager
    - match_re: {severity: "warn.*"}
      receiver: chat
receivers:
  - name: blackhole
  - name: pager
    pagerduty_configs: [{routing_key: x}]
  - name: chat
    slack_configs: [{channel: '#x'}]
"""


@pytest.mark.parametrize(
    ("severity", "receiver"), [("page", "pager"), ("warning", "chat"), ("info", "blackhole")]
)
def test_route_receiver(severity: str, receiver: str) -> None:
    import yaml

    assert route_receiver(yaml.safe_load(AM)["route"], {"severity": severity}) == receiver


def test_routes_for_severity() -> None:
    status = {"config": {"original": AM}}
    assert routes_for_severity(status, [alert("P", "x > 1")]).passed
    verdict = routes_for_severity(status, [alert("P", "x > 1", severity="info")])
    assert not verdict.passed and "notifies nobody" in verdict.reason
