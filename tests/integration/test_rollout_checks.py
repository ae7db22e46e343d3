"""The rollout checks against the real sandbox: the candidate on blue passes; a killed
replica, the wrong version, error lines in the logs, a memory limit below what a replica
uses, and an unreachable platform each fail with their reason (never a skip or traceback)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from shiftgate.sandbox import manager, processes
from shiftgate.sandbox import state as st
from tests.checkrun import outcome, pytest_checks

pytestmark = pytest.mark.integration

CHECKS = ["checks/rollout/test_rollout_ready.py", "checks/rollout/test_logs_since_deploy.py",
          "checks/rollout/test_resources.py"]
READY, LOGS, RESOURCES, STEADY = (
    "test_candidate_rollout_complete", "test_no_errors_in_logs_since_deploy",
    "test_cpu_and_memory_per_replica", "test_every_replica_logged_and_never_restarted",
)


def run_checks(*extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return pytest_checks(*CHECKS, *extra, env=env, timeout=180)


def request_until_an_error(url: str, attempts: int = 100) -> int:
    """Requests to one color's own URL (loopback only) until one fails; returns the count."""
    assert url.startswith("http://127.0.0.1:")
    for count in range(1, attempts + 1):
        if requests.get(f"{url}/recommendations", params={"user_id": count}, timeout=30).status_code >= 500:
            return count
    raise AssertionError(f"no request to {url} failed in {attempts}")


@pytest.fixture
def candidate_on_blue(sandbox: dict[str, Any], sandbox_dir: Path) -> Iterator[Path]:
    manager.deploy("blue", "2.5.0", sandbox_dir)
    yield sandbox_dir
    manager.reset(sandbox_dir)  # incident state again, stable on both colors


def test_candidate_ready_and_clean_passes_the_rollout_checks(candidate_on_blue: Path) -> None:
    """The three rollout checks, run with plain pytest: a gate runs whole (its load test too),
    so a subset of the post-deploy gate is not "the gate" (issue 13)."""
    result = run_checks("--set", f"run.deployed_at={time.time() - 60}")
    assert result.returncode == 0, result.stdout[-3000:]
    assert [outcome(result, c) for c in (READY, LOGS, RESOURCES, STEADY)] == ["PASSED"] * 4


def test_killed_replica_fails_the_rollout_check(candidate_on_blue: Path) -> None:
    state = st.load(candidate_on_blue)
    assert state is not None
    processes.stop(state.processes["blue-1"])
    try:
        result = run_checks()
    finally:
        manager.up(candidate_on_blue)  # blue-1 comes back for the next test
    assert result.returncode == 1
    assert outcome(result, READY) == "FAILED"
    assert "rollout failed: 1/2 replicas of blue ready on 2.5.0; not running: blue-1" in result.stdout
    assert "1 of 2 replicas ready" in result.stdout
    assert outcome(result, RESOURCES) == "FAILED"  # nothing to measure on blue-1: fails closed
    assert "replica blue-1 unavailable: not running" in result.stdout


def test_candidate_version_not_on_its_color_fails(sandbox: dict[str, Any]) -> None:
    assert sandbox["colors"]["blue"]["version"] == "2.4.3"
    result = run_checks("--candidate", "2.5.0", "-k", READY)
    assert result.returncode == 1
    assert outcome(result, READY) == "FAILED"
    assert "blue is rolled out to 2.4.3, not 2.5.0" in result.stdout


def test_error_lines_since_the_deploy_fail_the_log_check(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    began = time.time()
    manager.deploy("blue", "2.5.1", sandbox_dir, faults={"fail_after_s": 0})
    try:
        request_until_an_error(sandbox["colors"]["blue"]["url"])
        result = run_checks("--candidate", "2.5.1", "--set", f"run.deployed_at={began}", "-k", LOGS)
    finally:
        manager.reset(sandbox_dir)
    assert result.returncode == 1
    assert outcome(result, LOGS) == "FAILED"
    assert "match an error pattern; first: blue-" in result.stdout
    assert "ERROR recommendation request failed: internal error (injected by FAIL_RATIO)" in result.stdout
    assert "since the deploy began at" in result.stdout


def test_memory_over_its_limit_fails_with_the_measured_mb(candidate_on_blue: Path) -> None:
    result = run_checks("--set", "rollout.memory_mb_max=1", "-k", RESOURCES)
    assert result.returncode == 1
    assert outcome(result, RESOURCES) == "FAILED"
    assert "blue-1 memory " in result.stdout and " MB > 1 MB" in result.stdout
    assert "threshold: ≤ 1 cores and ≤ 1 MB per replica" in result.stdout


def test_unreachable_platform_fails_every_check_with_a_reason(
    sandbox: dict[str, Any], sandbox_dir: Path, tmp_path: Path
) -> None:
    # The environment still resolves (the sandbox's addresses are exported), but the
    # platform's state folder is empty: nothing to read the colors from.
    env = {**os.environ, **st.exported_environ(sandbox_dir), st.STATE_DIR_ENV: str(tmp_path)}
    result = run_checks(env=env)
    assert result.returncode == 1
    assert [outcome(result, c) for c in (READY, LOGS, RESOURCES, STEADY)] == ["FAILED"] * 4
    # Four failures; the short summary repeats them in full where CI=true stops truncation.
    assert result.stdout.count(f"sandbox {tmp_path} unavailable: never started") in (4, 8)
    assert "Traceback" not in result.stdout and "SKIPPED" not in result.stdout


def test_replica_without_a_record_fails_the_log_checks(candidate_on_blue: Path) -> None:
    """Issue 13 item 2. Before: the sandbox skipped a replica without a record and the log
    check passed on the other's lines (exit 0). Now the replica check fails naming it, and a
    replica that wrote nothing since the deploy fails too (exit 1)."""
    state = st.load(candidate_on_blue)
    assert state is not None
    record = state.processes.pop("blue-2")
    st.save(candidate_on_blue, state)
    try:
        result = run_checks("--set", f"run.deployed_at={time.time() - 60}", "-k", STEADY)
    finally:
        state.processes["blue-2"] = record
        st.save(candidate_on_blue, state)
    assert result.returncode == 1
    assert outcome(result, STEADY) == "FAILED"
    assert "blue-2 has no record on the platform" in result.stdout
    silent = run_checks("--set", f"run.deployed_at={time.time() + 1}", "-k", STEADY)
    assert silent.returncode == 1
    assert "blue-1 wrote no log line since the deploy" in silent.stdout
