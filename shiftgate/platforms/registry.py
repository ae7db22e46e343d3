"""The platform the runner holds, by the environment's ``platform.kind``.

Named by dotted path and imported only when used, like the read views in
``shiftgate.probes.views``: the sandbox is named here only as a string, and the Kubernetes
client is not loaded for it. An unknown kind is a configuration error naming the file and
``platform.kind``.
"""

from __future__ import annotations

from shiftgate.config.models import Environment
from shiftgate.errors import ConfigError
from shiftgate.platforms.base import Platform
from shiftgate.probes.views import load_class

PLATFORMS: dict[str, str] = {
    "kubernetes": "shiftgate.platforms.kubernetes:KubernetesPlatform",
    "sandbox": "shiftgate.sandbox.platform:SandboxPlatform",
}


READ_ONLY: dict[str, str] = {
    "argo-rollout": "Argo Rollouts changes a Rollout; shiftgate runs its gates as Argo's analysis "
    "(ci/argo/) and never deploys or shifts it",
}
"""Kinds checks can read but the runner cannot act on, and why."""


def platform_for(environment: Environment) -> Platform:
    kind = environment.platform.kind
    if kind in READ_ONLY:
        raise ConfigError(environment.source, "platform.kind", f"{kind} is read-only: {READ_ONLY[kind]}")
    cls = load_class(PLATFORMS, environment.platform.kind, "platform.kind", environment.source)
    platform: Platform = cls.from_environment(environment)
    return platform
