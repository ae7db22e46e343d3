"""A second judge for the fake API: the real kubectl, against the fake, agrees with shiftgate.

The fake Kubernetes API (tests/k8s_fake) was written here, so a test that passes on it proves
only that shiftgate and the fake agree. kubectl is written by Kubernetes: for each thing
shiftgate does, it is run against the same fake state (a kubeconfig pointing at the fake's
HTTP server) and must read that state the way shiftgate does —

- ``kubectl get``: the versions, replica counts and READY column shiftgate reports;
- ``kubectl rollout status`` (``--watch=false`` on each frozen controller step, and watching):
  the same message, done / waiting / failed, for every state of a rollout: spec not yet
  observed, new replicas updating, old ones terminating, complete, ProgressDeadlineExceeded;
- ``kubectl apply --server-side``: shiftgate's deploy is that request, so both leave the same
  Deployment (and the autoscaler's replica count);
- ``kubectl rollout undo``: shiftgate's undo leaves the Deployment, its ReplicaSets and
  revisions exactly as kubectl's does; both refuse a paused Deployment and one with no history.

Where kubectl disagreed, the fake was fixed (tests/k8s_fake: field selectors, watch, short
names, server-side tables, pod templates served with ``creationTimestamp: null``). Skipped
only when kubectl is absent (``make test`` installs Debian's kubernetes-client).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.platforms.base import PlatformError
from shiftgate.platforms.kubernetes import KubernetesPlatform
from tests.k8s_fake.cluster import FakeCluster, role_rules, start_fake_cluster

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (make system installs it)")

BLUE = "recommendation-blue"


class Kubectl:
    """kubectl against one fake cluster, with its own discovery cache."""

    def __init__(self, cluster: FakeCluster, cache: Path) -> None:
        self.cluster, self.cache = cluster, cache

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        return subprocess.run(
            [KUBECTL, f"--kubeconfig={self.cluster.kubeconfig}", f"--cache-dir={self.cache}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def json(self, *args: str) -> Any:
        done = self(*args, "-o", "json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def clusters(tmp_path: Path) -> Iterator[list[FakeCluster]]:
    """Two identical fake clusters (kubectl acts on one, shiftgate on the other), no RBAC:
    ``kubectl rollout status`` watches, a verb the runner's Role does not need."""
    made = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        made.append(start_fake_cluster(tmp_path / name, enforce_rbac=False))
    yield made
    for cluster in made:
        cluster.stop()


def kubectl_for(cluster: FakeCluster, tmp_path: Path) -> Kubectl:
    return Kubectl(cluster, tmp_path / f"cache-{cluster.url.rsplit(':', 1)[1]}")


def platform_for(cluster: FakeCluster) -> KubernetesPlatform:
    return KubernetesPlatform(cluster.platform_config(), api_client=cluster.api_client(), poll_s=0.02)


def step(cluster: FakeCluster) -> None:
    """One controller step while the controller is otherwise frozen."""
    cluster.controller.enabled = True
    cluster.controller.step()
    cluster.controller.enabled = False


def rollout_states(cluster: FakeCluster, kubectl: Kubectl, platform: KubernetesPlatform) -> list[str]:
    """Compare kubectl and shiftgate on every frozen state until both call the rollout over;
    returns the messages seen."""
    seen: list[str] = []
    for _ in range(30):
        done = kubectl("rollout", "status", f"deployment/{BLUE}", "--watch=false")
        ours = platform.rollout_status("blue")
        if ours.failed:
            assert done.returncode == 1, (done.stdout, done.stderr)
            assert done.stderr.strip() == f"error: {ours.message}"
        else:
            assert done.returncode == 0, done.stderr
            assert done.stdout.strip() == ours.message
            done_by_kubectl = "successfully rolled out" in done.stdout
            assert done_by_kubectl == ours.complete
        seen.append(ours.message)
        if ours.complete or ours.failed:
            return seen
        step(cluster)
    raise AssertionError(f"the rollout never ended: {seen}")


