"""Critical query plans: read large tables through an index, within the cost bound.

Each critical query of the candidate is planned (EXPLAIN, never ANALYZE) with each of its
representative parameter sets (a frequent and a rare value) and as a generic plan, the one a
prepared statement may settle on whatever the value. A query plan fails when it reads a large table
(``database.large_table_rows`` estimated rows or more, or of unknown size: fail closed) with a
sequential scan, or an index scan that does not search the index's leading column (it walks
the whole index), or when its estimated total cost exceeds the query's ``max_cost``. A Bitmap
Heap Scan names no index: it is judged by the Bitmap Index Scans that build its bitmap, by the
same leading-column rule, so a bitmap scan of an index led by another column fails as the same
query plan with an Index Scan does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from shiftgate.analysis.verdicts import all_of, attach_records
from shiftgate.config.models import DatabaseConfig
from shiftgate.probes.postgres_facts import BITMAP_HEAP, CriticalQueryPlans, QueryPlanFact, Scan
from shiftgate.verdict import Verdict

SEQUENTIAL = "Seq Scan"


def _label(plan: QueryPlanFact) -> str:
    if plan.generic:
        return "generic plan"
    return "params " + (", ".join(f"{k}={v!r}" for k, v in plan.params.items()) or "none")


def query_plan_problems(plan: QueryPlanFact, facts: CriticalQueryPlans, config: DatabaseConfig) -> list[str]:
    """What is wrong with one query plan; empty when nothing is."""
    problems: list[str] = []
    for scan in plan.scans():
        if scan.relation is None:
            continue  # a Bitmap Index Scan: judged with its Bitmap Heap Scan, below
        rows = facts.relation_rows.get(scan.relation)
        size = ("size unknown: never analyzed" if rows is None or rows < 0
                else f"~{rows:,.0f} rows ≥ database.large_table_rows {config.large_table_rows:,}")
        if rows is not None and 0 <= rows < config.large_table_rows:
            continue
        if scan.node_type == SEQUENTIAL:
            problems.append(f"sequential scan of {scan.relation} ({size})")
        elif scan.node_type == BITMAP_HEAP:
            problems += _bitmap_problems(scan, facts, size)
        elif scan.index and _whole_index(scan.index, scan.index_cond, facts):
            problems.append(_whole_index_problem(scan, scan.index, facts, size))
    bound = facts.query.max_cost
    if bound is not None and plan.total_cost > bound:
        problems.append(f"estimated cost {plan.total_cost:,.2f} > max_cost {bound:,.2f}")
    return problems


def _whole_index_problem(scan: Scan, index: str, facts: CriticalQueryPlans, size: str) -> str:
    return (
        f"{scan.node_type} of {scan.relation} reads all of {index}: its leading column "
        f"{facts.index_leading.get(index) or '(expression)'} is not searched ({size})"
    )


def _bitmap_problems(scan: Scan, facts: CriticalQueryPlans, size: str) -> list[str]:
    """A Bitmap Heap Scan of a large table, judged by each index its bitmap is built from."""
    if not scan.bitmap:  # fail closed: no index to judge it by
        return [f"{scan.node_type} of {scan.relation} without a Bitmap Index Scan to judge ({size})"]
    return [
        _whole_index_problem(scan, part.index or "(unnamed index)", facts, size)
        for part in scan.bitmap
        if part.index is None or _whole_index(part.index, part.index_cond, facts)
    ]


def _whole_index(index: str, condition: str | None, facts: CriticalQueryPlans) -> bool:
    """An index scan that does not search the index's leading column walks all of it (a scan
    for ORDER BY alone, or a condition on a later column): a sequential scan in disguise."""
    leading = facts.index_leading.get(index)
    if leading is None or not condition:
        return not condition
    return re.search(rf"\b{re.escape(leading)}\b", condition) is None


def query_plan(facts: CriticalQueryPlans, config: DatabaseConfig) -> Verdict:
    """One critical query, all its query plans."""
    query = facts.query
    lines: list[str] = []
    failures: list[str] = []
    for plan in facts.plans:
        scans = ", ".join(
            f"{s.node_type} {s.relation}" + (f" using {s.index}" if s.index else "")
            + (f" (bitmap of {', '.join(b.index or '?' for b in s.bitmap)})" if s.bitmap else "")
            for s in plan.scans() if s.relation is not None
        )
        problems = query_plan_problems(plan, facts, config)
        state = "FAILED: " + "; ".join(problems) if problems else "ok"
        lines.append(f"{_label(plan)}: cost {plan.total_cost:,.2f}, {scans or 'no table read'}: {state}")
        failures += [f"{_label(plan)}: {p}" for p in problems]
    passed = not failures and bool(facts.plans)
    if not facts.plans:
        reason = "no query plan was produced"
    elif passed:
        reason = f"{len(facts.plans)} query plans read large tables through indexes only"
    else:
        reason = "; ".join(failures)
    details = [f"query: {' '.join(query.sql.split())}", *lines]
    if not passed:
        details.append("fix: create the index the query needs (see the index check), ANALYZE the table")
    verdict = Verdict(
        check=f"query '{query.name}' planned on an index",
        passed=passed,
        reason=reason,
        measured=f"max cost {max((p.total_cost for p in facts.plans), default=0):,.2f}",
        threshold=(f"no Seq Scan of tables ≥ {config.large_table_rows:,} rows"
                   + (f", cost ≤ {query.max_cost:,.2f}" if query.max_cost is not None else "")),
        details=details,
    )
    for plan in facts.plans:
        verdict.attach_text(f"{query.name} [{_label(plan)}]: EXPLAIN", plan.record.sql, "sql")
        verdict.attach_text(
            f"{query.name} [{_label(plan)}]: plan",
            json.dumps({"params": plan.params, "plan": plan.plan}, indent=2, default=str),
            "json",
        )
    attach_records(verdict, {f"{query.name}: table sizes": r for r in facts.records})
    return verdict


def query_plans(
    queries: Sequence[CriticalQueryPlans],
    config: DatabaseConfig,
    *,
    version: str,
    opt_out: str | None = None,
) -> Verdict:
    """Every critical query of ``version``; ``opt_out``: the reason it declared
    ``critical_queries: none``."""
    parts = [query_plan(q, config) for q in queries]
    return all_of(
        f"critical queries of {version} planned on an index", parts,
        empty_reason=f"version {version} declares no critical query",
        declare=(f"list {version}'s hot-path queries under versions.specs.{version}."
                 "critical_queries (name, sql, params), or write `critical_queries: none` with "
                 "a `reason:` if it has none"),
        opt_out=opt_out,
    )
