"""Colors as Kubernetes Deployments, read through the official client (a ``PlatformView``).

Each color is one Deployment (``platform.deployment``, e.g. ``recommendation-blue``). The
decisions mirror kubectl so an engineer reading a verdict can reproduce it by hand: rollout
status = ``kubectl rollout status`` (observedGeneration, updated / ready / available
replicas, ProgressDeadlineExceeded fails), logs = ``kubectl logs``, resource use =
``kubectl top pods``. The write side (deploy, undo) is ``shiftgate.platforms.kubernetes``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Self

from kubernetes import client
from kubernetes.utils import parse_quantity

from shiftgate.config.models import COLORS, Color, Environment
from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json, KubeReads, Resource, make_api_client
from shiftgate.probes.platform import LogLine, PlatformError, ReplicaState, ResourceUse, RolloutStatus

VERSION_LABEL = "app.kubernetes.io/version"
DEPLOYMENTS = Resource("deployments", "apps")
PODS, POD_LOGS = Resource("pods"), Resource("pods/log")
POD_METRICS = Resource("pods", "metrics.k8s.io")
HPAS = Resource("horizontalpodautoscalers", "autoscaling")


def version_of(deployment: Json | None) -> str | None:
    """The template's version label, else its SERVICE_VERSION; None when nothing runs."""
    if deployment is None or deployment.get("spec", {}).get("replicas", 1) == 0:
        return None
    template = deployment["spec"]["template"]
    label = template.get("metadata", {}).get("labels", {}).get(VERSION_LABEL)
    if label:
        return str(label)
    for container in template["spec"].get("containers", []):
        for var in container.get("env", []):
            if var.get("name") == "SERVICE_VERSION" and "value" in var:
                return str(var["value"])
    return None


def decide_rollout(color: Color, deployment: Json) -> RolloutStatus:
    """``kubectl rollout status``'s decision for one Deployment, word for word."""
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status", {})
    name, desired = meta["name"], int(spec.get("replicas", 1))
    updated, ready = status.get("updatedReplicas", 0), status.get("readyReplicas", 0)
    available, total = status.get("availableReplicas", 0), status.get("replicas", 0)
    complete = failed = False
    waiting = f'Waiting for deployment "{name}" rollout to finish:'
    if meta.get("generation", 0) > status.get("observedGeneration", 0):
        message = "Waiting for deployment spec update to be observed..."
    elif any(
        c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
        for c in status.get("conditions", [])
    ):
        failed, message = True, f'deployment "{name}" exceeded its progress deadline'
    elif updated < desired:
        message = f"{waiting} {updated} out of {desired} new replicas have been updated..."
    elif total > updated:
        message = f"{waiting} {total - updated} old replicas are pending termination..."
    elif available < updated:
        message = f"{waiting} {available} of {updated} updated replicas are available..."
    else:
        complete, message = True, f'deployment "{name}" successfully rolled out'
    return RolloutStatus(
        color, version_of(deployment), desired, updated, ready, available, complete, failed, message
    )


def _quantity(text: str) -> float:
    """A Kubernetes quantity ("250m", "12345n", "64Mi") as a number of units."""
    return float(parse_quantity(text))  # type: ignore[no-untyped-call]


def _timestamp(text: str | None) -> float | None:
    """An RFC 3339 time of the API (``2024-05-01T10:00:00Z``) as Unix time; None if absent."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def replica_state(pod: Json) -> ReplicaState:
    """A pod's restarts (``kubectl get pods`` RESTARTS) and when the latest one ended."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    ended = [
        _timestamp(s.get("lastState", {}).get("terminated", {}).get("finishedAt")) for s in statuses
        if s.get("restartCount", 0) > 0
    ]
    known = [t for t in ended if t is not None]
    return ReplicaState(
        replica=pod["metadata"]["name"],
        restarts=sum(int(s.get("restartCount", 0)) for s in statuses),
        # One restart of unknown time makes the latest unknown: fail closed.
        last_restart_at=max(known) if known and len(known) == len(ended) else None,
    )


def _parse_log(replica: str, text: str, since: float) -> list[LogLine]:
    lines = []
    for raw in text.splitlines():
        stamp, _, rest = raw.partition(" ")
        try:  # RFC3339Nano: keep microseconds, fromisoformat takes no nanoseconds
            head, _, frac = stamp.rstrip("Z").partition(".")
            ts = datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00").timestamp()
        except ValueError:
            ts, rest = since, raw
        if ts >= since:
            lines.append(LogLine(replica, ts, rest))
    return lines


