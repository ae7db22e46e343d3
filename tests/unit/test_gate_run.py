"""Running a gate: the command, the exit-code mapping, an unwritable reports folder, start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from shiftgate.errors import ConfigError, ExitCode, ShiftgateError, UsageError
from shiftgate.run.gate import GATE_PLUGINS, map_exit_status, run_gate


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHIFTGATE_ROOT", str(tmp_path))
    (tmp_path / "gates").mkdir()
    (tmp_path / "gates" / "preflight.yaml").write_text("name: preflight\npurpose: p\nchecks: []\n")
    return tmp_path


class FakeRunner:
    """Records the command and answers with a fixed pytest exit status."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls: list[tuple[list[str], Path]] = []

    def __call__(self, command: Sequence[str], cwd: Path) -> int:
        self.calls.append((list(command), cwd))
        return self.status


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (0, ExitCode.OK),
        (1, ExitCode.FAILED),
        (2, ExitCode.INTERNAL),  # interrupted: no verdict
        (3, ExitCode.INTERNAL),
        (4, ExitCode.USAGE),
        (5, ExitCode.FAILED),  # no tests: fail closed
        (-9, ExitCode.INTERNAL),  # killed by a signal
        (42, ExitCode.INTERNAL),
    ],
)
def test_exit_status_mapping(root: Path, status: int, expected: ExitCode) -> None:
    assert map_exit_status(status) is expected
    result = run_gate("preflight", env="sandbox", runner=FakeRunner(status))
    assert result.exit_code is expected
    assert result.pytest_status == status
    assert result.passed is (expected is ExitCode.OK)


