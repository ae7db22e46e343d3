"""The verdict covers the whole gate (issue 13, item 1): each hole, closed.

Each test names the way a gate could be talked into passing before this change and shows it
now fails (exit 1) or is refused (pytest usage error 4, ``shiftgate`` exit code 2). They run
the plugin end to end on the temporary project of ``test_pytest_plugin`` (pytester).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]

HOLES = '''\
import pytest

from shiftgate.errors import SourceUnavailable


@pytest.mark.xfail(reason="database flaky")
def test_source_down_but_xfail():
    raise SourceUnavailable("postgresql://probe@127.0.0.1:1/db", "connection refused")


@pytest.mark.xfail(reason="known slow")
def test_xpass():
    pass


@pytest.mark.xfail(reason="optional but broken")
def test_optional_xfail():
    assert False


def test_fine():
    pass
'''


def _gate(pytester: pytest.Pytester, name: str, *entries: str | tuple[str, bool]) -> None:
    lines = [f"name: {name}", "purpose: a hole", "checks:"]
    for entry in entries:
        path, optional = entry if isinstance(entry, tuple) else (entry, False)
        lines.append(f"  - path: {path}")
        if optional:
            lines.append("    optional: true")
    (pytester.path / "gates" / f"{name}.yaml").write_text("\n".join(lines) + "\n")


@pytest.fixture
def holes(project: pytest.Pytester) -> pytest.Pytester:  # noqa: F811 - the shared fixture
    (project.path / "checks" / "database" / "test_holes.py").write_text(HOLES)
    return project


@pytest.mark.parametrize(
    "args",
    [
        ("--co",),
        ("--collect-only",),
        ("-k", "fine"),
        ("-m", "critical"),
        ("--deselect", "checks/database/test_holes.py::test_xpass"),
        ("checks/database/test_holes.py::test_fine",),
        ("-x",),
        ("--maxfail", "1"),
        ("--setup-plan",),
        ("--fixtures",),
        ("--ignore", "checks/database/test_holes.py"),
        ("--allure-epics", "nothing"),
        ("-o", "python_functions=test_fine"),
    ],
)
def test_partial_run_options_are_refused(holes: pytest.Pytester, args: tuple[str, ...]) -> None:
    """Before this change each of these ran a subset (or nothing: `--co` exited 0) and the
    subset's result was the gate's. Now: usage error (exit 4; `shiftgate gate` exit 2)."""
    _gate(holes, "fine", "checks/database/test_holes.py::test_fine")
    result = run(holes, "--gate", "fine", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*gate fine runs whole: refused *"])
    result.stdout.no_fnmatch_line("*passed*")


def test_partial_run_options_from_pytest_addopts_are_refused(
    holes: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before this change PYTEST_ADDOPTS="-k nothing" deselected the gate's checks unseen."""
    _gate(holes, "fine", "checks/database/test_holes.py::test_fine")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-k nothing")
    result = run(holes, "--gate", "fine")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*refused -k*"])


def test_entry_whose_test_was_renamed_fails_the_gate(holes: pytest.Pytester) -> None:
    """Before this change a listed file whose only test was renamed (no longer collected)
    dropped out silently: the other entries passed and so did the gate (exit 0)."""
    renamed = holes.path / "checks" / "database" / "test_renamed.py"
    renamed.write_text("def check_max_connections():\n    assert False\n")
    _gate(holes, "renamed", "checks/database/test_holes.py::test_fine",
          "checks/database/test_renamed.py")
    result = run(holes, "--gate", "renamed", "--junitxml", "junit.xml")
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*gate renamed: checks/database/test_renamed.py (checks.1.path in gates/renamed.yaml) "
        "yielded no check that ran*"
    ])
    junit = (holes.path / "junit.xml").read_text()
    assert 'failures="1"' in junit and "checks.1.path" in junit


def test_entry_of_a_folder_without_checks_fails_the_gate(holes: pytest.Pytester) -> None:
    """Before this change a listed folder whose files were all renamed added nothing and
    the gate passed on its other entries."""
    folder = holes.path / "checks" / "empty_area"
    folder.mkdir()
    (folder / "helpers.py").write_text("def test_not_collected():\n    pass\n")
    _gate(holes, "folder", "checks/database/test_holes.py::test_fine", "checks/empty_area")
    result = run(holes, "--gate", "folder")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*checks/empty_area (checks.1.path*yielded no check that ran*"])


def test_every_entry_yielding_a_check_passes(holes: pytest.Pytester) -> None:
    """The good state: entries that overlap (a file and a node in it) each count."""
    _gate(holes, "overlap", "checks/database/test_other.py",
          "checks/database/test_other.py::test_other")
    result = run(holes, "--gate", "overlap")
    assert result.ret == 0
    result.assert_outcomes(passed=1)


def test_xpass_fails_the_gate(holes: pytest.Pytester) -> None:
    """Before this change an xfail-marked check that passed was an xpass and the gate
    exited 0: inside a gate a marker never decides the verdict."""
    _gate(holes, "xpass", "checks/database/test_holes.py::test_xpass")
    result = run(holes, "--gate", "xpass")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*xpass inside gate 'xpass': known slow*"])
    assert "xpassed" not in result.parseoutcomes()


def test_xfail_of_an_optional_check_fails_the_gate(holes: pytest.Pytester) -> None:
    """Before this change an optional entry's xfail was a skip the gate allowed (exit 0):
    optional excuses a skip, not a failure."""
    _gate(holes, "optxfail", "checks/database/test_holes.py::test_fine",
          ("checks/database/test_holes.py::test_optional_xfail", True))
    result = run(holes, "--gate", "optxfail")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*xfail inside gate 'optxfail': optional but broken*"])


@pytest.mark.parametrize("gate", [True, False])
def test_unreachable_source_fails_whatever_the_markers(holes: pytest.Pytester, gate: bool) -> None:
    """Before this change SourceUnavailable under an xfail marker became a failed report that
    still carried `wasxfail`: reporters counted it as xfailed and the gate exited 0."""
    _gate(holes, "down", "checks/database/test_holes.py::test_source_down_but_xfail")
    args = ("--gate", "down") if gate else (
        "checks/database/test_holes.py::test_source_down_but_xfail",)
    result = run(holes, *args, "--alluredir", "allure")
    assert result.ret == 1
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 1 and "xfailed" not in outcomes
    result.stdout.fnmatch_lines(["*connection refused (the check fails closed)*"])
    [data] = [json.loads(p.read_text()) for p in Path(holes.path / "allure").glob("*-result.json")]
    assert data["status"] in {"failed", "broken"}  # not skipped: Allure sees the failure


def test_gate_refuses_positional_even_under_xdist(holes: pytest.Pytester) -> None:
    """The xdist controller refuses; workers get the gate's own paths and run all of them."""
    _gate(holes, "fine", "checks/database/test_holes.py::test_fine")
    assert run(holes, "--gate", "fine", "-n", "2").ret == 0
    refused = run(holes, "--gate", "fine", "-n", "2", "checks/database/test_other.py")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR


def test_xdist_workers_collect_the_gate_not_the_testpaths(holes: pytest.Pytester) -> None:
    """With `testpaths` in the ini (the project's pyproject has one), xdist's workers must
    still collect the gate's own paths; else every entry falls silent."""
    holes.makeini("[pytest]\naddopts = -p no:cacheprovider --strict-markers\ntestpaths = elsewhere\n")
    _gate(holes, "fine", "checks/database/test_holes.py::test_fine")
    result = run(holes, "--gate", "fine", "-n", "2")
    assert result.ret == 0
    result.assert_outcomes(passed=1)
