"""The read view of an Argo Rollout's colors (``platform.kind: argo-rollout``).

Each color is a Service role (``shiftgate.config.argo``): blue the active Service, green the
preview Service. Argo adds ``rollouts-pod-template-hash`` to both selectors, so a role's pods,
logs and resource use are the Service's selector (``kubectl get pods -l <selector>``), its
version is the version label of the ReplicaSet with that hash, and its rollout status is that
ReplicaSet's readiness (what Argo waits for before its pre-promotion analysis). A Service
whose selector has no hash selects every revision at once: refused, never averaged.
"""

from __future__ import annotations

from typing import Any, Self

from shiftgate.config.argo import ArgoRolloutPlatform
from shiftgate.config.models import Color, Environment
from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.errors import ConfigError
from shiftgate.probes.kube import Json, Resource
from shiftgate.probes.kubernetes_platform import KubernetesPlatformView, version_of
from shiftgate.probes.platform import PlatformError, RolloutStatus

HASH_LABEL = "rollouts-pod-template-hash"
SERVICES = Resource("services")
REPLICASETS = Resource("replicasets", "apps")


class ArgoRolloutView(KubernetesPlatformView):
    """Reads only: the pods behind the Rollout's active (blue) and preview (green) Services."""

    name = "argo-rollout"

    def __init__(self, config: ArgoRolloutPlatform, *args: Any, **kwargs: Any) -> None:
        base = KubernetesPlatformConfig(
            kind="kubernetes", namespace=config.namespace, context=config.context,
            # One Rollout serves both roles: the per-color name the base model demands is
            # never used (deployment_name and the pods come from the Services below).
            in_cluster=config.in_cluster, deployment=f"{config.rollout}-{{color}}",
        )  # fmt: skip
        super().__init__(base, *args, **kwargs)
        self.argo = config

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config: object = environment.platform
        if not isinstance(config, ArgoRolloutPlatform):
            raise ConfigError(environment.source, "platform.kind", "expected argo-rollout")
        return cls(config)

    def service_name(self, color: Color) -> str:
        return self.argo.active_service if color == "blue" else self.argo.preview_service

    def deployment_name(self, color: Color) -> str:  # what the base's messages name
        return f"{self.service_name(color)} (Rollout {self.argo.rollout})"

    def _hash(self, color: Color) -> str:
        name = self.service_name(color)
        service = self.calls.read_optional(
            "get", SERVICES, self.core.read_namespaced_service, name, self.namespace
        )
        if service is None:
            raise PlatformError(f"service {name} not found in namespace {self.namespace}")
        selector = service.get("spec", {}).get("selector") or {}
        if HASH_LABEL not in selector:
            raise PlatformError(
                f"service {name} selects no single revision (no {HASH_LABEL} in its selector): "
                f"is it the {'activeService' if color == 'blue' else 'previewService'} of Rollout "
                f"{self.argo.rollout}, and has Argo reconciled it?"
            )
        return str(selector[HASH_LABEL])

    def _selector(self, color: Color) -> str:
        name = self.service_name(color)
        service = self.calls.read("get", SERVICES, self.core.read_namespaced_service, name, self.namespace)
        self._hash(color)  # refuse a selector over every revision
        labels = service["spec"]["selector"]
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def _replica_set(self, color: Color) -> Json | None:
        found = self.calls.read(
            "list", REPLICASETS, self.apps.list_namespaced_replica_set, self.namespace,
            label_selector=f"{HASH_LABEL}={self._hash(color)}",
        )  # fmt: skip
        owned = [
            rs for rs in found.get("items", [])
            if any(ref.get("kind") == "Rollout" and ref.get("name") == self.argo.rollout
                   for ref in rs["metadata"].get("ownerReferences", []))
        ]  # fmt: skip
        return owned[0] if owned else None

    def versions(self) -> dict[Color, str | None]:
        return {color: version_of(self._replica_set(color)) for color in ("blue", "green")}

    def rollout_status(self, color: Color) -> RolloutStatus:
        rs, where = self._replica_set(color), self.service_name(color)
        if rs is None:
            message = f"no ReplicaSet of Rollout {self.argo.rollout} behind service {where}"
            return RolloutStatus(color, None, 0, 0, 0, 0, complete=False, failed=True, message=message)
        name, desired = rs["metadata"]["name"], int(rs["spec"].get("replicas", 1))
        status = rs.get("status", {})
        ready, available = status.get("readyReplicas", 0), status.get("availableReplicas", 0)
        complete = desired > 0 and available >= desired
        message = f'replicaset "{name}" behind {where}: {available} of {desired} replicas available'
        if complete:
            message += " (complete)"
        # Every pod of the revision's ReplicaSet is up to date: updated = desired.
        return RolloutStatus(
            color, version_of(rs), desired, desired, ready, available, complete, False, message
        )

    def autoscaler(self, color: Color) -> Json | None:
        """The HorizontalPodAutoscaler that scales the Rollout (both roles share it)."""
        found = self.calls.read(
            "list", Resource("horizontalpodautoscalers", "autoscaling"),
            self.autoscaling.list_namespaced_horizontal_pod_autoscaler, self.namespace,
        )  # fmt: skip
        for hpa in found.get("items", []):
            target = hpa.get("spec", {}).get("scaleTargetRef", {})
            if target.get("kind") == "Rollout" and target.get("name") == self.argo.rollout:
                return dict(hpa)
        return None
