"""The Kubernetes platform against the fake API server (real HTTP, official client).

The fake enforces deploy/rbac.yaml's Role on every request, so these tests also prove the
Role holds every permission the platform uses.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from shiftgate.config.models import VersionSpec
from shiftgate.errors import ConfigError, SourceUnavailable
from shiftgate.platforms import kubernetes as platform_module
from shiftgate.platforms.base import PlatformError
from shiftgate.platforms.kubernetes import KubernetesPlatform, decide_rollout, pool_env, with_tag
from shiftgate.probes.kube import make_api_client
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.cluster import DEPLOY_DIR
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)


@pytest.fixture
def platform(fake_cluster: FakeCluster, kube_api_client: client.ApiClient) -> KubernetesPlatform:
    return KubernetesPlatform(
        fake_cluster.platform_config(),
        api_client=kube_api_client,
        poll_s=0.001,
        version_env={"2.5.0": {"POOL_MAX_SIZE": "25"}},
    )


def test_versions_are_read_from_each_colors_deployment(platform: KubernetesPlatform) -> None:
    assert platform.versions() == {"blue": "2.4.3", "green": "2.4.3"}


def test_deploy_applies_server_side_and_rolls_out(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    platform.deploy("blue", "2.5.0")
    status = platform.wait_rollout("blue", timeout_s=10)
    assert status.complete and not status.failed, status.message
    assert status.message == 'deployment "recommendation-blue" successfully rolled out'
    assert platform.versions() == {"blue": "2.5.0", "green": "2.4.3"}
    dep = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert dep is not None
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "ghcr.io/example/recommendation:2.5.0"
    env = {v["name"]: v.get("value") for v in container["env"]}
    assert (
        env["SERVICE_VERSION"] == "2.5.0" and env["POOL_MAX_SIZE"] == "25" and env["SERVICE_COLOR"] == "blue"
    )
    assert "valueFrom" in next(v for v in container["env"] if v["name"] == "DATABASE_URL")
    assert {"manager": "shiftgate", "operation": "Apply"} in dep["metadata"]["managedFields"]
    applies = [r for r in fake_cluster.fake.requests if r[0] == "PATCH"]
    assert applies and applies[0][2] == "application/apply-patch+yaml"


def test_rollout_in_progress_is_neither_complete_nor_failed(platform: KubernetesPlatform) -> None:
    platform.deploy("blue", "2.5.0")
    status = platform.rollout_status("blue")
    assert not status.complete and not status.failed
    assert "new replicas have been updated" in status.message


def test_progress_deadline_exceeded_fails_the_rollout(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    fake_cluster.controller.behavior["recommendation-blue"] = "stuck"
    platform.deploy("blue", "2.5.0")
    status = platform.wait_rollout("blue", timeout_s=10)
    assert status.failed and not status.complete
    assert status.message == 'deployment "recommendation-blue" exceeded its progress deadline'


def test_wait_rollout_gives_up_after_its_timeout(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    platform.deploy("blue", "2.5.0")
    fake_cluster.controller.enabled = False  # nothing observes the new generation
    started = time.monotonic()
    status = platform.wait_rollout("blue", timeout_s=0.3)
    assert time.monotonic() - started < 5
    assert status.failed and "timed out after 0.3 s" in status.message
    assert "spec update to be observed" in status.message


def test_rollout_status_of_a_missing_deployment_fails(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient
) -> None:
    cfg = fake_cluster.platform_config(deployment="nothing-{color}")
    status = KubernetesPlatform(cfg, api_client=kube_api_client).rollout_status("blue")
    assert status.failed and "nothing-blue not found" in status.message


def test_decide_rollout_waits_for_old_replicas_and_availability() -> None:
    dep = {"metadata": {"name": "d", "generation": 2}, "spec": {"replicas": 2, "template": {"spec": {}}}}
    old = decide_rollout(
        "blue", dep | {"status": {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 3}}
    )
    assert "1 old replicas are pending termination" in old.message
    unavailable = decide_rollout(
        "blue",
        dep
        | {"status": {"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1}},
    )
    assert "1 of 2 updated replicas are available" in unavailable.message and not unavailable.complete


def test_undo_restores_the_previous_revisions_template(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    platform.deploy("blue", "2.5.0")
    assert platform.wait_rollout("blue", 10).complete
    before = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert (
        before is not None and before["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    )
    platform.undo("blue")
    status = platform.wait_rollout("blue", 10)
    assert status.complete and status.version == "2.4.3"
    after = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert after is not None
    assert "pod-template-hash" not in after["spec"]["template"]["metadata"]["labels"]
    # As kubectl: the old ReplicaSet is reused and becomes revision 3.
    assert after["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    sets = fake_cluster.controller.owned(after)
    assert len(sets) == 2
    platform.undo("blue")  # undo of the undo: back to 2.5.0, as kubectl rollout undo twice
    assert platform.wait_rollout("blue", 10).version == "2.5.0"


def test_undo_without_history_fails(platform: KubernetesPlatform) -> None:
    with pytest.raises(PlatformError, match=r"no rollout history found for deployment recommendation-green"):
        platform.undo("green")


def test_undo_of_a_paused_deployment_is_refused(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    platform.deploy("blue", "2.5.0")
    platform.wait_rollout("blue", 10)
    dep = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert dep is not None
    dep["spec"]["paused"] = True
    with pytest.raises(PlatformError, match=r"paused"):
        platform.undo("blue")


def test_logs_since_a_time_come_from_each_pod(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    pods = fake_cluster.fake.list("Pod", "recommendation", "color=blue")
    now = time.time()
    fake_cluster.fake.logs[("recommendation", pods[0]["metadata"]["name"])] = [
        (now - 600, "before the deploy"),
        (now - 5, "ERROR pool timeout"),
        (now - 1, "GET /recommendations 200"),
    ]
    lines = platform.logs("blue", since=now - 60)
    assert [line.text for line in lines] == ["ERROR pool timeout", "GET /recommendations 200"]
    assert lines[0].replica == pods[0]["metadata"]["name"] and abs(lines[0].timestamp - (now - 5)) < 0.01


def test_resource_use_reads_metrics_api(platform: KubernetesPlatform, fake_cluster: FakeCluster) -> None:
    pod = fake_cluster.fake.list("Pod", "recommendation", "color=blue")[0]["metadata"]["name"]
    fake_cluster.fake.metrics[("recommendation", pod)] = {"cpu": "250m", "memory": "64Mi"}
    [use] = platform.resource_use("blue")
    assert (use.replica, use.cpu_cores, use.memory_bytes) == (pod, 0.25, 64 * 2**20)


def test_resource_use_without_metrics_server_fails_closed(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    fake_cluster.fake.metrics_available = False
    with pytest.raises(SourceUnavailable, match=r"metrics-server"):
        platform.resource_use("blue")


def test_max_replicas_is_the_hpas_ceiling(platform: KubernetesPlatform, fake_cluster: FakeCluster) -> None:
    assert platform.max_replicas("blue") == 8
    fake_cluster.fake.delete("HorizontalPodAutoscaler", "recommendation", "recommendation-green")
    assert platform.max_replicas("green") is None


def test_forbidden_names_the_missing_permission(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    fake_cluster.fake.revoke("patch", "deployments", "apps")
    with pytest.raises(PlatformError) as caught:
        platform.deploy("blue", "2.5.0")
    message = str(caught.value)
    assert "may not patch deployments.apps in namespace recommendation" in message
    assert "deploy/rbac.yaml" in message and "cannot patch resource" in message
    assert platform.versions()["blue"] == "2.4.3"


def test_forbidden_read_of_pod_logs_names_the_subresource(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    fake_cluster.fake.revoke("get", "pods/log")
    with pytest.raises(PlatformError, match=r"may not get pods/log in namespace recommendation"):
        platform.logs("blue", since=time.time() - 60)


def test_unreachable_api_fails_reads_closed_and_writes_loudly(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    fake_cluster.stop()
    with pytest.raises(SourceUnavailable, match=r"Kubernetes API http://127.0.0.1"):
        platform.versions()
    with pytest.raises(SourceUnavailable):
        platform.rollout_status("blue")
    with pytest.raises(SourceUnavailable):
        platform.max_replicas("blue")
    with pytest.raises(PlatformError, match=r"unreachable"):
        platform.deploy("blue", "2.5.0")


def test_a_hung_api_server_times_out(fake_cluster: FakeCluster, kube_api_client: client.ApiClient) -> None:
    fake_cluster.fake.delay_s = 2
    platform = KubernetesPlatform(
        fake_cluster.platform_config(), api_client=kube_api_client, timeout=(0.5, 0.3)
    )
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"timed out|Read timed out"):
        platform.versions()
    assert time.monotonic() - started < 1.9


def test_kubeconfig_context_builds_the_client(fake_kubeconfig, fake_cluster: FakeCluster) -> None:
    cfg = fake_cluster.platform_config()
    assert KubernetesPlatform(cfg).versions()["green"] == "2.4.3"  # context "fake" from $KUBECONFIG
    assert make_api_client("fake").configuration.host == fake_cluster.url


def test_unknown_context_is_a_configuration_error(fake_kubeconfig) -> None:
    from shiftgate.errors import ConfigError

    with pytest.raises(ConfigError, match=r"platform.context"):
        make_api_client("no-such-context")


def test_helpers() -> None:
    assert with_tag("ghcr.io/x/rec:2.4.3", "2.5.0") == "ghcr.io/x/rec:2.5.0"
    assert with_tag("registry:5000/rec", "2.5.0") == "registry:5000/rec:2.5.0"
    assert with_tag("rec@sha256:abc", "2.5.0") == "rec:2.5.0"
    spec = VersionSpec.model_validate(
        {"pool": {"max_size": 25, "min_size": 2, "replicas": 4, "max_replicas": 8}}
    )
    assert pool_env({"2.5.0": spec}) == {"2.5.0": {"POOL_MIN_SIZE": "2", "POOL_MAX_SIZE": "25"}}


# -- HPA-safe deploys: the autoscaler owns spec.replicas ----------------------------------


def _replicas(fake_cluster: FakeCluster, color: str = "blue") -> int:
    dep = fake_cluster.fake.get("Deployment", "recommendation", f"recommendation-{color}")
    assert dep is not None
    return int(dep["spec"]["replicas"])


def test_deploy_under_an_hpa_keeps_the_hpas_replicas(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    assert _replicas(fake_cluster) == 4  # the HPA's minReplicas (the manifests set none)
    fake_cluster.controller.hpa_desired["recommendation-blue"] = 7  # under load
    fake_cluster.controller.settle()
    assert _replicas(fake_cluster) == 7
    platform.deploy("blue", "2.5.0")
    assert platform.wait_rollout("blue", timeout_s=10).complete
    assert _replicas(fake_cluster) == 7
    assert platform.versions()["blue"] == "2.5.0"
    assert platform.max_replicas("blue") == 8  # capacity still reads the HPA's ceiling


def _owned_by_shiftgate(fake_cluster: FakeCluster) -> None:
    """An older shiftgate applied a manifest with replicas: 4, the HPA never changed it."""
    dep = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert dep is not None
    dep["metadata"]["managedFields"] = [
        {"manager": "shiftgate", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]


def test_deploy_hands_replicas_over_before_dropping_them(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    _owned_by_shiftgate(fake_cluster)
    fake_cluster.controller.enabled = False  # the HPA would repair it later: look at the apply
    platform.deploy("blue", "2.5.0")
    assert _replicas(fake_cluster) == 4
    dep = fake_cluster.fake.get("Deployment", "recommendation", "recommendation-blue")
    assert dep is not None
    managers = {f["manager"] for f in dep["metadata"]["managedFields"] if "f:replicas" in
                f.get("fieldsV1", {}).get("f:spec", {})}
    assert managers == {"shiftgate-handover-to-hpa"}


def test_without_the_handover_the_count_resets_to_one(
    platform: KubernetesPlatform, fake_cluster: FakeCluster
) -> None:
    """The bad state the handover prevents: the fake resets an ownerless field like SSA does."""
    _owned_by_shiftgate(fake_cluster)
    fake_cluster.controller.enabled = False
    body = platform.manifest("blue", "2.5.0")
    platform.writes.write(
        "patch", platform_module.DEPLOYMENTS, platform.apps.patch_namespaced_deployment,
        "recommendation-blue", "recommendation", body, field_manager="shiftgate", force=True,
        _content_type="application/apply-patch+yaml",
    )
    assert _replicas(fake_cluster) == 1


def test_a_manifest_setting_replicas_under_an_hpa_is_refused(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, tmp_path
) -> None:
    for color in ("blue", "green"):
        text = (DEPLOY_DIR / f"deployment-{color}.yaml").read_text()
        (tmp_path / f"deployment-{color}.yaml").write_text(
            text.replace("  revisionHistoryLimit:", "  replicas: 4\n  revisionHistoryLimit:", 1)
        )
    platform = KubernetesPlatform(
        fake_cluster.platform_config(manifests=str(tmp_path)), api_client=kube_api_client, poll_s=0.001
    )
    with pytest.raises(ConfigError, match=r"spec\.replicas.*HorizontalPodAutoscaler recommendation-blue"):
        platform.deploy("blue", "2.5.0")
    assert platform.versions()["blue"] == "2.4.3"  # nothing applied
