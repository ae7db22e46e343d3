"""Start and stop the sandbox's long-running processes, and nothing else.

Each process runs in its own session (so it outlives the command that started it) and is
recorded with its pid and start time: ``stop`` only signals a pid whose start time still
matches, so a pid the kernel reused for someone else's process is never touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from shiftgate.errors import SandboxError
from shiftgate.sandbox.state import ProcessRecord

_STOP_GRACE_S = 10.0


def start(
    command: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessRecord:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # survives the CLI; a Ctrl-C in the shell does not reach it
        )
    return ProcessRecord(
        pid=proc.pid,
        create_time=psutil.Process(proc.pid).create_time(),
        command=list(command),
        log=str(log),
    )


def find(record: ProcessRecord) -> psutil.Process | None:
    """The live process of a record, or None when it exited or its pid was reused."""
    try:
        proc = psutil.Process(record.pid)
        if abs(proc.create_time() - record.create_time) > 0.5:
            return None
        if proc.status() == psutil.STATUS_ZOMBIE:
            proc.wait(timeout=0)  # ours: reap it
            return None
        return proc
    except (psutil.NoSuchProcess, psutil.TimeoutExpired):
        return None


def is_running(record: ProcessRecord) -> bool:
    return find(record) is not None


def stop(record: ProcessRecord, *, grace_s: float = _STOP_GRACE_S) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``. A process another command started is not
    our child: once it exits it stays a zombie until its parent reaps it, so "gone" means
    exited or zombie, and we poll instead of ``wait()``."""
    proc = find(record)
    if proc is None:
        return
    proc.terminate()
    if not _gone_within(proc, grace_s):
        proc.kill()
        if not _gone_within(proc, grace_s):
            raise SandboxError(f"process {record.pid} ({record.command[0]}) survived SIGKILL")


def _gone_within(proc: psutil.Process, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                with contextlib.suppress(psutil.TimeoutExpired, psutil.NoSuchProcess):
                    proc.wait(timeout=0)  # reaps it when it is our child
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def send_signal(record: ProcessRecord, signum: signal.Signals) -> bool:
    proc = find(record)
    if proc is None:
        return False
    proc.send_signal(signum)
    return True


def tail(path: str | Path, lines: int = 15) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Unprivileged:
    """Who runs PostgreSQL: it refuses to run as root, so as root we switch to ``postgres``
    (the distribution's account) or ``nobody``; otherwise the current user."""

    def __init__(self) -> None:
        self.switch = os.geteuid() == 0
        if self.switch:
            for name in ("postgres", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            else:  # pragma: no cover - every Debian has nobody
                raise RuntimeError("no unprivileged account (postgres or nobody) to run PostgreSQL")
        else:
            entry = pwd.getpwuid(os.geteuid())
        self.name = entry.pw_name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid
        self.home = entry.pw_dir

    def run(self, command: Sequence[str], *, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
        extra: dict[str, object] = {}
        if self.switch:
            extra = {"user": self.uid, "group": self.gid, "extra_groups": []}
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(command), capture_output=True, text=True, timeout=timeout, env=env,
            cwd="/", check=False, **extra,
        )

    def chown(self, path: Path) -> None:
        if self.switch:
            os.chown(path, self.uid, self.gid)

    def can_reach(self, path: Path) -> bool:
        """Whether every folder above ``path`` lets this account through (x bit)."""
        if not self.switch:
            return True
        for parent in [path, *path.parents]:
            if not parent.exists():
                continue
            st = parent.stat()
            if st.st_uid == self.uid:
                continue
            if not st.st_mode & 0o001:
                return False
        return True
