"""The journal survives torn writes and says once how a run ended; a finished run is never
advanced again, whatever a crash left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shiftgate.errors import ExitCode, UsageError
from shiftgate.run.journal import Journal, Pointer, read_run, runs_dir
from tests.unit.test_runner import FakePlatform, FakeRouter, Gates, make


def _journal(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "runs" / "r1")
    journal.append("run_started", candidate="2.5.0", candidate_color="blue", stable_color="green")
    return journal


def test_a_torn_tail_is_ended_before_the_next_entry(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    with journal.path.open("a") as handle:
        handle.write('{"ts": 1, "event": "action_sta')  # a crash mid-write
    journal.append("rollback_started", reason="x")
    journal.append("rollback_done")
    read = journal.read()
    assert [e["event"] for e in read.events] == ["run_started", "rollback_started", "rollback_done"]
    assert read.torn == [2]


def test_a_torn_line_in_the_middle_hides_nothing_after_it(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    with journal.path.open("a") as handle:
        handle.write('{"event": "action_started", "moves_traf\n')
        handle.write(json.dumps({"ts": 2, "event": "action_started", "moves_traffic": True}) + "\n")
        handle.write("[1, 2]\n")  # valid JSON, not an entry
    state = read_run(journal.folder)
    assert state is not None
    assert state.traffic_moved
    assert state.torn == [2, 4]


def test_rolling_back_means_no_rollback_done_after_the_last_start(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    journal.append("rollback_started")
    journal.append("rollback_done")
    state = read_run(journal.folder)
    assert state is not None and not state.rolling_back
    journal.append("rollback_started")
    state = read_run(journal.folder)
    assert state is not None and state.rolling_back


def test_a_kill_after_run_finished_leaves_nothing_to_resume(tmp_path: Path) -> None:
    """The pointer outlived ``run_finished`` (a kill in between): resume changes nothing."""
    world = (FakePlatform(), FakeRouter(), tmp_path)
    runner = make(world, Gates(shift=1))
    assert runner.run("2.5.0") == ExitCode.FAILED  # rolled back after the 50 % gate
    pointer = Pointer(tmp_path, "recommendation", "sandbox")
    run_id = pointer.last()
    assert run_id is not None
    pointer.set(run_id)  # as if killed before the pointer was removed
    weights = dict(world[1].held)
    with pytest.raises(UsageError, match="already finished \\(rolled_back\\)"):
        make(world, Gates()).resume()
    assert world[1].held == weights == {"blue": 0, "green": 100}
    assert pointer.current() is None
    state = read_run(runs_dir(tmp_path) / run_id)
    assert state is not None
    assert [e["outcome"] for e in state.events if e["event"] == "run_finished"] == ["rolled_back"]


def test_a_killed_rollback_is_resumed_as_a_rollback_not_a_promotion(tmp_path: Path) -> None:
    """``rollback`` killed after ``rollback_done``, before ``run_finished``: ``resume`` must
    not promote the candidate the rollback took traffic from."""
    world = (FakePlatform(), FakeRouter(), tmp_path)
    runner = make(world, Gates())
    runner.run("2.5.0", only_stage="preflight")
    runner.run("2.5.0", only_stage="post-deploy")  # 50/50 now
    run_id = Pointer(tmp_path, "recommendation", "sandbox").current()
    assert run_id is not None
    journal = Journal(runs_dir(tmp_path) / run_id)
    world[1].held = {"blue": 0, "green": 100}
    journal.append("rollback_started", reason="test")
    journal.append("traffic_restored", weights_after=world[1].held)
    journal.append("rollback_done")
    # A later stray rollback_started/rollback_done pair must not count either way.
    code = make(world, Gates()).resume()
    assert code == ExitCode.FAILED
    assert world[1].held == {"blue": 0, "green": 100}
    state = read_run(journal.folder)
    assert state is not None and state.finished is not None
    assert state.finished["outcome"] == "rolled_back"


HOLDER = """
import signal, sys, time
from pathlib import Path
from shiftgate.run.journal import run_lock
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a hung runner that does not stop
with run_lock(Path(sys.argv[1]), "recommendation", "sandbox"):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("kind", ["polite", "stubborn"])
def test_rollback_takes_the_lock_over_from_a_hung_holder(tmp_path: Path, kind: str) -> None:
    import subprocess
    import sys
    import time

    from shiftgate.run.journal import run_lock

    script = tmp_path / "shiftgate_holder.py"  # "shiftgate" in its command line, as a runner's
    script.write_text(HOLDER)
    holder = subprocess.Popen([sys.executable, str(script), str(tmp_path), kind], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(UsageError, match="another shiftgate run"), run_lock(
            tmp_path, "recommendation", "sandbox"
        ):
            pass
        began = time.monotonic()
        with run_lock(tmp_path, "recommendation", "sandbox", take_over_s=1.0):
            took = time.monotonic() - began
        assert holder.wait(timeout=10) != 0
        assert took < (1.0 if kind == "polite" else 7.0)
    finally:
        holder.kill()


def test_a_plan_that_never_promotes_is_refused(tmp_path: Path) -> None:
    from shiftgate.errors import ConfigError
    from shiftgate.run.plan import load_plan

    path = tmp_path / "half.yaml"
    path.write_text(
        "name: half\nstages:\n"
        "  - {name: preflight, gate: preflight, action: deploy}\n"
        "  - {name: half, gate: post-deploy, action: shift, weight: 50}\n"
    )
    with pytest.raises(ConfigError, match="promote exactly once"):
        load_plan(str(path))


def test_a_plan_naming_a_missing_gate_fails_before_any_action(tmp_path: Path) -> None:
    from shiftgate.errors import ConfigError
    from shiftgate.run.plan import load_plan

    world = (FakePlatform(), FakeRouter(), tmp_path)
    runner = make(world, Gates())
    plan = load_plan("blue-green")
    stages = [*plan.stages[:-1], plan.stages[-1].model_copy(update={"gate": "no-such-gate"})]
    runner.ctx.plan = plan.model_copy(update={"stages": stages})
    with pytest.raises(ConfigError, match="no-such-gate"):
        runner.run("2.5.0")
    assert world[1].history == [] and world[0].calls == []
