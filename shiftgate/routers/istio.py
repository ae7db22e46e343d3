"""Traffic split by an Istio VirtualService: the weights of the colors' subsets.

The HTTP route that carries the colors is the first ``spec.http`` entry whose destinations
name a color's subset (``router.subsets``, defined by the DestinationRule). Weights are
written as percentages and read back; Istio rejects (through its validating webhook) a
route whose weights do not sum to 100, which surfaces as the API's own message.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from shiftgate.config.models import COLORS, Color
from shiftgate.config.models import IstioRouter as IstioRouterConfig
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json
from shiftgate.routers.base import RouterError, Weights
from shiftgate.routers.custom_object import CustomObjectRouter, percentages

GROUP, VERSION = "networking.istio.io", "v1beta1"


class IstioRouter(CustomObjectRouter):
    """The ``Router`` of a VirtualService's subset weights."""

    name = "istio"
    group, version, plural = GROUP, VERSION, "virtualservices"

    def __init__(
        self,
        config: IstioRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        super().__init__(
            config.namespace, config.virtual_service, "VirtualService", api_client, timeout=timeout
        )

    def _route(self, vs: Json) -> list[dict[str, Any]]:
        subsets = set(self.config.subsets.values())
        for http in vs.get("spec", {}).get("http", []):
            route: list[dict[str, Any]] = http.get("route", [])
            if any(d.get("destination", {}).get("subset") in subsets for d in route):
                return route
        raise RouterError(f"{self.what} has no http route to the subsets {', '.join(sorted(subsets))}")

    def _weights_of(self, vs: Json) -> Weights:
        route = self._route(vs)
        # Istio: a lone destination without a weight takes all traffic.
        default = 100 if len(route) == 1 else 0
        raw: dict[Color, int] = {
            color: sum(
                int(d.get("weight", default))
                for d in route
                if d.get("destination", {}).get("subset") == self.config.subsets[color]
            )
            for color in COLORS
        }
        return percentages(raw, self.what)

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
