"""The crash-point matrix: the runner, a real ``shiftgate`` subprocess against a world kept in
files (``tests.runner_fakes``), is SIGKILLed right after each line N of its journal, for every
N of a full promoted run and of a full rolled-back one (the promoted gate fails at 100 %).
From what each kill left, ``status --json`` names the unfinished run (none once the journal
says it finished); then ``rollback``, and in a second pass ``resume``, must leave all traffic
on one color, exactly one ``run_finished`` (two only where ``rollback`` undid a promoted run
whose old color was still warm: ``promoted`` then ``rolled_back``, as the README says), and
never a rolled-back candidate with traffic. The same again with line N torn: the kill came
while it was being written (the world is the one after line N-1, as actions happen between
lines, never during one).

The commands after a kill run the CLI's ``main`` in this process (with the same file world),
which keeps the whole matrix to seconds; the killed runner is always its own process. The
matrix (boundary × command → weights, outcome, exit code) is written as a test artefact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shiftgate.cli.main import main
from shiftgate.config.paths import project_root
from tests.runner_fakes import world as fake
from tests.unit.test_config import ENV

DRIVER = [sys.executable, "-m", "tests.runner_fakes.driver"]
SCENARIOS = {"promoted": {}, "rolled-back": {"promoted": 1}}
POINTER = "recommendation.sandbox.current"


@dataclass
class Kill:
    scenario: str
    line: int
    folder: Path  # world/ and reports/ as the killed runner left them

    @property
    def journal(self) -> Path:
        return next((self.folder / "reports" / "runs").glob("*/journal.jsonl"))


def environ(folder: Path) -> dict[str, str]:
    return {
        **ENV,
        "SHIFTGATE_SANDBOX_DIR": str(folder / "sandbox"),  # no variables file: ENV says it all
        "SHIFTGATE_REPORTS_DIR": str(folder / "reports"),
        fake.WORLD_ENV: str(folder / "world"),
        "SHIFTGATE_ENV": "sandbox",
    }


def run_driver(folder: Path, gates: dict[str, int], park_at: int | None) -> int:
    fake.new_world(folder / "world", gates)
    env = {**os.environ, **environ(folder), "PYTHONPATH": str(project_root())}
    if park_at is not None:
        env["SHIFTGATE_FAKE_PARK_AT"] = str(park_at)
    proc = subprocess.Popen([*DRIVER, "run", "--candidate", fake.CANDIDATE, "--plain"], env=env,
                            cwd=project_root(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parked = folder / "world" / "parked"
    deadline = time.monotonic() + 30
    while park_at is not None and not parked.exists() and proc.poll() is None:
        assert time.monotonic() < deadline, f"runner never reached line {park_at}"
        time.sleep(0.01)
    if park_at is not None and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)  # kill -9: no handler, no finally, no safety net
    proc.wait(timeout=30)
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode()
    proc.stderr.close()
    assert park_at is not None or proc.returncode in (0, 1), stderr
    return proc.returncode


def events(journal: Path) -> list[dict[str, Any]]:
    out = []
    for line in journal.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the torn line
    return out


@pytest.fixture(scope="module")
def kills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Kill]]:
    """Each scenario run whole once (its journal's length), then killed at every line."""
    root = tmp_path_factory.mktemp("kills")
    result: dict[str, list[Kill]] = {}
    for scenario, gates in SCENARIOS.items():
        full = root / scenario / "full"
        run_driver(full, gates, park_at=None)
        total = len(next((full / "reports" / "runs").glob("*/journal.jsonl")).read_text().splitlines())
        points = [Kill(scenario, n, root / scenario / f"line-{n:02d}") for n in range(1, total + 1)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda k, g=gates: run_driver(k.folder, g, park_at=k.line), points))
        result[scenario] = points
    return result


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The file world for commands run in this process."""
    for registry, kind, target in fake.entries():
        monkeypatch.setitem(registry, kind, target)
    monkeypatch.setattr("shiftgate.run.runner.run_gate", fake.run_gate)
    yield


def command(folder: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    saved = dict(os.environ)
    os.environ.update(environ(folder))
    try:
        capsys.readouterr()
        code = main(list(args))
        return code, capsys.readouterr().out
    finally:
        os.environ.clear()
        os.environ.update(saved)


def copy(kill: Kill, dest: Path, *, torn: bool) -> Path:
    shutil.copytree(kill.folder, dest)
    if torn:
        journal = next((dest / "reports" / "runs").glob("*/journal.jsonl"))
        lines = journal.read_bytes().splitlines(keepends=True)
        last = lines[-1].rstrip(b"\n")
        journal.write_bytes(b"".join(lines[:-1]) + last[: len(last) // 2])  # no newline
    return dest


def test_crash_point_matrix(
    kills: dict[str, list[Kill]], tmp_path: Path, in_process: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    began = time.monotonic()
    rows: list[dict[str, Any]] = []
    for scenario, points in kills.items():
        total = len(points)
        for kill in points:
            for torn in (False, True):
                for verb in ("rollback", "resume"):
                    label = f"{scenario}-{kill.line:02d}{'-torn' if torn else ''}-{verb}"
                    folder = copy(kill, tmp_path / label, torn=torn)
                    journal = next((folder / "reports" / "runs").glob("*/journal.jsonl"))
                    before = events(journal)
                    run_id = journal.parent.name
                    finished = any(e["event"] == "run_finished" for e in before)

                    code, out = command(folder, "status", "--json", capsys=capsys)
                    status = json.loads(out)
                    named = status["run"]["id"] if status["run"] else None
                    knows = bool(before) and before[0]["event"] == "run_started" and not finished
                    assert named == (run_id if knows else None), label

                    code, _ = command(folder, verb, "--plain", capsys=capsys)
                    after = events(journal)
                    weights = fake.read("router.json", folder / "world")
                    versions = fake.read("platform.json", folder / "world")["running"]
                    outcomes = [e["outcome"] for e in after if e["event"] == "run_finished"]
                    rows.append({
                        "scenario": scenario, "killed_after_line": kill.line, "torn": torn,
                        "last_whole_event": before[-1]["event"] if before else None,
                        "command": verb, "exit": code, "weights": weights,
                        "versions": versions, "outcomes": outcomes,
                    })

                    assert sorted(weights.values()) == [0, 100], label
                    warm_undo = (scenario == "promoted" and verb == "rollback"
                                 and kill.line == total and not torn)
                    if warm_undo:  # the run had finished as promoted; rollback undid it
                        assert outcomes == ["promoted", "rolled_back"], label
                    elif before and before[0]["event"] == "run_started":
                        assert len(outcomes) == 1, (label, outcomes)
                    else:  # line 1 torn: the run never started, and nothing moved
                        assert outcomes == [] and weights == {"blue": 0, "green": 100}, label
                        assert code in (0, 2), label
                        continue
                    if outcomes[-1] == "rolled_back" or any(
                        e["event"] == "rollback_started" for e in after
                    ):
                        # never the rolled-back candidate with traffic, nor left running
                        assert outcomes[-1] == "rolled_back", label
                        assert weights == {"blue": 0, "green": 100}, label
                        assert versions["blue"] == fake.STABLE, label
                    elif outcomes[-1] == "promoted":
                        assert weights == {"blue": 100, "green": 0}, label
                        assert versions["blue"] == fake.CANDIDATE, label
                    else:
                        assert outcomes[-1] == "blocked" and weights["green"] == 100, label
                    expected = {"rollback": {0, 1}, "resume": {0, 1, 2}}[verb]
                    assert code in expected, (label, code)
                    after_status = json.loads(command(folder, "status", "--json", capsys=capsys)[1])
                    assert after_status["run"] is None, label
                    assert not (folder / "reports" / "runs" / POINTER).exists(), label

    artefact = tmp_path / "crash-matrix.json"
    artefact.write_text(json.dumps(rows, indent=1))
    table = tmp_path / "crash-matrix.txt"
    table.write_text("\n".join(
        f"{r['scenario']:<12} line {r['killed_after_line']:>2}{' torn' if r['torn'] else '     '} "
        f"after {r['last_whole_event'] or '-':<17} {r['command']:<8} → exit {r['exit']} "
        f"weights {r['weights']} outcomes {r['outcomes']}" for r in rows
    ) + "\n")
    with capsys.disabled():
        print(f"\ncrash matrix: {len(rows)} cells in {time.monotonic() - began:.1f} s "
              f"(+ kills), {table} and {artefact}")
    assert {r["scenario"] for r in rows} == set(SCENARIOS)
