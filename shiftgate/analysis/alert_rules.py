"""What an alerting rule reads and when it fires, from its PromQL (parsed by ``promql-parser``,
a binding of the Rust port of Prometheus's own parser — no hand-written PromQL grammar here).

Extracted: the metric selectors (name and label matchers), the range windows, and the upper
threshold of the comparison that makes the alert fire (``<expr> > 0.8``, ``0.8 < <expr>``,
``in_use > 0.8 * max``). Rules come from the rules API or from rule files on disk; both are
turned into ``AlertRule`` here so checks compare like with like (the files as
``RuleFile`` facts: the probes read them, this module only parses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import promql_parser as pp
import yaml

from shiftgate.probes.prometheus_facts import RuleFile

_MATCH_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
_UP = {">", ">="}
_DOWN = {"<", "<="}
_DURATION = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")


class PromqlError(ValueError):
    """An expression the parser rejects."""


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~, !~
    value: str

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = re.fullmatch(self.value, value) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...] = ()

    def promql(self) -> str:
        inner = ",".join(f'{m.label}{m.op}"{_escape(m.value)}"' for m in self.matchers)
        return f"{self.name}{{{inner}}}" if inner else self.name


@dataclass(frozen=True)
class ParsedExpr:
    text: str
    selectors: tuple[Selector, ...]
    ranges_s: tuple[float, ...]
    threshold: float | None
    """Upper threshold: the alert fires when the expression goes above it (None: none found)."""

    @property
    def names(self) -> set[str]:
        return {s.name for s in self.selectors}


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    for_s: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    health: str = "unknown"
    last_error: str = ""
    file: str = ""
    group: str = ""


def parse_expr(text: str) -> ParsedExpr:
    try:
        root = pp.parse(text)
    except ValueError as exc:
        raise PromqlError(f"cannot parse {text!r}: {exc}") from None
    selectors: list[Selector] = []
    ranges: list[float] = []
    for node in _walk(root):
        if isinstance(node, pp.VectorSelector):
            selectors.append(_selector(node))
        elif isinstance(node, pp.MatrixSelector | pp.SubqueryExpr) and node.range is not None:
            ranges.append(node.range.total_seconds())
    unique = tuple(dict.fromkeys(selectors))
    return ParsedExpr(text=text, selectors=unique, ranges_s=tuple(ranges), threshold=_threshold(root))


def parse_duration(value: str | float | int | None) -> float:
    """Seconds of a rule's ``for``: a number (rules API) or a duration ('1h30m', files)."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    if not _DURATION.match(text):
        raise ValueError(f"not a Prometheus duration: {value!r}")
    if not text.strip("0msh dwy"):  # '0s', '0m': the parser rejects zero durations
        return 0.0
    return float(pp.parse_duration(text).total_seconds())


def resolve_names(parsed: ParsedExpr, recording: Mapping[str, str], depth: int = 5) -> set[str]:
    """Metric names an expression reads, through recording rules down to raw metrics (both kept)."""
    names = set(parsed.names)
    if depth == 0:
        return names
    for name in parsed.names:
        source = recording.get(name)
        if source is not None:
            try:
                names |= resolve_names(parse_expr(source), recording, depth - 1)
            except PromqlError:
                continue
    return names


def rules_from_api(groups: Iterable[Mapping[str, Any]]) -> tuple[list[AlertRule], dict[str, str]]:
    """Alerting rules and recording rules (record -> expr) of /api/v1/rules' groups."""
    alerts: list[AlertRule] = []
    recording: dict[str, str] = {}
    for group in groups:
        for rule in group.get("rules", []):
            if rule.get("type") == "recording":
                recording[str(rule["name"])] = str(rule["query"])
            elif rule.get("type") == "alerting":
                alerts.append(
                    AlertRule(
                        name=str(rule["name"]),
                        expr=str(rule["query"]),
                        for_s=parse_duration(rule.get("duration", 0)),
                        labels=dict(rule.get("labels") or {}),
                        annotations=dict(rule.get("annotations") or {}),
                        health=str(rule.get("health", "unknown")),
                        last_error=str(rule.get("lastError") or ""),
                        file=str(group.get("file", "")),
                        group=str(group.get("name", "")),
                    )
                )
    return alerts, recording


def rules_from_files(files: Iterable[RuleFile]) -> tuple[list[AlertRule], dict[str, str]]:
    """The same from rule files (the static part: what the team wrote), as read from disk."""
    groups: list[dict[str, Any]] = []
    for file in files:
        data = yaml.safe_load(file.text) or {}
        for group in data.get("groups") or []:
            rules = [
                {
                    "type": "alerting" if "alert" in r else "recording",
                    "name": r.get("alert") or r.get("record"),
                    "query": r.get("expr", ""),
                    "duration": r.get("for", 0),
                    "labels": r.get("labels"),
                    "annotations": r.get("annotations"),
                    "health": "on disk",
                }
                for r in group.get("rules") or []
            ]
            groups.append({"name": group.get("name", ""), "file": str(file.path), "rules": rules})
    return rules_from_api(groups)


# -- internals -----------------------------------------------------------------------------
def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, pp.BinaryExpr):
        yield from _walk(node.lhs)
        yield from _walk(node.rhs)
    elif isinstance(node, pp.AggregateExpr):
        yield from _walk(node.expr)
        if node.param is not None:
            yield from _walk(node.param)
    elif isinstance(node, pp.Call):
        for arg in node.args:
            yield from _walk(arg)
    elif isinstance(node, pp.MatrixSelector):
        yield from _walk(node.vector_selector)
    elif isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.SubqueryExpr):
        yield from _walk(node.expr)


def _selector(node: pp.VectorSelector) -> Selector:
    matchers = []
    name = node.name or ""
    for m in node.matchers.matchers:
        if m.name == "__name__" and str(m.op) == "MatchOp.Equal":
            name = name or m.value
            continue
        matchers.append(Matcher(m.name, _MATCH_OPS[str(m.op)], m.value))
    return Selector(name, tuple(sorted(matchers, key=lambda m: (m.label, m.op, m.value))))


def _threshold(node: Any) -> float | None:
    """The value above which the expression yields samples; None when there is no such bound."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if not isinstance(node, pp.BinaryExpr):
        return None
    op = str(node.op)
    if op in ("and", "or", "unless"):
        left = _threshold(node.lhs)
        if op == "unless":
            return left
        right = _threshold(node.rhs)
        found = [t for t in (left, right) if t is not None]
        if not found:
            return None
        # `and`: both must hold, the laxer bound decides; `or`: either fires, the lower decides.
        return max(found) if op == "and" else min(found)
    if node.modifier is not None and node.modifier.return_bool:
        return None  # `> bool` yields 0/1 for every series: no filter, no threshold here
    if op not in _UP | _DOWN:
        return None
    subject, bound = (node.lhs, node.rhs) if op in _UP else (node.rhs, node.lhs)
    if not any(isinstance(n, pp.VectorSelector) for n in _walk(subject)):
        return None  # `vector(0) > 1` compares constants: no metric's threshold
    return _number(bound)


def _number(node: Any) -> float | None:
    """A literal, or the literal factor of ``0.8 * capacity`` (a threshold relative to a metric)."""
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    if isinstance(node, pp.NumberLiteral):
        return float(node.val)
    if isinstance(node, pp.BinaryExpr) and str(node.op) == "*":
        for side in (node.lhs, node.rhs):
            inner = side.expr if isinstance(side, pp.ParenExpr) else side
            if isinstance(inner, pp.NumberLiteral):
                return float(inner.val)
    return None


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
