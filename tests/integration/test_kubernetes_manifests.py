"""deploy/ is accepted by ``kubectl apply --dry-run=client``, and the Role is least privilege.

kubectl needs API discovery even for a client-side dry run (it maps kinds to resources), so
it talks to the fake API server, which serves discovery for every kind in deploy/;
``--validate=false`` because schema validation downloads the server's OpenAPI document, which
the fake does not serve. Skipped when kubectl is not installed
(sandbox/install-system-packages.sh installs Debian's kubernetes-client).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.k8s_fake import FakeCluster
from tests.k8s_fake.cluster import DEPLOY_DIR, role_rules
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)

# deploy/locust/ too; deploy/rules/ holds the rendering parameters of prometheusrule.yaml
FILES = sorted(p for p in DEPLOY_DIR.rglob("*.yaml") if p.parent.name != "rules")
KUBECTL = shutil.which("kubectl")


def test_every_manifest_parses_with_kind_and_name() -> None:
    assert {p.name for p in FILES} >= {
        "deployment-blue.yaml",
        "deployment-green.yaml",
        "services.yaml",
        "httproute.yaml",
        "istio.yaml",
        "prometheusrule.yaml",
        "hpa.yaml",
        "rbac.yaml",
        "gate-job.yaml",
        "namespace.yaml",
    }
    for path in FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"], path
            assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == "recommendation", path


@pytest.mark.skipif(KUBECTL is None, reason="kubectl not installed: apt-get install kubernetes-client")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_kubectl_dry_run_accepts(path: Path, fake_cluster: FakeCluster) -> None:
    fake_cluster.fake.rules = None  # kubectl acts as the administrator here, not as the runner
    result = subprocess.run(
        [
            str(KUBECTL),
            "--kubeconfig",
            str(fake_cluster.kubeconfig),
            "apply",
            "--dry-run=client",
            "--validate=false",
            "-f",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "(dry run)" in result.stdout


def test_role_is_least_privilege() -> None:
    """No wildcard, no write beyond what the adapters use (tests/integration/test_kubernetes_*
    run every adapter through the fake, which enforces exactly these rules)."""
    writes = {
        (group, resource, verb)
        for rule in role_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        if verb not in ("get", "list")
    }
    assert writes == {
        ("apps", "deployments", "patch"),
        ("", "services", "patch"),
        ("gateway.networking.k8s.io", "httproutes", "update"),
        ("networking.istio.io", "virtualservices", "update"),
    }
    assert all("*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"] for rule in role_rules())
