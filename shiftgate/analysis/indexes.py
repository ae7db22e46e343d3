"""Required indexes: present, usable by the planner, and backed by fresh statistics.

An index satisfies a requirement when its leading key columns are the required ones, in order
(an index on ``(score, user_segment)`` cannot serve ``WHERE user_segment = …``), it is not
partial, and PostgreSQL flags it valid, ready and live. Leftovers of a failed concurrent build
(INVALID, or ``*_ccnew``/``*_ccold`` from REINDEX CONCURRENTLY) and builds still running fail
the check with the statements that fix them. Statistics must be fresh: analyzed after the
index became valid where the server tracks commit timestamps (``track_commit_timestamp``),
and in any case within ``database.stats_max_age_s``; a table never analyzed fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from shiftgate.analysis.verdicts import all_of, attach_records
from shiftgate.config.models import DatabaseConfig, IndexRequirement
from shiftgate.probes.postgres_facts import IndexFact, TableFacts
from shiftgate.verdict import Verdict


def _create_statement(req: IndexRequirement) -> str:
    name = f"{req.table}_{'_'.join(req.columns)}_idx"
    return (
        f"CREATE INDEX CONCURRENTLY {name} ON {req.schema_name}.{req.table} "
        f"({', '.join(req.columns)}); ANALYZE {req.schema_name}.{req.table};"
    )


def _leftover_fix(index: IndexFact, req: IndexRequirement) -> str:
    return (
        f"DROP INDEX CONCURRENTLY {index.schema}.{index.name}; {_create_statement(req)}"
        f"  (or: REINDEX INDEX CONCURRENTLY {index.schema}.{index.name};)"
    )


def required_index(req: IndexRequirement, facts: TableFacts, config: DatabaseConfig) -> Verdict:
    """One requirement against the facts of its table."""
    cols = ", ".join(req.columns)
    check = f"index on {req.schema_name}.{req.table} ({cols}) exists"
    wanted = f"an index leading with ({cols})"
    listed = [f"index {ix.describe()}" for ix in facts.indexes] or ["the table has no index"]

    def verdict(passed: bool, reason: str, details: Sequence[str] = ()) -> Verdict:
        v = Verdict(check=check, passed=passed, reason=reason, threshold=wanted,
                    details=[*details, *listed])
        attach_records(v, {f"{facts.qualified} {r.sql.split()[-1]}": r for r in facts.records})
        return v

    if facts.stats is None:
        return verdict(False, f"table {facts.qualified} does not exist")
    matching = [ix for ix in facts.indexes if ix.leads_with(req.columns)]
    leftovers = [ix for ix in matching if ix.is_concurrent_leftover]
    if leftovers:
        fixes = [f"fix: {_leftover_fix(ix, req)}" for ix in leftovers]
        names = ", ".join(ix.describe() for ix in leftovers)
        return verdict(False, f"leftover of a failed concurrent build: {names}", fixes)
    if facts.builds:
        running = ", ".join(
            f"{b.command} {b.index or '(new index)'} by pid {b.pid}: {b.phase}"
            + (f" ({b.blocks_done}/{b.blocks_total} blocks)" if b.blocks_total else "")
            for b in facts.builds
        )
        return verdict(False, f"index build still running on {facts.qualified}: {running}",
                       ["fix: wait for the build to finish, then run the gate again"])
    usable = [ix for ix in matching if ix.is_usable and not ix.is_partial]
    if not usable:
        hints = [
            f"{ix.name} is not usable: {ix.describe()}" for ix in matching
        ] + [
            f"{ix.name} holds {req.columns[0]} at position {ix.columns.index(req.columns[0]) + 1},"
            " not first: the planner cannot search it by that column"
            for ix in facts.indexes
            if req.columns[0] in ix.columns and not ix.leads_with(req.columns[:1])
        ]
        return verdict(False, f"no usable index leading with ({cols}) on {facts.qualified}",
                       [*hints, f"fix: {_create_statement(req)}"])
    index = usable[0]
    stale = _stale_statistics(facts, index, config)
    if stale:
        return verdict(False, stale, [f"fix: ANALYZE {facts.qualified};"])
    analyzed = facts.stats.last_analyzed
    age = (facts.stats.read_at - analyzed).total_seconds() if analyzed else 0.0
    return verdict(True, f"{index.describe()} is valid, ready and live; statistics {age:.0f} s old")


def _stale_statistics(facts: TableFacts, index: IndexFact, config: DatabaseConfig) -> str | None:
    stats = facts.stats
    assert stats is not None
    analyzed = stats.last_analyzed
    if analyzed is None:
        return f"statistics of {facts.qualified} were never analyzed (the planner guesses)"
    if index.valid_since is not None and analyzed < index.valid_since:
        return (f"statistics of {facts.qualified} predate index {index.name}: analyzed "
                f"{analyzed.isoformat()}, index valid since {index.valid_since.isoformat()}")
    age = (stats.read_at - analyzed).total_seconds()
    if age > config.stats_max_age_s:
        return (f"statistics of {facts.qualified} are {age:.0f} s old, older than "
                f"database.stats_max_age_s {config.stats_max_age_s} s")
    return None


def required_indexes(
    requirements: Sequence[IndexRequirement],
    tables: Sequence[TableFacts],
    config: DatabaseConfig,
    *,
    version: str,
    opt_out: str | None = None,
) -> Verdict:
    """Every index ``version`` requires; ``tables`` holds the facts of each one's table.
    ``opt_out``: the reason the version declared ``required_indexes: none``."""
    by_name = {(t.schema, t.table): t for t in tables}
    parts = [required_index(r, by_name[(r.schema_name, r.table)], config) for r in requirements]
    names = "; ".join(f"{r.table} ({', '.join(r.columns)})" for r in requirements)
    return all_of(
        f"indexes of {version} exist and are usable: {names or 'none required'}", parts,
        empty_reason=f"version {version} declares no required index",
        declare=(f"list the indexes {version}'s queries need under versions.specs.{version}."
                 "required_indexes (table, columns), or write `required_indexes: none` with a "
                 "`reason:` if it needs none"),
        opt_out=opt_out,
    )
