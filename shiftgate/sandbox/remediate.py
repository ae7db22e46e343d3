"""``shiftgate sandbox remediate``: the runbook's two database fixes, applied to the sandbox.

Not a check (checks never write): the demo's and the tests' way from the incident state to a
state the preflight gate passes. The index is built as production would build it, with
CREATE INDEX CONCURRENTLY (writes go on), then ANALYZE so the planner knows about it. The
new max_connections is what the capacity check asks for (the most it asks over a short
sampling of the other clients): the same analysis function computes
it from the same facts, so the fix and the check cannot disagree. ``sandbox reset`` undoes
both (``SandboxPostgres.restore_incident``).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from shiftgate.analysis.connections import others_peak, required_max_connections
from shiftgate.config.loader import load_environment
from shiftgate.errors import SandboxError, UsageError
from shiftgate.probes.other_clients import read_other_clients
from shiftgate.probes.postgres import PostgresProbe
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.routers.base import live_color
from shiftgate.sandbox import state as st
from shiftgate.sandbox.haproxy import AdminSocket
from shiftgate.sandbox.postgres import SandboxPostgres

INDEX_NAME = "recommendations_user_segment_score_idx"
CREATE_INDEX = (
    f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX_NAME} "
    "ON recommendations (user_segment, score DESC)"
)
# A leftover of an interrupted build carries the name but is INVALID: IF NOT EXISTS would
# keep it, so it is dropped first.
_INVALID_LEFTOVER = (
    "SELECT 1 FROM pg_index WHERE indexrelid = to_regclass(%s) AND NOT indisvalid"
)

SAMPLES = 15
MARGIN = 2
SAMPLE_INTERVAL_S = 0.1

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def remediate(
    index: bool = True,
    connections: bool = True,
    folder: Path | None = None,
    say: Say = _quiet,
    candidate: str | None = None,
) -> dict[str, int | bool]:
    """Apply the fixes asked for; returns what was done (for the CLI and tests).

    Connections are sized for the release about to happen: the version live now as the
    stable one, and ``candidate`` (default: the environment file's) on the idle color."""
    folder = (folder or st.state_dir()).resolve()
    done: dict[str, int | bool] = {}
    with st.locked(folder):
        state = st.load(folder)
        if state is None:
            raise UsageError("the sandbox was never started: run `shiftgate sandbox up`")
        pg = SandboxPostgres(state)
        if not pg.running():
            raise UsageError("the sandbox's PostgreSQL is not running: run `shiftgate sandbox up`")
        if index:
            say(f"creating index {INDEX_NAME} concurrently, then ANALYZE recommendations")
            with pg.admin() as conn:
                if conn.execute(_INVALID_LEFTOVER, (f"public.{INDEX_NAME}",)).fetchone():
                    conn.execute(f"DROP INDEX CONCURRENTLY public.{INDEX_NAME}")
                conn.execute(CREATE_INDEX)
                conn.execute("ANALYZE recommendations")
            done["index"] = True
        if connections:
            asked = _capacity_target(folder, _release_overrides(state, folder, candidate))
            # As a DBA would: round up to the next ten with room to spare, since the other
            # clients the check counts (exporter scrapes, admin sessions) come and go.
            target = math.ceil((asked + MARGIN) / 10) * 10
            current = pg.max_connections()
            done["max_connections"] = max(current, target)
            if current >= target:
                say(f"max_connections {current} already holds the demand ({target} needed)")
            else:
                say(f"raising max_connections {current} -> {target} (ALTER SYSTEM, restart)")
                with pg.admin() as conn:
                    conn.execute(f"ALTER SYSTEM SET max_connections = {int(target)}")
                pg.restart()
    return done


def _release_overrides(state: st.SandboxState, folder: Path, candidate: str | None) -> list[str]:
    weights = dict(state.weights)
    with contextlib.suppress(OSError, SandboxError):  # the recorded weights when HAProxy is down
        weights = dict(AdminSocket(state.haproxy_socket(folder)).weights())
    overrides = [f"versions.stable={state.colors[live_color(weights)].version}"]
    return overrides + ([f"versions.candidate={candidate}"] if candidate else [])


def _capacity_target(folder: Path, overrides: list[str]) -> int:
    """The capacity check's required max_connections, from this sandbox's facts."""
    # This folder's exported variables win: remediate the sandbox we were pointed at.
    environ = {**os.environ, **st.exported_environ(folder)}
    environment = load_environment("sandbox", environ=environ, overrides=overrides)
    probe = PostgresProbe.from_config(environment.database)
    try:
        settings = probe.settings()
        # Other clients count as the check counts them: at their peak over its look-back.
        reading = read_other_clients(environment, probe, PrometheusProbe(environment.prometheus))
        peak = others_peak(reading, environment)
        # Connections now still come and go (postgres_exporter connects per scrape): the fix
        # takes the most the check asks for over a second or two of them.
        targets = []
        for _ in range(SAMPLES):
            targets.append(required_max_connections(settings, probe.activity(), environment, peak))
            time.sleep(SAMPLE_INTERVAL_S)
        return max(targets)
    finally:
        probe.close()
