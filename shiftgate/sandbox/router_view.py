"""The HAProxy router, read: each color's weight through HAProxy's admin socket (runtime
API, ``get weight``). The write side is ``shiftgate.sandbox.router.HaproxyRouter``.
"""

from __future__ import annotations

from typing import Self

from shiftgate.config.models import Environment
from shiftgate.config.models import HaproxyRouter as HaproxyRouterConfig
from shiftgate.errors import SandboxError, SourceUnavailable
from shiftgate.probes.router import Weights
from shiftgate.sandbox.haproxy import AdminSocket


class HaproxyRouterView:
    """The ``RouterView`` of the sandbox's HAProxy: reads only."""

    name = "haproxy"
    supports_partial = True

    def __init__(self, config: HaproxyRouterConfig) -> None:
        self.config = config
        self.socket = AdminSocket(config.admin_socket)

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        config = environment.router
        assert config.kind == "haproxy"  # the registry picks this class by that kind
        return cls(config)

    @property
    def source(self) -> str:
        return f"haproxy admin socket {self.config.admin_socket}"

    def weights(self) -> Weights:
        try:
            return self.socket.weights(self.config.backend)
        except (OSError, SandboxError) as exc:
            raise SourceUnavailable(self.source, str(exc)) from None
