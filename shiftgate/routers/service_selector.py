"""Blue-green by a Service's selector: all traffic to one color, no weights.

Reading is ``ServiceSelectorRouterView``. ``set_weights`` takes only 100/0 splits; a 50 %
step is refused by ``validate_weights`` with a message naming this router, unless the
environment sets ``router.skip_partial_shift`` and the plan skips such steps
(``skip_partial_shift`` is exposed for the runner to read).
"""

from __future__ import annotations

from shiftgate.probes.kubernetes_routers import SERVICES, ServiceSelectorRouterView
from shiftgate.routers.base import RouterError, Weights, live_color, validate_weights
from shiftgate.routers.custom_object import KubeRouterWrites


class ServiceSelectorRouter(KubeRouterWrites, ServiceSelectorRouterView):
    """The ``Router`` that switches a Service's ``selector_key`` label between colors."""

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        color = live_color(weights)
        patch = {"spec": {"selector": {self.config.selector_key: color}}}
        self.writes.write(
            "patch",
            SERVICES,
            self.core.patch_namespaced_service,
            self.config.service,
            self.config.namespace,
            patch,
        )
        held = self.weights()
        if held != weights:
            raise RouterError(
                f"{self.what} holds {held} after writing {weights}: the cluster did not accept the switch"
            )
        return held
