"""The read views a check receives, by the environment's ``platform.kind`` and ``router.kind``.

One registry per adapter kind, named by dotted path (the way testinfra names its backends):
the class is imported only when an environment uses it, so the Kubernetes client is never
loaded for the sandbox, and no module here imports the sandbox package. Every registered
class is built by its ``from_environment(environment)``. An unknown kind is a configuration
error naming the environment file and the key, never a default.

The write sides have registries of their own (``shiftgate.platforms.registry``,
``shiftgate.routers.registry``); only the runner uses those.
"""

from __future__ import annotations

import importlib
from typing import Any

from shiftgate.config.models import Environment
from shiftgate.errors import ConfigError
from shiftgate.probes.platform import PlatformView
from shiftgate.probes.router import RouterView

PLATFORM_VIEWS: dict[str, str] = {
    # Read only: an Argo Rollout is changed by Argo, never by shiftgate's runner.
    "argo-rollout": "shiftgate.probes.argo_rollout:ArgoRolloutView",
    "kubernetes": "shiftgate.probes.kubernetes_platform:KubernetesPlatformView",
    "sandbox": "shiftgate.sandbox.platform_view:SandboxPlatformView",
}
ROUTER_VIEWS: dict[str, str] = {
    "gateway-api": "shiftgate.probes.kubernetes_routers:GatewayApiRouterView",
    "haproxy": "shiftgate.sandbox.router_view:HaproxyRouterView",
    "istio": "shiftgate.probes.kubernetes_routers:IstioRouterView",
    "service-selector": "shiftgate.probes.kubernetes_routers:ServiceSelectorRouterView",
}


def load_class(registry: dict[str, str], kind: str, key: str, source: str) -> Any:
    """The class registered for ``kind`` (``module:Class``); ConfigError naming ``key`` if none."""
    try:
        target = registry[kind]
    except KeyError:
        known = ", ".join(sorted(registry))
        raise ConfigError(source, key, f"unknown kind {kind!r}; known: {known}") from None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def platform_view(environment: Environment) -> PlatformView:
    """The read view of the environment's platform (``platform.kind``)."""
    cls = load_class(PLATFORM_VIEWS, environment.platform.kind, "platform.kind", environment.source)
    view: PlatformView = cls.from_environment(environment)
    return view


def router_view(environment: Environment) -> RouterView:
    """The read view of the environment's router (``router.kind``)."""
    cls = load_class(ROUTER_VIEWS, environment.router.kind, "router.kind", environment.source)
    view: RouterView = cls.from_environment(environment)
    return view
