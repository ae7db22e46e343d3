"""The router of an environment, by its ``router.kind``."""

from __future__ import annotations

from shiftgate.config.models import Environment
from shiftgate.routers.base import Router


def router_for(environment: Environment) -> Router:
    config = environment.router
    # Imported by kind: the Kubernetes routers pull in the kubernetes client.
    if config.kind == "haproxy":
        from shiftgate.sandbox.router import HaproxyRouter

        return HaproxyRouter(config)
    from shiftgate.probes.kube import make_api_client

    platform = environment.platform
    context = platform.context if platform.kind == "kubernetes" else None
    in_cluster = platform.in_cluster if platform.kind == "kubernetes" else False
    client = make_api_client(context, in_cluster)
    if config.kind == "gateway-api":
        from shiftgate.routers.gateway_api import GatewayApiRouter

        return GatewayApiRouter(config, api_client=client)
    if config.kind == "istio":
        from shiftgate.routers.istio import IstioRouter

        return IstioRouter(config, api_client=client)
    from shiftgate.routers.service_selector import ServiceSelectorRouter

    return ServiceSelectorRouter(config, api_client=client)
