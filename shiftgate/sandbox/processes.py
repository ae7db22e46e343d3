"""Start and stop the sandbox's long-running processes, and nothing else.

Each process runs in its own session (so it outlives the command that started it) and is
recorded with its pid and start time: ``stop`` only signals a pid whose start time still
matches, so a pid the kernel reused for someone else's process is never touched.

Started as root, every process runs as an unprivileged account (:class:`Unprivileged`:
``postgres``, else ``nobody``), with an explicit environment: none of the sandbox's
servers holds root, and none inherits the caller's variables (its tokens and passwords).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
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
    user: Unprivileged | None = None,
) -> ProcessRecord:
    """Start ``command`` with ``env`` over a minimal base (PATH, locale, HOME): nothing else of
    the caller's environment. Every sandbox component passes ``user`` (the unprivileged
    account); None runs it as the caller (a test's own helper process)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:  # opened by us: the process only gets the descriptor
        proc = subprocess.Popen(  # type: ignore[call-overload]
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**_base_env(user), **(env or {})},
            cwd=cwd or "/",
            start_new_session=True,  # survives the CLI; a Ctrl-C in the shell does not reach it
            **(user.popen_args() if user else {}),
        )
    return ProcessRecord(
        pid=proc.pid,
        create_time=psutil.Process(proc.pid).create_time(),
        command=list(command),
        log=str(log),
    )


def _base_env(user: Unprivileged | None) -> dict[str, str]:
    if user is not None:
        return user.base_env()
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/")}


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
    """Who runs the sandbox's processes: as root we switch to ``postgres`` (the
    distribution's account; PostgreSQL refuses root anyway) or ``nobody``; otherwise the
    current user."""

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

    def base_env(self) -> dict[str, str]:
        system_path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
        return {
            "PATH": system_path if self.switch else os.environ.get("PATH", system_path),
            "LC_ALL": "C.UTF-8",
            "HOME": self.home if Path(self.home).is_dir() else "/",
        }

    def popen_args(self) -> dict[str, object]:
        if not self.switch:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": [], "umask": 0o077}

    def run(
        self, command: Sequence[str], *, timeout: float = 120, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(command), capture_output=True, text=True, timeout=timeout,
            env={**self.base_env(), **(env or {})}, cwd="/", check=False, **self.popen_args(),
        )

    def chown(self, path: Path) -> None:
        if self.switch:
            os.chown(path, self.uid, self.gid, follow_symlinks=False)

    def own(self, folder: Path) -> Path:
        """``folder`` created (0700) and, with everything in it, handed to this account: a
        process of the sandbox writes there (a socket, a database). Symlinks are not
        followed: a link planted inside cannot make us chown another file."""
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.switch:
            self.chown(folder)
            for root, dirs, files in os.walk(folder, followlinks=False):
                for name in [*dirs, *files]:
                    self.chown(Path(root) / name)
        return folder

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


def project_python_path() -> list[str]:
    """What a sandbox Python process imports from: the project, then this environment's
    site-packages (an interpreter other than ours may run them: see :func:`python_for`)."""
    from shiftgate.config.paths import source_root

    paths = [str(source_root())]
    for key in ("purelib", "platlib"):
        folder = sysconfig.get_paths()[key]
        if folder not in paths:
            paths.append(folder)
    return paths


_PYTHONS: dict[tuple[int, bool], str] = {}


def python_for(user: Unprivileged) -> str:
    """An interpreter ``user`` can run with the project's packages: ours when the account
    can reach it; else the system's interpreter of the same version (our packages are built
    for its ABI), e.g. when ours lives under /root. Tried for real, not guessed from modes."""
    key = (user.uid, user.switch)
    if key not in _PYTHONS:
        _PYTHONS[key] = _find_python(user)
    return _PYTHONS[key]


def _find_python(user: Unprivileged) -> str:
    candidates = [sys.executable]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/local/bin:/usr/bin:/bin")
    if system:
        candidates.append(system)
    env = {"PYTHONPATH": os.pathsep.join(project_python_path())}
    for candidate in candidates:
        if not user.switch:
            return candidate
        try:
            done = user.run([candidate, "-s", "-c", "import uvicorn, psycopg, locust"], env=env, timeout=60)
        except OSError:
            continue
        if done.returncode == 0:
            return candidate
    raise SandboxError(
        f"no Python interpreter the {user.name} account can run with the project's packages "
        f"(tried {', '.join(candidates)}): install {version} system-wide, or put the virtual "
        f"environment where {user.name} can read it"
    )
