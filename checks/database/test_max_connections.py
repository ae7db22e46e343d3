"""Runbook checklist, Database: "Increase Database Max Connections" (Critical).

The last incident: both colors' pools opened during the shift and hit max_connections.
"""

from __future__ import annotations

import pytest

from shiftgate.analysis.connections import connection_capacity, connections_in_use

CHECKLIST = "Increase Database Max Connections"


@pytest.mark.critical
@pytest.mark.checklist(CHECKLIST)
def test_max_connections_hold_both_colors_at_peak(db, environment, expect):
    """max_connections holds both colors' pools at their peak, other clients and headroom."""
    expect(connection_capacity(db.settings(), db.activity(), environment))


@pytest.mark.checklist(CHECKLIST)
def test_connections_in_use_below_limit(db, environment, expect):
    """Connection pool usage before deploying: connections in use / usable below the limit."""
    expect(connections_in_use(db.settings(), db.activity(), environment.database))
