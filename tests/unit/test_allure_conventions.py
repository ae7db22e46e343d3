"""Allure conventions on a temporary project (pytester): what a reviewer reads in the report.

Title, description with the runbook link, labels, parameters, a step per probe call,
environment.properties, categories.json that really separate product regressions,
infrastructure faults and configuration errors, and no secret in any result file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from shiftgate import steps
from shiftgate.report.allure import CATEGORIES, RUNBOOK, tagged
from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]

SECRET = "hunter2"
CHECKS = f'''\
"""Runbook checklist, Database: the module's own words."""

import pytest

from shiftgate.errors import ConfigError, SourceUnavailable
from shiftgate.steps import step
from shiftgate.verdict import Verdict


@pytest.mark.critical
@pytest.mark.checklist("Increase Database Max Connections")
def test_product(expect, environment):
    """max_connections holds both colors' pools at their peak.

    Longer words after the title."""
    with step("PostgreSQL: SHOW max_connections"):
        pass
    v = Verdict("max_connections sufficient", False, "demand 77 > usable 47", measured=77,
                threshold=47, source="postgresql://probe:{SECRET}@127.0.0.1:5/db")
    v.attach_text("query", "SELECT 1 -- password={SECRET}", "sql")
    expect(v)


def test_passes(expect):
    """Connection pool usage below the limit."""
    expect(Verdict("pool usage", True, "0.4 in use", measured=0.4, threshold=0.8))


def test_unreachable_raised():
    """Database reachable (raised)."""
    raise SourceUnavailable("postgresql://probe:{SECRET}@127.0.0.1:1/db", "connection refused")


def test_unreachable_verdict(expect):
    """Database reachable (verdict)."""
    expect(Verdict.unavailable("settings", "prometheus http://127.0.0.1:1", "refused"))


def test_config_verdict(expect):
    """Rule files valid."""
    expect(Verdict("rule files valid", False, "no rule file configured", fault="configuration"))


def test_config_raised():
    """Required index configured."""
    raise ConfigError("environments/demo.yaml", "versions.specs", "no spec for 2.5.0")


def test_not_judged(expect):
    """p95 latency within its limit."""
    v = Verdict("p95 latency", False, "not judged over the whole window", measured="46 ms",
                threshold="300 ms")
    v.not_judged = "stopped early after 12.0 s of 60 s: error_ratio above its limit"
    expect(v)
