"""The run journal, the pointer to the unfinished run, and the lock of a service+environment.

``reports/runs/<run-id>/journal.jsonl`` is append-only: one JSON object per line, written
and fsynced *before* the step it announces and again after it, so a crash at any point
(even ``kill -9``) leaves a journal that says what may have happened. A crash mid-write
leaves a torn line: the writer ends it before appending (so later events never glue onto
it), and the reader skips it and says so, instead of stopping there and hiding what came
after. Folders are fsynced after every entry created, renamed or removed in them, so the
pointer survives a power loss. The pointer file
``reports/runs/<service>.<env>.current`` names the run until it finishes: traffic is never
split without a run that knows it. The lock (``flock``, released by the kernel when the
process dies) lets only one process act on a service+environment at a time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from shiftgate.config.paths import runs_dir
from shiftgate.errors import UsageError
from shiftgate.redact import redact_data

__all__ = [
    "Event", "Journal", "JournalRead", "Pointer", "RunState", "entry_line", "new_entry", "parse_journal",
    "read_run", "recent_runs", "run_lock", "run_state", "runs_dir",
]

Event = dict[str, Any]


class Journal:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / "journal.jsonl"

    @property
    def run_id(self) -> str:
        return self.folder.name

    def append(self, event: str, **fields: Any) -> Event:
        return self.write(new_entry(self.run_id, event, fields))

    def write(self, entry: Event) -> Event:
        """Append an entry made by ``new_entry`` (the cluster store mirrors its entries here)."""
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.folder.parent)
        line = entry_line(entry)
        with self.path.open("ab") as handle:
            if handle.tell() > 0 and not _ends_with_newline(self.path):
                line = "\n" + line  # end a torn tail first: this entry gets a line of its own
            handle.write(line.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        return entry

    def events(self) -> list[Event]:
        return self.read().events

    def read(self) -> JournalRead:
        """Every whole entry, in order; lines that are not one (torn by a crash) are skipped
        and counted, never a reason to stop reading."""
        if not self.path.exists():
            return JournalRead()
        return parse_journal(self.path.read_bytes().decode("utf-8", errors="replace"))


def new_entry(run_id: str, event: str, fields: dict[str, Any]) -> Event:
    """One journal entry: when, which run, what; redacted (rule 6: an error or failure text
    may quote a secret)."""
    entry: Event = {"ts": round(time.time(), 3), "run": run_id, "event": event, **fields}
    redacted: Event = redact_data(entry)
    return redacted


def entry_line(entry: Event) -> str:
    return json.dumps(entry, default=str) + "\n"


def parse_journal(raw: str) -> JournalRead:
    """The entries of a journal's text, whatever holds it; torn lines skipped and counted."""
    result = JournalRead()
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            result.torn.append(number)
            continue
        if isinstance(entry, dict) and "event" in entry:
            result.events.append(entry)
        else:
            result.torn.append(number)
    return result


@dataclass
class JournalRead:
    events: list[Event] = field(default_factory=list)
    torn: list[int] = field(default_factory=list)
    """Line numbers that held no whole entry (a write cut by a crash or a full disk)."""


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a new file, a rename, a removal) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class RunState:
    """What a journal says about its run, replayed from the events."""

    run_id: str
    started: Event
    events: list[Event] = field(default_factory=list)
    torn: list[int] = field(default_factory=list)
    """Journal lines skipped as torn (see ``JournalRead.torn``)."""

    @property
    def candidate(self) -> str:
        return str(self.started["candidate"])

    @property
    def candidate_color(self) -> str:
        return str(self.started["candidate_color"])

    @property
    def stable_color(self) -> str:
        return str(self.started["stable_color"])

    @property
    def finished(self) -> Event | None:
        """How the run ended, as of now: the last ``run_finished`` (a promoted run rolled back
        while its old color was warm ends a second time, as ``rolled_back``)."""
        return next((e for e in reversed(self.events) if e["event"] == "run_finished"), None)

    def last(self, *kinds: str) -> Event | None:
        return next((e for e in reversed(self.events) if e["event"] in kinds), None)

    @property
    def completed_stages(self) -> list[str]:
        """Stages whose action is done (or had none)."""
        return [e["stage"] for e in self.events if e["event"] == "stage_done"]

    @property
    def traffic_moved(self) -> bool:
        """Whether a traffic action was ever *started*: after a crash mid-shift, the weights
        may have moved even though the journal has no ``action_done``."""
        return any(e["event"] == "action_started" and e.get("moves_traffic") for e in self.events)

    @property
    def rollback_began(self) -> bool:
        """A rollback started at some point: the run can only end as rolled back."""
        return self.last("rollback_started") is not None

    @property
    def rolling_back(self) -> bool:
        """A rollback started and not done since: only a ``rollback_done`` *after* the last
        ``rollback_started`` ends it."""
        for entry in reversed(self.events):
            if entry["event"] == "rollback_done":
                return False
            if entry["event"] == "rollback_started":
                return True
        return False

    @property
    def deployed_at(self) -> float | None:
        event = next(
            (e for e in self.events if e["event"] == "action_started" and e["action"] == "deploy"),
            None,
        )
        return float(event["ts"]) if event else None


