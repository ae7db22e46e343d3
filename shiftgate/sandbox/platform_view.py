"""The sandbox platform, read: colors are the sandbox's replica processes.

The same reads as on Kubernetes, on processes: logs are the replicas' log files, resource
use is read from the processes (psutil). The write side is ``shiftgate.sandbox.platform``.

Nothing restarts a sandbox replica that died, so a dead replica fails the rollout at once
(on Kubernetes only the progress deadline does) — unless a sandbox command holds the state
lock: a deploy is replacing replicas, and one being absent is progress, not failure.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import re
import time
from pathlib import Path
from typing import Self

import psutil
import requests

from shiftgate.config.models import COLORS, Color, Environment
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.platform import LogLine, ReplicaState, ResourceUse, RolloutStatus
from shiftgate.sandbox import processes
from shiftgate.sandbox import state as st

_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)Z\s")
# psutil derives start times from the kernel's boot time in whole seconds.
_START_TOLERANCE_S = 1.0
_CPU_SAMPLE_S = 0.5


class SandboxPlatformView:
    """The ``PlatformView`` of the sandbox's replica processes: reads only."""

    name = "sandbox"

    def __init__(self, folder: Path | None = None, poll_s: float = 0.5) -> None:
        self.folder = (folder or st.state_dir()).resolve()
        self.poll_s = poll_s

    @classmethod
    def from_environment(cls, environment: Environment) -> Self:
        """The sandbox in ``SHIFTGATE_SANDBOX_DIR`` (else ``.sandbox``): the environment
        file has nothing to say about it."""
        return cls()

    @property
    def source(self) -> str:
        return f"sandbox {self.folder}"

    def _state(self) -> st.SandboxState:
        try:
            state = st.load(self.folder)
        except (OSError, ValueError) as exc:
            raise SourceUnavailable(self.source, f"unreadable state file: {exc}") from None
        if state is None:
            raise SourceUnavailable(self.source, "never started: run `shiftgate sandbox up`")
        return state

    def _replicas(self, state: st.SandboxState, color: Color) -> list[tuple[str, st.ProcessRecord | None]]:
        return [(name, state.processes.get(name)) for name in st.replica_names(color)]

    def versions(self) -> dict[Color, str | None]:
        state = self._state()
        result: dict[Color, str | None] = {}
        for color in COLORS:
            running = [r for _, r in self._replicas(state, color) if r and processes.is_running(r)]
            result[color] = state.colors[color].version if running else None
        return result


    def rollout_status(self, color: Color) -> RolloutStatus:
        state = self._state()
        wanted = state.colors[color].version
        replicas = self._replicas(state, color)
        running = [(n, r) for n, r in replicas if r is not None and processes.is_running(r)]
        # Like a Deployment's status: ready/available count every ready replica, old or new.
        ready = [n for n, _ in running if _ready(state.url(state.ports.replicas[n]))]
        updated = [n for n, r in running if r.version == wanted]
        dead = [n for n, r in replicas if r is None or not processes.is_running(r)]
        stale = [n for n, r in running if r.version != wanted]
        desired = len(replicas)
        complete = len(updated) == len(ready) == desired
        busy = _busy(self.folder)
        failed = bool(dead) and not busy
        parts = [f"{len([n for n in updated if n in ready])}/{desired} replicas of {color} ready on {wanted}"]
        if dead:
            parts.append(f"not running: {', '.join(dead)}")
        if stale:
            parts.append(f"still on an old version: {', '.join(stale)}")
        if busy and not complete:
            parts.append("a sandbox command is replacing replicas")
        return RolloutStatus(
            color=color, version=wanted, desired=desired, updated=len(updated),
            ready=len(ready), available=len(ready), complete=complete, failed=failed,
            message="; ".join(parts),
        )


    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.rollout_status(color)
            if status.complete or status.failed:
                return status
            if time.monotonic() >= deadline:
                return dataclasses.replace(
                    status, failed=True, message=f"timed out after {timeout_s:g} s: {status.message}"
                )
            time.sleep(self.poll_s)

    def logs(self, color: Color, since: float) -> list[LogLine]:
        """Lines the color's current replicas wrote since ``since`` (``kubectl logs`` of the
        current pods): a replica's log file also holds the processes it replaced."""
        state = self._state()
        lines: list[LogLine] = []
        for name, record in self._replicas(state, color):
            if record is None:
                continue
            path = Path(record.log)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
                written = path.stat().st_mtime
            except OSError as exc:
                raise SourceUnavailable(f"log of {name} ({path})", str(exc)) from None
            start = max(since, record.create_time - _START_TOLERANCE_S)
            lines.extend(line for line in parse_log(name, text, written) if line.timestamp >= start)
        return sorted(lines, key=lambda line: line.timestamp)

    def replicas(self, color: Color) -> list[ReplicaState]:
        """Every replica of the color; one without a process record is listed unrecorded (the
        log check fails it). Nothing restarts a sandbox replica: a new process is a deploy."""
        state = self._state()
        return [ReplicaState(name, recorded=record is not None)
                for name, record in self._replicas(state, color)]

    def resource_use(self, color: Color) -> list[ResourceUse]:
        state = self._state()
        procs: list[tuple[str, psutil.Process]] = []
        for name, record in self._replicas(state, color):
            proc = processes.find(record) if record else None
            if proc is None:
                raise SourceUnavailable(f"replica {name}", "not running: no CPU or memory to read")
            proc.cpu_percent(None)  # first call primes the counter
            procs.append((name, proc))
        time.sleep(_CPU_SAMPLE_S)
        try:
            return [
                ResourceUse(replica=name, cpu_cores=proc.cpu_percent(None) / 100,
                            memory_bytes=proc.memory_info().rss)
                for name, proc in procs
            ]
        except psutil.Error as exc:
            raise SourceUnavailable(self.source, f"replica exited while measured: {exc}") from None

    def max_replicas(self, color: Color) -> int | None:
        return st.REPLICAS_PER_COLOR  # the sandbox has no autoscaler: replicas are fixed


def parse_log(replica: str, text: str, written: float) -> list[LogLine]:
    """Lines with their UTC timestamps. A line without one (a traceback, uvicorn's own
    output) gets the next stamped line's time, else the file's last write: the latest it can
    be, so an error of unknown time counts as recent (fail closed)."""
    stamps: list[float | None] = []
    for raw in text.splitlines():
        match = _TIMESTAMP.match(raw)
        stamps.append(
            dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC).timestamp()
            if match else None
        )
    lines: list[LogLine] = []
    later = written
    for raw, stamp in zip(reversed(text.splitlines()), reversed(stamps), strict=True):
        later = stamp if stamp is not None else later
        lines.append(LogLine(replica=replica, timestamp=later, text=raw))
    return lines[::-1]


def _busy(folder: Path) -> bool:
    """Whether a sandbox command (deploy, up, reset) holds the state lock now."""
    lock = folder / "state.lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        with contextlib.suppress(OSError):
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False
