"""PrometheusRule objects read as rule-file groups, against the fake API."""

from __future__ import annotations

import pytest
import yaml
from kubernetes import client

from shiftgate.errors import SourceUnavailable
from shiftgate.probes.operator_rules import prometheus_rule_groups, read_prometheus_rules
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.cluster import DEPLOY_DIR
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)

Api = client.ApiClient


def test_groups_have_the_shape_of_a_rule_file(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    groups = prometheus_rule_groups("recommendation", kube_api_client)
    expected = yaml.safe_load((DEPLOY_DIR / "prometheusrule.yaml").read_text())["spec"]["groups"]
    assert groups == expected
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    assert {
        "RecommendationDbPoolSaturated",
        "RecommendationErrorRatioHigh",
        "RecommendationLatencyP95High",
    } <= alerts
    assert list(read_prometheus_rules("recommendation", kube_api_client)) == ["recommendation/recommendation"]


def test_label_selector_and_empty_namespace(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    assert prometheus_rule_groups("recommendation", kube_api_client, label_selector="release=other") == []
    assert prometheus_rule_groups("elsewhere", kube_api_client) == []


def test_operator_not_installed_fails_closed(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    fake_cluster.fake.unserved_groups.add("monitoring.coreos.com")
    with pytest.raises(SourceUnavailable, match=r"Prometheus Operator installed"):
        prometheus_rule_groups("recommendation", kube_api_client)


def test_forbidden_fails_closed_naming_the_permission(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    fake_cluster.fake.revoke("list", "prometheusrules", "monitoring.coreos.com")
    with pytest.raises(SourceUnavailable, match=r"may not list prometheusrules.monitoring.coreos.com"):
        prometheus_rule_groups("recommendation", kube_api_client)


def test_unreachable_fails_closed(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    fake_cluster.stop()
    with pytest.raises(SourceUnavailable, match=r"Kubernetes API"):
        prometheus_rule_groups("recommendation", kube_api_client)