def test_get_reads_versions_counts_and_ready_as_shiftgate(
    clusters: list[FakeCluster], tmp_path: Path
) -> None:
    cluster = clusters[0]
    kubectl, platform = kubectl_for(cluster, tmp_path), platform_for(cluster)
    platform.deploy("blue", "2.5.0")
    assert platform.wait_rollout("blue", 30).complete
    listed = kubectl.json("get", "deploy", "-l", "app.kubernetes.io/name=recommendation")
    by_name = {d["metadata"]["name"]: d for d in listed["items"]}
    versions = platform.versions()
    for color in ("blue", "green"):
        dep = by_name[f"recommendation-{color}"]
        assert dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == versions[color]
        status = platform.rollout_status(color)
        assert dep["spec"]["replicas"] == status.desired
        assert dep["status"]["readyReplicas"] == status.ready
    assert versions == {"blue": "2.5.0", "green": "2.4.3"}
    # The table a person reads: READY ready/desired, UP-TO-DATE, AVAILABLE, and the image.
    table = kubectl("get", "deployment", BLUE, "-o", "wide", "--no-headers")
    assert table.returncode == 0, table.stderr
    name, ready, updated, available, _age, containers, images, selector = table.stdout.split()
    status = platform.rollout_status("blue")
    assert (name, ready) == (BLUE, f"{status.ready}/{status.desired}")
    assert (int(updated), int(available)) == (status.updated, status.available)
    assert (containers, images) == ("recommendation", "ghcr.io/example/recommendation:2.5.0")
    assert selector == "app.kubernetes.io/name=recommendation,color=blue"
    # Short names resolve as on a real cluster.
    for short in ("rs", "po", "svc", "hpa"):
        assert kubectl("get", short).returncode == 0, short


def test_every_state_of_a_rollout_reads_the_same(clusters: list[FakeCluster], tmp_path: Path) -> None:
    cluster = clusters[0]
    kubectl, platform = kubectl_for(cluster, tmp_path), platform_for(cluster)
    cluster.controller.enabled = False  # every state stays put while both read it
    platform.deploy("blue", "2.5.0")
    seen = rollout_states(cluster, kubectl, platform)
    assert seen[0] == "Waiting for deployment spec update to be observed..."
    assert any("new replicas have been updated" in m for m in seen)
    assert any("old replicas are pending termination" in m for m in seen)
    assert seen[-1] == f'deployment "{BLUE}" successfully rolled out'
    # Done is done for both: the complete state after the last step still agrees.
    assert kubectl("rollout", "status", f"deployment/{BLUE}", "--watch=false").returncode == 0


def test_a_progress_deadline_fails_both(clusters: list[FakeCluster], tmp_path: Path) -> None:
    cluster = clusters[0]
    kubectl, platform = kubectl_for(cluster, tmp_path), platform_for(cluster)
    cluster.controller.enabled = False
    cluster.controller.behavior[BLUE] = "stuck"
    platform.deploy("blue", "2.5.0")
    seen = rollout_states(cluster, kubectl, platform)
    assert any("Waiting for deployment" in m for m in seen)  # waiting, not failed, before the deadline
    assert seen[-1] == f'deployment "{BLUE}" exceeded its progress deadline'
    assert platform.rollout_status("blue").failed


