"""The run's record and lock in the cluster (a ConfigMap and a Lease), on the fake API.

Each "machine" is its own reports folder (and, for the crash cases, its own process): what
one machine knows of a run, every other learns from the cluster only. The Role enforced is
deploy/rbac.yaml's runner Role, so the record and lock work with get/update by name and no
create. Gates are replaced (they would need a database): the runner, the CLI, the adapters
and the store are shiftgate's own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from shiftgate.config.paths import project_root
from shiftgate.errors import ExitCode, UsageError
from shiftgate.platforms.run_lease import LeaseLost, RunLease, StateError
from shiftgate.platforms.run_record import RunRecord
from shiftgate.run.journal import parse_journal, runs_dir
from shiftgate.run.store import ClusterStore, store_for
from tests.integration.test_kubernetes_runner import (
    CANDIDATE,
    ENV_FILE,
    ENVIRON,
    NS,
    PROMOTED,
    UNTOUCHED,
    Gates,
    environment,
    make_runner,
    route_weights,
)
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)

NAME = "shiftgate-recommendation-production"  # deploy/run-state.yaml


def weights(cluster: FakeCluster) -> dict[str, int]:
    return {name.removeprefix("recommendation-"): w for name, w in route_weights(cluster)}


def lease_spec(cluster: FakeCluster) -> dict[str, Any]:
    lease = cluster.fake.get("Lease", NS, NAME)
    assert lease is not None
    return dict(lease.get("spec") or {})


def record(cluster: FakeCluster) -> dict[str, str]:
    found = cluster.fake.get("ConfigMap", NS, NAME)
    assert found is not None
    return dict(found.get("data") or {})


def cluster_events(cluster: FakeCluster, run_id: str) -> list[dict[str, Any]]:
    return parse_journal(record(cluster).get(f"run.{run_id}.jsonl", "")).events


def store(api: client.ApiClient, reports: Path, lease_s: int = 30) -> ClusterStore:
    found = store_for(environment(f"state.lease_s={lease_s}"), reports, api_client=api)
    assert isinstance(found, ClusterStore)
    return found


def machine_runner(api: client.ApiClient, reports: Path, gates: Gates) -> Any:
    runner, _, _ = make_runner(api, reports, gates)
    runner.store = store(api, reports)
    return runner


# -- one machine at a time ---------------------------------------------------------------------
def test_the_role_reaches_only_the_named_record_and_lock(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, tmp_path: Path
) -> None:
    """deploy/run-state.yaml creates them; the runner's Role may get and update these two
    objects by name and create nothing: another name is a 403, a missing one says what to apply."""
    assert fake_cluster.fake.get("Lease", NS, NAME) is not None
    other = RunLease(kube_api_client, NS, "shiftgate-other-production", holder="x", duration_s=5)
    with pytest.raises(StateError, match=r"may not get leases\.coordination\.k8s\.io"):
        other.acquire()
    with pytest.raises(StateError, match="may not get configmaps"):
        RunRecord(kube_api_client, NS, "shiftgate-other-production", other).data()
    fake_cluster.fake.delete("Lease", NS, NAME)
    with pytest.raises(StateError, match=r"apply deploy/run-state\.yaml"):
        store(kube_api_client, tmp_path).lease.acquire()


def test_two_runners_the_second_is_refused_by_the_lease(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, tmp_path: Path
) -> None:
    first, second = tmp_path / "machine-1", tmp_path / "machine-2"
    refused: list[str] = []
    record_seen: list[dict[str, str]] = []

    def observe() -> object:
        if not refused:  # in the first gate: the second machine tries to start the same release
            before = record(fake_cluster)
            other = machine_runner(kube_api_client, second, Gates(lambda: None))
            with pytest.raises(UsageError, match="another shiftgate run acts") as err:
                other.run(CANDIDATE)
            refused.append(str(err.value))
            record_seen.append(before)
            assert record(fake_cluster) == before  # the refused runner wrote nothing
        return weights(fake_cluster)

    runner = machine_runner(kube_api_client, first, Gates(observe))
    holder = runner.store.lease.holder
    assert runner.run(CANDIDATE) == ExitCode.OK
    assert holder in refused[0]  # the refusal names who holds the Lease
    assert weights(fake_cluster) == PROMOTED
    assert not runs_dir(second).exists()  # nothing started on the second machine
    data = record(fake_cluster)
    run_id = data["last"]
    assert "current" not in data and list(k for k in data if k.startswith("run.")) == [f"run.{run_id}.jsonl"]
    events = cluster_events(fake_cluster, run_id)
    assert [e["event"] for e in events].count("run_finished") == 1
    assert events[-1]["outcome"] == "promoted"
    assert not lease_spec(fake_cluster).get("holderIdentity")  # released at the end


def test_a_runner_that_lost_the_lease_writes_nothing_more(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, tmp_path: Path
) -> None:
    """Two writers cannot both win: once another runner holds the Lease and wrote the record,
    the old holder's next journal write is a 409, and it stops instead of writing over it."""
    old = store(kube_api_client, tmp_path / "old")
    with old.lock():
        old.journal("20260101-000000-recommendation-aaaa").append("run_started", candidate="x")
        lease = fake_cluster.fake.get("Lease", NS, NAME)
        assert lease is not None
        lease["spec"]["holderIdentity"] = "another machine"
        fake_cluster.fake.put(lease, NS)  # taken over (after an expiry the old one did not see)
        taken = fake_cluster.fake.get("ConfigMap", NS, NAME)
        assert taken is not None
        taken["data"]["current"] = "20260101-000100-recommendation-bbbb"
        fake_cluster.fake.put(taken, NS)  # and the new holder wrote the record
        with pytest.raises(LeaseLost):
            old.journal("20260101-000000-recommendation-aaaa").append("action_started")
    data = record(fake_cluster)
    assert data["current"] == "20260101-000100-recommendation-bbbb"
    assert "action_started" not in data["run.20260101-000000-recommendation-aaaa.jsonl"]
    assert lease_spec(fake_cluster)["holderIdentity"] == "another machine"  # not released by the old one


