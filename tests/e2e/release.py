"""Helpers of the end-to-end tests: the real CLI in a subprocess, its journal, the world."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from shiftgate.config.paths import project_root

CLI = [sys.executable, "-m", "shiftgate.cli"]


class Release:
    """Runs ``shiftgate`` against the test sandbox with its own reports folder."""

    def __init__(self, reports: Path) -> None:
        self.reports = reports
        self.env = {**os.environ, "SHIFTGATE_REPORTS_DIR": str(reports)}

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=self.env, cwd=project_root(), capture_output=True, text=True,
            timeout=timeout, check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLI, *args], env=self.env, cwd=project_root(), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, text=True,
        )

    def status(self) -> dict[str, Any]:
        result = self.run("status", "--json")
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def run_id(self) -> str | None:
        runs = self.reports / "runs"
        for name in ("recommendation.sandbox.current", "recommendation.sandbox.last"):
            if (runs / name).exists():
                return (runs / name).read_text().strip()
        return None

    def events(self, run_id: str | None = None) -> list[dict[str, Any]]:
        run_id = run_id or self.run_id()
        if run_id is None:
            return []
        path = self.reports / "runs" / run_id / "journal.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def kinds(self) -> list[str]:
        return [e["event"] for e in self.events()]

    def wait_for(self, proc: subprocess.Popen[str], event: str, stage: str | None = None,
                 timeout_s: float = 300) -> None:
        """Until the journal shows ``event`` (of ``stage``) while ``proc`` runs."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(e["event"] == event and stage in (None, e.get("stage")) for e in self.events()):
                return
            if proc.poll() is not None:
                raise AssertionError(f"ended ({proc.returncode}) before {event}: {self.kinds()}")
            time.sleep(0.1)
        proc.kill()
        raise AssertionError(f"no {event} within {timeout_s} s: {self.kinds()}")

    def kill_when(self, proc: subprocess.Popen[str], event: str, stage: str | None = None,
                  delay_s: float = 0.0) -> None:
        """SIGKILL the process (kill -9) once the journal shows ``event`` (of ``stage``)."""
        self.wait_for(proc, event, stage)
        time.sleep(delay_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def short_profile(folder: Path) -> Path:
    """The sandbox's load profile, shorter: the post-deploy gate in ~15 s instead of ~30."""
    data = yaml.safe_load((project_root() / "loadtests/profiles/sandbox.yaml").read_text())
    data["shape"] = {"ramp_s": 2, "steady_s": 8, "spike_s": 2, "spike_factor": 1.5}
    data["min_requests"] = 250
    path = folder / "short-profile.yaml"
    path.write_text(yaml.safe_dump(data))
    return path
