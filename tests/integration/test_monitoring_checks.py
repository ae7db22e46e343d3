"""The monitoring checks against real Prometheus servers: each bad rule file, loaded on its own
by a Prometheus these fixtures start (scraping the sandbox's replicas, exporter and HAProxy),
makes its check fail with its reason; the sandbox's own rules pass against its own Prometheus.

The checks run as ``pytest checks/monitoring/... --set prometheus.url=...`` subprocesses,
exactly as an engineer or a gate runs them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from tenacity import retry, stop_after_delay, wait_fixed

from shiftgate.config.paths import project_root
from shiftgate.sandbox import processes
from shiftgate.sandbox import prometheus as sandbox_prometheus
from shiftgate.sandbox import state as st
from tests.checkrun import pytest_checks

pytestmark = pytest.mark.integration

ROOT = project_root()
RULES = ROOT / "sandbox" / "prometheus" / "rules"
POOL_TESTS = "checks/monitoring/test_pool_alerts.py"
GOOD_POOL = "max by (color, version) (recommendation_db_pool_in_use / recommendation_db_pool_max) > 0.8"


class OwnPrometheus:
    def __init__(self, url: str, rules_dir: Path) -> None:
        self.url = url
        self.rules_dir = rules_dir

    def load(self, alerts_yaml: str | None) -> None:
        """Only the team's recording rules plus ``alerts_yaml`` (None: no alerts file)."""
        for old in self.rules_dir.glob("*.yml"):
            old.unlink()
        shutil.copy(RULES / "recommendation-recording.yml", self.rules_dir)
        if alerts_yaml is not None:
            (self.rules_dir / "alerts.yml").write_text(alerts_yaml, encoding="utf-8")
        requests.post(f"{self.url}/-/reload", timeout=5).raise_for_status()
        expected = set(_names(alerts_yaml)) if alerts_yaml else set()
        _wait_rules(self.url, expected)


