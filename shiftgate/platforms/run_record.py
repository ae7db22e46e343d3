"""The run record in the cluster: a ConfigMap per service and environment holding the run
pointer and the journals of the latest runs.

``data.current`` names the unfinished run, ``data.last`` the last one that finished, and
``data["run.<run-id>.jsonl"]`` is a run's journal (one JSON entry per line, as in the file
store). One object, so the pointer and the journal change together, and every write is a
replace with the resourceVersion last read: a writer that did not see the latest state gets
a 409 instead of overwriting it. A 409 is retried (on a fresh read) only while this runner
still holds the run Lease: two writers never both win, and a runner that lost its Lease
stops writing. Runs beyond ``KEEP_RUNS`` are pruned, oldest first, to stay far below the
1 MiB a ConfigMap may hold; CI logs and reports keep them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from kubernetes import client

from shiftgate.platforms.run_lease import LeaseLost, RunLease, StateError, missing
from shiftgate.probes.kube import Conflict, Json, KubeCalls, Resource

__all__ = ["KEEP_RUNS", "MAX_BYTES", "RunRecord"]

CONFIGMAPS = Resource("configmaps")
KEEP_RUNS = 10
MAX_BYTES = 900_000
"""Refuse to grow the record past this: the API server refuses objects over 1 MiB."""
ATTEMPTS = 5


def journal_key(run_id: str) -> str:
    return f"run.{run_id}.jsonl"


class RunRecord:
    def __init__(self, api_client: client.ApiClient, namespace: str, name: str, lease: RunLease) -> None:
        self.calls = KubeCalls(api_client, namespace, StateError)
        self.api = client.CoreV1Api(api_client)
        self.namespace, self.name = namespace, name
        self.lease = lease
        self._cached: Json | None = None  # what this runner last read or wrote

    @property
    def where(self) -> str:
        return f"ConfigMap {self.namespace}/{self.name}"

    # -- reads: always fresh (another machine may have written since) ----------------------
    def data(self) -> dict[str, str]:
        found = self._read()
        return dict((found or {}).get("data") or {})

    def journal_text(self, run_id: str) -> str | None:
        return self.data().get(journal_key(run_id))

    # -- writes: only by the Lease holder ------------------------------------------------
    def append(self, run_id: str, line: str) -> None:
        key = journal_key(run_id)

        def change(data: dict[str, str]) -> None:
            if key not in data:
                _prune(data, keep=KEEP_RUNS - 1)
            data[key] = data.get(key, "") + line

        self._modify(change)

    def set_current(self, run_id: str) -> None:
        self._modify(lambda data: data.__setitem__("current", run_id))

    def clear(self, run_id: str) -> None:
        def change(data: dict[str, str]) -> None:
            data["last"] = run_id
            if data.get("current") == run_id:
                del data["current"]

        self._modify(change)

    def _modify(self, change: Callable[[dict[str, str]], None]) -> None:
        for _ in range(ATTEMPTS):
            self.lease.check()
            current = self._cached or self._read()
            data = dict((current or {}).get("data") or {})
            change(data)
            size = sum(len(k) + len(v.encode()) for k, v in data.items())
            if size > MAX_BYTES:
                raise StateError(f"{self.where} would hold {size} bytes (limit {MAX_BYTES}): not written")
            try:
                self._cached = self._write(current, data)
                return
            except Conflict:
                # Someone else wrote: go on from what they wrote only while the Lease is ours.
                self._cached = None
                if not self._still_ours():
                    raise LeaseLost(
                        f"{self.where} was changed by another runner, and the run Lease is no "
                        "longer this runner's: nothing written"
                    ) from None
        raise StateError(f"{self.where} kept changing under this runner; gave up after {ATTEMPTS} tries")

    def _still_ours(self) -> bool:
        lease = self.lease.read()
        return bool(lease) and (lease or {}).get("spec", {}).get("holderIdentity") == self.lease.holder

    def _read(self) -> Json | None:
        return self.calls.read_optional(
            "get", CONFIGMAPS, self.api.read_namespaced_config_map, self.name, self.namespace
        )

    def _write(self, current: Json | None, data: dict[str, str]) -> Json:
        if current is None:
            body: Json = {
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": self.name, "namespace": self.namespace,
                             "labels": {"app.kubernetes.io/managed-by": "shiftgate"}},
                "data": data,
            }
            try:
                return self.calls.write(
                    "create", CONFIGMAPS, self.api.create_namespaced_config_map, self.namespace, body
                )
            except StateError as exc:
                raise StateError(missing(self.where, exc)) from None
        body = copy.deepcopy(current)
        body["data"] = data
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        body["metadata"].pop("managedFields", None)
        return self.calls.write(
            "update", CONFIGMAPS, self.api.replace_namespaced_config_map, self.name, self.namespace, body
        )


def _prune(data: dict[str, str], keep: int) -> None:
    """Drop the oldest finished runs' journals (run ids start with their start time)."""
    pinned = {journal_key(data[k]) for k in ("current", "last") if k in data}
    runs = sorted(k for k in data if k.startswith("run.") and k not in pinned)
    for key in runs[: max(0, len(runs) - max(0, keep - len(pinned)))]:
        del data[key]