'''


def _results(folder: Path) -> dict[str, dict[str, Any]]:
    results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    return {r["fullName"].rsplit("#", 1)[-1]: r for r in results}


def _category(result: dict[str, Any], categories: list[dict[str, Any]]) -> str | None:
    # Allure 2 semantics: the first category whose status matches and whose regex matches
    # the whole message (Java's matches()); Allure 3 searches (JS test()) — checked too.
    message = (result.get("statusDetails") or {}).get("message") or ""
    names = []
    for search in (re.fullmatch, re.search):
        names.append(next((
            c["name"] for c in categories
            if result["status"] in c["matchedStatuses"] and search(c["messageRegex"], message)
        ), None))
    assert names[0] == names[1], f"Allure 2 and 3 would disagree on {message!r}"
    return names[0]


@pytest.fixture
def allure_dir(project: pytest.Pytester) -> Path:  # noqa: F811
    (project.path / "checks" / "database" / "test_conventions.py").write_text(CHECKS)
    result = run(project, "checks/database/test_conventions.py", "--alluredir", "allure")
    result.assert_outcomes(passed=1, failed=6)  # not judged fails (closed)
    return project.path / "allure"


def test_title_description_labels_and_parameters(allure_dir: Path) -> None:
    product = _results(allure_dir)["test_product"]
    assert product["name"] == "max_connections holds both colors' pools at their peak."
    assert "Longer words after the title." in product["description"]
    assert "the module's own words" in product["description"]
    assert f"{RUNBOOK}#database" in product["description"]
    assert any(link["url"].endswith(f"{RUNBOOK}#database") for link in product["links"])
    labels = {(label["name"], label["value"]) for label in product["labels"]}
    assert {("epic", "ad hoc"), ("feature", "database"), ("severity", "critical"),
            ("story", "Increase Database Max Connections")} <= labels
    params = {p["name"]: p["value"] for p in product["parameters"]}
    assert params["environment"] == "demo"
    assert params["measured"] == "77" and params["threshold"] == "47"
    assert {"colors", "stable version", "candidate version", "run id"} <= set(params)
    assert all(p.get("excluded") for p in product["parameters"]), "history must follow the check"
    assert [s["name"] for s in product["steps"]] == ["PostgreSQL: SHOW max_connections"]


def test_environment_properties(allure_dir: Path) -> None:
    lines = (allure_dir / "environment.properties").read_text().splitlines()
    facts = dict(line.split("=", 1) for line in lines)
    assert facts["environment"] == "demo"
    assert {"service", "version.stable", "version.candidate", "git.commit", "run.id", "gate"} <= set(facts)


def test_categories_separate_the_three_kinds(allure_dir: Path) -> None:
    categories = json.loads((allure_dir / "categories.json").read_text())
    assert categories == CATEGORIES
    kinds = {name: _category(result, categories) for name, result in _results(allure_dir).items()}
    infrastructure, configuration, product, not_judged = (c["name"] for c in CATEGORIES)
    assert kinds == {
        "test_not_judged": not_judged,
        "test_product": product,
        "test_passes": None,
        "test_unreachable_raised": infrastructure,
        "test_unreachable_verdict": infrastructure,
        "test_config_verdict": configuration,
        "test_config_raised": configuration,
    }


def test_no_secret_in_any_result_file(allure_dir: Path) -> None:
    files = list(allure_dir.iterdir())
    assert any(f.name.endswith("-attachment.sql") or "attachment" in f.name for f in files)
    leaked = [f.name for f in files if SECRET in f.read_text(errors="replace")]
    assert not leaked, f"secret in {leaked}"


def test_fault_tag_leads_the_message() -> None:
    assert tagged("infrastructure", "x").startswith("[infrastructure fault] ")


def test_steps_are_no_ops_until_installed() -> None:
    seen: list[str] = []

    class Record:
        def __init__(self, title: str) -> None:
            seen.append(title)

        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: object) -> None:
            return None

    with steps.step("nothing"):
        pass
    steps.install(Record)
    try:
        with steps.step("GET postgresql://u:secret@h/db"):
            pass
    finally:
        steps.install(None)
    assert seen == ["GET postgresql://u:***@h/db"]


def test_the_report_environment_shows_each_override_with_its_source() -> None:
    from shiftgate.config.loader import load_environment
    from shiftgate.report.allure import environment_facts
    from tests.unit.test_config import ENV

    environment = load_environment("sandbox", environ=ENV, overrides=["analysis.failure_limit=3"])
    facts = environment_facts(environment, "shift")
    assert "override.analysis.failure_limit" in facts
    assert "→ 3" in facts["override.analysis.failure_limit"]
    assert "--set" in facts["override.analysis.failure_limit"]


def test_not_judged_is_its_own_status_and_names_the_criterion(allure_dir: Path) -> None:
    """Before issue 13 (item 7) a check the window never judged was written as a failure and
    sorted among the product regressions ("p95 latency ≤ 300 ms: ❌ failed (product)")."""
    result = _results(allure_dir)["test_not_judged"]
    assert result["status"] == "unknown"  # Allure's own word; pytest still counted it failed
    message = result["statusDetails"]["message"]
    assert "[not judged]" in message and "[product regression]" not in message
    assert "NOT JUDGED" in message and "error_ratio above its limit" in message
    assert "Product regressions" not in (_category(result, CATEGORIES) or "")


def test_results_carry_their_session_and_run(project: pytest.Pytester) -> None:  # noqa: F811
    (project.path / "checks" / "database" / "test_conventions.py").write_text(CHECKS)
    run(project, "checks/database/test_conventions.py", "--alluredir", "allure",
        "--set", "run.id=20990101-000000-demo-abcd")
    folder = project.path / "allure"
    results = list(_results(folder).values())
    labels = [{label["name"]: label["value"] for label in r["labels"]} for r in results]
    assert {label.get("shiftgate_run") for label in labels} == {"20990101-000000-demo-abcd"}
    sessions = {label["shiftgate_session"] for label in labels}
    assert len(sessions) == 1
    record = json.loads((folder / f"shiftgate-session-{sessions.pop()}.json").read_text())
    assert record["run_id"] == "20990101-000000-demo-abcd"
    assert record["exit_status"] == 1 and record["facts"]["environment"] == "demo"


def test_not_judged_never_passes_even_when_passed_is_set() -> None:
    from shiftgate.verdict import Verdict

    v = Verdict("p95", True, "looked fine", not_judged="stopped early: error_ratio")
    assert v.status == "not judged"
    assert v.message().startswith("p95: NOT JUDGED:")
