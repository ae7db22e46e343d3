"""Traffic split by a Gateway API HTTPRoute: the weights of the two colors' backendRefs.

The rule that carries the colors is the first one whose backendRefs name a color's Service;
other rules and other backends are left as they are. Weights are written as percentages
(Gateway API weights are relative; an omitted weight counts as 1) and read back after the
write; a parent (Gateway) that reports the new generation not Accepted / ResolvedRefs makes
the shift fail with the Gateway's own message.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from shiftgate.config.models import COLORS, Color
from shiftgate.config.models import GatewayApiRouter as GatewayApiRouterConfig
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json
from shiftgate.routers.base import RouterError, Weights
from shiftgate.routers.custom_object import CustomObjectRouter, percentages

GROUP, VERSION = "gateway.networking.k8s.io", "v1"


class GatewayApiRouter(CustomObjectRouter):
    """The ``Router`` of an HTTPRoute's backend weights."""

    name = "gateway-api"
    group, version, plural = GROUP, VERSION, "httproutes"

    def __init__(
        self,
        config: GatewayApiRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        super().__init__(config.namespace, config.route, "HTTPRoute", api_client, timeout=timeout)

    def _rule(self, route: Json) -> list[dict[str, Any]]:
        names = set(self.config.backends.values())
        for rule in route.get("spec", {}).get("rules", []):
            refs: list[dict[str, Any]] = rule.get("backendRefs", [])
            if any(ref.get("name") in names for ref in refs):
                return refs
        raise RouterError(f"{self.what} has no rule with a backendRef to {', '.join(sorted(names))}")

    def _weights_of(self, route: Json) -> Weights:
        refs = self._rule(route)
        raw: dict[Color, int] = {
            color: sum(int(r.get("weight", 1)) for r in refs if r.get("name") == self.config.backends[color])
            for color in COLORS
        }
        return percentages(raw, self.what)

    def _write(self, route: Json, weights: Weights) -> None:
        refs = self._rule(route)
        for color in COLORS:
            backend = self.config.backends[color]
            mine = [r for r in refs if r.get("name") == backend]
            if not mine:  # the other color's port: both colors' Services expose the same one
                port = next((r["port"] for r in refs if "port" in r), None)
                mine = [{"name": backend, **({"port": port} if port else {})}]
                refs.append(mine[0])
            for i, ref in enumerate(mine):
                ref["weight"] = weights[color] if i == 0 else 0

    def _accepted(self, route: Json) -> None:
        generation = route.get("metadata", {}).get("generation", 0)
        for parent in route.get("status", {}).get("parents", []):
            for cond in parent.get("conditions", []):
                if (
                    cond.get("type") in ("Accepted", "ResolvedRefs")
                    and cond.get("status") == "False"
                    and cond.get("observedGeneration", 0) >= generation
                ):
                    gateway = parent.get("parentRef", {}).get("name", "?")
                    raise RouterError(
                        f"{self.what}: Gateway {gateway} reports {cond['type']}=False "
                        f"({cond.get('reason', '')}: {cond.get('message', '')})"
                    )
