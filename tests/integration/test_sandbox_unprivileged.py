"""A sandbox without root: when started as root, no sandbox process runs as root, none
inherits the caller's environment, Prometheus's lifecycle API is off, and a crashed router
comes back with the weights it had."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests

from shiftgate.errors import SandboxError
from shiftgate.sandbox import haproxy, manager, processes
from shiftgate.sandbox import state as st
from shiftgate.sandbox.postgres import SandboxPostgres, check_data_dir

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the switch happens only when started as root")


def _sandbox_processes(sandbox_dir: Path) -> list[psutil.Process]:
    state = st.load(sandbox_dir)
    assert state is not None
    found = [p for r in state.processes.values() if (p := processes.find(r)) is not None]
    assert len(found) == len(state.processes), "every recorded process runs"
    postmaster = int((Path(state.pgdata) / "postmaster.pid").read_text().split()[0])
    cluster = psutil.Process(postmaster)
    return [*found, cluster, *cluster.children()]


def test_no_sandbox_process_is_owned_by_root(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    procs = _sandbox_processes(sandbox_dir)
    owners = {f"{p.pid} {' '.join(p.cmdline())[:60]}": p.username() for p in procs}
    assert len(procs) >= 10  # 4 replicas, HAProxy, Prometheus, the exporter, traffic, postgres
    assert [who for who, user in owners.items() if user == "root"] == []
    assert all(p.uids().real != 0 and p.uids().effective != 0 for p in procs)


def test_ps_agrees(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    """What an operator sees: `ps` lists no process of this sandbox's folder as root (`-ww`: a
    terminal-less ps may cut lines at 80 columns, before the folder)."""
    import subprocess

    listing = subprocess.run(
        ["ps", "-ww", "-eo", "user:20,pid,args"], capture_output=True, text=True, check=True
    )
    mine = [line for line in listing.stdout.splitlines() if str(sandbox_dir) in line]
    assert mine, "the sandbox's processes name their folder"
    assert [line for line in mine if line.split()[0] == "root"] == []


def test_replicas_get_an_explicit_environment(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    state = st.load(sandbox_dir)
    assert state is not None
    environ = psutil.Process(state.processes["blue-1"].pid).environ()
    assert environ["SERVICE_COLOR"] == "blue" and "DATABASE_URL" in environ
    allowed = {"PATH", "LC_ALL", "HOME", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE", "DATABASE_URL"}
    assert {k for k in environ if not k.startswith(("SERVICE_", "POOL_", "FAIL_", "QUERY_"))} <= allowed
    assert environ["PATH"] == "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"  # not the caller's


def test_prometheus_lifecycle_api_is_off(sandbox: dict[str, Any]) -> None:
    for path in ("/-/quit", "/-/reload"):
        response = requests.post(f"{sandbox['prometheus_url']}{path}", timeout=5)
        assert response.status_code == 403, (path, response.status_code)
    assert requests.get(f"{sandbox['prometheus_url']}/-/ready", timeout=5).status_code == 200


def test_a_crashed_router_comes_back_with_its_weights(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    state = st.load(sandbox_dir)
    assert state is not None
    socket = haproxy.AdminSocket(state.haproxy_socket(sandbox_dir))
    try:
        socket.set_weights({"blue": 30, "green": 70})  # what the runner's adapter does
        os.kill(state.processes["haproxy"].pid, signal.SIGKILL)
        psutil.Process(state.processes["haproxy"].pid).wait(timeout=10)
        manager.up(sandbox_dir)
        assert haproxy.AdminSocket(state.haproxy_socket(sandbox_dir)).weights() == {"blue": 30, "green": 70}
    finally:
        manager.set_weights({"blue": 0, "green": 100}, sandbox_dir)


def test_names_sent_to_the_admin_socket_are_checked(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    socket = haproxy.AdminSocket(st.load(sandbox_dir).haproxy_socket(sandbox_dir))  # type: ignore[union-attr]
    with pytest.raises(SandboxError):
        socket.weights("bk_router/blue-1 0; shutdown")
    with pytest.raises(SandboxError):
        socket.command("show info\nshutdown frontend fe_router")


def test_a_data_folder_someone_else_owns_is_refused(
    sandbox: dict[str, Any], sandbox_dir: Path, tmp_path: Path
) -> None:
    owner = processes.Unprivileged()
    planted = tmp_path / "planted"
    planted.mkdir(mode=0o755)  # root's, not the unprivileged account's
    with pytest.raises(SandboxError, match="not a private folder"):
        check_data_dir(planted / "pgdata", owner)
    state = st.load(sandbox_dir)
    assert state is not None
    check_data_dir(SandboxPostgres(state).pgdata, owner)  # the cluster in use passes it
