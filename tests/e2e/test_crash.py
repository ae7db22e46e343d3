"""The runner killed with SIGKILL during the deploy, during the 50 % analysis and during the
rollback: the unfinished run is always known, and `resume` or `rollback` brings traffic to
one color with the journal consistent. A second run while one holds the lock changes nothing.
SIGTERM (a cancelled CI job) and SIGINT (Ctrl-C) during the 50 % analysis: all traffic on the
stable color within a second, exit 143 / 130, and the journal says why."""

from __future__ import annotations

import signal
import time
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
    remediate(index=True, connections=True, folder=sandbox_dir)
    yield Release(tmp_path / "reports")
    manager.reset(sandbox_dir)


def assert_consistent(release: Release, outcome: str) -> None:
    events = release.events()
    assert events[0]["event"] == "run_started"
    assert [e["event"] for e in events].count("run_finished") == 1
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == outcome
    status = release.status()
    assert status["run"] is None
    assert sorted(status["weights"].values()) == [0, 100]  # one color has all traffic


def test_kill_during_deploy_then_rollback(release: Release) -> None:
    proc = release.start("run", "--candidate", "2.5.0", "--plain")
    release.kill_when(proc, "action_started", stage="preflight", delay_s=0.3)
    status = release.status()
    assert status["run"] is not None and status["run"]["last_event"] == "action_started"
    refused = release.run("run", "--candidate", "2.5.0", "--plain")
    assert refused.returncode == 2 and "unfinished" in refused.stderr
    assert release.run("rollback", "--plain").returncode == 1
    assert_consistent(release, "rolled_back")
    status = release.status()
    assert status["weights"] == {"blue": 0, "green": 100}
    assert status["colors"]["blue"]["version"] == "2.4.3"


def test_kill_during_analysis_and_during_rollback_then_resume(release: Release, tmp_path: Path) -> None:
    proc = release.start(
        "run", "--candidate", "2.5.0", "--plain", "--set", f"load.profile={short_profile(tmp_path)}",
        "--set", "analysis.window_s=40",
    )
    # While the first run holds the lock, a second one is refused and changes nothing.
    release.wait_for(proc, "gate_started", stage="post-deploy")
    second = release.run("run", "--candidate", "2.5.0", "--plain")
    assert second.returncode == 2 and "another shiftgate run" in second.stderr
    assert release.status()["weights"] == {"blue": 0, "green": 100}
    release.kill_when(proc, "gate_started", stage="shift", delay_s=3.0)
    status = release.status()
    assert status["weights"] == {"blue": 50, "green": 50}
    assert status["run"]["last_event"] == "gate_started"  # the split is known to a run

    rollback = release.start("rollback", "--plain")
    release.kill_when(rollback, "traffic_restored", delay_s=0.5)  # killed during the undo
    status = release.status()
    assert status["weights"] == {"blue": 0, "green": 100}
    assert status["run"] is not None  # the rollback is unfinished, and known

    resumed = release.run("resume", "--plain")
    assert resumed.returncode == 1, resumed.stdout[-2000:]
    assert_consistent(release, "rolled_back")
    assert release.status()["colors"]["blue"]["version"] == "2.4.3"
    assert release.kinds().count("rollback_started") == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: signal.Signals(s).name)
def test_a_signal_during_the_50_percent_analysis_rolls_back_at_once(
    release: Release, tmp_path: Path, sig: signal.Signals
) -> None:
    proc = release.start(
        "run", "--candidate", "2.5.0", "--plain", "--set", f"load.profile={short_profile(tmp_path)}",
        "--set", "analysis.window_s=40",
    )
    release.wait_for(proc, "gate_started", stage="shift")  # 50 % on the candidate, analysing
    time.sleep(1.0)
    assert release.status()["weights"] == {"blue": 50, "green": 50}
    signalled = time.time()
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == 128 + sig  # 143 for SIGTERM, 130 for SIGINT

    restored = next(e for e in release.events() if e["event"] == "traffic_restored")
    assert restored["weights_after"] == {"blue": 0, "green": 100}
    assert restored["ts"] - signalled < 1.0  # journaled after the router held it
    started = next(e for e in release.events() if e["event"] == "rollback_started")
    assert signal.Signals(sig).name in started["reason"]  # the journal says why
    assert_consistent(release, "rolled_back")
    assert release.status()["colors"]["blue"]["version"] == "2.4.3"
