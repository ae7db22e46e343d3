"""Traffic split by an Istio VirtualService: the weights of the colors' subsets.

Reading is ``IstioRouterView``; this adds the write. Weights are written as percentages and
read back; Istio rejects (through its validating webhook) a route whose weights do not sum
to 100, which surfaces as the API's own message.
"""

from __future__ import annotations

from shiftgate.config.models import COLORS
from shiftgate.probes.kube import Json
from shiftgate.probes.kubernetes_routers import IstioRouterView
from shiftgate.routers.base import Weights
from shiftgate.routers.custom_object import KubeRouterWrites, write_weights


class IstioRouter(KubeRouterWrites, IstioRouterView):
    """The ``Router`` of a VirtualService's subset weights."""

    def set_weights(self, weights: Weights) -> Weights:
        # Istio accepts or rejects in the write itself (its webhook): nothing to check after.
        return write_weights(self, self.writes, weights, lambda vs: self._write(vs, weights), lambda _: None)

    def _write(self, vs: Json, weights: Weights) -> None:
        route = self._route(vs)
        for color in COLORS:
            subset = self.config.subsets[color]
            mine = [d for d in route if d.get("destination", {}).get("subset") == subset]
            if not mine:  # same host as the other color's destination, this color's subset
                host = route[0]["destination"].get("host")
                mine = [{"destination": {"host": host, "subset": subset}}]
                route.append(mine[0])
            for i, dest in enumerate(mine):
                dest["weight"] = weights[color] if i == 0 else 0
