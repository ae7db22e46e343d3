"""The ``expect`` fixture and the unreachable-source rule, on a temporary project."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]

VERDICTS = '''\
from shiftgate.errors import SourceUnavailable
from shiftgate.verdict import Verdict


def test_good(expect):
    expect(Verdict("index on user_segment exists", True, "recommendations_user_segment_idx is valid"))


def test_bad(expect):
    v = Verdict(
        "max_connections sufficient", False, "demand 77 > usable 47",
        measured=77, threshold=47, source="postgresql://probe:hunter2@127.0.0.1:5/db",
    )
    v.attach_text("query", "SELECT 1 -- password=hunter2", "sql")
    expect(v)


def test_unreachable():
    raise SourceUnavailable("postgres 127.0.0.1:1", "connection refused")
'''


def test_expect_passes_fails_and_redacts(project: pytest.Pytester) -> None:  # noqa: F811
    (project.path / "checks" / "database" / "test_verdicts.py").write_text(VERDICTS)
    result = run(project, "checks/database/test_verdicts.py", "--alluredir", "allure")
    assert result.parseoutcomes() == {"passed": 1, "failed": 2}
    out = result.stdout.str()
    assert "max_connections sufficient: FAILED: demand 77 > usable 47" in out
    assert "threshold: 47" in out
    assert "hunter2" not in out
    assert "postgres 127.0.0.1:1 unavailable: connection refused (the check fails closed)" in out
    assert "Traceback" not in out and "raise SourceUnavailable" not in out
    attachments = [p.read_text() for p in (project.path / "allure").glob("*-attachment*")]
    assert any("demand 77 > usable 47" in a for a in attachments)
    assert any("SELECT 1" in a for a in attachments)
    assert not any("hunter2" in a for a in attachments)
    results = [json.loads(p.read_text()) for p in (project.path / "allure").glob("*-result.json")]
    assert {r["name"]: r["status"] for r in results}["test_bad"] == "failed"
