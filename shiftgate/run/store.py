"""Where a run's journal, its pointer and its lock live: one interface, two stores.

``FileStore`` is the sandbox's: ``reports/runs`` (``shiftgate.run.journal``: an fsynced jsonl
journal per run, the pointer files, a flock). ``ClusterStore`` is Kubernetes': the pointer
and journals in a ConfigMap and the lock a Lease (``shiftgate.platforms.run_record`` and
``run_lease``), so CI jobs on different machines continue one run with no artifacts, and
``status`` on any machine sees it. The environment's platform kind chooses (``store_for``).
The runner sees only ``RunStore``; both stores keep the runner's promises (one run per
service and environment, every step journaled before and after, exactly one ``run_finished``).

A run's gate logs stay in the local ``reports/runs/<run-id>/`` either way, and the cluster
store mirrors its journal there too, best effort, for the reports of the machine that ran
the step; the cluster holds the record.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shiftgate.config.models import Environment
from shiftgate.errors import ShiftgateError
from shiftgate.run.journal import (
    Event,
    Journal,
    JournalRead,
    Pointer,
    RunState,
    entry_line,
    new_entry,
    parse_journal,
    read_run,
    run_lock,
    run_state,
    runs_dir,
)

if TYPE_CHECKING:
    from shiftgate.platforms.run_lease import RunLease
    from shiftgate.platforms.run_record import RunRecord

__all__ = ["JOURNAL_FAULTS", "ClusterStore", "FileStore", "RunJournal", "RunStore", "store_for"]


class RunJournal(Protocol):
    @property
    def run_id(self) -> str: ...

    @property
    def folder(self) -> Path:
        """The local folder of the run's gate logs."""
        ...

    def append(self, event: str, **fields: Any) -> Event: ...

    def read(self) -> JournalRead: ...


class RunStore(Protocol):
    def journal(self, run_id: str) -> RunJournal: ...

    def read_run(self, run_id: str) -> RunState | None: ...

    def current(self) -> str | None:
        """The unfinished run, if any."""
        ...

    def last(self) -> str | None:
        """The last run that finished."""
        ...

    def set_current(self, run_id: str) -> None: ...

    def clear(self, run_id: str) -> None:
        """``run_id`` finished: it becomes the last run, and no run is current."""
        ...

    def lock(self, take_over_s: float | None = None) -> AbstractContextManager[None]:
        """Held while acting; ``take_over_s``: take it from a holder that will not stop."""
        ...

    def location(self, run_id: str) -> str:
        """Where a person finds the run's journal."""
        ...

    @property
    def where(self) -> str:
        """Where the journals are."""
        ...


JOURNAL_FAULTS: tuple[type[BaseException], ...] = (OSError, ShiftgateError)
"""What a journal write may raise: a full disk, an unreachable API, a Lease lost. In a
rollback none of them may stop the traffic write (the runner reports them and goes on)."""


class FileStore:
    def __init__(self, reports: Path, service: str, env: str) -> None:
        self.reports, self.service, self.env = reports, service, env
        self.pointer = Pointer(reports, service, env)

    def journal(self, run_id: str) -> Journal:
        return Journal(runs_dir(self.reports) / run_id)

    def read_run(self, run_id: str) -> RunState | None:
        return read_run(runs_dir(self.reports) / run_id)

    def current(self) -> str | None:
        return self.pointer.current()

    def last(self) -> str | None:
        return self.pointer.last()

    def set_current(self, run_id: str) -> None:
        self.pointer.set(run_id)

    def clear(self, run_id: str) -> None:
        self.pointer.clear(run_id)

    def lock(self, take_over_s: float | None = None) -> AbstractContextManager[None]:
        return run_lock(self.reports, self.service, self.env, take_over_s=take_over_s)

    def location(self, run_id: str) -> str:
        return str(runs_dir(self.reports) / run_id / "journal.jsonl")

    @property
    def where(self) -> str:
        return str(runs_dir(self.reports))


class ClusterJournal:
    def __init__(self, store: ClusterStore, run_id: str) -> None:
        self.store = store
        self._run_id = run_id
        self.mirror = Journal(runs_dir(store.reports) / run_id)

    @property
    def run_id(self) -> str:
        return self._run_id

    @property
    def folder(self) -> Path:
        return self.mirror.folder

    def append(self, event: str, **fields: Any) -> Event:
        entry = new_entry(self.run_id, event, fields)
        self.store.record.append(self.run_id, entry_line(entry))  # the record: raises if not written
        with contextlib.suppress(OSError):
            self.mirror.write(entry)  # a copy for this machine's reports, nothing depends on it
        return entry

    def read(self) -> JournalRead:
        return parse_journal(self.store.record.journal_text(self.run_id) or "")


class ClusterStore:
    """The Lease and the ConfigMap of one service in one environment."""

    def __init__(self, record: RunRecord, lease: RunLease, reports: Path) -> None:
        self.record = record
        self.lease = lease
        self.reports = reports

    def journal(self, run_id: str) -> ClusterJournal:
        return ClusterJournal(self, run_id)

    def read_run(self, run_id: str) -> RunState | None:
        return run_state(run_id, self.journal(run_id).read())

    def current(self) -> str | None:
        return self.record.data().get("current") or None

    def last(self) -> str | None:
        return self.record.data().get("last") or None

    def set_current(self, run_id: str) -> None:
        self.record.set_current(run_id)

    def clear(self, run_id: str) -> None:
        self.record.clear(run_id)

    @contextlib.contextmanager
    def lock(self, take_over_s: float | None = None) -> Iterator[None]:
        self.lease.acquire(take_over_s)
        try:
            yield
        finally:
            self.lease.release()

    def location(self, run_id: str) -> str:
        return f"{self.record.where}, key run.{run_id}.jsonl"

    @property
    def where(self) -> str:
        return self.record.where


def _stop_self(by: str) -> None:
    """A take-over was asked for (``rollback`` elsewhere): stop like a cancelled CI job, so the
    safety net moves traffic back before the process ends."""
    os.kill(os.getpid(), signal.SIGTERM)


def store_for(environment: Environment, reports: Path, api_client: Any = None) -> RunStore:
    """The cluster's store when the platform is Kubernetes, local files otherwise."""
    service, env = environment.service.name, environment.name
    if environment.platform.kind != "kubernetes":
        return FileStore(reports, service, env)
    # Imported here: the sandbox and the file store never load the Kubernetes client.
    from shiftgate.platforms.run_lease import RunLease, holder_identity, state_name
    from shiftgate.platforms.run_record import RunRecord
    from shiftgate.probes.kube import api_client_for

    api = api_client if api_client is not None else api_client_for(environment)
    namespace, name = environment.platform.namespace, state_name(service, env)
    lease = RunLease(api, namespace, name, holder=holder_identity(),
                     duration_s=environment.state.lease_s, on_take_over_request=_stop_self)
    return ClusterStore(RunRecord(api, namespace, name, lease), lease, reports)
