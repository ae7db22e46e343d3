"""The HAProxy router, written: color weights through HAProxy's admin socket (runtime API).

Every replica of a color in the router backend carries the color's weight; a change is
applied with ``set weight`` and read back with ``get weight`` — no reload, no dropped
connection, effective for the next request.
"""

from __future__ import annotations

from shiftgate.errors import SandboxError
from shiftgate.routers.base import RouterError, Weights, validate_weights
from shiftgate.sandbox.router_view import HaproxyRouterView


class HaproxyRouter(HaproxyRouterView):
    """The ``Router`` of the sandbox's HAProxy."""

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        try:
            self.socket.set_weights(weights, self.config.backend)
            held = self.socket.weights(self.config.backend)
        except (OSError, SandboxError) as exc:
            raise RouterError(f"{self.source}: could not set weights {weights}: {exc}") from None
        if held != weights:
            raise RouterError(f"{self.source}: wrote {weights} but HAProxy holds {held}")
        return held
