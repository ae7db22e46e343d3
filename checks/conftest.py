"""The one home of the checks' fixtures: one read-only view per source, each defined once.

Nothing here touches the world: a probe connects on its first call, inside a check, so a
source that cannot be reached is a failed check with its reason (docs/architecture.md, rule 1),
never a setup error. Checks get read views only: no fixture hands out anything that can
deploy, undo or move traffic.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shiftgate.config.models import Environment
from shiftgate.probes.platform import PlatformView
from shiftgate.probes.postgres import PostgresProbe
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.probes.router import RouterView
from shiftgate.probes.views import platform_view, router_view


@pytest.fixture(scope="session")
def db(environment: Environment) -> Iterator[PostgresProbe]:
    """The environment's database, read-only (``environment.database``)."""
    probe = PostgresProbe.from_config(environment.database)
    yield probe
    probe.close()


@pytest.fixture(scope="session")
def prometheus(environment: Environment) -> PrometheusProbe:
    """The environment's Prometheus (``environment.prometheus``)."""
    return PrometheusProbe(environment.prometheus)


@pytest.fixture(scope="session")
def platform(environment: Environment) -> PlatformView:
    """Where colors run, read only (``environment.platform``)."""
    return platform_view(environment)


@pytest.fixture(scope="session")
def router(environment: Environment) -> RouterView:
    """How traffic is split now, read only (``environment.router``)."""
    return router_view(environment)
