"""Deploy and undo on Kubernetes Deployments (the ``Platform`` only the runner holds).

Extends the read view ``shiftgate.probes.kubernetes_platform.KubernetesPlatformView`` with
the writes, each mirroring kubectl so an engineer can reproduce it by hand:

- deploy = ``kubectl apply --server-side --force-conflicts --field-manager=shiftgate``: the
  color's manifest (``<platform.manifests>/deployment-<color>.yaml``) with the version in the
  image tag, the ``app.kubernetes.io/version`` labels and ``SERVICE_VERSION`` (plus
  per-version variables such as the pool sizes);
  Under a HorizontalPodAutoscaler the replica count is the autoscaler's: a manifest that sets
  ``spec.replicas`` is refused (applying it would reset the autoscaler's count on every
  release), and when shiftgate still owns the field from an older manifest, it is first
  handed over (the Kubernetes docs' "transferring ownership": a second field manager applies
  the live count, so shiftgate dropping the field does not reset it to 1);
- undo = ``kubectl rollout undo``: the previous revision's ReplicaSet template, with the
  ``pod-template-hash`` label removed, replaces the Deployment's template (JSON patch).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

import yaml
from kubernetes import client

from shiftgate.config.models import Color, Environment, VersionSpec
from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError, SourceUnavailable
from shiftgate.platforms.base import PlatformError
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json, KubeCalls, Resource
from shiftgate.probes.kubernetes_platform import (
    DEPLOYMENTS,
    VERSION_LABEL,
    KubernetesPlatformView,
    decide_rollout,
    version_of,
)

__all__ = ["KubernetesPlatform", "decide_rollout", "pool_env", "version_of", "with_tag"]

FIELD_MANAGER = "shiftgate"
HANDOVER_MANAGER = "shiftgate-handover-to-hpa"
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
# Annotations kubectl rollout undo keeps from the Deployment instead of the ReplicaSet.
UNDO_KEEP = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)
REPLICASETS = Resource("replicasets", "apps")


def pool_env(specs: Mapping[str, VersionSpec]) -> dict[str, dict[str, str]]:
    """Per-version variables from the environment file: each version's pool sizing."""
    return {
        version: {"POOL_MIN_SIZE": str(spec.pool.min_size), "POOL_MAX_SIZE": str(spec.pool.max_size)}
        for version, spec in specs.items()
    }


def with_tag(image: str, version: str) -> str:
    name = image.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    return f"{name}:{version}"


