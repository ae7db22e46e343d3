"""The runner's state machine with a fake platform, router and gates: every path of the plan,
rollback, the lock, unfinished runs, resume, and CI's one-stage-per-job mode."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from shiftgate.config.loader import load_environment
from shiftgate.config.models import Color
from shiftgate.errors import ConfigError, ExitCode, UsageError
from shiftgate.platforms.base import LogLine, ResourceUse, RolloutStatus
from shiftgate.routers.base import RouterError, Weights, validate_weights
from shiftgate.run.journal import Pointer, read_run, run_lock, runs_dir
from shiftgate.run.plan import load_plan
from shiftgate.run.runner import RollbackFailed, Runner, RunnerContext
from tests.unit.test_config import ENV


class FakePlatform:
    name = "fake"

    def __init__(self) -> None:
        self.running: dict[Color, str | None] = {"blue": "2.4.3", "green": "2.4.3"}
        self.previous: dict[Color, str | None] = {"blue": None, "green": None}
        self.calls: list[str] = []

    def versions(self) -> dict[Color, str | None]:
        return dict(self.running)

    def deploy(self, color: Color, version: str) -> None:
        self.calls.append(f"deploy {color} {version}")
        self.previous[color], self.running[color] = self.running[color], version

    def rollout_status(self, color: Color) -> RolloutStatus:
        return RolloutStatus(color, self.running[color], 2, 2, 2, 2, True, False, "ok")

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        return self.rollout_status(color)

    def logs(self, color: Color, since: float) -> list[LogLine]:
        return []

    def resource_use(self, color: Color) -> list[ResourceUse]:
        return []

    def max_replicas(self, color: Color) -> int | None:
        return 2

    def undo(self, color: Color) -> None:
        self.calls.append(f"undo {color}")
        self.running[color] = self.previous[color]


class FakeRouter:
    name = "fake-router"

    def __init__(self, supports_partial: bool = True) -> None:
        self.supports_partial = supports_partial
        self.held: Weights = {"blue": 0, "green": 100}
        self.history: list[Weights] = []
        self.fail_on: Weights | None = None

    def weights(self) -> Weights:
        return dict(self.held)

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        if weights == self.fail_on:
            raise RouterError("the router refused")
        self.held = dict(weights)
        self.history.append(dict(weights))
        return dict(self.held)


class Gates:
    """Gate exit codes by gate name (default 0); remembers what ran with which arguments."""

    def __init__(self, **codes: int) -> None:
        self.codes = codes
        self.ran: list[tuple[str, list[str]]] = []

    def __call__(self, gate: str, args: Sequence[str], log: Path) -> int:
        self.ran.append((gate.replace("-", "_"), list(args)))
        return self.codes.get(gate.replace("-", "_"), 0)


@pytest.fixture
def world(tmp_path: Path) -> tuple[FakePlatform, FakeRouter, Path]:
    return FakePlatform(), FakeRouter(), tmp_path


def make(world: tuple[FakePlatform, FakeRouter, Path], gates: Gates, candidate: str = "2.5.0") -> Runner:
    platform, router, reports = world
    environment = load_environment("sandbox", environ=ENV, overrides=[f"versions.candidate={candidate}"])
    ctx = RunnerContext(
        env_name="sandbox", environment=environment, plan=load_plan("blue-green"),
        platform=platform, router=router, reports=reports, gate_runner=gates,
    )
    return Runner(ctx)


def events(reports: Path) -> list[str]:
    run_id = Pointer(reports, "recommendation", "sandbox").current() or Pointer(
        reports, "recommendation", "sandbox"
    ).last()
    assert run_id
    state = read_run(runs_dir(reports) / run_id)
    assert state is not None
    return [e["event"] for e in state.events]


def test_all_gates_pass_promotes_the_candidate(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    platform, router, reports = world
    gates = Gates()
    assert make(world, gates).run("2.5.0") == ExitCode.OK
    assert [g for g, _ in gates.ran] == ["preflight", "post_deploy", "shift", "promoted"]
    assert router.history == [{"blue": 50, "green": 50}, {"blue": 100, "green": 0}]
    assert platform.running == {"blue": "2.5.0", "green": "2.4.3"}  # old color kept warm
    assert events(reports)[-1] == "run_finished"
    assert Pointer(reports, "recommendation", "sandbox").current() is None
    args = gates.ran[1][1]
    assert "run.candidate_color=blue" in args and "versions.stable=2.4.3" in args
    assert any(a.startswith("run.deployed_at=") for a in args)


def test_preflight_failure_blocks_before_anything_moves(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    platform, router, reports = world
    assert make(world, Gates(preflight=1)).run("2.5.0") == ExitCode.FAILED
    assert platform.calls == [] and router.history == []
    assert events(reports)[-2:] == ["gate_failed", "run_finished"]


def test_post_deploy_failure_leaves_traffic_untouched(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    platform, router, _ = world
    assert make(world, Gates(post_deploy=1)).run("2.5.0") == ExitCode.FAILED
    assert platform.calls == ["deploy blue 2.5.0"]
    assert router.history == [] and router.held == {"blue": 0, "green": 100}


@pytest.mark.parametrize("failing", ["shift", "promoted"])
def test_failure_after_traffic_moved_rolls_back(
    world: tuple[FakePlatform, FakeRouter, Path], failing: str
) -> None:
    platform, router, reports = world
    assert make(world, Gates(**{failing: 1})).run("2.5.0") == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}  # all traffic back on the stable color
    assert platform.calls == ["deploy blue 2.5.0", "undo blue"]
    assert platform.running["blue"] == "2.4.3"
    kinds = events(reports)
    assert kinds.index("traffic_restored") < kinds.index("undo_done") < kinds.index("rollback_done")


def test_a_config_error_in_a_gate_after_traffic_moved_also_rolls_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, _ = world
    assert make(world, Gates(shift=2)).run("2.5.0") == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}


def test_router_refusing_the_shift_rolls_back(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    _, router, _ = world
    router.fail_on = {"blue": 50, "green": 50}
    assert make(world, Gates()).run("2.5.0") == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}


def test_second_run_while_the_lock_is_held_changes_nothing(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    platform, router, reports = world
    held = run_lock(reports, "recommendation", "sandbox")
    with held, pytest.raises(UsageError, match="another shiftgate run"):
        make(world, Gates()).run("2.5.0")
    assert platform.calls == [] and router.history == []


class Crash(BaseException):
    """Stands for kill -9: nothing after it runs, not even except/finally of the runner."""


@pytest.fixture
def no_safety_net(monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 gives the runner's safety net no chance to run: take it out for ``Crash``."""
    monkeypatch.setattr(Runner, "_guarded", lambda self, state, step: step())