class KubernetesPlatformView:
    """The ``PlatformView`` of colors that run as Deployments in one namespace: reads only."""

    name = "kubernetes"

    def __init__(
        self,
        config: KubernetesPlatformConfig,
        api_client: client.ApiClient | None = None,
        *,
        poll_s: float = 2.0,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.poll_s, self.clock, self.sleep = poll_s, clock, sleep
        api = api_client or make_api_client(config.context, config.in_cluster)
        self.calls = KubeReads(api, config.namespace, PlatformError, timeout)
        self.apps = client.AppsV1Api(api)
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.autoscaling = client.AutoscalingV2Api(api)

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.platform
        assert config.kind == "kubernetes"  # the registry picks this class by that kind
        return cls(config)

    @property
    def namespace(self) -> str:
        return self.config.namespace

    def deployment_name(self, color: Color) -> str:
        return self.config.deployment.format(color=color)

    def _deployment(self, color: Color) -> Json | None:
        return self.calls.read_optional(
            "get",
            DEPLOYMENTS,
            self.apps.read_namespaced_deployment,
            self.deployment_name(color),
            self.namespace,
        )

    def _selector(self, color: Color) -> str:
        deployment = self._deployment(color)
        if deployment is None:
            raise PlatformError(
                f"deployment {self.deployment_name(color)} not found in namespace {self.namespace}"
            )
        labels = deployment["spec"]["selector"].get("matchLabels", {})
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def versions(self) -> dict[Color, str | None]:
        return {color: version_of(self._deployment(color)) for color in COLORS}

    def rollout_status(self, color: Color) -> RolloutStatus:
        deployment = self._deployment(color)
        if deployment is None:
            message = f"deployment {self.deployment_name(color)} not found in namespace {self.namespace}"
            return RolloutStatus(color, None, 0, 0, 0, 0, complete=False, failed=True, message=message)
        return decide_rollout(color, deployment)

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        deadline = self.clock() + timeout_s
        while True:
            status = self.rollout_status(color)
            if status.complete or status.failed:
                return status
            if self.clock() >= deadline:
                return replace(
                    status,
                    failed=True,
                    message=f"timed out after {timeout_s:g} s waiting for the rollout: {status.message}",
                )
            self.sleep(self.poll_s)

    def logs(self, color: Color, since: float) -> list[LogLine]:
        pods = self.calls.read(
            "list", PODS, self.core.list_namespaced_pod, self.namespace, label_selector=self._selector(color)
        )
        seconds = max(1, math.ceil(time.time() - since))
        lines: list[LogLine] = []
        for pod in pods.get("items", []):
            name = pod["metadata"]["name"]
            containers = [c["name"] for c in pod.get("spec", {}).get("containers", [])] or [None]
            for container in containers:
                text = self.calls.read_text(
                    "get",
                    POD_LOGS,
                    self.core.read_namespaced_pod_log,
                    name,
                    self.namespace,
                    container=container,
                    timestamps=True,
                    since_seconds=seconds,
                )
                replica = name if len(containers) == 1 else f"{name}/{container}"
                lines.extend(_parse_log(replica, text, since))
            lines.extend(self._previous_logs(pod, since, seconds, len(containers) > 1))
        return sorted(lines, key=lambda line: line.timestamp)

    def _previous_logs(self, pod: Json, since: float, seconds: int, several: bool) -> list[LogLine]:
        """``kubectl logs --previous`` of each container that restarted: a crash's errors
        are in the container that died, not in the one running now."""
        name = pod["metadata"]["name"]
        lines: list[LogLine] = []
        for status in pod.get("status", {}).get("containerStatuses") or []:
            if status.get("restartCount", 0) <= 0:
                continue
            container = status.get("name")
            text = self.calls.read_text(
                "get", POD_LOGS, self.core.read_namespaced_pod_log, name, self.namespace,
                container=container, timestamps=True, since_seconds=seconds, previous=True,
            )
            replica = f"{name}/{container}" if several else name
            lines.extend(_parse_log(f"{replica} (previous)", text, since))
        return lines

    def replicas(self, color: Color) -> list[ReplicaState]:
        pods = self.calls.read(
            "list", PODS, self.core.list_namespaced_pod, self.namespace, label_selector=self._selector(color)
        )
        return [replica_state(pod) for pod in pods.get("items", [])]

    def resource_use(self, color: Color) -> list[ResourceUse]:
        found = self.calls.read_optional(
            "list",
            POD_METRICS,
            self.custom.list_namespaced_custom_object,
            "metrics.k8s.io",
            "v1beta1",
            self.namespace,
            "pods",
            label_selector=self._selector(color),
        )
        if found is None:
            raise SourceUnavailable(
                "metrics.k8s.io", "the metrics API is not served (is metrics-server installed?)"
            )
        uses = []
        for item in found.get("items", []):
            usage = [c.get("usage", {}) for c in item.get("containers", [])]
            cpu = sum(_quantity(u.get("cpu", "0")) for u in usage)
            memory = int(sum(_quantity(u.get("memory", "0")) for u in usage))
            uses.append(ResourceUse(item["metadata"]["name"], cpu, memory))
        return uses

    def max_replicas(self, color: Color) -> int | None:
        hpa = self.autoscaler(color)
        return int(hpa["spec"]["maxReplicas"]) if hpa is not None else None

    def autoscaler(self, color: Color) -> Json | None:
        """The HorizontalPodAutoscaler that scales the color's Deployment, if any."""
        found = self.calls.read(
            "list", HPAS, self.autoscaling.list_namespaced_horizontal_pod_autoscaler, self.namespace
        )
        name = self.deployment_name(color)
        for hpa in found.get("items", []):
            target = hpa.get("spec", {}).get("scaleTargetRef", {})
            if target.get("kind") == "Deployment" and target.get("name") == name:
                return dict(hpa)
        return None
