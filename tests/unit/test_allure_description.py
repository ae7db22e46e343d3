"""Allure descriptions show configured thresholds, as titles do (not raw ``{...}`` placeholders)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from shiftgate.report.allure import fill
from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]

CHECK = '''\
"""Module words: Allure fills ``{environment...}`` from the fixtures."""


def test_error_rate(environment):
    """Evaluate Performance: error rate ≤ {environment.slo.error_ratio_max:.0%} (else roll back).

    Judged against {environment.slo.latency_p95_max_ms:g} ms too; {nope} stays as written."""
'''


def test_fill_formats_each_placeholder_on_its_own() -> None:
    env = SimpleNamespace(slo=SimpleNamespace(error_ratio_max=0.02, latency_p95_max_ms=300.0))
    text = "≤ {environment.slo.error_ratio_max:.0%}, {missing.x}, {environment.nope}, {{literal}}"
    assert fill(text, {"environment": env}) == "≤ 2%, {missing.x}, {environment.nope}, {literal}"
    assert fill("a lone { brace", {"environment": env}) == "a lone { brace"
    assert fill("{environment.slo.error_ratio_max:%%bad}", {"environment": env}) == (
        "{environment.slo.error_ratio_max:%%bad}"
    )


def test_description_is_formatted_from_fixtures_like_the_title(
    project: pytest.Pytester,  # noqa: F811 - the shared fixture
) -> None:
    (project.path / "checks" / "slo").mkdir()
    (project.path / "checks" / "slo" / "test_described.py").write_text(CHECK)
    result = run(project, "checks/slo/test_described.py", "--alluredir", "allure",
                 "--set", "slo.error_ratio_max=0.02")
    assert result.ret == 0
    [data] = [json.loads(p.read_text()) for p in (project.path / "allure").glob("*-result.json")]
    assert data["name"] == "Evaluate Performance: error rate ≤ 2% (else roll back)."
    description = data["description"]
    assert "error rate ≤ 2% (else roll back)" in description
    assert "Judged against 300 ms too; {nope} stays as written." in description
    assert "{environment.slo" not in description
    assert "runbook-recommendation-blue-green.md#rollback-procedure" in description
