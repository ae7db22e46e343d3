"""A gate's pytest as a child that cannot outlive its runner or its time limit.

Why: a gate that hangs must not hold a release forever, and a gate whose runner was killed
must not keep measuring (or keep Locust loading the candidate) while ``resume`` starts a new
one (issue 12). So the child runs in its own process group, which is killed as a whole:

- **time limit**: past it, the group gets SIGKILL and the gate fails;
- **the runner unwinds** (an exception, Ctrl-C, a signal turned into an exception): the
  group is stopped before the exception goes on (SIGINT first on Ctrl-C, so pytest can say
  where it was, then SIGKILL);
- **the runner dies** without unwinding (SIGKILL, OOM): on Linux the child asked the kernel
  for a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGTERM)``, set between fork and exec);
  shiftgate's pytest plugin turns that SIGTERM into SIGKILL of the whole group, so Locust
  processes a check started die too. Until the plugin is configured, SIGTERM's default action
  ends pytest, which has started nothing yet. The kernel sends it when the *thread* that
  started the child exits: call :func:`run_in_group` from a thread that outlives the gate.
  Other systems have no parent-death signal: there only the first two cases hold.
- **after a normal exit**, anything left in the group (a worker a check forgot) is killed.

The limit may be expensive to work out (the environment's analysis window): it is asked for
only when the child still runs after ``first_wait_s``, so a gate that finishes quickly never
pays for it and its start-up competes with nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

GROUP_ENV = "SHIFTGATE_GATE_GROUP"
"""Set in the child's environment: the plugin kills its own group when its runner dies."""
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_INTERRUPT_GRACE_S = 5.0


class Finished(NamedTuple):  # not a dataclass: this module is on every gate's start-up path
    status: int
    """The child's exit status (negative: killed by that signal)."""
    timed_out: bool = False
    limit_s: float | None = None


def run_in_group(
    command: Sequence[str],
    *,
    cwd: Path,
    limit_s: float | Callable[[], float | None] | None,
    env: Mapping[str, str] | None = None,
    output: IO[bytes] | None = None,
    lines: Callable[[Iterable[str]], None] | None = None,
    first_wait_s: float = 5.0,
    watch: Callable[[], None] | None = None,
    watch_every_s: float = 0.1,
) -> Finished:
    """Run ``command`` to its end or its time limit; output to ``output`` (default: ours), or,
    with ``lines``, handed line by line to that function (it runs in a thread of its own, so
    the time limit holds even while output is being written).

    ``limit_s``: seconds from the start, None for none, or a function that says it, asked only
    if the child still runs after ``first_wait_s``.

    ``watch`` is called every ``watch_every_s`` while the child runs, in the calling thread
    (the runner's: it may act and write the journal without locks); what it raises ends the
    child like any exception here."""
    child_env = {**(env if env is not None else os.environ), GROUP_ENV: "1"}
    piped = lines is not None
    proc = subprocess.Popen(
        list(command), cwd=cwd, env=child_env, process_group=0,
        preexec_fn=_die_with_parent(os.getpid()),
        stdout=subprocess.PIPE if piped else output,
        stderr=subprocess.STDOUT if piped or output is not None else None,
        text=piped or None, encoding="utf-8" if piped else None, errors="replace" if piped else None,
    )
    reader = None
    if lines is not None and proc.stdout is not None:
        reader = threading.Thread(target=lines, args=(proc.stdout,), daemon=True)
        reader.start()
    started = time.monotonic()
    try:
        if callable(limit_s):
            try:
                return Finished(_wait(proc, first_wait_s, watch, watch_every_s))
            except subprocess.TimeoutExpired:
                pass
            limit = limit_s()
        else:
            limit = limit_s
        try:
            remaining = None if limit is None else max(0.0, limit - (time.monotonic() - started))
            return Finished(_wait(proc, remaining, watch, watch_every_s), limit_s=limit)
        except subprocess.TimeoutExpired:
            kill_group(proc.pid)
            return Finished(proc.wait(), timed_out=True, limit_s=limit)
    except KeyboardInterrupt:
        # The child is not in the terminal's foreground group: pass Ctrl-C on.
        kill_group(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=_INTERRUPT_GRACE_S)
        raise
    finally:
        if proc.poll() is None:
            kill_group(proc.pid)
            proc.wait()
        kill_group(proc.pid)  # stragglers of a finished gate
        if reader is not None:
            reader.join(timeout=_INTERRUPT_GRACE_S)  # the last lines, once the pipe closed


def _wait(
    proc: subprocess.Popen[Any], timeout: float | None, watch: Callable[[], None] | None, every: float
) -> int:
    """``proc.wait(timeout)``, calling ``watch`` every ``every`` seconds meanwhile."""
    if watch is None:
        return proc.wait(timeout=timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else deadline - time.monotonic()
        try:
            return proc.wait(timeout=every if left is None else max(0.0, min(every, left)))
        except subprocess.TimeoutExpired:
            if left is not None and left <= every:
                raise
        watch()


def kill_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Signal every process of group ``pgid``; a group already gone is fine.

    Safe after the leader was reaped: the kernel does not reuse an id while a group of that
    id has members, and an empty group answers ESRCH."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _die_with_parent(parent: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only here: loaded in the parent, before the fork

    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def preexec() -> None:
        # Runs in the child between fork and exec: only async-signal-safe work.
        prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def on_parent_death_kill_group() -> None:
    """In the child (called by the pytest plugin): SIGTERM → SIGKILL of its whole group.

    Only in a process that :func:`run_in_group` started and that leads its group, so a
    pytest run by hand never kills anything but itself."""
    if os.environ.get(GROUP_ENV) != "1" or os.getpgrp() != os.getpid():
        return

    def handler(signum: int, frame: object) -> None:
        os.killpg(os.getpgrp(), signal.SIGKILL)

    signal.signal(signal.SIGTERM, handler)
