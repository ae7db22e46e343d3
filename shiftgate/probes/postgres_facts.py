"""Typed facts the PostgreSQL probe returns; plain data, usable by analysis without a database.

Every fact keeps the ``QueryRecord`` (SQL, parameters, rows) that produced it: the evidence a
verdict attaches. Unit tests build these by hand to exercise the analysis with many inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shiftgate.config.models import CriticalQuery

# What a failed REINDEX CONCURRENTLY leaves behind: the new copy (_ccnew) or the old (_ccold).
_CONCURRENT_LEFTOVER = re.compile(r"_cc(new|old)\d*$")


@dataclass(frozen=True)
class QueryRecord:
    sql: str
    params: dict[str, Any] | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def evidence(self) -> dict[str, Any]:
        return {"sql": self.sql, "params": self.params, "rows": self.rows}


@dataclass(frozen=True)
class ServerSettings:
    max_connections: int
    superuser_reserved_connections: int
    reserved_connections: int | None
    """None where the server has no such setting (before PostgreSQL 16)."""
    server_version_num: int
    server_version: str
    track_commit_timestamp: bool = False
    record: QueryRecord = field(default_factory=lambda: QueryRecord(""))

    @property
    def reserved(self) -> int:
        return self.superuser_reserved_connections + (self.reserved_connections or 0)

    @property
    def usable(self) -> int:
        """Slots ordinary roles (the service's pools) can take."""
        return self.max_connections - self.reserved


@dataclass(frozen=True)
class ActivityGroup:
    application_name: str
    connections: int
    active: int = 0


@dataclass(frozen=True)
class Activity:
    groups: list[ActivityGroup]
    record: QueryRecord = field(default_factory=lambda: QueryRecord(""))

    @property
    def total(self) -> int:
        return sum(g.connections for g in self.groups)


@dataclass(frozen=True)
class IndexFact:
    schema: str
    table: str
    name: str
    columns: list[str | None]
    """Key columns in order; None for an expression."""
    is_valid: bool = True
    is_ready: bool = True
    is_live: bool = True
    is_partial: bool = False
    definition: str = ""
    valid_since: datetime | None = None
    """When the index became valid, where the server tracks commit timestamps."""

    def leads_with(self, columns: Sequence[str]) -> bool:
        return list(self.columns[: len(columns)]) == list(columns)

    @property
    def is_usable(self) -> bool:
        return self.is_valid and self.is_ready and self.is_live

    @property
    def is_concurrent_leftover(self) -> bool:
        """Left by a failed CREATE/REINDEX INDEX CONCURRENTLY: invalid, or named *_ccnew/_ccold."""
        return not self.is_valid or bool(_CONCURRENT_LEFTOVER.search(self.name))

    def describe(self) -> str:
        cols = ", ".join(c or "(expression)" for c in self.columns)
        flags = [name for name, ok in (("valid", self.is_valid), ("ready", self.is_ready),
                                       ("live", self.is_live)) if not ok]
        state = f" NOT {'/'.join(flags)}" if flags else ""
        return f"{self.name} ({cols}){' partial' if self.is_partial else ''}{state}"


@dataclass(frozen=True)
class IndexBuild:
    pid: int
    index: str | None
    command: str
    phase: str
    blocks_done: int = 0
    blocks_total: int = 0


@dataclass(frozen=True)
class TableStats:
    rows_estimate: float
    last_analyze: datetime | None
    last_autoanalyze: datetime | None
    n_mod_since_analyze: int
    read_at: datetime
    """The server's clock when the facts were read: ages are measured against it."""

    @property
    def last_analyzed(self) -> datetime | None:
        times = [t for t in (self.last_analyze, self.last_autoanalyze) if t is not None]
        return max(times) if times else None


@dataclass(frozen=True)
class TableFacts:
    schema: str
    table: str
    stats: TableStats | None
    """None when the table does not exist."""
    indexes: list[IndexFact]
    builds: list[IndexBuild]
    records: list[QueryRecord] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Scan:
    node_type: str
    relation: str | None
    """schema.table as VERBOSE plans name it (table alone without VERBOSE)."""
    index: str | None
    total_cost: float
    index_cond: str | None = None
    bitmap: tuple[Scan, ...] = ()
    """Of a Bitmap Heap Scan: the Bitmap Index Scans that build its bitmap (under BitmapAnd
    and BitmapOr too). The heap scan names no index: these say which it reads and how."""


@dataclass(frozen=True)
class QueryPlanFact:
    """One PostgreSQL query plan (EXPLAIN FORMAT JSON) of a critical query: with one parameter
    set, or generic (what a prepared statement may settle on)."""

    sql: str
    params: dict[str, Any]
    plan: dict[str, Any]
    generic: bool
    record: QueryRecord = field(default_factory=lambda: QueryRecord(""))

    @property
    def total_cost(self) -> float:
        return float(self.plan.get("Total Cost", 0.0))

    def scans(self) -> list[Scan]:
        return list(_scans(self.plan))


BITMAP_HEAP = "Bitmap Heap Scan"
BITMAP_INDEX = "Bitmap Index Scan"


def _scan(node: dict[str, Any], bitmap: tuple[Scan, ...] = ()) -> Scan:
    schema = node.get("Schema")
    name = node.get("Relation Name")
    return Scan(
        node_type=str(node.get("Node Type")),
        relation=(f"{schema}.{name}" if schema else name) if name else None,
        index=node.get("Index Name"),
        total_cost=float(node.get("Total Cost", 0.0)),
        index_cond=node.get("Index Cond"),
        bitmap=bitmap,
    )


def _bitmap_index_scans(node: dict[str, Any]) -> Iterator[Scan]:
    """The Bitmap Index Scans under a bitmap node (through BitmapAnd / BitmapOr)."""
    for child in node.get("Plans", []):
        if child.get("Node Type") == BITMAP_INDEX:
            yield _scan(child)
        else:
            yield from _bitmap_index_scans(child)


def _scans(node: dict[str, Any]) -> Iterator[Scan]:
    if "Relation Name" in node or "Index Name" in node:
        bitmap = tuple(_bitmap_index_scans(node)) if node.get("Node Type") == BITMAP_HEAP else ()
        yield _scan(node, bitmap)
    for child in node.get("Plans", []):
        yield from _scans(child)


@dataclass(frozen=True)
class CriticalQueryPlans:
    """Every query plan of one critical query, with the sizes and indexes they read."""

    query: CriticalQuery
    plans: list[QueryPlanFact]
    relation_rows: dict[str, float | None]
    """Estimated rows (pg_class.reltuples) of every scanned relation; None if not found."""
    index_leading: dict[str, str | None] = field(default_factory=dict)
    """Leading column of every index the plans use (None for an expression)."""
    records: list[QueryRecord] = field(default_factory=list)


@dataclass(frozen=True)
class OtherClientsReading:
    """What was read of the other clients over the capacity check's look-back: Prometheus
    values (``values``) or pg_stat_activity snapshots (``snapshots``), and the window read."""

    window: str
    values: list[float] | None = None
    snapshots: list[Activity] | None = None
    evidence: dict[str, object] = field(default_factory=dict)
