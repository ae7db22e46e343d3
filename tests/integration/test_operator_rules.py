"""The monitoring checks read the team's PrometheusRule objects when the Prometheus Operator
loads them (prometheus.operator_rules), from the fake Kubernetes API over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kubernetes import client

from shiftgate.config.paths import project_root
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)

CHECK = "checks/monitoring/test_deployment_monitoring.py::test_rule_files_pass_promtool_check"


def run_check(kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    dsn = "postgresql://u:p@127.0.0.1:1/db"
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "SHIFTGATE_DATABASE_DSN": dsn}
    return subprocess.run(
        [sys.executable, "-m", "pytest", CHECK, "-p", "no:cacheprovider", "--env",
         "environments/production.example.yaml", "--set", "prometheus.rule_files=[]",
         "--set", "prometheus.operator_rules={namespace: recommendation}"],
        env=env, cwd=project_root(), capture_output=True, text=True, check=False, timeout=120,
    )


def test_prometheus_rules_from_the_cluster_pass_promtool(
    fake_cluster: FakeCluster, fake_kubeconfig: Path
) -> None:
    result = run_check(fake_kubeconfig)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout


def test_a_broken_prometheus_rule_fails_the_check(
    fake_cluster: FakeCluster, fake_kubeconfig: Path, kube_api_client: client.ApiClient
) -> None:
    fake_cluster.fake.rules = None  # the team edits its rules, not the runner's Role
    custom = client.CustomObjectsApi(kube_api_client)
    rule = custom.get_namespaced_custom_object(
        "monitoring.coreos.com", "v1", "recommendation", "prometheusrules", "recommendation"
    )
    rule["spec"]["groups"][0]["rules"][0]["expr"] = "sum(rate(broken[5m]"  # unbalanced
    custom.replace_namespaced_custom_object(
        "monitoring.coreos.com", "v1", "recommendation", "prometheusrules", "recommendation", rule
    )
    result = run_check(fake_kubeconfig)
    assert result.returncode == 1
    assert "prometheusrules-recommendation.yml" in result.stdout


def test_unreachable_cluster_fails_the_check_with_its_reason(
    fake_cluster: FakeCluster, fake_kubeconfig: Path
) -> None:
    fake_cluster.stop()
    result = run_check(fake_kubeconfig)
    assert result.returncode == 1
    assert "unavailable" in result.stdout and "SKIPPED" not in result.stdout