def test_command_and_paths(root: Path) -> None:
    runner = FakeRunner(0)
    result = run_gate("preflight", env="staging", extra_args=["-v", "--tb", "short"], runner=runner)
    reports = root / "reports"
    assert result.junit_path == reports / "junit" / "preflight.xml"
    assert result.allure_dir == reports / "allure-results"
    assert result.allure_dir.is_dir() and result.junit_path.parent.is_dir()
    [(command, cwd)] = runner.calls
    assert cwd == root
    assert tuple(command) == result.command
    assert command[:5] == [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    assert command[command.index("--gate") + 1] == "preflight"
    assert "--env=staging" in command  # one word: a path outside the project stays an option
    assert f"--alluredir={reports / 'allure-results'}" in command  # one word each
    assert f"--junitxml={reports / 'junit' / 'preflight.xml'}" in command
    assert command[-3:] == ["-v", "--tb", "short"]  # extra arguments last: they may override


def test_arguments_that_run_part_of_the_gate_are_refused_before_pytest(root: Path) -> None:
    """Passed before this change: `-k index -x` went to pytest and a subset was "the gate"."""
    runner = FakeRunner(0)
    with pytest.raises(UsageError, match=r"refused '-k index' \(selects checks\), '-x' ") as info:
        run_gate("preflight", env="staging", extra_args=["-k", "index", "-x"], runner=runner)
    assert info.value.exit_code is ExitCode.USAGE
    assert runner.calls == []


def test_the_gate_loads_only_its_plugins(root: Path) -> None:
    runner = FakeRunner(0)
    run_gate("preflight", env="sandbox", runner=runner)
    [(command, _)] = runner.calls
    assert "--disable-plugin-autoload" in command
    loaded = [command[i + 1] for i, arg in enumerate(command) if arg == "-p"]
    assert loaded == ["no:cacheprovider", *GATE_PLUGINS]
    assert "allure_pytest.plugin" in GATE_PLUGINS  # --alluredir needs it


# What the `shiftgate` command must not import before it knows which command runs: every CI
# stage starts a gate as its own process.
_HEAVY = ["pydantic", "psycopg", "requests", "allure", "locust", "gevent", "matplotlib", "scipy",
          "kubernetes", "rich", "pytest"]


@pytest.mark.parametrize("module", ["gate", "config", "report", "loadtest", "options"])
def test_command_modules_import_the_engine_only_when_run(module: str) -> None:
    code = (
        f"import sys; import shiftgate.cli.{module}; "
        f"print(' '.join(m for m in {_HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


# What a gate process imports before its first check: the plugin, its checks' conftest and
# modules. Client libraries are imported by the probe that uses them, statistics and charts by
# the analysis that needs them; the preflight gate needs none of them to start.
_NOT_AT_START = ["psycopg", "requests", "locust", "gevent", "matplotlib", "scipy", "numpy",
                 "kubernetes", "tenacity", "shiftgate.sandbox.manager"]


def test_the_preflight_gate_starts_without_heavy_libraries() -> None:
    from shiftgate.config.gates import load_gate
    from shiftgate.config.paths import project_root

    root = project_root()
    files = sorted({str(root / c.path.split("::")[0]) for c in load_gate("preflight").checks})
    code = (
        "import importlib.util, sys\n"
        "import shiftgate.pytest_plugin\n"
        f"for path in {[str(root / 'checks' / 'conftest.py'), *files]!r}:\n"
        "    spec = importlib.util.spec_from_file_location(path, path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        f"print(' '.join(m for m in {_NOT_AT_START!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=root)
    assert done.stdout.split() == []


def test_without_env_the_plugin_default_applies(root: Path, tmp_path: Path) -> None:
    runner = FakeRunner(0)
    run_gate("preflight", reports_dir=tmp_path / "out", runner=runner)
    [(command, _)] = runner.calls
    assert not any(arg.startswith("--env") for arg in command)
    assert f"--junitxml={tmp_path / 'out' / 'junit' / 'preflight.xml'}" in command


def test_missing_gate_is_a_config_error_before_pytest_runs(root: Path) -> None:
    runner = FakeRunner(0)
    with pytest.raises(ConfigError, match=r"no such gate file \(known gates: preflight\)"):
        run_gate("nope", env="sandbox", runner=runner)
    assert runner.calls == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any file mode")
def test_unwritable_reports_folder_is_an_internal_error(root: Path, tmp_path: Path) -> None:
    reports = tmp_path / "readonly"
    reports.mkdir()
    reports.chmod(0o500)
    try:
        with pytest.raises(ShiftgateError, match="not writable") as info:
            run_gate("preflight", reports_dir=reports, runner=FakeRunner(0))
    finally:
        reports.chmod(0o700)
    assert info.value.exit_code is ExitCode.INTERNAL


def test_reports_path_that_is_a_file_is_an_internal_error(root: Path, tmp_path: Path) -> None:
    # Works as root too: nobody can create a folder below a regular file.
    blocker = tmp_path / "reports-file"
    blocker.write_text("")
    runner = FakeRunner(0)
    with pytest.raises(ShiftgateError, match=r"reports folder .* is not writable") as info:
        run_gate("preflight", reports_dir=blocker, runner=runner)
    assert info.value.exit_code is ExitCode.INTERNAL
    assert runner.calls == []


DEMO_ENVIRONMENT = """\
name: demo
service: {name: demo, url: "http://127.0.0.1:1", color_urls: {blue: "http://b", green: "http://g"}}
versions:
  stable: "1"
  candidate: "1"
  specs: {"1": {pool: {max_size: 1, replicas: 1, max_replicas: 1}}}
database: {dsn_env: DEMO_DSN}
prometheus: {url: "http://127.0.0.1:2"}
platform: {kind: sandbox}
router: {kind: haproxy, admin_socket: /tmp/demo.sock}
load: {profile: demo.yaml}
"""


@pytest.fixture
def project(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny real project: the plugin, one environment, one passing check."""
    monkeypatch.setenv("DEMO_DSN", "postgresql://demo@127.0.0.1:3/demo")
    (root / "conftest.py").write_text('pytest_plugins = ["shiftgate.pytest_plugin"]\n')
    (root / "environments").mkdir()
    (root / "environments" / "demo.yaml").write_text(DEMO_ENVIRONMENT)
    (root / "checks" / "slo").mkdir(parents=True)
    (root / "checks" / "slo" / "test_ok.py").write_text(
        "def test_ok(environment):\n    assert environment.name == 'demo'\n"
    )
    (root / "gates" / "ok.yaml").write_text(
        "name: ok\npurpose: p\nchecks:\n  - path: checks/slo/test_ok.py\n"
    )
    return root


@pytest.mark.parametrize(
    ("gate", "env", "expected", "status"),
    [
        ("ok", "demo", ExitCode.OK, 0),
        ("preflight", "demo", ExitCode.FAILED, 1),  # zero checks: fail closed
    ],
)
def test_real_pytest_run(
    project: Path, gate: str, env: str, expected: ExitCode, status: int
) -> None:
    result = run_gate(gate, env=env)
    assert (result.exit_code, result.pytest_status) == (expected, status)
    if status != 4:
        junit = result.junit_path.read_text()
        assert f'name="{gate}"' in junit


def test_bad_environment_is_a_config_error_naming_the_file(project: Path) -> None:
    # pytest stops with a usage error before any check; the parent then names file and key
    # exactly as it did when it validated first (the CLI: exit 2, that message).
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such environment file"):
        run_gate("ok", env="missing")
