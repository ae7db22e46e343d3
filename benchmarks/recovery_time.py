"""Recovery time of an automatic rollback: 2.5.1 at 50 % in the sandbox.

    .venv/bin/python benchmarks/recovery_time.py

Runs the real plan (`shiftgate run --candidate 2.5.1`) in its own sandbox folder while a
probe client sends requests through the router every 20 ms, then prints:
- fault → detection: from the first failing request (the candidate's own log line) to the
  analysis measurement that reached the failure limit, and to the gate's failed verdict;
- detection → restore: from the deciding look, and from the gate's verdict, to all traffic on
  the stable color (the runner restores it as soon as the window's stop is in the analysis
  log, which can be before the verdict: then the second figure is negative);
- requests that failed during the switch itself (not the candidate's injected 500s).
The runbook's recovery with `kubectl rollout undo` took about 90 s.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager
from shiftgate.sandbox import state as st
from shiftgate.sandbox.remediate import remediate

FOLDER = project_root() / ".sandbox-bench-recovery"
INJECTED = re.compile(r"^(\S+)Z ERROR .*injected by FAIL_RATIO")


@dataclass
class Answer:
    at: float
    ok: bool
    injected: bool
    color: str | None


def probe(url: str, stop: threading.Event, answers: list[Answer]) -> None:
    session = requests.Session()
    user = 0
    while not stop.is_set():
        user = user % 199_000 + 1
        at = time.time()
        try:
            response = session.get(f"{url}/recommendations", params={"user_id": user}, timeout=5)
            is_json = response.headers.get("content-type", "").startswith("application/json")
            body = response.json() if is_json else {}
            injected = "injected" in str(body.get("error", ""))
            answers.append(Answer(at, response.status_code == 200, injected, body.get("color")))
        except (requests.RequestException, ValueError):
            answers.append(Answer(at, False, False, None))
        time.sleep(0.02)


def first_injected_failure(state: st.SandboxState, color: str) -> float | None:
    stamps = []
    for name in st.replica_names(color):  # type: ignore[arg-type]
        record = state.processes.get(name)
        if record is None:
            continue
        for line in Path(record.log).read_text(errors="replace").splitlines():
            match = INJECTED.match(line)
            if match:
                stamps.append(dt.datetime.fromisoformat(match.group(1)).replace(tzinfo=dt.UTC).timestamp())
                break
    return min(stamps) if stamps else None


def main() -> None:
    env = {**os.environ, "SHIFTGATE_SANDBOX_DIR": str(FOLDER)}
    os.environ["SHIFTGATE_SANDBOX_DIR"] = str(FOLDER)
    manager.up(FOLDER)
    manager.reset(FOLDER)
    remediate(index=True, connections=True, folder=FOLDER, candidate="2.5.1")
    status = manager.status(FOLDER)
    answers: list[Answer] = []
    stop = threading.Event()
    thread = threading.Thread(target=probe, args=(status["router_url"], stop, answers), daemon=True)
    thread.start()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "shiftgate.cli", "run", "--candidate", "2.5.1", "--plain"],
            env=env, cwd=project_root(), capture_output=True, text=True, check=False,
        )
        time.sleep(2)
    finally:
        stop.set()
        thread.join()
    runs = project_root() / "reports" / "runs"
    run_id = (runs / "recommendation.sandbox.last").read_text().strip()
    lines = (runs / run_id / "journal.jsonl").read_text().splitlines()
    events: dict[str, dict[str, object]] = {}
    for entry in map(json.loads, lines):  # the first of each: an early restore comes first
        events.setdefault(entry["event"], entry)
    analysis = [json.loads(line) for line in (runs / run_id / "analysis.jsonl").read_text().splitlines()]
    state = st.load(FOLDER)
    assert state is not None
    candidate = events["run_started"]["candidate_color"]
    # The candidate's log holds the first injected failure; read it before the undo's
    # replicas overwrite the records (the log files stay).
    fault = first_injected_failure(state, candidate)
    manager.down(FOLDER)
    shutil.rmtree(FOLDER, ignore_errors=True)
    if "traffic_restored" not in events or fault is None:
        print(run.stdout[-3000:])
        raise SystemExit("the run did not roll back after an injected fault: no figures")
    # The look at which the sequential rule decided "rollback" (older logs: the measurement
    # that reached the failure limit, the last failing one).
    rolled = [m for m in analysis if any(
        d.get("state") == "rollback" for d in (m.get("decisions") or {}).values()
    )]
    failing = rolled or [m for m in analysis if m.get("failures")]
    detected_analysis = (rolled[0] if rolled else failing[-1])["at"] if failing else float("nan")
    verdict = events["gate_failed"]["ts"]
    restored = events["traffic_restored"]["ts"]
    started = events["rollback_started"]["ts"]
    switch = [a for a in answers if started - 1 <= a.at <= restored + 2]
    switch_failed = [a for a in switch if not a.ok and not a.injected]
    users_hit = [a for a in answers if a.injected]
    print(f"fault → analysis detection: {detected_analysis - fault:6.2f} s   (rollback decided)")
    print(f"fault → gate verdict:       {verdict - fault:6.2f} s")
    router_s = events["traffic_restored"]["restored_s"]
    early = bool(events["traffic_restored"].get("early"))
    how = "early: read in the analysis log, before the verdict" if early else "after the verdict"
    print(f"decision → stable has 100 %: {restored - detected_analysis:5.2f} s   ({how})")
    print(f"  the router's write: {router_s} s")
    print(f"verdict → stable has 100 %: {restored - verdict:6.2f} s")
    print(f"fault → traffic restored:   {restored - fault:6.2f} s   (runbook: ~90 s)")
    print(f"requests failed by the switch itself: {len(switch_failed)} of {len(switch)} around it")
    print(f"injected 500s seen while the fault lasted: {len(users_hit)} of {len(answers)} probe requests")


if __name__ == "__main__":
    main()
