"""The runbook's story end to end on the sandbox, through the real CLI: (a) the incident state
is blocked at preflight with traffic untouched, (c) a remediated 2.5.0 is promoted through
every gate, (d) 2.5.1 is caught at 50 % and rolled back by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiftgate.sandbox import manager
from shiftgate.sandbox.remediate import remediate
from tests.e2e.release import Release, short_profile

pytestmark = pytest.mark.e2e


@pytest.fixture
def release(sandbox: dict[str, Any], sandbox_dir: Path, tmp_path: Path) -> Iterator[Release]:
    yield Release(tmp_path / "reports")
    manager.reset(sandbox_dir)  # incident state, stable on both colors, green live


def stage_events(release: Release, kind: str) -> list[str]:
    return [e["stage"] for e in release.events() if e["event"] == kind]


def test_a_incident_state_is_blocked_at_preflight(release: Release) -> None:
    result = release.run("run", "--candidate", "2.5.0", "--plain")
    assert result.returncode == 1, result.stdout[-2000:]
    events = release.events()
    failed = next(e for e in events if e["event"] == "gate_failed")
    assert failed["stage"] == "preflight"
    text = " ".join(failed["failures"])
    assert re.search(r"peak demand 7\d > usable 47", text), text  # both critical failures,
    assert "raise max_connections from 50 to at least" in text  # with their numbers
    assert "no usable index leading with (user_segment)" in text
    assert "action_started" not in release.kinds()
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == "blocked"
    status = release.status()
    assert status["weights"] == {"blue": 0, "green": 100}
    assert status["colors"] == {"blue": {"version": "2.4.3"}, "green": {"version": "2.4.3"}}
    assert status["run"] is None


def test_c_remediated_candidate_is_promoted(release: Release, sandbox_dir: Path, tmp_path: Path) -> None:
    remediate(index=True, connections=True, folder=sandbox_dir)
    result = release.run(
        "run", "--candidate", "2.5.0", "--plain",
        "--set", f"load.profile={short_profile(tmp_path)}", "--set", "analysis.window_s=16",
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert stage_events(release, "gate_passed") == ["preflight", "post-deploy", "shift", "promoted"]
    done = [e for e in release.events() if e["event"] == "action_done"]
    assert [e["action"] for e in done] == ["deploy", "shift", "promote"]
    assert done[1]["weights_after"] == {"blue": 50, "green": 50}
    assert done[2]["weights_after"] == {"blue": 100, "green": 0}
    finished = release.events()[-1]
    assert finished["outcome"] == "promoted" and finished["warm_until"] > finished["ts"]
    status = release.status()
    assert status["live"] == "blue" and status["weights"] == {"blue": 100, "green": 0}
    assert status["colors"] == {"blue": {"version": "2.5.0"}, "green": {"version": "2.4.3"}}


def test_d_faulty_candidate_is_rolled_back_at_50_percent(release: Release, sandbox_dir: Path) -> None:
    remediate(index=True, connections=True, folder=sandbox_dir, candidate="2.5.1")
    result = release.run("run", "--candidate", "2.5.1", "--plain")
    assert result.returncode == 1, result.stdout[-3000:]
    assert stage_events(release, "gate_passed") == ["preflight", "post-deploy"]
    failed = next(e for e in release.events() if e["event"] == "gate_failed")
    assert failed["stage"] == "shift"
    assert any("error rate" in line for line in failed["failures"])
    kinds = release.kinds()
    assert kinds.index("rollback_started") < kinds.index("traffic_restored") < kinds.index("undo_done")
    restored = next(e for e in release.events() if e["event"] == "traffic_restored")
    assert restored["weights_after"] == {"blue": 0, "green": 100}
    assert restored["restored_s"] < 2
    assert release.events()[-1]["outcome"] == "rolled_back"
    status = release.status()
    assert status["live"] == "green" and status["weights"] == {"blue": 0, "green": 100}
    assert status["colors"]["blue"]["version"] == "2.4.3"  # undo: the candidate is gone
    assert status["run"] is None
