"""Critical query plans: sequential scans of large tables and the cost bound."""

from __future__ import annotations

from typing import Any

import pytest

from shiftgate.analysis.query_plans import query_plan, query_plans
from shiftgate.config.models import CriticalQuery, DatabaseConfig
from shiftgate.probes.postgres_facts import CriticalQueryPlans, QueryPlanFact, QueryRecord
from shiftgate.probes.postgres_sql import to_positional

CONFIG = DatabaseConfig(dsn_env="DSN", large_table_rows=100_000)
QUERY = CriticalQuery(
    name="segment recommendations",
    sql="SELECT item_id FROM recommendations WHERE user_segment = %(segment)s LIMIT 20",
    params=[{"segment": 0}, {"segment": 499}],
    max_cost=1000,
)


def node(kind: str, cost: float, relation: str | None = None, index: str | None = None,
         children: list[dict[str, Any]] | None = None, cond: str | None = None) -> dict[str, Any]:
    n: dict[str, Any] = {"Node Type": kind, "Total Cost": cost}
    if cond:
        n["Index Cond"] = cond
    if relation:
        n.update({"Relation Name": relation, "Schema": "public"})
    if index:
        n["Index Name"] = index
    if children:
        n["Plans"] = children
    return n


SEQ = node("Limit", 24202.2, children=[node("Gather Merge", 24587.0, children=[
    node("Sort", 23203.0, children=[node("Seq Scan", 23155.67, "recommendations")])])])
INDEX = node("Limit", 31.36, children=[
    node("Index Scan", 6155.64, "recommendations", "recommendations_user_segment_score_idx",
         cond="(recommendations.user_segment = 0)")])
BITMAP = node("Limit", 400.0, children=[node("Bitmap Heap Scan", 400.0, "recommendations", children=[
    node("Bitmap Index Scan", 20.0, index="recommendations_user_segment_idx",
         cond="(recommendations.user_segment = 0)")])])
LEADING = {
    "recommendations_user_segment_score_idx": "user_segment",
    "recommendations_user_segment_idx": "user_segment",
    "recommendations_score_segment_idx": "score",
}


def plans(
    *shapes: dict[str, Any], rows: float | None = 2e6, query: CriticalQuery = QUERY
) -> CriticalQueryPlans:
    facts = [
        QueryPlanFact(query.sql, {"segment": i}, shape, generic=i == len(shapes) - 1,
                 record=QueryRecord("EXPLAIN ..."))
        for i, shape in enumerate(shapes)
    ]
    return CriticalQueryPlans(query, facts, {"public.recommendations": rows}, index_leading=LEADING)


def test_index_scans_pass() -> None:
    verdict = query_plan(plans(INDEX, INDEX, INDEX), CONFIG)
    assert verdict.passed, verdict.message()
    assert "Index Scan public.recommendations using recommendations_user_segment_score_idx" in (
        verdict.message()
    )


def test_bitmap_scan_through_an_index_passes() -> None:
    assert query_plan(plans(BITMAP, BITMAP), CONFIG).passed


def test_sequential_scan_of_a_large_table_fails_for_each_plan() -> None:
    verdict = query_plan(plans(SEQ, INDEX, SEQ), CONFIG)
    assert not verdict.passed
    message = verdict.message()
    assert "params segment=0: sequential scan of public.recommendations (~2,000,000 rows" in message
    assert "generic plan: sequential scan" in message
    assert "params segment=1: cost 31.36" in message and ": ok" in message
    assert "query: SELECT item_id FROM recommendations WHERE user_segment" in message


@pytest.mark.parametrize(("rows", "passed"), [(99_999, True), (100_000, False), (None, False), (-1, False)])
def test_large_table_threshold_and_unknown_size(rows: float | None, passed: bool) -> None:
    unbounded = QUERY.model_copy(update={"max_cost": None})
    assert query_plan(plans(SEQ, rows=rows, query=unbounded), CONFIG).passed is passed


def test_cost_above_the_bound_fails_even_on_an_index() -> None:
    score_first = node("Limit", 5210.0, children=[
        node("Index Scan", 520000.0, "recommendations", "recommendations_score_segment_idx")])
    verdict = query_plan(plans(score_first), CONFIG)
    assert not verdict.passed and "estimated cost 5,210.00 > max_cost 1,000.00" in verdict.message()


@pytest.mark.parametrize(
    "cond", ["(recommendations.user_segment = 0)", None], ids=["later column", "order only"]
)
def test_index_scan_that_does_not_search_the_leading_column_fails(cond: str | None) -> None:
    # An index on (score, user_segment): the planner walks it backwards for ORDER BY score
    # and LIMIT makes that look cheap; for a rare segment it reads the whole index.
    walk = node("Limit", 255.94, children=[
        node("Index Scan Backward", 50731.0, "recommendations", "recommendations_score_segment_idx",
             cond=cond)])
    verdict = query_plan(plans(walk), CONFIG)
    assert not verdict.passed
    assert ("reads all of recommendations_score_segment_idx: its leading column score is not searched"
            in verdict.message())


