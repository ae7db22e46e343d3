"""Start, seed and stop one fake cluster; hand out clients, a kubeconfig and typed configs."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from shiftgate.config.models import GatewayApiRouter, IstioRouter, KubernetesPlatform, ServiceSelectorRouter
from shiftgate.config.paths import project_root
from tests.k8s_fake.controller import ControllerSimulator
from tests.k8s_fake.server import BY_KIND, FakeApiServer, serve

NAMESPACE = "recommendation"
DEPLOY_DIR = project_root() / "deploy"


def manifests(folder: Path = DEPLOY_DIR) -> list[dict[str, Any]]:
    """Every object of ``deploy/*.yaml`` (not the sql/ and locust/ sub-folders)."""
    docs: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def role_rules(folder: Path = DEPLOY_DIR, role: str = "shiftgate-runner") -> list[dict[str, Any]]:
    """The rules of a Role in deploy/rbac.yaml (the runner's by default; ``shiftgate-gate`` is
    the read-only one of gates): what the fake lets the client do."""
    roles = [d for d in manifests(folder) if d["kind"] == "Role" and d["metadata"]["name"] == role]
    assert roles, f"deploy/rbac.yaml has no Role {role}"
    return list(roles[0]["rules"])


@dataclass
class FakeCluster:
    fake: FakeApiServer
    controller: ControllerSimulator
    url: str
    kubeconfig: Path
    namespace: str = NAMESPACE
    _httpd: ThreadingHTTPServer | None = field(default=None, repr=False)

    def api_client(self) -> client.ApiClient:
        configuration = client.Configuration()
        configuration.host = self.url
        configuration.retries = 0  # an unreachable API fails at once instead of retrying
        return client.ApiClient(configuration)

    def platform_config(self, **overrides: Any) -> KubernetesPlatform:
        values: dict[str, Any] = {
            "kind": "kubernetes",
            "namespace": self.namespace,
            "context": "fake",
            "manifests": str(DEPLOY_DIR),
        }
        return KubernetesPlatform.model_validate(values | overrides)

    def gateway_config(self) -> GatewayApiRouter:
        return GatewayApiRouter(
            kind="gateway-api",
            namespace=self.namespace,
            route="recommendation",
            backends={"blue": "recommendation-blue", "green": "recommendation-green"},
        )

    def istio_config(self) -> IstioRouter:
        return IstioRouter(
            kind="istio",
            namespace=self.namespace,
            virtual_service="recommendation",
            subsets={"blue": "blue", "green": "green"},
        )

    def selector_config(self, skip_partial_shift: bool = False) -> ServiceSelectorRouter:
        return ServiceSelectorRouter(
            kind="service-selector",
            namespace=self.namespace,
            service="recommendation-live",
            skip_partial_shift=skip_partial_shift,
        )

    def stop(self) -> None:
        """Stop serving: from now on the API is unreachable (connection refused)."""
        self.fake.closed = True  # open watches end
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


def start_fake_cluster(workdir: Path, enforce_rbac: bool = True) -> FakeCluster:
    """A fake cluster seeded with deploy/, both colors rolled out, RBAC as deploy/rbac.yaml."""
    fake = FakeApiServer()
    controller = ControllerSimulator(fake)
    for doc in manifests():
        if doc["kind"] in BY_KIND:
            fake.put(copy.deepcopy(doc), NAMESPACE)
    controller.settle()
    if enforce_rbac:
        fake.allow(role_rules())
    httpd, url = serve(fake)
    kubeconfig = workdir / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "fake",
                "clusters": [{"name": "fake", "cluster": {"server": url}}],
                "users": [{"name": "shiftgate", "user": {"token": "fake-token"}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "shiftgate", "namespace": NAMESPACE},
                    }
                ],
            }
        )
    )
    return FakeCluster(fake, controller, url, kubeconfig, _httpd=httpd)