def test_crash_mid_shift_leaves_a_run_that_knows_it(
    world: tuple[FakePlatform, FakeRouter, Path], no_safety_net: None
) -> None:
    platform, router, reports = world
    original = router.set_weights

    def crash_after_setting(weights: Weights) -> Weights:
        original(weights)
        raise Crash

    router.set_weights = crash_after_setting  # type: ignore[method-assign]
    with pytest.raises(Crash):
        make(world, Gates()).run("2.5.0")
    assert router.held == {"blue": 50, "green": 50}
    assert Pointer(reports, "recommendation", "sandbox").current() is not None
    with pytest.raises(UsageError, match=r"unfinished.*shiftgate resume"):
        make(world, Gates()).run("2.5.0")
    router.set_weights = original  # type: ignore[method-assign]
    assert make(world, Gates()).rollback() == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}
    assert platform.running["blue"] == "2.4.3"
    assert Pointer(reports, "recommendation", "sandbox").current() is None


def test_resume_after_a_crash_in_the_deploy_continues(
    world: tuple[FakePlatform, FakeRouter, Path], no_safety_net: None
) -> None:
    platform, router, _ = world
    original = platform.deploy

    def crash(color: Color, version: str) -> None:
        raise Crash

    platform.deploy = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        make(world, Gates()).run("2.5.0")
    platform.deploy = original  # type: ignore[method-assign]
    gates = Gates()
    assert make(world, gates).resume() == ExitCode.OK
    assert gates.ran[0][0] == "post_deploy"  # the preflight verdict stood; the deploy was redone
    assert router.held == {"blue": 100, "green": 0}


