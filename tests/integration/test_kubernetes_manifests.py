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

from shiftgate.probes.kube import Resource
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
        (group, resource, verb, tuple(rule.get("resourceNames", ())))
        for rule in role_rules()
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        if verb not in ("get", "list")
    }
    assert writes == {
        ("apps", "deployments", "patch", ("recommendation-blue", "recommendation-green")),
        ("", "services", "patch", ("recommendation-live",)),
        ("gateway.networking.k8s.io", "httproutes", "update", ("recommendation",)),
        ("networking.istio.io", "virtualservices", "update", ("recommendation",)),
        # the run lock and record (deploy/run-state.yaml), created by the administrator
        ("coordination.k8s.io", "leases", "update", ("shiftgate-recommendation-production",)),
        ("", "configmaps", "update", ("shiftgate-recommendation-production",)),
    }
    assert all("*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"] for rule in role_rules())


def test_gate_role_only_reads_and_reads_what_the_runner_reads() -> None:
    gate = role_rules(role="shiftgate-gate")
    assert {verb for rule in gate for verb in rule["verbs"]} == {"get", "list"}
    reads = {
        (g, r) for rule in role_rules() if set(rule["verbs"]) <= {"get", "list"}
        for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert {(g, r) for rule in gate for g in rule["apiGroups"] for r in rule["resources"]} == reads


def _bindings() -> dict[str, str]:
    docs = [d for d in yaml.safe_load_all((DEPLOY_DIR / "rbac.yaml").read_text()) if d]
    return {
        d["subjects"][0]["name"]: d["roleRef"]["name"] for d in docs if d["kind"] == "RoleBinding"
    }


def test_each_identity_is_bound_to_its_role() -> None:
    assert _bindings() == {"shiftgate-gate": "shiftgate-gate", "shiftgate-runner": "shiftgate-runner"}


def test_gate_identity_cannot_deploy_or_move_traffic(fake_cluster: FakeCluster) -> None:
    """A gate Job (Argo, Flagger) that tried to write would get a 403 naming the verb."""
    from shiftgate.platforms.base import PlatformError
    from shiftgate.platforms.kubernetes import KubernetesPlatform
    from shiftgate.routers.gateway_api import GatewayApiRouter

    fake_cluster.fake.allow(role_rules(role="shiftgate-gate"))
    api = fake_cluster.api_client()
    platform = KubernetesPlatform(fake_cluster.platform_config(), api_client=api, poll_s=0.001)
    assert platform.versions() == {"blue": "2.4.3", "green": "2.4.3"}  # reads work
    with pytest.raises(PlatformError, match=r"may not patch deployments\.apps"):
        platform.deploy("blue", "2.5.0")
    router = GatewayApiRouter(fake_cluster.gateway_config(), api_client=api)
    with pytest.raises(Exception, match="may not update httproutes"):
        router.set_weights({"blue": 50, "green": 50})


def test_runner_may_write_only_the_named_objects(fake_cluster: FakeCluster) -> None:
    """resourceNames: the runner's patch right covers the two colors, not another Deployment."""
    from shiftgate.platforms.base import PlatformError
    from shiftgate.platforms.kubernetes import KubernetesPlatform

    fake_cluster.fake.allow(role_rules())
    platform = KubernetesPlatform(fake_cluster.platform_config(), api_client=fake_cluster.api_client())
    patch = [{"op": "add", "path": "/metadata/labels/touched", "value": "yes"}]
    for name, allowed in (("recommendation-blue", True), ("locust-master", False)):
        call = lambda name=name: platform.writes.write(  # noqa: E731
            "patch", Resource("deployments", "apps"), platform.apps.patch_namespaced_deployment,
            name, "recommendation", patch, _content_type="application/json-patch+json",
        )
        if allowed:
            call()
        else:
            with pytest.raises(PlatformError, match=r"may not patch deployments\.apps"):
                call()
