"""The run lock in the cluster: one ``coordination.k8s.io/v1`` Lease per service and environment.

Only the Lease's holder acts on the service in the environment, whichever machine it runs on
(a CI job per stage, each on another runner). Every write carries the resourceVersion it
read, so of two runners that read a free Lease at once, one write wins and the other gets a
409 and reads again: two runners never both hold it.

- acquire: a Lease with no holder, an expired one (``renewTime + leaseDurationSeconds`` in the
  past, or no renewal seen for a whole duration by this machine's own clock, which no skew
  between machines can fool), or one already ours is taken; otherwise the runner is refused,
  naming the holder. ``take_over_s`` (for ``rollback``): instead of giving up, ask the holder
  to stop through an annotation on the Lease; its renewer sends its own process SIGTERM (its
  safety net moves traffic back), and stops renewing once ``take_over_s`` passed, so a hung
  holder's Lease expires too. A holder killed outright renews nothing: its Lease expires.
- while held, a thread renews it every third of its duration; a renewal that finds another
  holder, or none possible for a whole duration, marks the Lease lost, and the run's next
  journal write raises ``LeaseLost``: a runner that lost its lock stops acting.
- release: holder cleared (the next runner need not wait for the expiry).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from shiftgate.errors import ExitCode, ShiftgateError, SourceUnavailable, UsageError
from shiftgate.probes.kube import Conflict, Json, KubeCalls, Resource

__all__ = ["LeaseLost", "RunLease", "StateError", "holder_identity", "missing", "state_name"]

LEASES = Resource("leases", "coordination.k8s.io")
TAKE_OVER_BY = "shiftgate.io/take-over-requested-by"
TAKE_OVER_WAIT = "shiftgate.io/take-over-wait-s"


class StateError(ShiftgateError):
    """The run state in the cluster could not be written, or the API refused it (like an
    unwritable reports folder for the file store: shiftgate cannot keep its record, exit 3).
    An API that cannot be reached at all is ``SourceUnavailable``, as for every read."""

    exit_code = ExitCode.INTERNAL


class LeaseLost(StateError):
    """Another runner holds the Lease now, or it could not be renewed: stop acting."""


def state_name(service: str, env: str) -> str:
    """``shiftgate-<service>-<env>``, a valid object name: the Lease's and the ConfigMap's."""
    raw = re.sub(r"[^a-z0-9-]+", "-", f"shiftgate-{service}-{env}".lower()).strip("-")
    return raw[:63].rstrip("-")


def holder_identity() -> str:
    """Who holds the Lease, as a person reading ``status`` needs it: machine, process, CI job."""
    job = os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_JOB_ID")
    ci = f" job {job}" if job else ""
    return f"{socket.gethostname()} pid {os.getpid()}{ci} ({uuid.uuid4().hex[:6]})"


def missing(what: str, exc: Exception) -> str:
    return (
        f"the run's {what} does not exist and could not be created ({exc}): apply "
        "deploy/run-state.yaml, its names made shiftgate-<service>-<environment>"
    )


def micro_time(ts: float) -> str:
    """A Lease's MicroTime."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _epoch(text: Any) -> float | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class RunLease:
    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        name: str,
        *,
        holder: str,
        duration_s: int,
        on_take_over_request: Callable[[str], None] = lambda by: None,
    ) -> None:
        self.calls = KubeCalls(api_client, namespace, StateError)
        self.api = client.CoordinationV1Api(api_client)
        self.namespace, self.name = namespace, name
        self.holder, self.duration_s = holder, duration_s
        self.on_take_over_request = on_take_over_request
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: str | None = None
        self._asked_at: float | None = None

    # -- reading --------------------------------------------------------------------------
    def read(self) -> Json | None:
        """The Lease; an API that cannot be reached raises ``SourceUnavailable`` (as for any
        read of the cluster: nothing was changed)."""
        return self.calls.read_optional(
            "get", LEASES, self.api.read_namespaced_lease, self.name, self.namespace
        )

    def describe(self, lease: Json) -> str:
        spec = lease.get("spec") or {}
        renewed = _epoch(spec.get("renewTime"))
        ago = f", renewed {time.time() - renewed:.0f} s ago" if renewed else ""
        return f"{spec.get('holderIdentity')}{ago}, Lease {self.namespace}/{self.name}"

    def _expired(self, lease: Json) -> bool:
        spec = lease.get("spec") or {}
        renewed = _epoch(spec.get("renewTime"))
        duration = float(spec.get("leaseDurationSeconds") or self.duration_s)
        return renewed is None or renewed + duration < time.time()

    # -- holding --------------------------------------------------------------------------
    def acquire(self, take_over_s: float | None = None) -> None:
        seen: tuple[str | None, float] = (None, time.monotonic())
        deadline: float | None = None
        while True:
            lease = self.read()
            if lease is None:
                try:
                    self._write(None, self._body({}, transitions=0))
                    break
                except Conflict:
                    continue  # created by another runner a moment ago: judge that one
                except StateError as exc:
                    raise StateError(missing(f"Lease {self.namespace}/{self.name}", exc)) from None
            spec = lease.get("spec") or {}
            holder = spec.get("holderIdentity") or ""
            duration = float(spec.get("leaseDurationSeconds") or self.duration_s)
            rv = lease["metadata"].get("resourceVersion")
            if rv != seen[0]:
                seen = (rv, time.monotonic())
            unrenewed = time.monotonic() - seen[1] > duration  # by our own clock: skew-proof
            if holder in ("", self.holder) or self._expired(lease) or unrenewed:
                try:
                    transitions = int(spec.get("leaseTransitions") or 0) + (holder != self.holder)
                    self._write(lease, self._body(lease, transitions=transitions))
                    break
                except Conflict:
                    continue  # someone else wrote first: one of us wins, read who
            if take_over_s is None:
                raise UsageError(
                    f"another shiftgate run acts on this service ({self.describe(lease)}); nothing "
                    "was changed — wait for it, or see `shiftgate status`"
                )
            if deadline is None:
                deadline = time.monotonic() + take_over_s + duration + 5
                self._ask_to_stop(lease, take_over_s)
            elif time.monotonic() > deadline:
                raise UsageError(
                    f"the run Lease holder ({self.describe(lease)}) neither let go nor let it "
                    f"expire within {take_over_s:g} s + its {duration:g} s duration"
                )
            time.sleep(min(1.0, duration / 4))
        self._lost, self._asked_at = None, None
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="shiftgate-lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._lost is not None:
            return
        try:
            lease = self.read()
            if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.holder:
                body = copy.deepcopy(lease)
                body["spec"].pop("holderIdentity", None)
                self._write(lease, body)
        except (StateError, Conflict, SourceUnavailable):
            pass  # not released: it expires after its duration all the same

    def check(self) -> None:
        """Raise ``LeaseLost`` once the Lease is no longer ours."""
        if self._lost is not None:
            raise LeaseLost(f"this runner lost the run Lease {self.name}: {self._lost}; it stops acting")

    # -- internals ------------------------------------------------------------------------
    def _body(self, lease: Json, *, transitions: int) -> Json:
        now = micro_time(time.time())
        body = copy.deepcopy(lease) if lease else {}
        meta = body.setdefault("metadata", {})
        meta.update(name=self.name, namespace=self.namespace)
        for key in (TAKE_OVER_BY, TAKE_OVER_WAIT):
            (meta.get("annotations") or {}).pop(key, None)
        body.update(apiVersion="coordination.k8s.io/v1", kind="Lease")
        body["spec"] = {
            "holderIdentity": self.holder, "leaseDurationSeconds": self.duration_s,
            "acquireTime": now, "renewTime": now, "leaseTransitions": transitions,
        }
        return body

    def _write(self, lease: Json | None, body: Json) -> None:
        if lease is None:
            self.calls.write("create", LEASES, self.api.create_namespaced_lease, self.namespace, body)
            return
        body["metadata"]["resourceVersion"] = lease["metadata"]["resourceVersion"]
        self.calls.write(
            "update", LEASES, self.api.replace_namespaced_lease, self.name, self.namespace, body
        )

    def _ask_to_stop(self, lease: Json, wait_s: float) -> None:
        body = copy.deepcopy(lease)
        annotations = body["metadata"].setdefault("annotations", {}) or {}
        annotations.update({TAKE_OVER_BY: self.holder, TAKE_OVER_WAIT: f"{wait_s:g}"})
        body["metadata"]["annotations"] = annotations
        # A 409: renewed meanwhile; its next renewal finds no request, but the Lease expires.
        with contextlib.suppress(Conflict):
            self._write(lease, body)

    def _renew_loop(self) -> None:
        last_ok = time.monotonic()
        while not self._stop.wait(self.duration_s / 3):
            try:
                if self._renew():
                    last_ok = time.monotonic()
            except LeaseLost as exc:
                self._lost = str(exc)
                return
            except (StateError, Conflict, SourceUnavailable):
                pass  # tried again in a third of the duration
            if time.monotonic() - last_ok > self.duration_s:
                self._lost = f"no renewal possible for {self.duration_s} s"
                return

    def _renew(self) -> bool:
        lease = self.read()
        holder = ((lease or {}).get("spec") or {}).get("holderIdentity")
        if lease is None or holder != self.holder:
            raise LeaseLost(f"now held by {holder or 'nobody'}")
        annotations = lease["metadata"].get("annotations") or {}
        if annotations.get(TAKE_OVER_BY):
            if self._asked_at is None:
                self._asked_at = time.monotonic()
                self.on_take_over_request(str(annotations[TAKE_OVER_BY]))
            if time.monotonic() - self._asked_at > float(annotations.get(TAKE_OVER_WAIT) or 0):
                raise LeaseLost(f"given up to {annotations[TAKE_OVER_BY]}, who asked for it")
        body = copy.deepcopy(lease)
        body["spec"]["renewTime"] = micro_time(time.time())
        self._write(lease, body)
        return True
