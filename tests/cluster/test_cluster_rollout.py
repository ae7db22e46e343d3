"""The fake-API scenarios against a real cluster: rollout, undo, routing, 403, unreachable."""

from __future__ import annotations

import time

import pytest
import yaml
from kubernetes import client

from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.config.models import ServiceSelectorRouter as ServiceSelectorRouterConfig
from shiftgate.config.paths import project_root
from shiftgate.errors import SourceUnavailable
from shiftgate.platforms.base import PlatformError
from shiftgate.platforms.kubernetes import KubernetesPlatform
from shiftgate.routers.service_selector import ServiceSelectorRouter


def test_deploy_rollout_and_undo(
    cluster_api: client.ApiClient, platform_config: KubernetesPlatformConfig
) -> None:
    platform = KubernetesPlatform(platform_config, api_client=cluster_api)
    since = time.time() - 5
    platform.deploy("blue", "1.36")
    assert platform.wait_rollout("blue", 180).complete
    platform.deploy("blue", "1.37")
    status = platform.wait_rollout("blue", 180)
    assert status.complete, status.message
    assert platform.versions()["blue"] == "1.37"
    assert any("started version" in line.text for line in platform.logs("blue", since))
    platform.undo("blue")
    status = platform.wait_rollout("blue", 180)
    assert status.complete and status.version == "1.36", status.message


def test_progress_deadline_exceeded(
    cluster_api: client.ApiClient, platform_config: KubernetesPlatformConfig
) -> None:
    platform = KubernetesPlatform(platform_config, api_client=cluster_api)
    platform.deploy("green", "1.36")
    assert platform.wait_rollout("green", 180).complete
    platform.deploy("green", "0.0.0-no-such-tag")  # the image pull fails; progressDeadlineSeconds 20
    status = platform.wait_rollout("green", 120)
    assert status.failed and "exceeded its progress deadline" in status.message


def test_service_selector_router(cluster_api: client.ApiClient, namespace: str) -> None:
    services = list(yaml.safe_load_all((project_root() / "deploy" / "services.yaml").read_text()))
    live = next(s for s in services if s["metadata"]["name"] == "recommendation-live")
    live["metadata"]["namespace"] = namespace
    client.CoreV1Api(cluster_api).create_namespaced_service(namespace, live)
    router = ServiceSelectorRouter(
        ServiceSelectorRouterConfig(
            kind="service-selector", namespace=namespace, service="recommendation-live"
        ),
        api_client=cluster_api,
    )
    assert router.weights() == {"blue": 0, "green": 100}
    assert router.set_weights({"blue": 100, "green": 0}) == {"blue": 100, "green": 0}


def test_forbidden_names_the_permission(
    cluster_api: client.ApiClient, platform_config: KubernetesPlatformConfig
) -> None:
    nobody = client.ApiClient(cluster_api.configuration)
    nobody.set_default_header("Impersonate-User", f"system:serviceaccount:{platform_config.namespace}:nobody")
    platform = KubernetesPlatform(platform_config, api_client=nobody)
    with pytest.raises(PlatformError, match=r"may not patch deployments.apps in namespace"):
        platform.deploy("blue", "1.36")


def test_unreachable_api_fails_closed(platform_config: KubernetesPlatformConfig) -> None:
    configuration = client.Configuration()
    configuration.host, configuration.retries = "https://127.0.0.1:1", 0
    platform = KubernetesPlatform(platform_config, api_client=client.ApiClient(configuration))
    with pytest.raises(SourceUnavailable):
        platform.versions()
