"""Blue-green by a Service's selector: all traffic to one color, no weights.

Reading is ``ServiceSelectorRouterView``. ``set_weights`` takes only 100/0 splits; a 50 %
step is refused by ``validate_weights`` with a message naming this router, unless the
environment sets ``router.skip_partial_shift`` and the plan skips such steps
(``skip_partial_shift`` is exposed for the runner to read).
"""

from __future__ import annotations

from kubernetes import client

from shiftgate.config.models import ServiceSelectorRouter as ServiceSelectorRouterConfig
from shiftgate.probes.kube import DEFAULT_TIMEOUT, KubeCalls
from shiftgate.probes.kubernetes_routers import SERVICES, ServiceSelectorRouterView
from shiftgate.routers.base import RouterError, Weights, live_color, validate_weights


class ServiceSelectorRouter(ServiceSelectorRouterView):
    """The ``Router`` that switches a Service's ``selector_key`` label between colors."""

    def __init__(
        self,
        config: ServiceSelectorRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(config, api_client, timeout=timeout)
        self.writes = KubeCalls(self.calls.api_client, config.namespace, RouterError, timeout)

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