def test_watching_rollout_status_ends_where_wait_rollout_ends(
    clusters: list[FakeCluster], tmp_path: Path
) -> None:
    """kubectl's own loop (list, then watch) against shiftgate's (poll): same end, same words;
    and a watch of green is not answered by blue (the fake ignored field selectors)."""
    good, stuck = clusters
    for cluster, behavior in ((good, "progress"), (stuck, "stuck")):
        cluster.controller.behavior[BLUE] = behavior
        platform_for(cluster).deploy("blue", "2.5.0")
    done = kubectl_for(good, tmp_path)("rollout", "status", f"deployment/{BLUE}", "--timeout=60s")
    ours = platform_for(good).wait_rollout("blue", 30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == ours.message
    assert ours.complete

    failed = kubectl_for(stuck, tmp_path)("rollout", "status", f"deployment/{BLUE}", "--timeout=60s")
    ours = platform_for(stuck).wait_rollout("blue", 30)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == f"error: {ours.message}"
    assert ours.failed and "exceeded its progress deadline" in ours.message
    green = kubectl_for(stuck, tmp_path)(
        "rollout", "status", "deployment/recommendation-green", "--timeout=30s"
    )
    assert green.returncode == 0, green.stderr
    assert green.stdout.strip() == 'deployment "recommendation-green" successfully rolled out'


def _deployment(cluster: FakeCluster) -> dict[str, Any]:
    dep = copy.deepcopy(cluster.fake.get("Deployment", cluster.namespace, BLUE))
    assert dep is not None
    return {
        "labels": dep["metadata"].get("labels"),
        "annotations": dep["metadata"].get("annotations"),
        "managers": sorted(f["manager"] for f in dep["metadata"].get("managedFields", [])),
        "spec": dep["spec"],
    }


def _history(cluster: FakeCluster) -> dict[str, tuple[str, int]]:
    """ReplicaSet name → (revision, replicas) of the blue Deployment."""
    return {
        rs["metadata"]["name"]: (
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            rs["spec"]["replicas"],
        )
        for rs in cluster.fake.list("ReplicaSet", cluster.namespace, "color=blue")
    }


def test_server_side_apply_by_kubectl_is_shiftgates_deploy(
    clusters: list[FakeCluster], tmp_path: Path
) -> None:
    """kubectl applies the very manifest shiftgate builds, with shiftgate's flags, as the runner
    (its Role's resourceNames allow it); both clusters end alike, the HPA's count kept."""
    by_kubectl, by_shiftgate = clusters
    by_kubectl.fake.allow(role_rules())
    hpa_count = 6
    for cluster in clusters:
        cluster.controller.hpa_desired["recommendation-blue"] = hpa_count
        cluster.controller.settle(3)
    manifest = tmp_path / "blue.yaml"
    manifest.write_text(yaml.safe_dump(platform_for(by_shiftgate).manifest("blue", "2.5.0")))
    by_kubectl.fake.requests.clear()
    # --validate=false: the fake serves no OpenAPI schema (test_kubernetes_manifests.py checks them)
    applied = kubectl_for(by_kubectl, tmp_path)(
        "apply", "--server-side", "--force-conflicts", "--field-manager=shiftgate", "--validate=false",
        "-f", str(manifest),
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.strip() == "deployment.apps/recommendation-blue serverside-applied"
    by_shiftgate.fake.requests.clear()
    platform_for(by_shiftgate).deploy("blue", "2.5.0")
    writes = [[r for r in c.fake.requests if r[0] != "GET"] for c in clusters]
    assert writes[0] == writes[1]  # one PATCH, application/apply-patch+yaml, the same path
    for cluster in clusters:
        cluster.controller.settle()
    assert _deployment(by_kubectl) == _deployment(by_shiftgate)
    assert _history(by_kubectl) == _history(by_shiftgate)
    for cluster in clusters:
        assert platform_for(cluster).versions()["blue"] == "2.5.0"
        assert platform_for(cluster).rollout_status("blue").desired == hpa_count


def test_undo_by_shiftgate_is_kubectls_rollout_undo(clusters: list[FakeCluster], tmp_path: Path) -> None:
    """Deploy 2.5.0 on both; kubectl undoes one, shiftgate the other, twice (back to 2.4.3,
    then back to 2.5.0): the same template, annotations, ReplicaSets and revisions each time,
    and kubectl's history reads the same on both."""
    by_kubectl, by_shiftgate = clusters
    for cluster in clusters:
        platform_for(cluster).deploy("blue", "2.5.0")
        assert platform_for(cluster).wait_rollout("blue", 30).complete
    kubectl = kubectl_for(by_kubectl, tmp_path)
    for expected in ("2.4.3", "2.5.0"):
        undone = kubectl("rollout", "undo", f"deployment/{BLUE}")
        assert undone.returncode == 0, undone.stderr
        assert undone.stdout.strip() == f"deployment.apps/{BLUE} rolled back"
        platform_for(by_shiftgate).undo("blue")
        for cluster in clusters:
            cluster.controller.settle()
            assert platform_for(cluster).versions()["blue"] == expected
            assert platform_for(cluster).rollout_status("blue").complete
        assert _deployment(by_kubectl) == _deployment(by_shiftgate)
        assert _history(by_kubectl) == _history(by_shiftgate)
        assert len(_history(by_kubectl)) == 2  # a rollback re-stamps the old ReplicaSet
        histories = [
            kubectl_for(c, tmp_path)("rollout", "history", f"deployment/{BLUE}").stdout for c in clusters
        ]
        assert histories[0] == histories[1]
        path = "{.spec.template.metadata.labels.app\\.kubernetes\\.io/version}"
        label = kubectl("get", "deployment", BLUE, "-o", f"jsonpath={path}")
        assert label.stdout == expected


def test_both_refuse_an_undo_without_history_or_of_a_paused_deployment(
    clusters: list[FakeCluster], tmp_path: Path
) -> None:
    cluster = clusters[0]
    kubectl, platform = kubectl_for(cluster, tmp_path), platform_for(cluster)
    refused = kubectl("rollout", "undo", f"deployment/{BLUE}")
    assert refused.returncode == 1
    assert f'no rollout history found for deployment "{BLUE}"' in refused.stderr
    with pytest.raises(PlatformError, match=f"no rollout history found for deployment {BLUE}"):
        platform.undo("blue")

    platform.deploy("blue", "2.5.0")
    assert platform.wait_rollout("blue", 30).complete
    assert kubectl("rollout", "pause", f"deployment/{BLUE}").returncode == 0
    refused = kubectl("rollout", "undo", f"deployment/{BLUE}")
    assert refused.returncode == 1
    assert "you cannot rollback a paused deployment; resume it first" in refused.stderr
    with pytest.raises(PlatformError, match="you cannot rollback a paused deployment; resume it first"):
        platform.undo("blue")
    assert platform.versions()["blue"] == "2.5.0"  # neither changed anything
