"""The sandbox platform against the real sandbox: versions, rollout status and waiting,
logs since a time, resource use, and undo."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from shiftgate.errors import SourceUnavailable
from shiftgate.platforms.base import PlatformError
from shiftgate.sandbox import manager, processes
from shiftgate.sandbox import state as st
from shiftgate.sandbox.platform import SandboxPlatform

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(sandbox: dict[str, Any], sandbox_dir: Path) -> Iterator[SandboxPlatform]:
    yield SandboxPlatform(sandbox_dir, poll_s=0.1)
    manager.reset(sandbox_dir)  # incident state again, stable on both colors


def test_versions_and_a_complete_rollout_after_deploy(platform: SandboxPlatform) -> None:
    assert platform.versions() == {"blue": "2.4.3", "green": "2.4.3"}
    platform.deploy("blue", "2.5.0")
    assert platform.versions() == {"blue": "2.5.0", "green": "2.4.3"}
    status = platform.rollout_status("blue")
    assert (status.version, status.desired, status.updated, status.ready, status.available) == (
        "2.5.0", 2, 2, 2, 2
    )
    assert status.complete and not status.failed
    assert status.message == "2/2 replicas of blue ready on 2.5.0"
    assert platform.wait_rollout("blue", timeout_s=5) == status


def test_dead_replica_fails_unless_a_deploy_is_replacing_it(platform: SandboxPlatform) -> None:
    state = st.load(platform.folder)
    assert state is not None
    processes.stop(state.processes["blue-2"])
    status = platform.wait_rollout("blue", timeout_s=5)
    assert status.failed and not status.complete
    assert (status.ready, status.available) == (1, 1)
    assert "not running: blue-2" in status.message
    with st.locked(platform.folder):  # as a deploy holds it while replacing replicas
        began = time.monotonic()
        waited = platform.wait_rollout("blue", timeout_s=1)
    assert time.monotonic() - began >= 1
    assert waited.failed and waited.message.startswith("timed out after 1 s: ")
    assert "a sandbox command is replacing replicas" in waited.message


def test_logs_since_a_time(platform: SandboxPlatform, sandbox: dict[str, Any]) -> None:
    manager.deploy("blue", "2.5.1", platform.folder, faults={"fail_after_s": 0})
    began = time.time()
    url = sandbox["colors"]["blue"]["url"]
    assert url.startswith("http://127.0.0.1:")
    codes = [requests.get(f"{url}/recommendations", params={"user_id": i}, timeout=30).status_code
             for i in range(1, 21)]
    assert 500 in codes
    lines = platform.logs("blue", began - 1)
    errors = [line for line in lines if "ERROR recommendation request failed" in line.text]
    assert len(errors) == codes.count(500)
    assert {line.replica for line in errors} <= {"blue-1", "blue-2"}
    assert all(began - 1 <= line.timestamp <= time.time() for line in errors)
    assert lines == sorted(lines, key=lambda line: line.timestamp)
    assert platform.logs("blue", time.time() + 60) == []


def test_resource_use_of_each_replica(platform: SandboxPlatform) -> None:
    uses = platform.resource_use("green")
    assert [use.replica for use in uses] == ["green-1", "green-2"]
    assert all(use.memory_bytes > 10 * 1024 * 1024 and 0 <= use.cpu_cores < 2 for use in uses)


def test_undo_goes_back_to_the_previous_version(platform: SandboxPlatform) -> None:
    platform.deploy("blue", "2.5.0")
    platform.undo("blue")
    assert platform.versions()["blue"] == "2.4.3"
    assert platform.rollout_status("blue").complete


def test_undo_without_a_previous_version_raises(platform: SandboxPlatform) -> None:
    with st.locked(platform.folder):
        state = st.load(platform.folder)
        assert state is not None
        state.colors["blue"].previous = None
        st.save(platform.folder, state)
    with pytest.raises(PlatformError, match="blue has no previous version to go back to"):
        platform.undo("blue")
    assert platform.versions()["blue"] == "2.4.3"


def test_a_sandbox_never_started_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="never started"):
        SandboxPlatform(tmp_path).versions()
