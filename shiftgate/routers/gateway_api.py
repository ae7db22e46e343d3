"""Traffic split by a Gateway API HTTPRoute: the weights of the two colors' backendRefs.

Reading is ``GatewayApiRouterView``; this adds the write. Other rules and other backends are
left as they are. Weights are written as percentages and read back after the write; a
parent (Gateway) that reports the new generation not Accepted / ResolvedRefs makes the shift
fail with the Gateway's own message.
"""

from __future__ import annotations

from shiftgate.config.models import COLORS
from shiftgate.probes.kube import Json
from shiftgate.probes.kubernetes_routers import GatewayApiRouterView
from shiftgate.routers.base import RouterError, Weights
from shiftgate.routers.custom_object import KubeRouterWrites, write_weights


class GatewayApiRouter(KubeRouterWrites, GatewayApiRouterView):
    """The ``Router`` of an HTTPRoute's backend weights."""

    def set_weights(self, weights: Weights) -> Weights:
        return write_weights(self, self.writes, weights, lambda r: self._write(r, weights), self._accepted)

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
