"""Pool-alert verdicts on rule files written to tmp_path; promtool runs for real (no services)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shiftgate.analysis import pool_alerts
from shiftgate.analysis.pool_alerts import Rules
from shiftgate.config.models import MonitoringConfig
from shiftgate.probes.promtool import run_rule_tests
from shiftgate.probes.rule_files import read_rule_files
from shiftgate.verdict import Verdict

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")

SERVICE = (
    "max by (color, version) (recommendation_db_pool_in_use / recommendation_db_pool_max) > {t}"
)
DATABASE = (
    "sum by (server) (pg_stat_activity_count) / on (server)"
    " (pg_settings_max_connections - pg_settings_superuser_reserved_connections) > 0.8"
)


def rule(name: str, expr: str, for_: str = "30s", severity: bool = True, runbook: bool = True) -> str:
    labels = "\n        labels: {severity: page}" if severity else ""
    notes = "\n        annotations: {runbook_url: runbook.md}" if runbook else ""
    return f"      - alert: {name}\n        expr: '{expr}'\n        for: {for_}{labels}{notes}\n"


def write(tmp_path: Path, *rules: str) -> list[Path]:
    path = tmp_path / "alerts.yml"
    path.write_text("groups:\n  - name: pools\n    rules:\n" + "".join(rules), encoding="utf-8")
    return [path]


def good_rules(**service: object) -> list[str]:
    threshold = service.pop("t", 0.8)
    return [rule("Pool", SERVICE.format(t=threshold), **service), rule("Db", DATABASE)]  # type: ignore[arg-type]


def on_disk(paths: list[Path]) -> Rules:
    return Rules.on_disk(read_rule_files(paths))


def would_fire(paths: list[Path], cfg: MonitoringConfig) -> Verdict:
    """As the check wires it: tests generated from the files, run by promtool, judged."""
    tests = pool_alerts.firing_tests(on_disk(paths), paths, cfg)
    runs = {t.pool.name: run_rule_tests(t.files) for t in tests if t.files}
    return pool_alerts.alerts_would_fire(tests, runs)


def loaded(paths: list[Path]) -> Rules:
    """As the rules API would show them: health ok."""
    disk = on_disk(paths)
    alerts = [a.__class__(**{**a.__dict__, "health": "ok"}) for a in disk.alerts]
    return Rules(alerts, disk.recording, "test")


def test_good_rules_pass_static_checks(tmp_path: Path) -> None:
    paths = write(tmp_path, *good_rules())
    cfg = MonitoringConfig()
    assert pool_alerts.alerts_loaded(loaded(paths), on_disk(paths), cfg).passed
    verdict = pool_alerts.alerts_strict(loaded(paths), cfg)
    assert verdict.passed, verdict.message()


@pytest.mark.parametrize(
    ("service", "problem"),
    [
        ({"t": 0.99}, "threshold 0.99 is laxer than the maximum 0.8"),
        ({"for_": "1h"}, "for 3600s is longer than the maximum 300s"),
        ({"severity": False}, "no 'severity' label"),
        ({"runbook": False}, "no 'runbook_url' annotation"),
    ],
)
def test_strict_catches(tmp_path: Path, service: dict[str, object], problem: str) -> None:
    verdict = pool_alerts.alerts_strict(loaded(write(tmp_path, *good_rules(**service))), MonitoringConfig())
    assert not verdict.passed
    assert problem in verdict.reason


def test_missing_pool_alert_and_not_loaded(tmp_path: Path) -> None:
    paths = write(tmp_path, rule("Db", DATABASE))
    verdict = pool_alerts.alerts_loaded(loaded(paths), on_disk(paths), MonitoringConfig())
    assert not verdict.passed and "service pool: no loaded alert" in verdict.reason
    nothing = Rules([], {}, "test")
    disk = on_disk(write(tmp_path, *good_rules()))
    verdict = pool_alerts.alerts_loaded(nothing, disk, MonitoringConfig())
    assert "Pool is in" in verdict.reason and "did not load it" in verdict.reason


def test_unhealthy_rule_fails(tmp_path: Path) -> None:
    rules = loaded(write(tmp_path, *good_rules()))
    broken = [a.__class__(**{**a.__dict__, "health": "err", "last_error": "boom"}) for a in rules.alerts]
    verdict = pool_alerts.alerts_loaded(Rules(broken, {}, "t"), rules, MonitoringConfig())
    assert not verdict.passed and "boom" in verdict.reason


@needs_promtool
def test_good_rules_would_fire(tmp_path: Path) -> None:
    paths = write(tmp_path, *good_rules())
    verdict = would_fire(paths, MonitoringConfig())
    assert verdict.passed, verdict.message()
    assert any(a.name.endswith("saturated.test.yml") for a in verdict.attachments)


@needs_promtool
@pytest.mark.parametrize(
    ("expr", "wrong"),
    [
        (SERVICE.format(t=0.8) + " and on() vector(0) > 1", "saturated (did not fire)"),
        (SERVICE.format(t=2), "saturated (did not fire)"),
        ("avg(recommendation_db_pool_in_use / recommendation_db_pool_max) > 0.8", "only-blue-saturated"),
        (SERVICE.format(t=0.8).replace("> 0.8", ">= 0"), "normal-load (fired)"),  # always true
    ],
)
def test_would_fire_catches(tmp_path: Path, expr: str, wrong: str) -> None:
    paths = write(tmp_path, rule("Pool", expr), rule("Db", DATABASE))
    verdict = would_fire(paths, MonitoringConfig())
    assert not verdict.passed
    assert wrong in verdict.reason


@needs_promtool
def test_for_zero_cannot_be_checked_short(tmp_path: Path) -> None:
    paths = write(tmp_path, rule("Pool", SERVICE.format(t=0.8), for_="0s"), rule("Db", DATABASE))
    verdict = would_fire(paths, MonitoringConfig())
    assert verdict.passed and "shorter-than-for" not in verdict.details[0]


def test_can_fire_needs_series_per_color(tmp_path: Path) -> None:
    rules = loaded(write(tmp_path, *good_rules()))

    def only_green(selector: str) -> list[dict[str, str]]:
        return [{"__name__": selector, "color": "green"}] if selector.startswith("recommendation") else [{}]

    selectors = pool_alerts.alert_selectors(rules, MonitoringConfig())
    verdict = pool_alerts.alerts_can_fire(rules, {s: only_green(s) for s in selectors}, MonitoringConfig())
    assert not verdict.passed and "no series for blue" in verdict.reason
    verdict = pool_alerts.alerts_can_fire(rules, {s: [] for s in selectors}, MonitoringConfig())
    assert "pg_stat_activity_count: no series" in verdict.reason
    verdict = pool_alerts.alerts_can_fire(rules, {}, MonitoringConfig())  # nothing looked up
    assert not verdict.passed and "pg_stat_activity_count: no series" in verdict.reason


def test_alert_selectors_are_what_the_pools_alerts_read(tmp_path: Path) -> None:
    selectors = pool_alerts.alert_selectors(loaded(write(tmp_path, *good_rules())), MonitoringConfig())
    assert selectors == [
        "recommendation_db_pool_in_use", "recommendation_db_pool_max", "pg_stat_activity_count",
        "pg_settings_max_connections", "pg_settings_superuser_reserved_connections",
    ]
    assert pool_alerts.alert_selectors(Rules([], {}, "t"), MonitoringConfig()) == []


def test_firing_tests_name_what_cannot_be_tested(tmp_path: Path) -> None:
    paths = write(tmp_path, rule("Db", DATABASE))
    tests = pool_alerts.firing_tests(on_disk(paths), paths, MonitoringConfig())
    service, database = tests
    assert service.problem.startswith("service pool: no alert in the rule files") and not service.files
    assert database.alert is not None and database.alert.name == "Db" and not database.problem
    assert sorted(database.files) == sorted(f"Db.{s.name}.test.yml" for s in database.scenarios)
    assert str(paths[0]) in database.files["Db.saturated.test.yml"]
    verdict = pool_alerts.alerts_would_fire(tests, {})  # promtool never ran: fail closed
    assert not verdict.passed and ": promtool did not run" in verdict.reason


def test_no_pools_configured_fails_as_configuration() -> None:
    verdict = pool_alerts.alerts_strict(Rules([], {}, "t"), MonitoringConfig(pools=[]))
    assert not verdict.passed and verdict.fault == "configuration"
