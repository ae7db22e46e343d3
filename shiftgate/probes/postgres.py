"""Read-only PostgreSQL probe: typed facts for the database checks, safe on production.

Every session is read-only (``default_transaction_read_only``) with ``statement_timeout``,
``lock_timeout``, ``connect_timeout`` and ``application_name`` set at connect time, so no
query of ours can write, wait on a lock or run long. Only catalog and statistics views are
read (``pg_settings``, ``pg_stat_activity``, ``pg_index``, ``pg_stat_progress_create_index``,
``pg_stat_all_tables``) and queries are planned, never executed (``EXPLAIN`` without
``ANALYZE``): the cost of probing does not grow with the tables. A least-privilege role
suffices: CONNECT, ``pg_monitor`` and SELECT on the planned tables
(``deploy/sql/shiftgate-probe-role.sql``).

The connection is opened lazily by the first query; a failure there raises
``SourceUnavailable`` naming host:port (never the password), which the pytest plugin turns
into a failed check with its reason. Each fact keeps the SQL that produced it and the rows it
returned (``QueryRecord``), so verdicts can carry them as evidence.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from shiftgate.config.models import CriticalQuery, DatabaseConfig
from shiftgate.errors import SourceUnavailable
from shiftgate.probes import postgres_sql as q
from shiftgate.probes.postgres_facts import (
    Activity,
    ActivityGroup,
    CriticalQueryPlans,
    IndexBuild,
    IndexFact,
    QueryPlanFact,
    QueryRecord,
    ServerSettings,
    TableFacts,
    TableStats,
)
from shiftgate.redact import redact
from shiftgate.steps import step

if TYPE_CHECKING:
    import psycopg

# psycopg is imported by the methods that talk to the server, not with this module: every
# check module imports the probe classes, and a gate's start-up should not pay for a client
# library before its first check runs (issue 11, docs/architecture.md).

Row = dict[str, Any]
_PREPARED = "shiftgate_generic_plan"


class PostgresProbe:
    """A read-only client of one database; facts as typed values with their evidence."""

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout_s: int = 5,
        statement_timeout_ms: int = 5000,
        lock_timeout_ms: int = 1000,
        application_name: str = "shiftgate",
    ) -> None:
        self._dsn = dsn
        self._connect_timeout_s = connect_timeout_s
        self._options = (
            "-c default_transaction_read_only=on"
            f" -c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms}"
        )
        self.application_name = application_name
        self._conn: psycopg.Connection[Row] | None = None
        self._statements = 0
        self.source = _describe(dsn)

    @classmethod
    def from_config(cls, config: DatabaseConfig) -> PostgresProbe:
        return cls(
            config.dsn(),
            connect_timeout_s=config.connect_timeout_s,
            statement_timeout_ms=config.statement_timeout_ms,
            lock_timeout_ms=config.lock_timeout_ms,
            application_name=config.application_name,
        )

    # -- facts ---------------------------------------------------------------------------
    def settings(self) -> ServerSettings:
        record = self._run(q.SETTINGS, {"names": list(q.SETTING_NAMES)})
        values = {str(r["name"]): str(r["setting"]) for r in record.rows}
        reserved = values.get("reserved_connections")  # PostgreSQL 16 and later only
        return ServerSettings(
            max_connections=int(values["max_connections"]),
            superuser_reserved_connections=int(values["superuser_reserved_connections"]),
            reserved_connections=int(reserved) if reserved is not None else None,
            server_version_num=int(values["server_version_num"]),
            server_version=values["server_version"],
            track_commit_timestamp=values.get("track_commit_timestamp") == "on",
            record=record,
        )

    def activity(self) -> Activity:
        """Client backends now, grouped by application_name."""
        record = self._run(q.ACTIVITY)
        groups = [
            ActivityGroup(str(r["application_name"]), int(r["connections"]), int(r["active"]))
            for r in record.rows
        ]
        return Activity(groups=groups, record=record)

    def table(self, table: str, schema: str = "public") -> TableFacts:
        """A table's indexes (with their flags), index builds in progress and statistics."""
        params = {"schema": schema, "table": table}
        stats_rec = self._run(q.TABLE_STATS, params)
        index_rec = self._run(q.INDEXES, params)
        build_rec = self._run(q.INDEX_BUILDS, params)
        stats = None
        if stats_rec.rows:
            r = stats_rec.rows[0]
            stats = TableStats(
                rows_estimate=float(r["rows_estimate"]),
                last_analyze=r["last_analyze"],
                last_autoanalyze=r["last_autoanalyze"],
                n_mod_since_analyze=int(r["n_mod_since_analyze"] or 0),
                read_at=r["read_at"],
            )
        indexes = [
            IndexFact(
                schema=schema, table=table, name=str(r["name"]), columns=list(r["columns"]),
                is_valid=bool(r["is_valid"]), is_ready=bool(r["is_ready"]),
                is_live=bool(r["is_live"]), is_partial=bool(r["is_partial"]),
                definition=str(r["definition"]), valid_since=r["valid_since"],
            )
            for r in index_rec.rows
        ]
        builds = [
            IndexBuild(
                pid=int(r["pid"]), index=r["index"], command=str(r["command"]),
                phase=str(r["phase"]), blocks_done=int(r["blocks_done"] or 0),
                blocks_total=int(r["blocks_total"] or 0),
            )
            for r in build_rec.rows
        ]
        return TableFacts(
            schema=schema, table=table, stats=stats, indexes=indexes, builds=builds,
            records=[stats_rec, index_rec, build_rec],
        )

    def index_on(self, table: str, *columns: str, schema: str = "public") -> IndexFact | None:
        """The first index of ``table`` whose leading columns are ``columns`` (testinfra style)."""
        return next((ix for ix in self.table(table, schema).indexes if ix.leads_with(columns)), None)

    def query_plans(self, query: CriticalQuery) -> CriticalQueryPlans:
        """EXPLAIN (never ANALYZE) of a query with each parameter set, plus its generic plan;
        and the estimated rows of every table the plans read."""
        settings = self.settings()
        param_sets: Sequence[Mapping[str, Any]] = query.params or [{}]
        plans = [self._explain(query.sql, params) for params in param_sets]
        if "%(" in query.sql:
            plans.append(self._explain_generic(query.sql, param_sets[0], settings.server_version_num))
        scans = [scan for p in plans for scan in p.scans()]
        relations = sorted({s.relation for s in scans if s.relation})
        sizes = self._run(q.RELATION_ROWS, {"names": relations})
        rows = {str(r["relation"]): r["rows_estimate"] for r in sizes.rows}
        schemas = sorted({r.split(".", 1)[0] for r in relations if "." in r} or {"public"})
        indexes = sorted({s.index for s in scans if s.index})
        leading = self._run(q.INDEX_LEADING, {"names": indexes, "schemas": schemas})
        return CriticalQueryPlans(
            query=query, plans=plans, relation_rows=rows, records=[sizes, leading],
            index_leading={str(r["index"]): r["leading"] for r in leading.rows},
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- plumbing ------------------------------------------------------------------------
    def _explain(self, text: str, params: Mapping[str, Any]) -> QueryPlanFact:
        record = self._run(q.EXPLAIN + text, dict(params) if params else None)
        return QueryPlanFact(sql=text, params=dict(params), plan=_plan_of(record), generic=False,
                        record=record)

    def _explain_generic(self, text: str, params: Mapping[str, Any], version: int) -> QueryPlanFact:
        """The plan a prepared statement may switch to after five executions, whatever the
        values: GENERIC_PLAN on 16+, a prepared statement under force_generic_plan before."""
        positional, names = q.to_positional(text)
        if version >= 160000:
            record = self._run(q.EXPLAIN_GENERIC + positional)
            return QueryPlanFact(sql=positional, params={}, plan=_plan_of(record), generic=True,
                            record=record)
        import psycopg
        from psycopg import sql

        # Any value will do under force_generic_plan; a missing one plans as NULL.
        values = sql.SQL(", ").join(sql.Literal(params.get(key)) for key in names)
        self._statements += 1  # a fresh name: a failed DEALLOCATE never blocks the next PREPARE
        name = sql.Identifier(f"{_PREPARED}_{self._statements}")
        explain = sql.SQL(q.EXPLAIN + "EXECUTE {}({})").format(name, values)
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                cur.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(positional), prepare=True)
                rows = cur.execute(explain, prepare=True).fetchall()
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None
        finally:
            if not conn.closed:
                with contextlib.suppress(psycopg.Error):  # it may never have been prepared
                    conn.execute(sql.SQL("DEALLOCATE {}").format(name))
        shown = f"PREPARE {name.as_string(conn)} AS {positional}; {explain.as_string(conn)}"
        record = QueryRecord(sql=shown, params=None, rows=rows)
        return QueryPlanFact(sql=positional, params=dict(params), plan=_plan_of(record), generic=True,
                        record=record)

    def _connection(self) -> psycopg.Connection[Row]:
        import psycopg
        from psycopg.rows import dict_row

        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(
                    self._dsn,
                    autocommit=True,
                    row_factory=dict_row,
                    connect_timeout=self._connect_timeout_s,
                    application_name=self.application_name,
                    options=self._options,
                )
            except psycopg.Error as exc:
                raise self._unavailable(exc) from None
        return self._conn

    def _run(self, text: str, params: Mapping[str, Any] | None = None) -> QueryRecord:
        import psycopg

        with step(f"PostgreSQL {self.source}: {text}"):  # one report step per statement
            conn = self._connection()
            try:
                # Always the extended protocol (a prepared statement): text after a ';' is
                # refused by the server instead of running as a second statement.
                rows = conn.execute(text, params, prepare=True).fetchall()
            except psycopg.Error as exc:
                raise self._unavailable(exc) from None
        return QueryRecord(sql=text, params=dict(params) if params else None, rows=rows)

    def _unavailable(self, exc: psycopg.Error) -> SourceUnavailable:
        import psycopg

        if isinstance(exc, psycopg.OperationalError):
            self.close()  # the session is gone or unusable: the next fact reconnects
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        return SourceUnavailable(self.source, redact(lines[0]))


def _plan_of(record: QueryRecord) -> dict[str, Any]:
    """The top plan node of an EXPLAIN (FORMAT JSON) answer (one row, one JSON array)."""
    document = next(iter(record.rows[0].values()))
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


def _describe(dsn: str) -> str:
    """``postgresql host:port/dbname``: where the facts come from, without credentials."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql (unparsable DSN)"
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"postgresql {host}:{parts.get('port') or 5432}/{parts.get('dbname') or ''}"
