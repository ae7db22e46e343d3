"""Fixtures of the checks: read-only probes built from the ``environment`` fixture.

A probe connects lazily, on its first query: a database that cannot be reached raises
``SourceUnavailable`` inside the check, which the plugin reports as a failed check with its
reason (never an error, a skip or a traceback).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shiftgate.config import Environment
from shiftgate.probes.postgres import PostgresProbe


@pytest.fixture(scope="session")
def db(environment: Environment) -> Iterator[PostgresProbe]:
    """The environment's database, read-only (``environment.database``)."""
    probe = PostgresProbe.from_config(environment.database)
    yield probe
    probe.close()
