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

from shiftgate.config import COLORS, Color
from shiftgate.config import GatewayApiRouter as GatewayApiRouterConfig
from shiftgate.platforms.kube_client import DEFAULT_TIMEOUT, Json, KubeCalls, Resource, make_api_client
from shiftgate.routers.base import RouterError, Weights, validate_weights

GROUP, VERSION = "gateway.networking.k8s.io", "v1"
HTTPROUTES = Resource("httproutes", GROUP)


def percentages(raw: dict[Color, int], what: str) -> Weights:
    """Relative weights as percentages summing to 100 (blue rounded, green the rest)."""
    total = sum(raw.values())
    if total <= 0:
        raise RouterError(f"{what} gives both colors weight 0: it routes no traffic to either")
    blue = round(100 * raw["blue"] / total)
    return {"blue": blue, "green": 100 - blue}


class GatewayApiRouter:
    """The ``Router`` of an HTTPRoute's backend weights."""

    name = "gateway-api"
    supports_partial = True

    def __init__(
        self,
        config: GatewayApiRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        api = api_client or make_api_client()
        self.calls = KubeCalls(api, config.namespace, RouterError, timeout)
        self.custom = client.CustomObjectsApi(api)
        self.what = f"HTTPRoute {config.route} in namespace {config.namespace}"

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

    def weights(self) -> Weights:
        route = self.calls.read(
            "get",
            HTTPROUTES,
            self.custom.get_namespaced_custom_object,
            GROUP,
            VERSION,
            self.config.namespace,
            "httproutes",
            self.config.route,
        )
        return self._weights_of(route)

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)

        def change(route: Json) -> None:
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

        written = self.calls.modify_custom(HTTPROUTES, VERSION, self.config.route, change)
        self._check_accepted(written)
        held = self.weights()
        if held != weights:
            raise RouterError(
                f"{self.what} holds {held} after writing {weights}: the cluster did not accept the shift"
            )
        return held

    def _check_accepted(self, route: Json) -> None:
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
