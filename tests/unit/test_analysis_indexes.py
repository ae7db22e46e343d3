"""Required indexes: leading columns, validity flags, leftovers, builds, statistics age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shiftgate.analysis.indexes import required_index, required_indexes
from shiftgate.config.models import DatabaseConfig, IndexRequirement
from shiftgate.probes.postgres_facts import IndexBuild, IndexFact, TableFacts, TableStats

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
REQ = IndexRequirement(table="recommendations", columns=["user_segment"])
CONFIG = DatabaseConfig(dsn_env="DSN", stats_max_age_s=3600)


def index(name: str, *columns: str | None, **flags: object) -> IndexFact:
    return IndexFact("public", "recommendations", name, list(columns), **flags)  # type: ignore[arg-type]


def table(
    *indexes: IndexFact,
    analyzed: datetime | None = NOW - timedelta(minutes=5),
    builds: tuple[IndexBuild, ...] = (),
    exists: bool = True,
) -> TableFacts:
    stats = TableStats(2e6, analyzed, None, 0, NOW) if exists else None
    return TableFacts("public", "recommendations", stats, list(indexes), list(builds))


GOOD = index("recommendations_user_segment_score_idx", "user_segment", "score")


def verdict_of(*indexes: IndexFact, **kw: object) -> tuple[bool, str]:
    v = required_index(REQ, table(*indexes, **kw), CONFIG)  # type: ignore[arg-type]
    return v.passed, v.message()


def test_valid_index_with_fresh_statistics_passes() -> None:
    passed, message = verdict_of(GOOD)
    assert passed, message
    assert "valid, ready and live; statistics 300 s old" in message


def test_no_index_fails_with_the_create_statement() -> None:
    passed, message = verdict_of()
    assert not passed
    assert "no usable index leading with (user_segment) on public.recommendations" in message
    assert "CREATE INDEX CONCURRENTLY recommendations_user_segment_idx ON public.recommendations" in message


def test_index_whose_first_column_is_not_user_segment_fails() -> None:
    passed, message = verdict_of(index("recommendations_score_segment_idx", "score", "user_segment"))
    assert not passed
    assert "holds user_segment at position 2, not first" in message


def test_expression_and_partial_indexes_do_not_count() -> None:
    assert not verdict_of(index("expr_idx", None, "user_segment"))[0]
    passed, message = verdict_of(index("partial_idx", "user_segment", is_partial=True))
    assert not passed and "partial" in message


@pytest.mark.parametrize(
    "leftover",
    [
        index("recommendations_user_segment_idx", "user_segment", is_valid=False),
        index("recommendations_user_segment_idx_ccnew", "user_segment"),
        index("recommendations_user_segment_idx_ccold1", "user_segment", is_live=True),
    ],
)
def test_leftover_of_a_failed_concurrent_build_fails_with_the_fix(leftover: IndexFact) -> None:
    # Even next to a good index: the leftover still costs every write and confuses people.
    passed, message = verdict_of(GOOD, leftover)
    assert not passed
    assert "leftover of a failed concurrent build" in message
    assert f"DROP INDEX CONCURRENTLY public.{leftover.name}" in message
    assert f"REINDEX INDEX CONCURRENTLY public.{leftover.name}" in message


@pytest.mark.parametrize("flag", ["is_ready", "is_live"])
def test_not_ready_or_not_live_index_is_not_usable(flag: str) -> None:
    passed, message = verdict_of(index("ix", "user_segment", **{flag: False}))
    assert not passed and "not usable" in message


def test_build_in_progress_fails() -> None:
    build = IndexBuild(4242, "recommendations_user_segment_idx", "CREATE INDEX CONCURRENTLY",
                       "building index: scanning table", 100, 1000)
    passed, message = verdict_of(GOOD, builds=(build,))
    assert not passed
    assert "index build still running" in message and "pid 4242" in message and "100/1000" in message


def test_statistics_never_analyzed_fails() -> None:
    passed, message = verdict_of(GOOD, analyzed=None)
    assert not passed and "never analyzed" in message and "ANALYZE public.recommendations" in message


@pytest.mark.parametrize(("age_s", "passed"), [(3599, True), (3600, True), (3601, False)])
def test_statistics_age_bound(age_s: int, passed: bool) -> None:
    assert verdict_of(GOOD, analyzed=NOW - timedelta(seconds=age_s))[0] is passed


def test_statistics_older_than_the_index_fail_when_commit_times_are_known() -> None:
    fresh_index = index("ix", "user_segment", valid_since=NOW - timedelta(minutes=1))
    passed, message = verdict_of(fresh_index, analyzed=NOW - timedelta(minutes=2))
    assert not passed and "predate index ix" in message
    assert verdict_of(fresh_index, analyzed=NOW - timedelta(seconds=30))[0]


def test_missing_table_fails() -> None:
    passed, message = verdict_of(exists=False)
    assert not passed and "does not exist" in message


def test_index_on_another_table_does_not_count() -> None:
    other = TableFacts("public", "users", TableStats(2e5, NOW, None, 0, NOW),
                       [IndexFact("public", "users", "users_segment_idx", ["user_segment"])], [])
    tables = [table(), other]
    verdict = required_indexes([REQ], tables, CONFIG, version="2.5.0")
    assert not verdict.passed


def test_several_requirements_report_every_failure() -> None:
    two = [REQ, IndexRequirement(table="recommendations", columns=["item_id"])]
    verdict = required_indexes(two, [table(GOOD)], CONFIG, version="2.5.0")
    assert not verdict.passed
    assert "1 of 2 failed" in verdict.reason
    assert "ok: index on public.recommendations (user_segment) exists" in verdict.message()


def test_no_requirement_fails_naming_what_to_declare() -> None:
    """Issue 13 item 2. Before: a candidate declaring no required index passed the critical
    index check without touching the database (preflight exit 0). Now: it fails as a
    configuration fault naming the key to fill (exit 1)."""
    verdict = required_indexes([], [], CONFIG, version="2.4.3")
    assert not verdict.passed and verdict.fault == "configuration"
    assert "declares no required index: nothing to judge" in verdict.reason
    assert "versions.specs.2.4.3.required_indexes" in verdict.message()


def test_explicit_opt_out_passes_and_shows_as_such() -> None:
    verdict = required_indexes([], [], CONFIG, version="2.4.3", opt_out="reads by primary key only")
    assert verdict.passed
    assert verdict.reason == ("explicit opt-out: version 2.4.3 declares no required index; "
                              "reason given: reads by primary key only")
