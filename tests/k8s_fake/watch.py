"""Watches on the fake API: ``?watch=true`` streams events as the real API server does.

``kubectl rollout status`` lists its Deployment (by ``fieldSelector=metadata.name=…``) and
then watches it from the list's resourceVersion until the rollout is done or failed. The
fake keeps no event history, so a watch compares resourceVersions: every object of the
selection written after the watch's starting version is sent (ADDED when the watch had not
seen it, MODIFIED when it had), one that left the selection as DELETED. While a watch is
open, time passes for the cluster: the ``before_request`` hooks (the controller's ``step``)
run once per poll, the way kube-controller-manager keeps working between two events.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the server imports this module
    from tests.k8s_fake.server import FakeApiServer, Kind

Obj = dict[str, Any]

POLL_S = 0.05
BOOKMARK_EVERY_S = 1.0  # also how soon a watch notices its client went away


def _rv(obj: Obj) -> int:
    return int(obj["metadata"].get("resourceVersion") or 0)


def events(fake: FakeApiServer, kind: Kind, ns: str, query: dict[str, str]) -> Iterator[Obj | None]:
    """The watch's events as they happen; ``None`` when nothing happened for a while (the
    caller sends a bookmark or checks its client); ends at ``timeoutSeconds`` or ``closed``."""
    start = int(query.get("resourceVersion") or 0)
    deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
    seen: dict[str, int] = {}
    with fake.lock:
        for obj in fake.select(kind, ns, query):
            if start and _rv(obj) <= start:
                seen[obj["metadata"]["uid"]] = _rv(obj)  # the client listed it already
    quiet_since = time.monotonic()
    while not fake.closed and time.monotonic() < deadline:
        batch: list[Obj] = []
        with fake.lock:
            current = {o["metadata"]["uid"]: o for o in fake.select(kind, ns, query)}
            for uid, obj in current.items():
                if uid not in seen or _rv(obj) > seen[uid]:
                    batch.append(
                        {"type": "MODIFIED" if uid in seen else "ADDED", "object": copy.deepcopy(obj)}
                    )
                    seen[uid] = _rv(obj)
            for uid in [u for u in seen if u not in current]:
                del seen[uid]
                gone = {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": {"uid": uid}}
                batch.append({"type": "DELETED", "object": gone})
        yield from batch
        if batch:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= BOOKMARK_EVERY_S:
            quiet_since = time.monotonic()
            yield None
        time.sleep(POLL_S)
        for hook in fake.before_request:
            hook()


def stream(
    fake: FakeApiServer, kind: Kind, ns: str, query: dict[str, str], write: Callable[[bytes], Any]
) -> None:
    """Write the watch as newline-delimited JSON events through ``write`` (one chunk each);
    returns when the watch ends or the client has gone (``write`` raised)."""
    bookmarks = query.get("allowWatchBookmarks") == "true"
    try:
        for event in events(fake, kind, ns, query):
            if event is None:
                if not bookmarks:
                    continue
                meta = {"resourceVersion": fake.current_version()}
                event = {
                    "type": "BOOKMARK",
                    "object": {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta},
                }
            write(json.dumps(event).encode() + b"\n")
    except (BrokenPipeError, ConnectionResetError):
        return
