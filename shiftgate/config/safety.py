"""No setting becomes a command: the strings of an environment file that shiftgate sends on.

A critical query is sent to the production database, a backend name to HAProxy's admin socket
(where ``;`` separates commands), a PromQL string to Prometheus. Each is parsed here, at load,
with the parser of the language it is in (pglast is PostgreSQL's own parser, promql-parser is
Prometheus's), and refused with the key that holds it (exit 2) unless it is exactly one thing
of the kind its use needs:

- SQL: a single ``SELECT`` (or ``WITH … SELECT``), no data-modifying CTE, no ``SELECT INTO``,
  no ``FOR UPDATE``/``FOR SHARE``, no ``set_config()``: a read, and only a read;
- HAProxy backend and server names: HAProxy's own alphabet (letters, digits, ``-_.:``);
- PromQL: parses; where a selector is required, a plain selector (``m{a="b"} or vector(0)``
  is not one); metric and label names by Prometheus's grammar; a label value shiftgate
  splices into a matcher (an alert's name) free of quotes, backslashes and line breaks.
  :func:`matcher` quotes a value when shiftgate builds one.

Only pure functions: the models call them from their validators, so a refusal reports the
file and key like any other bad value.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator
from typing import Any

import promql_parser
from pglast import ast, parse_sql
from pglast.parser import ParseError

HAPROXY_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_UNSAFE_LABEL_VALUE = re.compile(r'["\\\n\r]')
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")
_WRITERS = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_FORBIDDEN_FUNCTIONS = {"set_config", "pg_terminate_backend", "pg_cancel_backend", "dblink_exec"}


# -- SQL --------------------------------------------------------------------------------------
def read_only_select(text: str) -> str:
    """``text`` when it is one read-only SELECT; ValueError saying why otherwise."""
    try:
        statements = parse_sql(_positional(text))
    except ParseError as exc:
        raise ValueError(f"not valid PostgreSQL: {exc}") from None
    if len(statements) != 1:
        raise ValueError(
            f"{len(statements)} statements: a critical query must be one SELECT (no ';')"
        )
    statement = statements[0].stmt
    if not isinstance(statement, ast.SelectStmt):
        kind = type(statement).__name__.removesuffix("Stmt").upper()
        raise ValueError(f"a {kind} statement: a critical query must be a SELECT")
    found = [problem for node in _nodes(statement) if (problem := _writes(node))]
    if found:
        raise ValueError(f"not read-only: {found[0]}")
    return text


def _nodes(value: Any) -> Iterator[ast.Node]:
    """Every node of a parse tree, depth first. pglast's own Visitor would do the same, but
    importing it loads pglast's SQL printers too: a third of the start-up cost of every gate
    process that validates an environment."""
    if isinstance(value, ast.Node):
        yield value
        for name in getattr(type(value), "__slots__", ()):  # pglast: the node's fields
            yield from _nodes(getattr(value, name, None))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _nodes(item)


def _writes(node: ast.Node) -> str | None:
    """Why ``node`` is more than a read, or None."""
    if isinstance(node, _WRITERS):
        return f"a {type(node).__name__.removesuffix('Stmt').upper()} inside the query"
    if isinstance(node, ast.SelectStmt):
        if node.intoClause is not None:
            return "SELECT INTO creates a table"
        if node.lockingClause:
            return "FOR UPDATE/SHARE takes row locks"
    elif isinstance(node, ast.FuncCall):
        name = node.funcname[-1].sval if node.funcname else ""
        if name.lower() in _FORBIDDEN_FUNCTIONS:
            return f"{name}() changes the server, not only reads it"
    return None


def _positional(text: str) -> str:
    """psycopg's ``%(name)s`` / ``%s`` placeholders as PostgreSQL's ``$n``, for the parser."""
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        key = match.group(1) or f"#{len(names)}"
        return f"${names.setdefault(key, len(names) + 1)}"

    return _PLACEHOLDER.sub(number, text)


# -- HAProxy ----------------------------------------------------------------------------------
def haproxy_name(value: str) -> str:
    if not HAPROXY_NAME.match(value):
        raise ValueError(
            f"{value!r} is not a HAProxy name (letters, digits and -_.: only; no spaces, ';' or "
            "line breaks: the name goes into commands on the admin socket)"
        )
    return value


def socket_path(value: str) -> str:
    if not value or any(ch in value for ch in "\n\r\0"):
        raise ValueError("a socket path must be one line")
    return value


# -- PromQL -----------------------------------------------------------------------------------
def promql(text: str, *, template: bool = False) -> str:
    """Any PromQL expression; ``template``: ``$color`` stands for a color."""
    probe = string.Template(text).safe_substitute(color="blue") if template else text
    try:
        promql_parser.parse(probe)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ValueError(f"not valid PromQL: {exc}") from None
    _label_values_safe(probe)
    return text


def selector(text: str) -> str:
    """A plain instant-vector selector (``metric`` or ``metric{a="b"}``): shiftgate adds the
    color matcher to it, so an expression (``… or vector(0)``) is refused."""
    try:
        expr = promql_parser.parse(text)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ValueError(f"not valid PromQL: {exc}") from None
    if type(expr).__name__ != "VectorSelector" or not getattr(expr, "name", None):
        raise ValueError(
            f"{text!r} is a {type(expr).__name__}, not a metric selector: use a per-color "
            "recording rule and name it here"
        )
    if getattr(expr, "offset", None) or getattr(expr, "at", None):
        raise ValueError(f"{text!r}: a selector here takes no offset or @ modifier")
    _label_values_safe(text)
    return text


def metric_name(value: str) -> str:
    if not METRIC_NAME.match(value):
        raise ValueError(f"{value!r} is not a metric name")
    return value


def label_name(value: str) -> str:
    if not LABEL_NAME.match(value):
        raise ValueError(f"{value!r} is not a label name")
    return value


def label_value(value: str) -> str:
    """A value shiftgate splices into a matcher: no quote, backslash or line break."""
    if _UNSAFE_LABEL_VALUE.search(value):
        raise ValueError(
            f"{value!r} holds a quote, backslash or line break: it would end the matcher it "
            "is put in"
        )
    return value


def matcher(label: str, value: str) -> str:
    """``label="value"`` with the value quoted as PromQL reads it (Go's string escapes)."""
    return f"{label_name(label)}={json.dumps(value, ensure_ascii=False)}"


def _label_values_safe(text: str) -> None:
    # A value written with an escaped quote parses, then ends a matcher once spliced again.
    for literal in re.findall(r'"((?:[^"\\]|\\.)*)"', text):
        if "\\" in literal:
            raise ValueError(f"label value {literal!r} holds an escape: write it plainly")
