"""Kept only until ``shiftgate.load.run`` reads weights through ``probes.views.router_view``;
then delete this module. Use ``shiftgate.routers.registry.router_for``."""

from shiftgate.routers.registry import router_for

__all__ = ["router_for"]