def test_small_tables_may_be_read_any_way() -> None:
    unbounded = QUERY.model_copy(update={"max_cost": None})
    walk = node("Index Scan", 50.0, "recommendations", "recommendations_score_segment_idx")
    assert query_plan(plans(walk, rows=5_000, query=unbounded), CONFIG).passed


def test_evidence_holds_query_params_and_plan() -> None:
    verdict = query_plan(plans(SEQ, INDEX), CONFIG)
    plan_attachments = [a for a in verdict.attachments if a.name.endswith(": plan")]
    assert len(plan_attachments) == 2
    assert '"segment": 0' in str(plan_attachments[0].body) and "Seq Scan" in str(plan_attachments[0].body)


def test_no_plan_fails_closed() -> None:
    assert not query_plan(CriticalQueryPlans(QUERY, [], {}), CONFIG).passed


def test_no_critical_query_declared_fails_naming_what_to_declare() -> None:
    """Issue 13 item 2. Before: a candidate declaring no critical query passed the query-plan
    check without touching the database (all_of with no parts: passed; the preflight gate
    exit 0). Now: the check fails as a configuration fault naming the key to fill (exit 1)."""
    verdict = query_plans([], CONFIG, version="2.5.0")
    assert not verdict.passed and verdict.fault == "configuration"
    assert "version 2.5.0 declares no critical query: nothing to judge" in verdict.reason
    assert "versions.specs.2.5.0.critical_queries" in verdict.message()
    assert "`critical_queries: none` with a `reason:`" in verdict.message()


def test_explicit_opt_out_passes_and_says_so() -> None:
    verdict = query_plans([], CONFIG, version="2.5.0", opt_out="serves a static catalog")
    assert verdict.passed
    assert verdict.reason.startswith("explicit opt-out: version 2.5.0 declares no critical query")
    assert "serves a static catalog" in verdict.reason and verdict.measured.startswith("explicit opt-out")


def bitmap_of(index: str, cond: str | None, *, under: str | None = None) -> dict[str, Any]:
    inner = node("Bitmap Index Scan", 20.0, index=index, cond=cond)
    if under:  # BitmapAnd / BitmapOr between the heap scan and its index scans
        inner = node(under, 40.0, children=[
            node("Bitmap Index Scan", 10.0, index="recommendations_user_segment_idx",
                 cond="(recommendations.user_segment = 0)"), inner])
    return node("Limit", 400.0, children=[node("Bitmap Heap Scan", 400.0, "recommendations",
                                               children=[inner])])


@pytest.mark.parametrize("under", [None, "BitmapOr", "BitmapAnd"])
def test_bitmap_scan_of_an_index_led_by_another_column_fails(under: str | None) -> None:
    """Issue 13 item 2 (negative test). Before: the Bitmap Index Scan was skipped ("judged
    through its Bitmap Heap Scan's index") but the heap scan names no index, so a bitmap scan
    of the index led by score, searched only by user_segment, passed (preflight exit 0) where
    the same query plan as an Index Scan fails. Now it fails by the leading-column rule (exit 1)."""
    unbounded = QUERY.model_copy(update={"max_cost": None})
    shape = bitmap_of("recommendations_score_segment_idx", "(recommendations.user_segment = 0)", under=under)
    verdict = query_plan(plans(shape, query=unbounded), CONFIG)
    assert not verdict.passed
    assert ("Bitmap Heap Scan of public.recommendations reads all of recommendations_score_segment_idx: "
            "its leading column score is not searched (~2,000,000 rows") in verdict.message()
    assert "(bitmap of " in verdict.message()


def test_bitmap_scan_on_a_small_table_passes_and_unknown_size_fails() -> None:
    unbounded = QUERY.model_copy(update={"max_cost": None})
    shape = bitmap_of("recommendations_score_segment_idx", "(recommendations.user_segment = 0)")
    assert query_plan(plans(shape, rows=5_000, query=unbounded), CONFIG).passed
    assert not query_plan(plans(shape, rows=None, query=unbounded), CONFIG).passed


def test_bitmap_heap_scan_without_an_index_scan_fails_closed() -> None:
    unbounded = QUERY.model_copy(update={"max_cost": None})
    bare = node("Bitmap Heap Scan", 400.0, "recommendations")
    verdict = query_plan(plans(bare, query=unbounded), CONFIG)
    assert not verdict.passed and "without a Bitmap Index Scan" in verdict.message()


@pytest.mark.parametrize(
    ("text", "expected", "names"),
    [
        ("a = %(x)s", "a = $1", ["x"]),
        ("a = %(x)s AND b = %(y)s OR c = %(x)s", "a = $1 AND b = $2 OR c = $1", ["x", "y"]),
        ("a LIKE 'x%%' AND b = %(y)s", "a LIKE 'x%' AND b = $1", ["y"]),
        ("SELECT 1", "SELECT 1", []),
    ],
)
def test_placeholders_for_generic_plans(text: str, expected: str, names: list[str]) -> None:
    assert to_positional(text) == (expected, names)