class KubernetesPlatform(KubernetesPlatformView):
    """The ``Platform`` of colors that run as Deployments in one namespace."""

    def __init__(
        self,
        config: KubernetesPlatformConfig,
        api_client: client.ApiClient | None = None,
        *,
        version_env: Mapping[str, Mapping[str, str]] | None = None,
        poll_s: float = 2.0,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(config, api_client, poll_s=poll_s, timeout=timeout, clock=clock, sleep=sleep)
        self.writes = KubeCalls(self.calls.api_client, config.namespace, PlatformError, timeout)
        self.version_env = version_env or {}

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.platform
        assert config.kind == "kubernetes"  # the registry picks this class by that kind
        return cls(config, version_env=pool_env(environment.versions.specs))

    def _manifest_path(self, color: Color) -> Path:
        folder = Path(self.config.manifests)
        path = folder if folder.is_absolute() else project_root() / folder
        return path / f"deployment-{color}.yaml"

    def _hand_over_replicas(self, color: Color) -> None:
        """If shiftgate owns ``spec.replicas`` (applied by an older manifest), share it with a
        second manager at the live value first: dropping a field nobody else owns resets it."""
        try:
            deployment = self._deployment(color)
        except SourceUnavailable as exc:
            raise PlatformError(f"cannot deploy {color}: API unreachable ({exc}); nothing changed") from None
        if deployment is None:
            return
        owned = any(
            entry.get("manager") == FIELD_MANAGER
            and "f:replicas" in (entry.get("fieldsV1") or {}).get("f:spec", {})
            for entry in deployment["metadata"].get("managedFields") or []
        )
        if not owned:
            return
        handover: Json = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": deployment["metadata"]["name"], "namespace": self.namespace},
            "spec": {"replicas": deployment["spec"].get("replicas", 1)},
        }
        self.writes.write(
            "patch",
            DEPLOYMENTS,
            self.apps.patch_namespaced_deployment,
            handover["metadata"]["name"],
            self.namespace,
            handover,
            field_manager=HANDOVER_MANAGER,
            _content_type="application/apply-patch+yaml",
        )

    def manifest(self, color: Color, version: str) -> Json:
        """The color's Deployment from the manifests folder, set to ``version``."""
        path = self._manifest_path(color)
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "Deployment"]
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(
                str(path), "platform.manifests", f"cannot read the {color} Deployment: {exc}"
            ) from None
        if len(docs) != 1:
            raise ConfigError(str(path), "platform.manifests", f"expected one Deployment, found {len(docs)}")
        body: Json = docs[0]
        body.pop("status", None)
        body["metadata"].update(name=self.deployment_name(color), namespace=self.namespace)
        template = body["spec"]["template"]
        for meta in (body["metadata"], template.setdefault("metadata", {})):
            meta.setdefault("labels", {})[VERSION_LABEL] = version
        env = {"SERVICE_VERSION": version, **self.version_env.get(version, {})}
        for container in template["spec"]["containers"][:1]:  # the service; sidecars keep theirs
            container["image"] = with_tag(container["image"], version)
            kept = [v for v in container.get("env", []) if v.get("name") not in env]
            container["env"] = kept + [{"name": k, "value": v} for k, v in env.items()]
        return body

    def deploy(self, color: Color, version: str) -> None:
        body = self.manifest(color, version)
        try:
            hpa = self.autoscaler(color)
        except SourceUnavailable as exc:  # a write path: the runner's error, not a failed check
            raise PlatformError(f"cannot deploy {color}: API unreachable ({exc}); nothing changed") from None
        if hpa is not None:
            if "replicas" in body["spec"]:
                raise ConfigError(
                    self._manifest_path(color).as_posix(),
                    "spec.replicas",
                    f"HorizontalPodAutoscaler {hpa['metadata']['name']} owns the replica count of "
                    f"{body['metadata']['name']}; remove spec.replicas from the manifest (applying "
                    f"{body['spec']['replicas']} would reset the autoscaler on every release)",
                )
            self._hand_over_replicas(color)
        self.writes.write(
            "patch",
            DEPLOYMENTS,
            self.apps.patch_namespaced_deployment,
            body["metadata"]["name"],
            self.namespace,
            body,
            field_manager=FIELD_MANAGER,
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    def undo(self, color: Color) -> None:
        deployment = self._deployment(color)
        name = self.deployment_name(color)
        if deployment is None:
            raise PlatformError(f"cannot undo: deployment {name} not found in namespace {self.namespace}")
        if deployment["spec"].get("paused"):
            raise PlatformError(
                f"cannot undo {name}: you cannot rollback a paused deployment; resume it first"
            )
        previous = self._previous_replica_set(deployment)
        template: Json = previous["spec"]["template"]
        template.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
        if template == deployment["spec"]["template"]:
            return  # kubectl: "skipped rollback (current template already matches revision N)"
        current = deployment["metadata"].get("annotations", {})
        annotations = {k: v for k, v in current.items() if k in UNDO_KEEP}
        annotations |= {
            k: v for k, v in previous["metadata"].get("annotations", {}).items() if k not in UNDO_KEEP
        }
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        self.writes.write(
            "patch",
            DEPLOYMENTS,
            self.apps.patch_namespaced_deployment,
            name,
            self.namespace,
            patch,
            field_manager=FIELD_MANAGER,
            _content_type="application/json-patch+json",
        )

    def _previous_replica_set(self, deployment: Json) -> Any:
        """The ReplicaSet of the second-highest revision owned by the Deployment."""
        labels = deployment["spec"]["selector"].get("matchLabels", {})
        found = self.calls.read(
            "list",
            REPLICASETS,
            self.apps.list_namespaced_replica_set,
            self.namespace,
            label_selector=",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        )
        uid = deployment["metadata"].get("uid")
        owned = [
            rs
            for rs in found.get("items", [])
            if any(
                ref.get("uid") == uid and ref.get("controller")
                for ref in rs["metadata"].get("ownerReferences", [])
            )
        ]
        ranked = sorted(
            owned, key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, "0")), reverse=True
        )
        if len(ranked) < 2:
            raise PlatformError(
                f"cannot undo: no rollout history found for deployment {deployment['metadata']['name']}"
            )
        return ranked[1]
