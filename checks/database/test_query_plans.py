"""Runbook checklist, Database: the index on "user_segment" is what the candidate's queries use.

An index that exists but is not chosen (wrong leading column, stale statistics) leaves the
incident in place; the planner's own answer, EXPLAIN without ANALYZE, is the proof.
"""

from __future__ import annotations

import pytest

from shiftgate.analysis.query_plans import query_plans


@pytest.mark.critical
@pytest.mark.checklist('Create Missing Database Index on "user_segment"')
def test_candidate_queries_use_an_index(db, environment, expect):
    """Every critical query of the candidate reads large tables through an index, within its cost."""
    versions = environment.versions
    spec = versions.candidate_spec
    plans = [db.query_plans(query) for query in spec.critical_queries]
    opt_out = spec.reason if spec.queries_opted_out else None
    expect(query_plans(plans, environment.database, version=versions.candidate, opt_out=opt_out))