def read_run(folder: Path) -> RunState | None:
    return run_state(folder.name, Journal(folder).read())


def run_state(run_id: str, read: JournalRead) -> RunState | None:
    """The run a journal describes; None when it holds no ``run_started`` first."""
    events = read.events
    if not events or events[0]["event"] != "run_started":
        return None
    return RunState(run_id=run_id, started=events[0], events=events, torn=read.torn)


def recent_runs(reports: Path, count: int) -> list[RunState]:
    """The ``count`` most recently written runs, newest first."""
    folder = runs_dir(reports)
    if not folder.is_dir():
        return []
    journals = sorted(folder.glob("*/journal.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True)
    runs = [read_run(path.parent) for path in journals[:count]]
    return [run for run in runs if run is not None]


class Pointer:
    """``<service>.<env>.current``: the unfinished run of a service in an environment."""

    def __init__(self, reports: Path, service: str, env: str) -> None:
        self.path = runs_dir(reports) / f"{service}.{env}.current"
        self.last_path = runs_dir(reports) / f"{service}.{env}.last"

    def current(self) -> str | None:
        return self.path.read_text().strip() if self.path.exists() else None

    def last(self) -> str | None:
        return self.last_path.read_text().strip() if self.last_path.exists() else None

    def set(self, run_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.path, run_id)

    def clear(self, run_id: str) -> None:
        _write_atomic(self.last_path, run_id)
        self.path.unlink(missing_ok=True)
        fsync_dir(self.path.parent)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


@contextlib.contextmanager
def run_lock(reports: Path, service: str, env: str, *, take_over_s: float | None = None) -> Iterator[None]:
    """Only one process acts on a service+environment; a second one is told who holds it.

    ``take_over_s`` (for ``rollback``): instead of giving up, ask the holder to stop with
    SIGTERM (its own safety net moves traffic back), wait that long, then SIGKILL it and take
    the lock. A dead holder holds nothing: the kernel released its flock.
    """
    path = runs_dir(reports) / f"{service}.{env}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        if not _try_lock(handle):
            holder = _holder(handle)
            if take_over_s is None:
                raise UsageError(
                    f"another shiftgate run acts on {service} in {env} ({holder or 'unknown'}); "
                    "nothing was changed — wait for it, or see `shiftgate status`"
                )
            _take_over(handle, holder, take_over_s)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip()


def _take_over(handle: IO[str], holder: str, wait_s: float) -> None:
    match = re.match(r"pid (\d+)", holder)
    pid = int(match.group(1)) if match else None
    if pid is None or pid == os.getpid() or not _is_shiftgate(pid):
        raise UsageError(f"the run lock is held by {holder or 'an unknown process'}: cannot take over")
    for sig, wait in ((signal.SIGTERM, wait_s), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _try_lock(handle):
                return
            time.sleep(0.1)
    raise UsageError(f"the run lock holder (pid {pid}) did not let go after SIGTERM and SIGKILL")


def _is_shiftgate(pid: int) -> bool:
    """Signal only a process that is a shiftgate command: a stale pid may be anything now."""
    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return "shiftgate" in command
