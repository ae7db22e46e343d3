"""pytest fixtures of the fake cluster (see ``tests.k8s_fake`` for what it serves).

``fake_cluster``: a fresh, seeded fake cluster per test, stopped afterwards.
``kube_api_client``: a ``kubernetes.client.ApiClient`` connected to it.
``fake_kubeconfig``: its kubeconfig path, also exported as ``$KUBECONFIG`` for the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.k8s_fake.cluster import FakeCluster, start_fake_cluster

__all__ = ["fake_cluster", "fake_kubeconfig", "kube_api_client"]


@pytest.fixture
def fake_cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    cluster = start_fake_cluster(tmp_path)
    yield cluster
    cluster.stop()


@pytest.fixture
def kube_api_client(fake_cluster: FakeCluster) -> Iterator[client.ApiClient]:
    api = fake_cluster.api_client()
    yield api
    api.close()


@pytest.fixture
def fake_kubeconfig(fake_cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KUBECONFIG", str(fake_cluster.kubeconfig))
    return fake_cluster.kubeconfig
