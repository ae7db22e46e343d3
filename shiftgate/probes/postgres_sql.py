"""The SQL of the PostgreSQL probe: catalog and statistics views only, never a table scan.

Kept apart from the client so a reviewer (or a DBA granting the probe role) reads in one
place everything shiftgate runs against a production database. Every statement is cheap
whatever the table sizes: catalog lookups by name, statistics views, and EXPLAIN, which
plans without executing.
"""

from __future__ import annotations

import re

SETTING_NAMES = (
    "max_connections",
    "superuser_reserved_connections",
    "reserved_connections",  # PostgreSQL 16+: slots kept for pg_use_reserved_connections
    "server_version_num",
    "server_version",
    "track_commit_timestamp",
)

SETTINGS = """\
SELECT name, setting, source
FROM pg_catalog.pg_settings
WHERE name = ANY(%(names)s)
ORDER BY name"""

# Client backends only: background workers, autovacuum and WAL senders do not take the
# slots that max_connections hands to clients.
ACTIVITY = """\
SELECT coalesce(application_name, '') AS application_name,
       count(*) AS connections,
       count(*) FILTER (WHERE state = 'active') AS active
FROM pg_catalog.pg_stat_activity
WHERE backend_type = 'client backend'
GROUP BY 1
ORDER BY 2 DESC, 1"""

TABLE_STATS = """\
SELECT c.reltuples::float8 AS rows_estimate,
       s.last_analyze, s.last_autoanalyze, s.n_mod_since_analyze,
       now() AS read_at
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_stat_all_tables AS s ON s.relid = c.oid
WHERE n.nspname = %(schema)s AND c.relname = %(table)s AND c.relkind IN ('r', 'p', 'm')"""

# Key columns in order (NULL for an expression); valid_since is the commit time of the
# pg_index row's last update (CREATE INDEX, or the end of a concurrent build), known only
# where track_commit_timestamp is on.
INDEXES = """\
SELECT ic.relname AS name,
       ARRAY(
           SELECT a.attname
           FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
           LEFT JOIN pg_catalog.pg_attribute AS a
               ON a.attrelid = i.indrelid AND a.attnum = k.attnum AND k.attnum > 0
           WHERE k.ord <= i.indnkeyatts
           ORDER BY k.ord
       ) AS columns,
       i.indisvalid AS is_valid, i.indisready AS is_ready, i.indislive AS is_live,
       i.indpred IS NOT NULL AS is_partial,
       pg_catalog.pg_get_indexdef(i.indexrelid) AS definition,
       CASE WHEN current_setting('track_commit_timestamp')::bool
            THEN pg_catalog.pg_xact_commit_timestamp(i.xmin) END AS valid_since
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class AS tc ON tc.oid = i.indrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = tc.relnamespace
WHERE n.nspname = %(schema)s AND tc.relname = %(table)s
ORDER BY ic.relname"""

INDEX_BUILDS = """\
SELECT p.pid, nullif(p.index_relid, 0)::regclass::text AS index, p.command, p.phase,
       p.blocks_done, p.blocks_total
FROM pg_catalog.pg_stat_progress_create_index AS p
JOIN pg_catalog.pg_class AS tc ON tc.oid = p.relid
JOIN pg_catalog.pg_namespace AS n ON n.oid = tc.relnamespace
WHERE n.nspname = %(schema)s AND tc.relname = %(table)s
ORDER BY p.pid"""

# reltuples is -1 for a table never vacuumed or analyzed (PostgreSQL 14+): reported as is.
RELATION_ROWS = """\
SELECT r.name AS relation, c.reltuples::float8 AS rows_estimate
FROM unnest(%(names)s::text[]) AS r(name)
LEFT JOIN pg_catalog.pg_class AS c ON c.oid = to_regclass(r.name)
ORDER BY r.name"""

# Index names in plans are unqualified: looked up in the schemas of the scanned tables.
INDEX_LEADING = """\
SELECT ic.relname AS index, a.attname AS leading
FROM pg_catalog.pg_index AS i
JOIN pg_catalog.pg_class AS ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = ic.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
WHERE ic.relname = ANY(%(names)s) AND n.nspname = ANY(%(schemas)s)
ORDER BY ic.relname"""

# VERBOSE adds the schema of every scanned relation; no ANALYZE: the query never runs.
EXPLAIN = "EXPLAIN (FORMAT JSON, VERBOSE) "
EXPLAIN_GENERIC = "EXPLAIN (FORMAT JSON, VERBOSE, GENERIC_PLAN) "

_NAMED = re.compile(r"%\((\w+)\)s|%%")


def to_positional(text: str) -> tuple[str, list[str]]:
    """``%(name)s`` placeholders as ``$1, $2 …`` (first appearance order) and ``%%`` as ``%``:
    the form PREPARE and GENERIC_PLAN take. Returns the text and the names in order."""
    names: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(replace, text), names
