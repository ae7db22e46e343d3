"""Gates under a time limit, in their own process group, dying with their runner (issue 12.5).

Real processes throughout: a check that hangs and starts a child of its own (as the load
check starts Locust), the runner killed with SIGKILL, leftovers of a finished gate. Every
"gone" is checked with psutil (a zombie waiting for init counts as gone: it runs nothing).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from shiftgate.config.gates import TIME_LIMIT_MARGIN_S, GateDefinition, time_limit
from shiftgate.config.loader import load_environment
from shiftgate.errors import ExitCode
from shiftgate.run.gate import run_gate
from shiftgate.run.group import run_in_group
from tests.unit.test_gate_run import project, root  # noqa: F401 - the shared fixtures

HUNG = '''\
import os
import subprocess
import time
from pathlib import Path

def test_hangs(environment):
    helper = subprocess.Popen(["sleep", "1000"])  # like Locust workers a check starts
    Path(os.environ["PIDS_FILE"]).write_text(f"{os.getpid()} {helper.pid}")
    time.sleep(1000)
'''

def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True

def wait_gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if all(gone(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return all(gone(pid) for pid in pids)

def read_pids(path: Path, within: float = 30.0) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        if path.is_file() and len(path.read_text().split()) == 2:
            return [int(pid) for pid in path.read_text().split()]
        if time.monotonic() > deadline:
            raise AssertionError("the hung check never started")
        time.sleep(0.05)

@pytest.fixture
def hung(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    (project / "checks" / "slo" / "test_hung.py").write_text(HUNG)
    (project / "gates" / "hung.yaml").write_text(
        "name: hung\npurpose: p\nchecks:\n  - path: checks/slo/test_hung.py\n"
    )
    pids = project / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids))
    return pids

def test_hung_check_fails_the_gate_after_its_timeout_with_the_group_killed(
    hung: Path, tmp_path: Path
) -> None:
    """Before this change the gate waited forever (no timeout) and held the release."""
    began = time.monotonic()
    result = run_gate("hung", env="demo", timeout_s=3, reports_dir=tmp_path / "out")
    took = time.monotonic() - began
    assert result.timed_out and result.exit_code is ExitCode.FAILED
    assert result.message == (
        "gate hung timed out after 3 s: its processes were killed and the gate fails"
    )
    assert 3 <= took < 15
    pytest_pid, helper_pid = read_pids(hung, within=0)
    assert wait_gone([pytest_pid, helper_pid], within=1.0)

def test_gate_file_sets_the_time_limit(hung: Path, project: Path, tmp_path: Path) -> None:  # noqa: F811
    gate = project / "gates" / "hung.yaml"
    gate.write_text(gate.read_text() + "timeout_s: 1\n")
    result = run_gate("hung", env="demo", reports_dir=tmp_path / "out", log=tmp_path / "hung.log")
    assert result.timed_out and result.time_limit_s == 1
    assert "timed out after 1 s; group killed" in (tmp_path / "hung.log").read_text()
    assert wait_gone(read_pids(hung, within=0), within=1.0)

@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_gate_dies_with_its_runner_killed_by_sigkill(hung: Path, project: Path) -> None:  # noqa: F811
    """Before this change a runner killed with SIGKILL left its pytest (and what the check
    started) running: it kept measuring while `resume` started a second gate."""
    code = (
        "from pathlib import Path; from shiftgate.run.gate import run_gate; "
        f"run_gate('hung', env='demo', timeout_s=600, reports_dir=Path({str(project / 'o')!r}))"
    )
    runner = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
    try:
        pids = read_pids(hung)
        runner.send_signal(signal.SIGKILL)
        runner.wait()
        assert wait_gone(pids, within=1.0), [psutil.Process(p).status() for p in pids]
    finally:
        if runner.poll() is None:
            runner.kill()

def test_the_limit_is_worked_out_only_for_a_gate_still_running(tmp_path: Path) -> None:
    asked: list[bool] = []

    def limit() -> float:
        asked.append(True)
        return 0.3

    quick = run_in_group([sys.executable, "-c", "pass"], cwd=tmp_path, limit_s=limit)
    assert quick.status == 0 and not quick.timed_out and asked == []
    slow = run_in_group(["sleep", "30"], cwd=tmp_path, limit_s=limit, first_wait_s=0.1)
    assert slow.timed_out and slow.limit_s == 0.3 and asked == [True]

def test_leftovers_of_a_finished_gate_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    done = run_in_group(
        ["sh", "-c", f"sleep 1000 & echo $! > {pid_file}"], cwd=tmp_path, limit_s=10
    )
    assert done.status == 0
    assert wait_gone([int(pid_file.read_text())], within=1.0)

def test_default_limit_is_the_analysis_window_and_rollout_plus_a_margin(
    project: Path,  # noqa: F811
) -> None:
    environment = load_environment("demo", overrides=["analysis.window_s=600"])
    gate = GateDefinition(name="g", purpose="p", checks=[])
    assert time_limit(gate, environment) == 600 + environment.rollout.timeout_s + TIME_LIMIT_MARGIN_S
    assert time_limit(gate.model_copy(update={"timeout_s": 42.0}), environment) == 42.0

@pytest.mark.parametrize("value", ["0", "-1", ".inf", "nan", "100000"])
def test_gate_file_timeout_must_be_a_sane_number(project: Path, value: str) -> None:  # noqa: F811
    from shiftgate.config.gates import load_gate
    from shiftgate.errors import ConfigError

    (project / "gates" / "bad.yaml").write_text(
        f"name: bad\npurpose: p\nchecks: []\ntimeout_s: {value}\n"
    )
    with pytest.raises(ConfigError, match=r"bad\.yaml: timeout_s"):
        load_gate("bad")
