"""The runner's safety net: once traffic moved, every way a run can end early leaves all
traffic on the stable color, says why in the journal, and exits with a code a pipeline can
act on (1 rolled back, 4 rollback failed, 128 + signal)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from shiftgate.errors import ConfigError, ExitCode
from shiftgate.routers.base import RouterError, Weights
from shiftgate.run.journal import Journal, Pointer, read_run, runs_dir
from shiftgate.run.runner import RollbackFailed, RunInterrupted, Runner
from tests.unit.test_runner import FakePlatform, FakeRouter, Gates, make

STABLE = {"blue": 0, "green": 100}
World = tuple[FakePlatform, FakeRouter, Path]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return FakePlatform(), FakeRouter(), tmp_path


def fast(runner: Runner, retry_s: float = 0.5) -> Runner:
    runner.ctx.plan = runner.ctx.plan.model_copy(update={"rollback_retry_s": retry_s})
    return runner


def outcome(reports: Path) -> tuple[str | None, list[str]]:
    pointer = Pointer(reports, "recommendation", "sandbox")
    run_id = pointer.current() or pointer.last()
    assert run_id
    state = read_run(runs_dir(reports) / run_id)
    assert state is not None
    finished = state.finished
    return (finished or {}).get("outcome"), [e["event"] for e in state.events]


class RaisingGates(Gates):
    """Gates that raise ``error`` when gate ``at`` starts (the shift has happened by then)."""

    def __init__(self, at: str, error: BaseException) -> None:
        super().__init__()
        self.at, self.error = at, error

    def __call__(self, gate: str, args: list[str], log: Path) -> int:  # type: ignore[override]
        if gate == self.at:
            raise self.error
        return super().__call__(gate, args, log)


@pytest.mark.parametrize("error", [
    ConfigError("gates/promoted.yaml", None, "no such gate"),
    OSError(28, "No space left on device"),
    RuntimeError("a bug in a gate runner"),
])
def test_an_exception_after_the_shift_rolls_back_then_raises(world: World, error: Exception) -> None:
    platform, router, reports = world
    with pytest.raises(type(error)):
        make(world, RaisingGates("promoted", error)).run("2.5.0")
    assert router.held == STABLE
    assert platform.running["blue"] == "2.4.3"  # undone
    end, _ = outcome(reports)
    assert end == "rolled_back"
    last = Pointer(reports, "recommendation", "sandbox").last()
    state = read_run(runs_dir(reports) / str(last))
    assert state is not None
    started = state.last("rollback_started")
    assert started is not None and type(error).__name__ in started["reason"]


def test_a_view_that_raises_after_the_shift_rolls_back(world: World) -> None:
    _, router, reports = world

    def view(entry: dict[str, object]) -> None:
        if entry["event"] == "action_done" and entry.get("action") == "shift":
            raise ValueError("closing tag '[/recommendations]' doesn't match any open tag")

    runner = make(world, Gates())
    runner.ctx.on_event = view
    with pytest.raises(ValueError):
        runner.run("2.5.0")
    assert router.held == STABLE
    assert outcome(reports)[0] == "rolled_back"


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)]
)
def test_a_signal_during_the_analysis_rolls_back_and_exits_128_plus_n(
    world: World, signum: int, code: int
) -> None:
    _, router, reports = world

    class Signalled(Gates):
        def __call__(self, gate: str, args: list[str], log: Path) -> int:  # type: ignore[override]
            if gate == "shift":
                os.kill(os.getpid(), signum)
            return super().__call__(gate, args, log)

    with pytest.raises(RunInterrupted) as raised:
        make(world, Signalled()).run("2.5.0")
    assert raised.value.exit_code == code
    assert router.held == STABLE
    end, _ = outcome(reports)
    assert end == "rolled_back"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_signal_before_traffic_moved_leaves_traffic_and_the_run_resumable(world: World) -> None:
    _, router, reports = world

    class Signalled(Gates):
        def __call__(self, gate: str, args: list[str], log: Path) -> int:  # type: ignore[override]
            if gate == "post-deploy":
                os.kill(os.getpid(), signal.SIGTERM)
            return super().__call__(gate, args, log)

    with pytest.raises(RunInterrupted):
        make(world, Signalled()).run("2.5.0")
    assert router.held == STABLE and router.history == []
    end, events = outcome(reports)
    assert end is None and events[-1] == "interrupted"
    assert Pointer(reports, "recommendation", "sandbox").current() is not None


class FlakyRouter(FakeRouter):
    def __init__(self, read_fails: bool = False, write_failures: int = 0) -> None:
        super().__init__()
        self.read_fails, self.write_failures = read_fails, write_failures
        self.armed = False

    def weights(self) -> Weights:
        if self.armed and self.read_fails:
            raise RouterError("403 Forbidden: get httproutes")
        return super().weights()

    def set_weights(self, weights: Weights) -> Weights:
        if self.armed and self.write_failures > 0:
            self.write_failures -= 1
            raise RouterError("409 Conflict")
        return super().set_weights(weights)


class ArmingGates(Gates):
    """The shift gate fails, and arms the router's faults just before the rollback."""

    def __init__(self, router: FlakyRouter) -> None:
        super().__init__(shift=1)
        self.router = router

    def __call__(self, gate: str, args: list[str], log: Path) -> int:  # type: ignore[override]
        if gate == "shift":
            self.router.armed = True
        return super().__call__(gate, args, log)


