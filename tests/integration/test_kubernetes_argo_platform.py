"""The Argo Rollout read view on the fake API, as the read-only gate identity.

Argo's state is seeded as its controller leaves a blue-green Rollout before promotion
(ci/argo/rollout.yaml): the stable ReplicaSet (2.4.3) behind the active Service, the preview
ReplicaSet (2.5.0) behind the preview Service, both selectors pinned with
``rollouts-pod-template-hash``. Blue (active) and green (preview) must read only their own
pods; a Service that selects every revision is refused, not averaged.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.argo import ArgoRolloutPlatform
from shiftgate.config.paths import project_root
from shiftgate.probes.argo_rollout import HASH_LABEL, ArgoRolloutView
from shiftgate.probes.platform import PlatformError
from tests.k8s_fake.cluster import NAMESPACE, FakeCluster, role_rules, start_fake_cluster

ROLLOUT_FILE = project_root() / "ci" / "argo" / "rollout.yaml"
HASHES = {"blue": "6d8f9c7b5", "green": "7f6c5d4b9"}
VERSIONS = {"blue": "2.4.3", "green": "2.5.0"}


def _seed(cluster: FakeCluster, ready: dict[str, int]) -> None:
    """Argo's state before promotion; ``ready`` pods of 4 per color."""
    fake = cluster.fake
    docs = [d for d in yaml.safe_load_all(ROLLOUT_FILE.read_text()) if d]
    rollout = next(d for d in docs if d["kind"] == "Rollout")
    fake.put(copy.deepcopy(rollout), NAMESPACE)
    for doc in docs:
        if doc["kind"] == "Service":
            role = "blue" if doc["metadata"]["name"] == "recommendation-active" else "green"
            doc["spec"]["selector"][HASH_LABEL] = HASHES[role]
            fake.put(doc, NAMESPACE)
    for color, digest in HASHES.items():
        template = copy.deepcopy(rollout["spec"]["template"])
        labels = template["metadata"]["labels"]
        labels.update({"app.kubernetes.io/version": VERSIONS[color], "version": VERSIONS[color],
                       HASH_LABEL: digest, "color": color})  # fmt: skip
        name = f"recommendation-{digest}"
        fake.put(
            {
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name, "labels": dict(labels),
                    "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                         "name": "recommendation", "controller": True}],
                },
                "spec": {"replicas": 4, "selector": {"matchLabels": {HASH_LABEL: digest}},
                         "template": template},
                "status": {"replicas": 4, "readyReplicas": ready[color], "availableReplicas": ready[color]},
            },
            NAMESPACE,
        )  # fmt: skip
        for i in range(4):
            pod = f"{name}-{i}"
            fake.put({"kind": "Pod", "metadata": {"name": pod, "labels": dict(labels)},
                      "spec": {"containers": [{"name": "recommendation"}]},
                      "status": {"phase": "Running"}}, NAMESPACE)  # fmt: skip
            fake.logs[(NAMESPACE, pod)] = [(time.time(), f"{VERSIONS[color]} {color} {pod} ready")]
            fake.metrics[(NAMESPACE, pod)] = {"cpu": "100m" if color == "blue" else "300m", "memory": "64Mi"}
    fake.put({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "recommendation-rollout"},
              "spec": {"scaleTargetRef": {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                          "name": "recommendation"},
                       "minReplicas": 4, "maxReplicas": 9}}, NAMESPACE)  # fmt: skip


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    made = start_fake_cluster(tmp_path, enforce_rbac=False)
    made.fake.allow(role_rules(role="shiftgate-gate"))  # a gate's identity: reads only
    yield made
    made.stop()


def view(cluster: FakeCluster, **overrides: Any) -> ArgoRolloutView:
    config = ArgoRolloutPlatform.model_validate({"kind": "argo-rollout", "namespace": NAMESPACE, **overrides})
    return ArgoRolloutView(config, cluster.api_client(), poll_s=0.01)


def test_roles_read_their_own_revision(cluster: FakeCluster) -> None:
    _seed(cluster, ready={"blue": 4, "green": 4})
    argo = view(cluster)
    assert argo.versions() == {"blue": "2.4.3", "green": "2.5.0"}
    status = argo.rollout_status("green")
    assert status.complete and (status.version, status.desired, status.available) == ("2.5.0", 4, 4)
    lines = argo.logs("green", since=time.time() - 60)
    assert len(lines) == 4 and all(line.text.startswith("2.5.0 green") for line in lines)
    uses = argo.resource_use("green")
    assert len(uses) == 4 and all(use.cpu_cores == pytest.approx(0.3) for use in uses)
    assert argo.max_replicas("green") == argo.max_replicas("blue") == 9


def test_a_preview_not_yet_available_is_not_complete(cluster: FakeCluster) -> None:
    _seed(cluster, ready={"blue": 4, "green": 2})
    status = view(cluster).rollout_status("green")
    assert not status.complete and not status.failed
    assert "2 of 4 replicas available" in status.message
    timed_out = view(cluster).wait_rollout("green", 0.05)
    assert timed_out.failed and "timed out" in timed_out.message


def test_a_service_over_every_revision_is_refused(cluster: FakeCluster) -> None:
    _seed(cluster, ready={"blue": 4, "green": 4})
    service = cluster.fake.get("Service", NAMESPACE, "recommendation-preview")
    assert service is not None
    del service["spec"]["selector"][HASH_LABEL]  # Argo has not reconciled it (or another Service)
    argo = view(cluster)
    with pytest.raises(PlatformError, match="selects no single revision"):
        argo.logs("green", since=0)
    with pytest.raises(PlatformError, match="previewService of Rollout recommendation"):
        argo.versions()


def test_missing_objects_fail_with_their_names(cluster: FakeCluster) -> None:
    _seed(cluster, ready={"blue": 4, "green": 4})
    with pytest.raises(PlatformError, match="service recommendation-next not found"):
        view(cluster, preview_service="recommendation-next").rollout_status("green")
    status = view(cluster, rollout="other").rollout_status("green")
    assert status.failed and "no ReplicaSet of Rollout other" in status.message
