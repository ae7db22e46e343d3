"""Blue-green by a Service's selector: all traffic to one color, no weights.

``set_weights`` takes only 100/0 splits; a 50 % step is refused by ``validate_weights`` with
a message naming this router, unless the environment sets ``router.skip_partial_shift`` and
the plan skips such steps (``skip_partial_shift`` is exposed for the runner to read).
"""

from __future__ import annotations

from kubernetes import client

from shiftgate.config.models import COLORS, other_color
from shiftgate.config.models import ServiceSelectorRouter as ServiceSelectorRouterConfig
from shiftgate.probes.kube import DEFAULT_TIMEOUT, KubeCalls, Resource, make_api_client
from shiftgate.routers.base import RouterError, Weights, live_color, validate_weights

SERVICES = Resource("services")


class ServiceSelectorRouter:
    """The ``Router`` that switches a Service's ``selector_key`` label between colors."""

    name = "service-selector"
    supports_partial = False

    def __init__(
        self,
        config: ServiceSelectorRouterConfig,
        api_client: client.ApiClient | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.config = config
        self.skip_partial_shift = config.skip_partial_shift
        api = api_client or make_api_client()
        self.calls = KubeCalls(api, config.namespace, RouterError, timeout)
        self.core = client.CoreV1Api(api)
        self.what = f"Service {config.service} in namespace {config.namespace}"

    def weights(self) -> Weights:
        service = self.calls.read(
            "get", SERVICES, self.core.read_namespaced_service, self.config.service, self.config.namespace
        )
        selected = (service.get("spec", {}).get("selector") or {}).get(self.config.selector_key)
        for color in COLORS:
            if selected == color:
                return {color: 100, other_color(color): 0}
        key = self.config.selector_key
        raise RouterError(f"{self.what} selects {key}={selected!r}, neither blue nor green")

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        color = live_color(weights)
        patch = {"spec": {"selector": {self.config.selector_key: color}}}
        self.calls.write(
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
