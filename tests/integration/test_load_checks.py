"""The load checks against the real sandbox: the candidate on the idle color (blue), loaded
through its own URL with short profiles, in the incident state, remediated, with injected
errors, stopped, and with a rate the generator cannot reach."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager, processes
from shiftgate.sandbox import state as st
from shiftgate.sandbox.remediate import remediate
from tests.checkrun import outcome, pytest_checks

pytestmark = pytest.mark.integration

CHECKS = "checks/load/test_load_profile.py"


def short_profile(tmp_path: Path, **changes: Any) -> Path:
    data = yaml.safe_load((project_root() / "loadtests/profiles/sandbox.yaml").read_text())
    data["shape"] = {"ramp_s": 2, "steady_s": 8, "spike_s": 2, "spike_factor": 1.5}
    data["min_requests"] = 200
    data.update(changes)
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_checks(profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return pytest_checks(CHECKS, "--set", f"load.profile={profile}", *extra)


@pytest.fixture
def candidate_on_blue(sandbox: dict[str, Any], sandbox_dir: Path) -> Iterator[Path]:
    manager.deploy("blue", "2.5.0", sandbox_dir)
    yield sandbox_dir
    manager.reset(sandbox_dir)  # incident state again, stable on both colors


def remediated(folder: Path, version: str = "2.5.0", **faults: float) -> None:
    """Index and connections fixed, then the candidate deployed afresh: the runbook's order,
    and pools that never saw the database restart that max_connections needs."""
    remediate(index=True, connections=True, folder=folder)
    manager.deploy("blue", version, folder, faults=faults)


def test_incident_state_fails_on_p95(candidate_on_blue: Path, tmp_path: Path) -> None:
    result = run_checks(short_profile(tmp_path))
    assert result.returncode == 1
    assert outcome(result, "test_latency_p95_under_load") == "FAILED"
    assert "p95 latency under load within the SLO: FAILED: p95" in result.stdout
    assert "> 300 ms" in result.stdout
    assert "SKIPPED" not in result.stdout


def test_remediated_candidate_passes_well_below_slo(candidate_on_blue: Path, tmp_path: Path) -> None:
    remediated(candidate_on_blue)
    result = run_checks(short_profile(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:]
    # Five load checks, and the candidate's CPU, memory, logs and restarts under the load.
    assert result.stdout.count("PASSED") == 7
    assert outcome(result, "test_cpu_and_memory_under_load") == "PASSED"
    assert outcome(result, "test_logs_clean_after_load") == "PASSED"


def test_injected_errors_fail_on_error_ratio(candidate_on_blue: Path, tmp_path: Path) -> None:
    remediated(candidate_on_blue, "2.5.1", fail_after_s=0)
    result = run_checks(short_profile(tmp_path))
    assert outcome(result, "test_error_ratio_under_load") == "FAILED"
    assert "error ratio under load within the SLO: FAILED" in result.stdout
    assert "code=500" in result.stdout


def test_stopped_idle_color_fails_with_a_reason(candidate_on_blue: Path, tmp_path: Path) -> None:
    state = st.load(candidate_on_blue)
    assert state is not None
    for name in st.replica_names("blue"):
        processes.stop(state.processes[name])
    result = run_checks(short_profile(tmp_path))
    assert result.returncode == 1
    assert outcome(result, "test_error_ratio_under_load") == "FAILED"
    assert "error ratio 100.00%" in result.stdout
    # Issue 13 item 5: nothing to measure under load is a failure, not a pass on no data.
    assert outcome(result, "test_cpu_and_memory_under_load") == "FAILED"
    assert "not measured under load: during the load: replica blue-1 unavailable" in result.stdout
    manager.up(candidate_on_blue)  # the replicas come back for the next test


def test_unreachable_rate_fails_on_achieved_rate(candidate_on_blue: Path, tmp_path: Path) -> None:
    remediated(candidate_on_blue)
    profile = short_profile(tmp_path, target_rps=20000, per_user_rps=0, users=4, min_requests=10)
    result = run_checks(profile, "-k", "target_rate")
    assert result.returncode == 1
    assert "load generator could not reach 20000 rps: achieved" in result.stdout
