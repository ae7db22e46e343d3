"""Runbook checklist, Database: "Increase Database Max Connections" (Critical).

The last incident: both colors' pools opened during the shift and hit max_connections.
Other clients count at their peak over ``database.other_clients_lookback_s``: a job connected
20 s of every 30 s must be counted whenever the check runs, not by chance.
"""

from __future__ import annotations

import pytest

from shiftgate.analysis.connections import connection_capacity, connections_in_use, others_peak
from shiftgate.probes.other_clients import read_other_clients

CHECKLIST = "Increase Database Max Connections"


@pytest.mark.critical
@pytest.mark.checklist(CHECKLIST)
def test_max_connections_hold_both_colors_at_peak(db, prometheus, environment, expect):
    """max_connections holds both colors' pools at their peak, other clients at theirs and headroom."""
    others = others_peak(read_other_clients(environment, db, prometheus), environment)
    expect(connection_capacity(db.settings(), db.activity(), environment, others))


@pytest.mark.checklist(CHECKLIST)
def test_connections_in_use_below_limit(db, environment, expect):
    """Connection pool usage before deploying: connections in use / usable below the limit."""
    expect(connections_in_use(db.settings(), db.activity(), environment.database))