@pytest.fixture(scope="module")
def own_prometheus(
    sandbox: dict[str, Any], sandbox_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OwnPrometheus]:
    home = tmp_path_factory.mktemp("prometheus")
    rules_dir = home / "rules"
    rules_dir.mkdir()
    state = st.load(sandbox_dir)
    assert state is not None
    config = sandbox_prometheus.render(state)  # the sandbox's scrape targets, our own rules
    config["rule_files"] = [str(rules_dir / "*.yml")]
    config["scrape_configs"] = [c for c in config["scrape_configs"] if c["job_name"] != "prometheus"]
    (home / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = st.free_port()
    record = _start(home, port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_series(url)
        yield OwnPrometheus(url, rules_dir)
    finally:
        processes.stop(record)


def alerts(pool_expr: str = GOOD_POOL, pool_for: str = "30s", pool_labels: str = "{severity: page}") -> str:
    """The sandbox's alert file with the service-pool alert changed."""
    text = (RULES / "recommendation-alerts.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    pool = data["groups"][0]["rules"][0]
    assert pool["alert"] == "RecommendationDbPoolSaturated"
    pool.update({"expr": pool_expr, "for": pool_for, "labels": yaml.safe_load(pool_labels)})
    return yaml.safe_dump(data, sort_keys=False)


def without_pool_alert() -> str:
    data = yaml.safe_load((RULES / "recommendation-alerts.yml").read_text(encoding="utf-8"))
    data["groups"][0]["rules"].pop(0)
    return yaml.safe_dump(data, sort_keys=False)


def run_checks(
    url: str, rule_files: str, target: str = "checks/monitoring"
) -> subprocess.CompletedProcess[str]:
    return pytest_checks(
        target, "--set", f"prometheus.url={url}", "--set", f"prometheus.rule_files=[{rule_files}]",
        timeout=120,
    )


@pytest.mark.parametrize(
    ("rule_file", "test", "reason"),
    [
        (without_pool_alert, "test_pool_alert_loaded_and_healthy",
         "service pool: no loaded alert named RecommendationDbPoolSaturated"),
        (lambda: alerts(GOOD_POOL.replace("0.8", "0.99")), "test_pool_alert_threshold_for_and_labels",
         "threshold 0.99 is laxer than the maximum 0.8"),
        (lambda: alerts(pool_for="1h"), "test_pool_alert_threshold_for_and_labels",
         "for 3600s is longer than the maximum 300s"),
        (lambda: alerts(GOOD_POOL.replace("_in_use", "_inuse")), "test_pool_alert_can_fire_here",
         "recommendation_db_pool_inuse: no series"),
        (lambda: alerts(GOOD_POOL.replace("_in_use", '_in_use{pool="primary"}')),
         "test_pool_alert_can_fire_here", 'recommendation_db_pool_in_use{pool="primary"}: no series'),
        (lambda: alerts(GOOD_POOL + " and on() vector(0) > 1"), "test_pool_alert_would_fire",
         "saturated (did not fire)"),
        (lambda: alerts(pool_labels="{team: db}"), "test_pool_alert_threshold_for_and_labels",
         "no 'severity' label"),
    ],
    ids=["no-pool-alert", "threshold-0.99", "for-1h", "metric-does-not-exist", "label-no-series-has",
         "never-true", "no-severity"],
)
def test_bad_rule_fails_its_check(
    own_prometheus: OwnPrometheus, rule_file: Any, test: str, reason: str
) -> None:
    own_prometheus.load(rule_file())
    done = run_checks(own_prometheus.url, str(own_prometheus.rules_dir / "*.yml"), f"{POOL_TESTS}::{test}")
    assert done.returncode == 1, done.stdout[-3000:]
    assert reason in done.stdout, done.stdout[-3000:]


def test_rule_file_not_loaded(own_prometheus: OwnPrometheus, tmp_path: Path) -> None:
    own_prometheus.load(None)  # Prometheus reads only the recording rules
    shutil.copy(RULES / "recommendation-alerts.yml", tmp_path / "alerts.yml")
    done = run_checks(own_prometheus.url, f"{RULES / 'recommendation-recording.yml'},{tmp_path}/alerts.yml",
                      f"{POOL_TESTS}::test_pool_alert_loaded_and_healthy")
    assert done.returncode == 1
    assert "RecommendationDbPoolSaturated is in" in done.stdout and "did not load it" in done.stdout


def test_prometheus_stopped_fails_never_skips(sandbox_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "prometheus.yml").write_text("global: {}\n", encoding="utf-8")
    port = st.free_port()
    processes.stop(_start(tmp_path, port, wait=True))
    done = run_checks(f"http://127.0.0.1:{port}", str(RULES / "*.yml"))
    assert done.returncode == 1
    for test in ("test_pool_alert_loaded_and_healthy", "test_pool_alert_threshold_for_and_labels",
                 "test_pool_alert_can_fire_here", "test_slo_series_have_data_for_live_color",
                 "test_both_colors_scraped", "test_slo_alerts_no_laxer_than_rollback_criteria"):
        assert re.search(rf"FAILED checks/monitoring/\S+::{test}", done.stdout), test
    assert done.stdout.count(f"prometheus http://127.0.0.1:{port} unavailable") >= 6, done.stdout[-3000:]
    assert "PASSED checks/monitoring/test_pool_alerts.py::test_pool_alert_loaded" not in done.stdout


def test_sandbox_rules_pass_against_sandbox_prometheus(sandbox: dict[str, Any]) -> None:
    for user_id in range(1, 60):  # traffic, so the live color's SLO series have data
        requests.get(f"{sandbox['router_url']}/recommendations", params={"user_id": user_id}, timeout=10)
    _wait_query(sandbox["prometheus_url"], 'color:recommendation_errors:ratio_rate30s{color="green"}')
    done = run_checks(sandbox["prometheus_url"], str(RULES / "*.yml"))
    assert done.returncode == 0, done.stdout[-4000:]
    assert "9 passed, 1 skipped" in done.stdout  # the latency bucket check among them


def test_latency_threshold_without_a_bucket_fails_naming_the_nearest(sandbox: dict[str, Any]) -> None:
    """The sandbox's histogram has a boundary at 0.3 s, none at 0.275 s: a threshold of
    275 ms cannot be counted exactly, and the check says which buckets are nearest."""
    for user_id in range(1, 20):
        requests.get(f"{sandbox['router_url']}/recommendations", params={"user_id": user_id}, timeout=10)
    target = "checks/monitoring/test_latency_buckets.py"
    _wait_query(sandbox["prometheus_url"], "recommendation_request_duration_seconds_bucket")
    good = pytest_checks(target, "--set", f"prometheus.url={sandbox['prometheus_url']}", timeout=60)
    assert good.returncode == 0, good.stdout[-3000:]
    bad = pytest_checks(
        target, "--set", f"prometheus.url={sandbox['prometheus_url']}",
        "--set", "slo.latency_p95_max_ms=275", timeout=60,
    )
    assert bad.returncode == 1, bad.stdout[-3000:]
    assert "no bucket at 0.275 s; the nearest are 0.25 and 0.3 s" in bad.stdout


# -- helpers -------------------------------------------------------------------------------
def _start(home: Path, port: int, wait: bool = False) -> st.ProcessRecord:
    record = processes.start(
        [sandbox_prometheus.binary(), f"--config.file={home / 'prometheus.yml'}",
         f"--storage.tsdb.path={home / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--web.enable-lifecycle", "--log.level=warn"],
        log=home / "prometheus.log",
    )
    if wait:
        _wait_ready(f"http://127.0.0.1:{port}")
    return record


def _names(alerts_yaml: str) -> list[str]:
    data = yaml.safe_load(alerts_yaml)
    return [r["alert"] for g in data["groups"] for r in g["rules"] if "alert" in r]


@retry(stop=stop_after_delay(20), wait=wait_fixed(0.2), reraise=True)
def _wait_ready(url: str) -> None:
    requests.get(f"{url}/-/ready", timeout=1).raise_for_status()


@retry(stop=stop_after_delay(30), wait=wait_fixed(0.3), reraise=True)
def _wait_series(url: str) -> None:
    for selector in ("recommendation_db_pool_in_use", "pg_stat_activity_count", "up{job='haproxy'}"):
        result = requests.get(f"{url}/api/v1/series", params={"match[]": selector}, timeout=2).json()
        assert result["data"], selector


@retry(stop=stop_after_delay(20), wait=wait_fixed(0.3), reraise=True)
def _wait_rules(url: str, expected: set[str]) -> None:
    groups = requests.get(f"{url}/api/v1/rules", timeout=2).json()["data"]["groups"]
    loaded = {r["name"]: r["health"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    assert set(loaded) == expected, loaded
    assert all(h == "ok" for h in loaded.values()), loaded  # evaluated at least once


@retry(stop=stop_after_delay(20), wait=wait_fixed(0.5), reraise=True)
def _wait_query(url: str, query: str) -> None:
    result = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()
    assert result["data"]["result"], query
