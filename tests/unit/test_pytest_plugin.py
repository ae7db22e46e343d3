"""The pytest plugin, end to end on a temporary project run by pytester in a subprocess.

A subprocess per run: the plugin keeps its state in ``config.stash`` and the run must load
the temporary project's conftest and allure-pytest exactly as ``shiftgate gate`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ENVIRONMENT = """\
name: demo
service:
  name: recommendation
  url: http://127.0.0.1:1
  color_urls: {blue: "http://127.0.0.1:2", green: "http://127.0.0.1:3"}
versions:
  stable: "1.0.0"
  candidate: "1.1.0"
  specs:
    "1.0.0": {pool: {max_size: 10, replicas: 2, max_replicas: 2}}
    "1.1.0": {pool: {max_size: 25, replicas: 2, max_replicas: 2}}
    "2.0.0": {pool: {max_size: 25, replicas: 2, max_replicas: 2}}
database: {dsn_env: DEMO_DSN}
prometheus: {url: "http://127.0.0.1:4"}
platform: {kind: sandbox}
router: {kind: haproxy, admin_socket: /tmp/demo.sock}
load: {profile: loadtests/profiles/demo.yaml}
"""

CHECKS = '''\
import pytest


def test_pass(environment):
    assert environment.name == "demo"


def test_fail():
    assert 1 == 2, "measured 2, threshold 1"


def test_skip():
    pytest.skip("no samples from prometheus")


@pytest.mark.skip(reason="not written yet")
def test_marked_skip():
    pass


@pytest.mark.xfail(reason="known regression")
def test_xfail():
    assert False


@pytest.mark.parametrize("n", [1, 2])
def test_param(n):
    assert n


@pytest.mark.critical
@pytest.mark.checklist('Create Missing Database Index on "user_segment"')
def test_labelled():
    pass


def test_candidate(environment):
    assert environment.versions.candidate == "2.0.0"
'''

GATES = {
    "demo": ["test_x.py::test_pass", "test_x.py::test_skip", "test_x.py::test_param"],
    "optional": ["test_x.py::test_pass", ("test_x.py::test_skip", True)],
    "marked": ["test_x.py::test_marked_skip"],
    "xfail": ["test_x.py::test_xfail"],
    "failing": ["test_x.py::test_pass", "test_x.py::test_fail"],
    "labels": ["test_x.py::test_pass", "test_x.py::test_labelled"],
    "modskip": ["test_modskip.py"],
    "candidate": ["test_x.py::test_candidate"],
    "empty": [],
}


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("SHIFTGATE_ROOT", str(pytester.path))
    monkeypatch.setenv("DEMO_DSN", "postgresql://demo@127.0.0.1:5/demo")
    monkeypatch.delenv("SHIFTGATE_ENV", raising=False)
    pytester.makeconftest('pytest_plugins = ["shiftgate.pytest_plugin"]\n')
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider --strict-markers\n")
    (pytester.path / "environments").mkdir()
    (pytester.path / "environments" / "demo.yaml").write_text(ENVIRONMENT)
    bad = ENVIRONMENT + "slo: {error_ratio_maxx: 0.01}\n"
    (pytester.path / "environments" / "bad.yaml").write_text(bad)
    checks = pytester.path / "checks" / "database"
    checks.mkdir(parents=True)
    (checks / "test_x.py").write_text(CHECKS)
    (checks / "test_other.py").write_text("def test_other():\n    pass\n")
    (checks / "test_modskip.py").write_text(
        'import pytest\n\npytest.importorskip("shiftgate_no_such_module")\n\n'
        "def test_never():\n    pass\n"
    )
    (pytester.path / "gates").mkdir()
    for name, entries in GATES.items():
        lines = [f"name: {name}", "purpose: test gate", "checks:" if entries else "checks: []"]
        for entry in entries:
            path, optional = entry if isinstance(entry, tuple) else (entry, False)
            lines.append(f"  - path: checks/database/{path}")
            if optional:
                lines.append("    optional: true")
        (pytester.path / "gates" / f"{name}.yaml").write_text("\n".join(lines) + "\n")
    return pytester


def run(project: pytest.Pytester, *args: str) -> pytest.RunResult:
    return project.runpytest_subprocess("--env", "demo", *args)


def test_gate_keeps_only_listed_checks(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "demo", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes == {"passed": 3, "failed": 1}  # pass, 2 params, and the skip made a failure
    result.stdout.no_fnmatch_line("*test_fail*")
    result.stdout.no_fnmatch_line("*test_other*")
    result.stdout.fnmatch_lines(["*shiftgate: env demo, gate demo*"])


def test_gate_refuses_explicit_paths(project: pytest.Pytester) -> None:
    """Passed before issue 13: explicit paths with --gate ran (a subset of) them as the gate."""
    result = run(project, "--gate", "failing", "checks/")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*gate failing runs whole: refused path checks/*"])


@pytest.mark.parametrize(
    ("gate", "reason"),
    [
        ("demo", "no samples from prometheus"),
        ("marked", "not written yet"),
    ],
)
def test_skip_inside_gate_fails_closed(project: pytest.Pytester, gate: str, reason: str) -> None:
    result = run(project, "--gate", gate)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            f"*skipped inside gate '{gate}': {reason} — a gate fails closed; "
            f"mark the check optional in gates/{gate}.yaml if that is intended*"
        ]
    )
    assert "skipped" not in result.parseoutcomes()
    assert "xfailed" not in result.parseoutcomes()


def test_xfail_inside_gate_fails_with_its_reason(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "xfail")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*xfail inside gate 'xfail': known regression — inside a gate an expected failure is "
         "a failure*"]
    )
    assert "skipped" not in result.parseoutcomes()
    assert "xfailed" not in result.parseoutcomes()


def test_optional_check_may_skip(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "optional")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == 0


def test_outside_a_gate_skips_stay_skips(project: pytest.Pytester) -> None:
    result = run(
        project,
        "checks/database/test_x.py::test_skip",
        "checks/database/test_x.py::test_marked_skip",
        "checks/database/test_x.py::test_xfail",
    )
    result.assert_outcomes(skipped=2, xfailed=1)
    assert result.ret == 0


def test_module_level_skip_fails_the_gate(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "modskip")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*skipped inside gate 'modskip'*shiftgate_no_such_module*"])


def test_gate_with_no_checks_fails(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "empty")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*gate empty collected no checks: gates/empty.yaml lists none yet; a gate fails closed*"]
    )


def test_gate_refuses_to_deselect_its_checks(project: pytest.Pytester) -> None:
    """Before issue 13 `-k` deselected checks of the gate: now it is a usage error."""
    result = run(project, "--gate", "demo", "-k", "nothing_matches_this")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*gate demo runs whole: refused -k *"])


def test_failing_check_fails_the_gate(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "failing")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*measured 2, threshold 1*"])


@pytest.mark.parametrize(
    "args",
    [
        ("--gate", "demo", "--env", "bad"),
        ("--env", "bad", "checks/database/test_x.py::test_pass"),  # no gate, needs environment
    ],
)
def test_bad_environment_is_a_usage_error(project: pytest.Pytester, args: tuple[str, ...]) -> None:
    result = project.runpytest_subprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert "bad.yaml: slo.error_ratio_maxx: unknown key" in output
    assert "Traceback" not in output


def test_environment_is_not_loaded_when_no_check_needs_it(project: pytest.Pytester) -> None:
    result = project.runpytest_subprocess("--env", "bad", "checks/database/test_other.py")
    result.assert_outcomes(passed=1)


def test_missing_dsn_variable_is_a_usage_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEMO_DSN")
    result = run(project, "--gate", "demo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*demo.yaml: database.dsn_env: *DEMO_DSN is not set*"])


def test_unknown_gate_is_a_usage_error(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*nope.yaml: no such gate file (known gates: *demo*)*"])


def test_candidate_and_set_override_the_environment(project: pytest.Pytester) -> None:
    assert run(project, "--gate", "candidate", "--candidate", "2.0.0").ret == 0
    assert run(project, "--gate", "candidate", "--set", "versions.candidate=2.0.0").ret == 0
    result = run(project, "--gate", "candidate", "--candidate", "9.9.9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in result.stderr.str()
    result.stderr.fnmatch_lines(["*candidate version '9.9.9' has no entry in specs*"])


def test_env_defaults_to_shiftgate_env_variable(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIFTGATE_ENV", "bad")
    result = project.runpytest_subprocess("--gate", "demo")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "bad.yaml" in result.stderr.str()


def allure_results(folder: Path) -> dict[str, dict[str, str]]:
    """Test name → {label name: value} of every result file."""
    results: dict[str, dict[str, str]] = {}
    for path in folder.glob("*-result.json"):
        data = json.loads(path.read_text())
        results[data["name"]] = {label["name"]: label["value"] for label in data["labels"]}
    return results


def test_allure_labels_inside_a_gate(project: pytest.Pytester) -> None:
    result = run(project, "--gate", "labels", "--alluredir", "allure")
    assert result.ret == 0
    labels = allure_results(project.path / "allure")
    assert labels["test_pass"]["epic"] == "labels"
    assert labels["test_pass"]["feature"] == "database"
    assert labels["test_labelled"]["severity"] == "critical"
    assert labels["test_labelled"]["story"] == 'Create Missing Database Index on "user_segment"'


def test_allure_labels_outside_a_gate(project: pytest.Pytester) -> None:
    result = run(project, "checks/database/test_other.py", "--alluredir", "allure")
    assert result.ret == 0
    labels = allure_results(project.path / "allure")
    assert labels["test_other"]["epic"] == "ad hoc"
    assert labels["test_other"]["feature"] == "database"


def test_skip_rewritten_to_failure_reaches_allure_and_junit(project: pytest.Pytester) -> None:
    run(project, "--gate", "demo", "--alluredir", "allure", "--junitxml", "junit.xml")
    results = (json.loads(p.read_text()) for p in (project.path / "allure").glob("*-result.json"))
    by_name = {data["name"]: data for data in results}
    assert by_name["test_skip"]["status"] in {"failed", "broken"}
    assert "skipped inside gate 'demo'" in by_name["test_skip"]["statusDetails"]["trace"]
    junit = (project.path / "junit.xml").read_text()
    assert 'failures="1"' in junit and 'skipped="0"' in junit


@pytest.mark.parametrize(("gate", "ret"), [("optional", 0), ("demo", 1), ("empty", 1)])
def test_gate_under_xdist(project: pytest.Pytester, gate: str, ret: int) -> None:
    # The xdist controller collects nothing itself: the rules must hold on its side too.
    result = run(project, "--gate", gate, "-n", "2")
    assert result.ret == ret
    if gate == "demo":
        result.stdout.fnmatch_lines(["*skipped inside gate 'demo'*"])
    if gate == "empty":
        result.stdout.fnmatch_lines(["*gate empty collected no checks*"])


def test_a_gate_loads_no_conftest_outside_its_checks(project: pytest.Pytester) -> None:
    """`testpaths` names the test suite: before this change a gate run imported its conftest
    (fixtures, hooks and the sandbox's manager, a quarter second of every gate's start-up)."""
    project.makeini("[pytest]\naddopts = -p no:cacheprovider --strict-markers\ntestpaths = tests\n")
    marker = project.path / "suite-conftest-loaded"
    (project.path / "tests").mkdir()
    (project.path / "tests" / "conftest.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).touch()\n"
    )
    (project.path / "tests" / "test_suite.py").write_text("def test_suite():\n    pass\n")
    result = run(project, "--gate", "demo")
    assert result.parseoutcomes() == {"passed": 3, "failed": 1}  # the gate, as without the suite
    assert not marker.exists()
    run(project)  # a plain run still starts from testpaths
    assert marker.exists()
