"""The runbook's story on the sandbox, in one go (``make demo``).

(a) v2.5.0 in the incident state is blocked at preflight with both critical failures, and
    traffic is untouched; (b) the sandbox is remediated (index, connections); (c) v2.5.0
    goes through every gate and is promoted; (d) v2.5.1, whose errors begin only after it
    passed the post-deploy gate, is caught by the analysis at 50 % and rolled back.

Every step is a ``shiftgate`` command, exactly as a person would type it; the table at the
end checks each outcome against what the runbook expects.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SHIFTGATE = [sys.executable, "-m", "shiftgate.cli"]
console = Console(highlight=False)


@dataclass
class Step:
    label: str
    command: list[str]
    expected: int
    code: int = -1
    seconds: float = 0.0
    after: str = ""


def shiftgate(*args: str) -> tuple[int, float]:
    console.rule(f"[bold]$ shiftgate {' '.join(args)}")
    began = time.monotonic()
    code = subprocess.run([*SHIFTGATE, *args], cwd=ROOT, check=False).returncode
    return code, time.monotonic() - began


def status() -> dict[str, Any]:
    out = subprocess.run(
        [*SHIFTGATE, "status", "--json"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    data: dict[str, Any] = json.loads(out.stdout)
    return data


def world() -> str:
    now = status()
    versions = ", ".join(f"{c} {i['version']}" for c, i in (now.get("colors") or {}).items())
    return f"live {now.get('live')}, weights {now.get('weights')}, {versions}"


def recovery(run_id: str | None) -> str:
    if not run_id:
        return ""
    journal = ROOT / "reports" / "runs" / run_id / "journal.jsonl"
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    failed = next((e for e in events if e["event"] == "gate_failed"), None)
    restored = next((e for e in events if e["event"] == "traffic_restored"), None)
    if not failed or not restored:
        return ""
    delta = restored["ts"] - failed["ts"]
    if restored.get("early"):  # the runner acted on the analysis's stop, before the verdict
        return f"; detected by gate {failed['gate']}, traffic back {-delta:.2f} s before its verdict"
    return f"; detected by gate {failed['gate']}, traffic back in {delta:.2f} s"


def main() -> int:
    steps = [
        Step("(a) incident state: release 2.5.0", ["run", "--candidate", "2.5.0"], 1),
        Step("(b) remediate: index + max_connections", ["sandbox", "remediate"], 0),
        Step("(c) release 2.5.0 through every gate", ["run", "--candidate", "2.5.0"], 0),
        Step(
            "(d) size connections for 2.5.1",
            ["sandbox", "remediate", "--connections", "--candidate", "2.5.1"], 0,
        ),
        Step("(d) release 2.5.1 (fails after 50 s)", ["run", "--candidate", "2.5.1"], 1),
    ]
    shiftgate("sandbox", "up")
    shiftgate("sandbox", "reset")
    began = time.monotonic()
    for step in steps:
        step.code, step.seconds = shiftgate(*step.command)
        step.after = world()
        if step.command[0] == "run":
            last = (status().get("last_run") or {})
            step.after += f"; run {last.get('outcome')}" + recovery(last.get("id"))
    table = Table(
        "step", "exit", "expected", "seconds", "world after", title="shiftgate demo: the runbook's story"
    )
    for step in steps:
        ok = "green" if step.code == step.expected else "red"
        table.add_row(
            step.label, f"[{ok}]{step.code}[/]", str(step.expected), f"{step.seconds:.0f}", step.after
        )
    console.print(table)
    console.print(
        f"total {time.monotonic() - began:.0f} s; journals in reports/runs/, "
        "Allure results in reports/allure-results/, JUnit in reports/junit/; "
        "`shiftgate report` (run next by `make demo`) writes reports/html/ and reports/summary.md"
    )
    return 0 if all(s.code == s.expected for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
