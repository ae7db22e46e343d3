"""Traffic goes back the moment the analysis window stops early, not when pytest has ended.

The SLO window appends a ``window_stopped`` record to the run's analysis log when it stops
early (the gate fails from then on); the runner reads the log while a gate runs after traffic
moved and restores the stable color at once. The gate's verdict then ends the rollback as
always. Each test names a way this could go wrong: acting before traffic moved, acting on an
earlier gate's record, on half a line, or going forward after the gate passed anyway."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from shiftgate.errors import ExitCode
from shiftgate.probes.analysis_log import StopWatch, window_stopped
from shiftgate.run.group import run_in_group
from shiftgate.run.journal import Pointer, read_run, runs_dir
from tests.unit.test_runner import FakePlatform, FakeRouter, Gates, make

STOP = window_stopped("error_ratio above its limit: 9 errors in the last 20 requests", ["error_ratio"])


def _line(record: dict[str, object]) -> bytes:
    return (json.dumps(record) + "\n").encode()


# -- reading the log --------------------------------------------------------------------------
def test_only_a_stop_written_after_the_watch_counts(tmp_path: Path) -> None:
    log = tmp_path / "analysis.jsonl"
    log.write_bytes(_line(STOP))  # an earlier gate's window of the same run
    watch = StopWatch(log)
    assert watch.stopped() is None
    with log.open("ab") as out:
        out.write(_line({"index": 0, "decisions": {}}))
    assert watch.stopped() is None
    with log.open("ab") as out:
        out.write(_line(STOP))
    assert watch.stopped() == STOP["reason"]


def test_half_a_line_waits_for_its_end(tmp_path: Path) -> None:
    log = tmp_path / "analysis.jsonl"
    watch = StopWatch(log)  # no log yet: nothing to read, no error
    assert watch.stopped() is None
    whole = _line(STOP)
    log.write_bytes(b"not json\n" + whole[:20])
    assert watch.stopped() is None
    with log.open("ab") as out:
        out.write(whole[20:])
    assert watch.stopped() == STOP["reason"]


# -- the watch while the gate process runs ----------------------------------------------------
def test_the_watch_runs_while_the_child_runs(tmp_path: Path) -> None:
    calls: list[float] = []
    child = [sys.executable, "-c", "import time; time.sleep(0.6)"]
    done = run_in_group(child, cwd=tmp_path, limit_s=10, watch=lambda: calls.append(time.monotonic()))
    assert done.status == 0 and len(calls) >= 3


def test_what_the_watch_raises_ends_the_child(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    code = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    child = [sys.executable, "-c", code]

    def watch() -> None:
        raise RuntimeError("the runner stops")

    with pytest.raises(RuntimeError):
        run_in_group(child, cwd=tmp_path, limit_s=10, watch=watch)
    time.sleep(3.5)
    assert not marker.exists()


def test_the_time_limit_holds_with_a_watch(tmp_path: Path) -> None:
    child = [sys.executable, "-c", "import time; time.sleep(30)"]
    began = time.monotonic()
    done = run_in_group(child, cwd=tmp_path, limit_s=0.5, watch=lambda: None)
    assert done.timed_out and time.monotonic() - began < 5


# -- the runner -------------------------------------------------------------------------------
@pytest.fixture
def world(tmp_path: Path) -> tuple[FakePlatform, FakeRouter, Path]:
    return FakePlatform(), FakeRouter(), tmp_path


class StoppingGates(Gates):
    """Gates whose window stops early: the gate writes the record into the run's analysis log
    (as the SLO window does), then ends with ``code``."""

    def __init__(self, reports: Path, stop_in: str, code: int) -> None:
        super().__init__(**{stop_in: code})
        self.reports, self.stop_in = reports, stop_in

    def __call__(self, gate: str, args: Sequence[str], log: Path) -> int:
        if gate.replace("-", "_") == self.stop_in:
            with (log.parent / "analysis.jsonl").open("ab") as out:
                out.write(_line(STOP))
        return super().__call__(gate, args, log)


def _journal(reports: Path) -> list[dict[str, object]]:
    pointer = Pointer(reports, "recommendation", "sandbox")
    run_id = pointer.current() or pointer.last()
    assert run_id
    state = read_run(runs_dir(reports) / run_id)
    assert state is not None
    return list(state.events)


def test_a_stopped_window_after_the_shift_restores_traffic_before_the_verdict(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    platform, router, reports = world
    code = make(world, StoppingGates(reports, "shift", 1)).run("2.5.0")
    assert code == ExitCode.FAILED
    kinds = [e["event"] for e in _journal(reports)]
    early = kinds.index("traffic_restored")
    assert kinds[early - 1] == "rollback_started" and early < kinds.index("gate_failed")
    started = _journal(reports)[early - 1]
    assert started["early"] is True and "error_ratio above its limit" in str(started["reason"])
    assert router.history == [{"blue": 50, "green": 50}, {"blue": 0, "green": 100},
                              {"blue": 0, "green": 100}]  # the rollback after the verdict: the same weights
    assert platform.running == {"blue": "2.4.3", "green": "2.4.3"}  # undone as always
    assert kinds[-1] == "run_finished" and _journal(reports)[-1]["outcome"] == "rolled_back"


def test_a_gate_that_passes_after_its_window_stopped_still_rolls_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    """Fail closed: once traffic went back on the analysis's word, nothing goes forward."""
    _, router, reports = world
    assert make(world, StoppingGates(reports, "shift", 0)).run("2.5.0") == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}
    failed = next(e for e in _journal(reports) if e["event"] == "gate_failed")
    assert "stopped early, yet the gate passed" in json.dumps(failed)
    assert _journal(reports)[-1]["outcome"] == "rolled_back"


def test_a_stopped_window_before_traffic_moved_moves_nothing(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, reports = world
    assert make(world, StoppingGates(reports, "post_deploy", 1)).run("2.5.0") == ExitCode.FAILED
    assert router.history == []
    kinds = [e["event"] for e in _journal(reports)]
    assert "rollback_started" not in kinds and _journal(reports)[-1]["outcome"] == "blocked"


def test_a_router_refusing_the_early_write_leaves_the_rollback_to_the_verdict(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, reports = world
    refusals = iter([True])

    original = router.set_weights

    def set_weights(weights: dict[str, int]) -> dict[str, int]:
        if weights.get("green") == 100 and next(refusals, False):
            from shiftgate.routers.base import RouterError

            raise RouterError("conflict")
        return original(weights)  # type: ignore[arg-type]

    router.set_weights = set_weights  # type: ignore[method-assign,assignment]
    runner = make(world, StoppingGates(reports, "shift", 1))
    runner.ctx.plan = runner.ctx.plan.model_copy(update={"rollback_retry_s": 0.0})
    assert runner.run("2.5.0") == ExitCode.FAILED
    kinds = [e["event"] for e in _journal(reports)]
    assert "early_restore_failed" in kinds
    assert router.held == {"blue": 0, "green": 100}
    assert _journal(reports)[-1]["outcome"] == "rolled_back"


def test_the_subprocess_path_passes_the_watch(tmp_path: Path) -> None:
    """``run_gate`` hands the watch to the process group and the reports folder to the child."""
    seen = subprocess.run(
        [sys.executable, "-c", "import inspect; from shiftgate.run.gate import run_gate; "
         "print('watch' in inspect.signature(run_gate).parameters)"],
        capture_output=True, text=True, check=True,
    )
    assert seen.stdout.strip() == "True"
