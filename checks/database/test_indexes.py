"""Runbook checklist, Database: 'Create Missing Database Index on "user_segment"' (Critical).

The last incident: the candidate's new query searched the large table by user_segment with
no index to do it.
"""

from __future__ import annotations

import pytest

from shiftgate.analysis.indexes import required_indexes


@pytest.mark.critical
@pytest.mark.checklist('Create Missing Database Index on "user_segment"')
def test_candidate_indexes_exist_and_are_usable(db, environment, expect):
    """Every index the candidate needs exists, is valid, and its table's statistics are fresh."""
    versions = environment.versions
    spec = versions.candidate_spec
    requirements = spec.required_indexes
    tables = [db.table(r.table, r.schema_name) for r in requirements]
    opt_out = spec.reason if spec.indexes_opted_out else None
    expect(required_indexes(requirements, tables, environment.database, version=versions.candidate,
                            opt_out=opt_out))