def test_ci_jobs_on_different_machines_continue_one_run_without_artifacts(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, tmp_path: Path, fake_kubeconfig: Path
) -> None:
    stages = ["preflight", "post-deploy", "shift", "promoted"]
    for number, stage in enumerate(stages):
        reports = tmp_path / f"job-{number}"  # a fresh runner: no reports of the jobs before
        runner = machine_runner(kube_api_client, reports, Gates(lambda: weights(fake_cluster)))
        assert runner.run(CANDIDATE, only_stage=stage) == ExitCode.OK
        (mirror,) = runs_dir(reports).glob("*/journal.jsonl")  # this job's own events only
        assert {json.loads(line).get("stage") for line in mirror.read_text().splitlines()} <= {stage, None}
    assert weights(fake_cluster) == PROMOTED
    run_id = record(fake_cluster)["last"]
    events = cluster_events(fake_cluster, run_id)
    assert [e["stage"] for e in events if e["event"] == "stage_done"] == stages
    assert [e["event"] for e in events].count("run_started") == 1

    # `status` from any machine: the CLI of a fresh process, reading the cluster only.
    status = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "status", "--env", ENV_FILE, "--json"],
        env=machine_environ(tmp_path / "laptop", fake_kubeconfig), cwd=project_root(),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert shown["run"] is None and shown["last_run"]["id"] == run_id
    assert shown["last_run"]["outcome"] == "promoted"
    assert shown["last_run"]["journal"] == f"ConfigMap {NS}/{NAME}, key run.{run_id}.jsonl"


# -- a runner that dies holding the Lease --------------------------------------------------------
def machine_environ(reports: Path, kubeconfig: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ, **ENVIRON, "KUBECONFIG": str(kubeconfig), "SHIFTGATE_REPORTS_DIR": str(reports),
        "PYTHONPATH": str(project_root()), **extra,
    }


