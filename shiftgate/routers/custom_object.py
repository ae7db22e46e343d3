"""The write shared by routers whose weights live in one custom object (a Gateway API
HTTPRoute, an Istio VirtualService): change it through a conflict-safe update, let the
router reject what the cluster reports after the write, read it back.
"""

from __future__ import annotations

from collections.abc import Callable

from shiftgate.probes.kube import Json, KubeCalls
from shiftgate.probes.kubernetes_routers import CustomObjectRouterView
from shiftgate.routers.base import RouterError, Weights, validate_weights


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