def test_ci_runs_one_stage_per_job(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    _, router, reports = world
    assert make(world, Gates()).run("2.5.0", only_stage="preflight") == ExitCode.OK
    with pytest.raises(UsageError, match="expects stage post-deploy next, not shift"):
        make(world, Gates()).run("2.5.0", only_stage="shift")
    for stage in ("post-deploy", "shift", "promoted"):
        assert make(world, Gates()).run("2.5.0", only_stage=stage) == ExitCode.OK
    assert router.held == {"blue": 100, "green": 0}
    assert events(reports)[-1] == "run_finished"


def test_first_stage_is_required_without_a_run(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    with pytest.raises(UsageError, match="first stage is preflight"):
        make(world, Gates()).run("2.5.0", only_stage="shift")


def test_split_traffic_without_a_run_is_refused(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    _, router, _ = world
    router.held = {"blue": 30, "green": 70}
    with pytest.raises(UsageError, match="traffic is split"):
        make(world, Gates()).run("2.5.0")


def test_router_without_weights_refuses_a_partial_plan(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    platform, _, reports = world
    runner = make((platform, FakeRouter(supports_partial=False), reports), Gates())
    with pytest.raises(ConfigError, match="cannot split traffic") as caught:
        runner.run("2.5.0")
    assert caught.value.source.endswith("plans/blue-green.yaml")
    assert caught.value.key == "stages.1.action"  # the shift to 50 %
    assert platform.calls == [] and not (reports / "runs").exists()  # checked before any step


def test_instant_rollback_of_a_promoted_run_while_warm(world: tuple[FakePlatform, FakeRouter, Path]) -> None:
    platform, router, _ = world
    assert make(world, Gates()).run("2.5.0") == ExitCode.OK
    assert make(world, Gates()).rollback() == ExitCode.FAILED
    assert router.held == {"blue": 0, "green": 100}
    assert platform.running["blue"] == "2.4.3"
    said: list[str] = []
    runner = make(world, Gates())
    runner.ctx.say = said.append
    assert runner.rollback() == ExitCode.OK  # a pipeline's safety net may always call it
    assert said == ["nothing to roll back: all traffic on green"]
    assert router.held == {"blue": 0, "green": 100}


def test_rollback_with_no_run_at_all_is_nothing_to_roll_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    platform, router, reports = world
    said: list[str] = []
    runner = make(world, Gates())
    runner.ctx.say = said.append
    assert runner.rollback() == ExitCode.OK
    assert said == ["nothing to roll back: all traffic on green"]
    assert router.history == [] and platform.calls == []
    assert not [p for p in (reports / "runs").iterdir() if p.is_dir()]  # no run was made


def test_rollback_after_a_blocked_run_is_nothing_to_roll_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, reports = world
    assert make(world, Gates(post_deploy=1)).run("2.5.0") == ExitCode.FAILED
    before = events(reports)
    assert make(world, Gates()).rollback() == ExitCode.OK
    assert events(reports) == before and router.history == []


def test_rollback_past_keep_warm_is_nothing_it_can_roll_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, _ = world
    runner = make(world, Gates())
    runner.ctx.plan = runner.ctx.plan.model_copy(update={"keep_warm_s": 0})
    assert runner.run("2.5.0") == ExitCode.OK
    said: list[str] = []
    later = make(world, Gates())
    later.ctx.say = said.append
    assert later.rollback() == ExitCode.OK
    assert "past its keep-warm time" in said[0]
    assert said[1] == "nothing to roll back: all traffic on blue"
    assert router.held == {"blue": 100, "green": 0}


def test_split_traffic_that_no_run_knows_is_not_nothing_to_roll_back(
    world: tuple[FakePlatform, FakeRouter, Path],
) -> None:
    _, router, _ = world
    router.held = {"blue": 30, "green": 70}
    with pytest.raises(RollbackFailed, match=r"split.*no shiftgate run knows it.*by hand") as caught:
        make(world, Gates()).rollback()
    assert caught.value.exit_code == ExitCode.ROLLBACK_FAILED
    assert router.history == []  # which color is stable is for a person to say


def test_rollback_that_cannot_read_the_router_with_no_run_exits_4(
    world: tuple[FakePlatform, FakeRouter, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, router, _ = world

    def unreadable() -> Weights:
        raise RouterError("401 Unauthorized")

    monkeypatch.setattr(router, "weights", unreadable)
    with pytest.raises(RollbackFailed, match="cannot be read"):
        make(world, Gates()).rollback()