def test_a_router_whose_read_fails_is_still_rolled_back(tmp_path: Path) -> None:
    router = FlakyRouter(read_fails=True)
    world = (FakePlatform(), router, tmp_path)
    assert fast(make(world, ArmingGates(router))).run("2.5.0") == ExitCode.FAILED
    assert router.held == STABLE
    assert outcome(tmp_path)[0] == "rolled_back"


def test_a_write_that_fails_twice_is_retried(tmp_path: Path) -> None:
    router = FlakyRouter(write_failures=2)
    world = (FakePlatform(), router, tmp_path)
    assert fast(make(world, ArmingGates(router)), retry_s=5).run("2.5.0") == ExitCode.FAILED
    assert router.held == STABLE
    assert outcome(tmp_path)[0] == "rolled_back"


def test_a_write_that_never_succeeds_exits_4_and_keeps_the_run_open(tmp_path: Path) -> None:
    router = FlakyRouter(write_failures=10_000)
    world = (FakePlatform(), router, tmp_path)
    with pytest.raises(RollbackFailed) as raised:
        fast(make(world, ArmingGates(router)), retry_s=0.3).run("2.5.0")
    assert raised.value.exit_code == ExitCode.ROLLBACK_FAILED == 4
    end, events = outcome(tmp_path)
    assert end is None and "rollback_failed" in events
    assert Pointer(tmp_path, "recommendation", "sandbox").current() is not None


def test_a_failed_undo_ends_as_rolled_back_undo_failed(world: World) -> None:
    platform, router, reports = world

    def broken_undo(color: str) -> None:
        from shiftgate.platforms.base import PlatformError
        raise PlatformError("403: cannot patch deployments")

    platform.undo = broken_undo  # type: ignore[method-assign, assignment]
    assert make(world, Gates(shift=1)).run("2.5.0") == ExitCode.FAILED
    assert router.held == STABLE
    assert outcome(reports)[0] == "rolled_back_undo_failed"


def test_a_full_disk_does_not_keep_users_on_the_candidate(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal cannot be written once the shift gate runs: traffic still goes back first."""
    _, router, reports = world
    append = Journal.append
    full = {"on": False}

    def maybe_full(self: Journal, event: str, **fields: object) -> dict[str, object]:
        if full["on"]:
            raise OSError(28, "No space left on device")
        return append(self, event, **fields)

    class FillDisk(Gates):
        def __call__(self, gate: str, args: list[str], log: Path) -> int:  # type: ignore[override]
            if gate == "shift":
                full["on"] = True
            return super().__call__(gate, args, log)

    monkeypatch.setattr(Journal, "append", maybe_full)
    warnings: list[str] = []
    runner = make(world, FillDisk())
    runner.ctx.warn = warnings.append
    with pytest.raises(OSError):
        runner.run("2.5.0")
    assert router.held == STABLE
    assert any("journal write failed" in w for w in warnings)
    # Nothing said the run ended: it stays open, and a later rollback ends it harmlessly.
    assert Pointer(reports, "recommendation", "sandbox").current() is not None
    full["on"] = False
    assert make(world, Gates()).rollback() == ExitCode.FAILED
    assert outcome(reports)[0] == "rolled_back"


def test_a_hung_gate_after_the_shift_times_out_and_rolls_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shift gate hangs: run_gate kills it at the stage's time limit (tested in
    test_gate_group.py); the runner journals why and rolls back."""
    from shiftgate.run import runner as runner_module
    from shiftgate.run.gate import GateResult

    seen: dict[str, float | None] = {}

    def fake_run_gate(name: str, **kw: object) -> GateResult:
        seen[name] = kw.get("timeout_s")  # type: ignore[assignment]
        hung = name == "shift"
        return GateResult(
            gate=name, exit_code=ExitCode.FAILED if hung else ExitCode.OK, pytest_status=-9,
            command=(), junit_path=reports / "none.xml", allure_dir=reports, timed_out=hung,
            time_limit_s=2.0 if hung else None,
        )

    _, router, reports = world
    monkeypatch.setattr(runner_module, "run_gate", fake_run_gate)
    runner = make(world, Gates())
    runner.ctx.gate_runner = None
    stages = [
        s.model_copy(update={"timeout_s": 2.0}) if s.gate == "shift" else s for s in runner.ctx.plan.stages
    ]
    runner.ctx.plan = runner.ctx.plan.model_copy(update={"stages": stages})
    assert runner.run("2.5.0") == ExitCode.FAILED
    assert seen["shift"] == 2.0
    assert router.held == STABLE
    last = Pointer(reports, "recommendation", "sandbox").last()
    state = read_run(runs_dir(reports) / str(last))
    assert state is not None
    failed = state.last("gate_failed")
    assert failed is not None and any("timed out after 2 s" in f for f in failed["failures"])
    assert state.finished is not None and state.finished["outcome"] == "rolled_back"
