"""Routers whose weights live in one custom object (a Gateway API HTTPRoute, an Istio
VirtualService): read it, change it through a conflict-safe update, read it back.

Subclasses say where in the object the colors' weights are (``_weights_of``, ``_write``)
and may reject what the cluster reports after the write (``_accepted``).
"""

from __future__ import annotations

from kubernetes import client

from shiftgate.config.models import Color
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json, KubeCalls, Resource, make_api_client
from shiftgate.routers.base import RouterError, Weights, validate_weights


def percentages(raw: dict[Color, int], what: str) -> Weights:
    """Relative weights as percentages summing to 100 (blue rounded, green the rest)."""
    total = sum(raw.values())
    if total <= 0:
        raise RouterError(f"{what} gives both colors weight 0: it routes no traffic to either")
    blue = round(100 * raw["blue"] / total)
    return {"blue": blue, "green": 100 - blue}


class CustomObjectRouter:
    name = "custom-object"
    supports_partial = True
    group = ""
    version = ""
    plural = ""

    def __init__(
        self,
        namespace: str,
        object_name: str,
        kind: str,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        api = api_client or make_api_client()
        self.namespace = namespace
        self.object_name = object_name
        self.resource = Resource(self.plural, self.group)
        self.calls = KubeCalls(api, namespace, RouterError, timeout)
        self.custom = client.CustomObjectsApi(api)
        self.what = f"{kind} {object_name} in namespace {namespace}"

    def _weights_of(self, obj: Json) -> Weights:
        raise NotImplementedError

    def _write(self, obj: Json, weights: Weights) -> None:
        raise NotImplementedError

    def _accepted(self, written: Json) -> None:
        """Raise when the cluster reports the written object as not taken (default: fine)."""

    def weights(self) -> Weights:
        obj = self.calls.read(
            "get", self.resource, self.custom.get_namespaced_custom_object,
            self.group, self.version, self.namespace, self.plural, self.object_name,
        )
        return self._weights_of(obj)

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        written = self.calls.modify_custom(
            self.resource, self.version, self.object_name, lambda obj: self._write(obj, weights)
        )
        self._accepted(written)
        held = self.weights()
        if held != weights:
            raise RouterError(
                f"{self.what} holds {held} after writing {weights}: the cluster did not accept the shift"
            )
        return held
