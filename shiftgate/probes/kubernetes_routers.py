"""Traffic weights read from Kubernetes (the ``RouterView`` of each Kubernetes router kind).

- Gateway API: the weights of the two colors' backendRefs in an HTTPRoute's first rule that
  names a color's Service (weights are relative; an omitted weight counts as 1);
- Istio: the weights of the colors' subsets in a VirtualService's first ``spec.http`` route
  that names a color's subset (a lone destination without a weight takes all traffic);
- Service selector: all traffic to the color the Service's ``selector_key`` label selects.

Weights are reported as percentages summing to 100. The write sides are in
``shiftgate.routers``.
"""

from __future__ import annotations

from typing import Any, Self

from kubernetes import client

from shiftgate.config.models import COLORS, Color, Environment, other_color
from shiftgate.config.models import GatewayApiRouter as GatewayApiRouterConfig
from shiftgate.config.models import IstioRouter as IstioRouterConfig
from shiftgate.config.models import ServiceSelectorRouter as ServiceSelectorRouterConfig
from shiftgate.probes.kube import DEFAULT_TIMEOUT, Json, KubeReads, Resource, api_client_for, make_api_client
from shiftgate.probes.router import RouterError, Weights

SERVICES = Resource("services")


def percentages(raw: dict[Color, int], what: str) -> Weights:
    """Relative weights as percentages summing to 100 (blue rounded, green the rest)."""
    total = sum(raw.values())
    if total <= 0:
        raise RouterError(f"{what} gives both colors weight 0: it routes no traffic to either")
    blue = round(100 * raw["blue"] / total)
    return {"blue": blue, "green": 100 - blue}


class CustomObjectRouterView:
    """Weights that live in one custom object; subclasses say where (``_weights_of``)."""

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
        self.calls = KubeReads(api, namespace, RouterError, timeout)
        self.custom = client.CustomObjectsApi(api)
        self.what = f"{kind} {object_name} in namespace {namespace}"

    def _weights_of(self, obj: Json) -> Weights:
        raise NotImplementedError

    def weights(self) -> Weights:
        obj = self.calls.read(
            "get", self.resource, self.custom.get_namespaced_custom_object,
            self.group, self.version, self.namespace, self.plural, self.object_name,
        )
        return self._weights_of(obj)


class GatewayApiRouterView(CustomObjectRouterView):
    """The weights of an HTTPRoute's backendRefs."""

    name = "gateway-api"
    group, version, plural = "gateway.networking.k8s.io", "v1", "httproutes"

    def __init__(
        self,
        config: GatewayApiRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        super().__init__(config.namespace, config.route, "HTTPRoute", api_client, timeout=timeout)

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.router
        assert config.kind == "gateway-api"  # the registry picks this class by that kind
        return cls(config, api_client=api_client_for(environment))

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


class IstioRouterView(CustomObjectRouterView):
    """The weights of a VirtualService's subsets."""

    name = "istio"
    group, version, plural = "networking.istio.io", "v1beta1", "virtualservices"

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

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.router
        assert config.kind == "istio"  # the registry picks this class by that kind
        return cls(config, api_client=api_client_for(environment))

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


class ServiceSelectorRouterView:
    """The color a Service's ``selector_key`` label selects: 100/0, no weights in between."""

    name = "service-selector"
    supports_partial = False

    def __init__(
        self,
        config: ServiceSelectorRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        self.skip_partial_shift = config.skip_partial_shift
        api = api_client or make_api_client()
        self.calls = KubeReads(api, config.namespace, RouterError, timeout)
        self.core = client.CoreV1Api(api)
        self.what = f"Service {config.service} in namespace {config.namespace}"

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.router
        assert config.kind == "service-selector"  # the registry picks this class by that kind
        return cls(config, api_client=api_client_for(environment))

    def weights(self) -> Weights:
        service = self.calls.read(
            "get", SERVICES, self.core.read_namespaced_service, self.config.service, self.config.namespace
        )
        selected = (service.get("spec", {}).get("selector") or {}).get(self.config.selector_key)
        for color in COLORS:
            if selected == color:
                return {color: 100, other_color(color): 0}
        key = self.config.selector_key
        raise RouterError(f"{self.what} selects {key}={selected!r}, neither blue nor green")
