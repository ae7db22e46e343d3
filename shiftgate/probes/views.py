"""The read views a check receives, by the environment's ``platform.kind`` and ``router.kind``.

One registry per adapter kind, named by dotted path (the way testinfra names its backends):
the class is imported only when an environment uses it, so the Kubernetes client is never
loaded for the sandbox, and no module here imports the sandbox package. An unknown kind is a
configuration error naming the key.
"""

from __future__ import annotations

import importlib
from typing import Any

from shiftgate.config.models import Environment
from shiftgate.errors import ConfigError
from shiftgate.probes.platform import PlatformView
from shiftgate.probes.router import RouterView


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
    # Until every adapter has its own reader class, the view is the adapter typed as a view.
    from shiftgate.platforms.factory import platform_for

    return platform_for(environment)


def router_view(environment: Environment) -> RouterView:
    """The read view of the environment's router (``router.kind``)."""
    from shiftgate.routers.factory import router_for

    return router_for(environment)
