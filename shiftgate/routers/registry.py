"""The router the runner holds, by the environment's ``router.kind``.

Named by dotted path and imported only when used, like the read views in
``shiftgate.probes.views``: the sandbox's HAProxy is named here only as a string, and the
Kubernetes client is not loaded for it. An unknown kind is a configuration error naming the
file and ``router.kind`` (never a default router).
"""

from __future__ import annotations

from shiftgate.config.models import Environment
from shiftgate.probes.views import load_class
from shiftgate.routers.base import Router

ROUTERS: dict[str, str] = {
    "gateway-api": "shiftgate.routers.gateway_api:GatewayApiRouter",
    "haproxy": "shiftgate.sandbox.router:HaproxyRouter",
    "istio": "shiftgate.routers.istio:IstioRouter",
    "service-selector": "shiftgate.routers.service_selector:ServiceSelectorRouter",
}


def router_for(environment: Environment) -> Router:
    cls = load_class(ROUTERS, environment.router.kind, "router.kind", environment.source)
    router: Router = cls.from_environment(environment)
    return router
