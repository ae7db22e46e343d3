"""Real-cluster fixtures: only with SHIFTGATE_CLUSTER_KUBECONFIG (e.g. a kind cluster in CI).

Each test run gets its own namespace (deleted at the end) and a manifests folder made from
deploy/deployment-<color>.yaml with a public image (busybox, versions = its tags), so
rollouts really pull, start and become ready without the service's database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.config.paths import project_root
from shiftgate.probes.kube import make_api_client

KUBECONFIG_ENV = "SHIFTGATE_CLUSTER_KUBECONFIG"


@pytest.fixture(scope="session")
def cluster_api() -> Iterator[client.ApiClient]:
    path = os.environ.get(KUBECONFIG_ENV)
    if not path:
        pytest.skip(
            f"no real cluster: set {KUBECONFIG_ENV} to a kubeconfig (e.g. of a kind cluster) "
            "to run tests/cluster"
        )
    os.environ["KUBECONFIG"] = path
    api = make_api_client(os.environ.get("SHIFTGATE_CLUSTER_CONTEXT"))
    yield api
    api.close()


@pytest.fixture(scope="session")
def namespace(cluster_api: client.ApiClient) -> Iterator[str]:
    name = f"shiftgate-test-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(cluster_api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def _busybox(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    spec["progressDeadlineSeconds"] = 20
    spec["replicas"] = 2
    spec["template"]["spec"].pop("securityContext", None)
    container = spec["template"]["spec"]["containers"][0]
    container.update(
        image="busybox:1.36", command=["sh", "-c", "echo started version $SERVICE_VERSION; sleep 3600"]
    )
    for key in ("readinessProbe", "livenessProbe", "securityContext", "ports"):
        container.pop(key, None)
    container["env"] = [v for v in container["env"] if "valueFrom" not in v or v["name"] == "SERVICE_REPLICA"]
    return doc


@pytest.fixture(scope="session")
def manifests(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("manifests")
    for color in ("blue", "green"):
        doc = yaml.safe_load((project_root() / "deploy" / f"deployment-{color}.yaml").read_text())
        (folder / f"deployment-{color}.yaml").write_text(yaml.safe_dump(_busybox(doc)))
    return folder


@pytest.fixture(scope="session")
def platform_config(namespace: str, manifests: Path) -> KubernetesPlatformConfig:
    return KubernetesPlatformConfig(
        kind="kubernetes", namespace=namespace, manifests=str(manifests)
    )