def start_machine(reports: Path, kubeconfig: Path, *args: str, park: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.k8s_fake.run_driver", *args, "--env", ENV_FILE, "--plain"],
        env=machine_environ(reports, kubeconfig, SHIFTGATE_FAKE_PARK_GATE=park), cwd=project_root(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_for(cluster: FakeCluster, event: str, stage: str, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run_id = record(cluster).get("current")
        if run_id and any(
            e["event"] == event and e.get("stage") == stage for e in cluster_events(cluster, run_id)
        ):
            return run_id
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"no {event} of {stage} in the cluster's journal")


def test_runner_killed_holding_the_lease_rollback_from_another_machine_takes_over(
    fake_cluster: FakeCluster, tmp_path: Path, fake_kubeconfig: Path
) -> None:
    lease_s = 3
    proc = start_machine(tmp_path / "runner-1", fake_kubeconfig, "run", "--candidate", CANDIDATE,
                         "--set", f"state.lease_s={lease_s}", park="shift")
    run_id = wait_for(fake_cluster, "gate_started", "shift", proc)
    assert weights(fake_cluster) == {"blue": 50, "green": 50}  # users on both colors
    holder = lease_spec(fake_cluster)["holderIdentity"]
    assert f"pid {proc.pid}" in holder and lease_spec(fake_cluster)["leaseDurationSeconds"] == lease_s
    proc.kill()  # SIGKILL: no safety net, the Lease stays held
    proc.communicate(timeout=10)
    killed_at = time.time()
    assert lease_spec(fake_cluster)["holderIdentity"] == holder
    renewed_at = lease_spec(fake_cluster)["renewTime"]

    # A second machine (its own process and reports folder, nothing of the first's) rolls back.
    second = tmp_path / "runner-2"
    rollback = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "rollback", "--env", ENV_FILE, "--plain"],
        env=machine_environ(second, fake_kubeconfig), cwd=project_root(),
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert rollback.returncode == ExitCode.FAILED, rollback.stdout + rollback.stderr  # rolled back
    assert weights(fake_cluster) == UNTOUCHED  # all traffic on the stable color
    events = cluster_events(fake_cluster, run_id)
    started = next(e for e in events if e["event"] == "rollback_started")
    renewed = datetime.fromisoformat(renewed_at.replace("Z", "+00:00")).timestamp()
    assert started["ts"] >= max(killed_at, renewed + lease_s)  # after the expiry, not before
    assert [e["event"] for e in events].count("run_finished") == 1
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == "rolled_back"
    spec = lease_spec(fake_cluster)
    assert not spec.get("holderIdentity") and spec["leaseTransitions"] >= 1
    assert "current" not in record(fake_cluster) and record(fake_cluster)["last"] == run_id


def test_a_live_holder_is_asked_to_stop_and_rolls_back_itself(
    fake_cluster: FakeCluster, tmp_path: Path, fake_kubeconfig: Path
) -> None:
    """`rollback` elsewhere while the runner is alive (hung in a gate): through the Lease it asks
    the holder to stop; the holder's safety net moves traffic back and ends the run."""
    proc = start_machine(tmp_path / "runner-1", fake_kubeconfig, "run", "--candidate", CANDIDATE,
                         "--set", "state.lease_s=3", park="shift")
    run_id = wait_for(fake_cluster, "gate_started", "shift", proc)
    rollback = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "rollback", "--env", ENV_FILE, "--plain"],
        env=machine_environ(tmp_path / "runner-2", fake_kubeconfig), cwd=project_root(),
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM  # the holder stopped on its own signal
    assert rollback.returncode == ExitCode.OK, rollback.stdout + rollback.stderr
    assert weights(fake_cluster) == UNTOUCHED
    events = cluster_events(fake_cluster, run_id)
    assert [e["event"] for e in events].count("run_finished") == 1
    assert events[-1]["outcome"] == "rolled_back" and "SIGTERM" in events[-1]["reason"]
