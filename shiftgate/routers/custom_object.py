"""The write shared by routers whose weights live in one custom object (a Gateway API
HTTPRoute, an Istio VirtualService): change it through a conflict-safe update, let the
router reject what the cluster reports after the write, read it back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from shiftgate.probes.kube import Json, KubeCalls, KubeReads
from shiftgate.probes.kubernetes_routers import CustomObjectRouterView
from shiftgate.routers.base import RouterError, Weights, validate_weights


class KubeRouterWrites:
    """The write calls of a Kubernetes router, made from its view's client, namespace and
    timeouts: the writer classes add only this (and ``set_weights``) to their view."""

    calls: KubeReads

    @cached_property
    def writes(self) -> KubeCalls:
        return KubeCalls(self.calls.api_client, self.calls.namespace, RouterError, self.calls.timeout)


def write_weights(
    router: CustomObjectRouterView,
    writes: KubeCalls,
    weights: Weights,
    change: Callable[[Json], None],
    accepted: Callable[[Json], None],
) -> Weights:
    """``change`` the object, raise if ``accepted`` rejects the result, return what it holds."""
    validate_weights(router, weights)
    written = writes.modify_custom(router.resource, router.version, router.object_name, change)
    accepted(written)
    held = router.weights()
    if held != weights:
        raise RouterError(
            f"{router.what} holds {held} after writing {weights}: the cluster did not accept the shift"
        )
    return held
