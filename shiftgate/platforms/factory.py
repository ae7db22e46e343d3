"""The platform of an environment, by its ``platform.kind``."""

from __future__ import annotations

from shiftgate.config.models import Environment
from shiftgate.platforms.base import Platform


def platform_for(environment: Environment) -> Platform:
    config = environment.platform
    if config.kind == "sandbox":
        from shiftgate.sandbox.platform import SandboxPlatform

        return SandboxPlatform()
    # Imported only here: the kubernetes client is heavy and unused in the sandbox.
    from shiftgate.platforms.kubernetes import KubernetesPlatform, pool_env
    from shiftgate.probes.kube import make_api_client

    client = make_api_client(config.context, config.in_cluster)
    return KubernetesPlatform(config, client, version_env=pool_env(environment.versions.specs))
