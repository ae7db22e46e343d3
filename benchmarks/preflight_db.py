"""Wall time of the database checks at 2 M and at 20 M rows: catalog-only probing stays flat.

    .venv/bin/python benchmarks/preflight_db.py [--runs N]

Uses its own sandbox state folder (.sandbox-bench-db/), removed at the end, so a sandbox in
use is not disturbed. One measurement = the three database check files' work in-process: a
new probe (connect included), every fact they read (settings, activity, the required
indexes' tables, EXPLAIN of each critical query with each parameter set and as a generic
plan) and the analysis into verdicts. Median of N, in the incident state (no index) and with
the index, first at the seeded 2 M rows of `recommendations`, then after growing it to 20 M
(INSERT … SELECT from itself, VACUUM ANALYZE).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from pathlib import Path

import psycopg

from shiftgate.analysis.connections import connection_capacity, connections_in_use
from shiftgate.analysis.indexes import required_indexes
from shiftgate.analysis.query_plans import query_plans
from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.config.paths import project_root
from shiftgate.probes.postgres import PostgresProbe
from shiftgate.sandbox import manager
from shiftgate.sandbox import state as st
from shiftgate.sandbox.postgres import SandboxPostgres
from shiftgate.sandbox.remediate import remediate


def database_checks(environment: Environment) -> list[bool]:
    """What checks/database/*.py do, without pytest: facts, then verdicts."""
    versions = environment.versions
    spec = versions.candidate_spec
    probe = PostgresProbe.from_config(environment.database)
    try:
        settings, activity = probe.settings(), probe.activity()
        verdicts = [
            connection_capacity(settings, activity, environment),
            connections_in_use(probe.settings(), probe.activity(), environment.database),
            required_indexes(spec.required_indexes,
                             [probe.table(r.table, r.schema_name) for r in spec.required_indexes],
                             environment.database, version=versions.candidate),
            query_plans([probe.query_plans(q) for q in spec.critical_queries], environment.database,
                        version=versions.candidate),
        ]
    finally:
        probe.close()
    return [v.passed for v in verdicts]


def measure(environment: Environment, runs: int) -> tuple[float, list[bool]]:
    outcome = database_checks(environment)  # warm-up: first connection, catalog caches
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        outcome = database_checks(environment)
        times.append(time.perf_counter() - began)
    return statistics.median(times), outcome


def executed_query(admin_dsn: str, environment: Environment) -> float:
    """For scale: the candidate's query run for real (what EXPLAIN ANALYZE would cost a check)
    in the incident state, where it reads the whole table."""
    query = environment.versions.candidate_spec.critical_queries[0]
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        began = time.perf_counter()
        conn.execute(query.sql, query.params[0] if query.params else None).fetchall()
        return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="measurements per state (median)")
    args = parser.parse_args()
    folder = project_root() / ".sandbox-bench-db"
    manager.down(folder)
    shutil.rmtree(folder, ignore_errors=True)
    results: dict[tuple[str, str], tuple[float, list[bool]]] = {}
    scans: dict[str, float] = {}
    pgdata: Path | None = None
    try:
        manager.up(folder)
        state = st.load(folder)
        assert state is not None
        pgdata = Path(state.pgdata)
        pg = SandboxPostgres(state)
        environment = load_environment("sandbox", environ={**os.environ, **st.exported_environ(folder)})
        for size in ("2 M", "20 M"):
            if size == "20 M":
                began = time.monotonic()
                with psycopg.connect(state.admin_dsn, autocommit=True) as conn:
                    conn.execute("SET synchronous_commit = off")
                    conn.execute("INSERT INTO recommendations"
                                 " SELECT r.* FROM recommendations AS r, generate_series(1, 9)")
                    # VACUUM too: else autovacuum works through 18 M new rows while we
                    # measure, and the figure is its contention, not the probe's cost.
                    conn.execute("VACUUM (ANALYZE) recommendations")
                    rows = conn.execute("SELECT reltuples::bigint FROM pg_class"
                                        " WHERE relname = 'recommendations'").fetchone()
                print(f"grew recommendations to {rows[0] if rows else '?':,} rows "
                      f"in {time.monotonic() - began:.0f} s")
            results[(size, "incident")] = measure(environment, args.runs)
            scans[size] = executed_query(state.admin_dsn, environment)
            remediate(index=True, connections=False, folder=folder)
            results[(size, "indexed")] = measure(environment, args.runs)
            pg.restore_incident()
    finally:
        manager.down(folder)
        shutil.rmtree(folder, ignore_errors=True)
        if pgdata is not None and folder not in pgdata.parents:
            shutil.rmtree(pgdata.parent, ignore_errors=True)  # the /var/tmp fallback
    print(f"database checks (probe + analysis, 3 files / 4 verdicts), median of {args.runs}:")
    for state_name in ("incident", "indexed"):
        small, big = results[("2 M", state_name)], results[("20 M", state_name)]
        print(f"  {state_name:<9} 2 M rows: {small[0] * 1000:7.1f} ms   20 M rows: {big[0] * 1000:7.1f} ms"
              f"   ratio {big[0] / small[0]:.2f}   (verdicts passed: {big[1]})")
    print(f"  for scale, the candidate's query executed once (a table scan in the incident state): "
          f"2 M rows {scans['2 M'] * 1000:.0f} ms, 20 M rows {scans['20 M'] * 1000:.0f} ms, "
          f"ratio {scans['20 M'] / scans['2 M']:.1f}")


if __name__ == "__main__":
    main()
