"""The runner: a plan's stages, each action only after its gate passed, rollback by itself.

One run releases one candidate in one environment. Every step is journaled before and after
it happens (``shiftgate.run.journal``); a gate that fails before traffic moved stops the run with
traffic untouched; one that fails after traffic moved rolls back: all traffic to the stable
color first (seconds: it is still warm), then ``undo`` of the candidate's color.
Gates run as pytest subprocesses, so each leaves its Allure results and JUnit XML.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from shiftgate.config.models import Color, Environment, other_color
from shiftgate.errors import ExitCode, ShiftgateError, SourceUnavailable, UsageError
from shiftgate.platforms.base import Platform, PlatformError
from shiftgate.report.junit import GateSummary, summarize
from shiftgate.routers.base import Router, RouterError, Weights, live_color
from shiftgate.run.gate import run_gate
from shiftgate.run.journal import Event, Journal, Pointer, RunState, read_run, run_lock, runs_dir
from shiftgate.run.plan import Plan, Stage


class RollbackFailed(ShiftgateError):
    """Traffic could not be moved back: the release failed, and a person must act now."""

    exit_code = ExitCode.FAILED


GateRunner = Callable[[str, Sequence[str], Path], int]
"""Runs gate ``name`` with extra pytest arguments, output to a log file; returns the exit code."""


@dataclass
class RunnerContext:
    env_name: str
    environment: Environment
    plan: Plan
    platform: Platform
    router: Router
    reports: Path
    overrides: Sequence[str] = ()
    gate_runner: GateRunner | None = None
    on_event: Callable[[Event], None] = lambda entry: None


class Runner:
    def __init__(self, ctx: RunnerContext) -> None:
        self.ctx = ctx
        self.env = ctx.environment
        self.pointer = Pointer(ctx.reports, self.env.service.name, self.env.name)

    # -- commands ---------------------------------------------------------------------------
    def run(self, candidate: str, *, only_stage: str | None = None) -> int:
        """The whole plan (or, for CI jobs, the one stage ``only_stage``)."""
        with self._lock():
            state = self._unfinished()
            if state is None:
                first = self.ctx.plan.stages[0].name
                if only_stage not in (None, first):
                    raise UsageError(
                        f"no run in progress: the first stage is {first}, not {only_stage}"
                    )
                state = self._start(candidate)
            elif only_stage is None or state.candidate != candidate:
                raise UsageError(self._unfinished_message(state))
            return self._advance(state, only_stage=only_stage)

    def resume(self) -> int:
        with self._lock():
            state = self._unfinished()
            if state is None:
                raise UsageError(f"no unfinished run to resume{self._last_outcome()}")
            if state.rollback_began or self._failed_after_traffic(state):
                # A rollback that began is finished, never undone by advancing the plan.
                return self._rollback(state, "resuming an unfinished rollback")
            return self._advance(state)

    def rollback(self, reason: str = "asked for by `shiftgate rollback`") -> int:
        with self._lock():
            state = self._unfinished()
            if state is None:
                state = self._warm_last_run()
            return self._rollback(state, reason)

    # -- the plan ---------------------------------------------------------------------------
    def _start(self, candidate: str) -> RunState:
        weights = self._read_weights()
        if sorted(weights.values()) != [0, 100]:
            raise UsageError(
                f"traffic is split {weights} and no shiftgate run knows it: "
                "set the router's weights by hand before a release"
            )
        live = live_color(weights)
        versions = self.ctx.platform.versions()
        if versions[live] == candidate:
            raise UsageError(f"{candidate} already runs on the live color {live}: nothing to release")
        self._check_router_can_do_the_plan()
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.env.service.name}-{uuid.uuid4().hex[:4]}"
        journal = Journal(runs_dir(self.ctx.reports) / run_id)
        self.pointer.set(run_id)
        self._log(
            journal, "run_started", env=self.env.name, service=self.env.service.name,
            plan=self.ctx.plan.name, candidate=candidate, stable=versions[live],
            candidate_color=other_color(live), stable_color=live, weights=weights,
            versions=versions,
        )
        state = read_run(journal.folder)
        assert state is not None
        return state

    def _advance(self, state: RunState, only_stage: str | None = None) -> int:
        journal = Journal(runs_dir(self.ctx.reports) / state.run_id)
        stages = self.ctx.plan.stages
        done = state.completed_stages
        pending = [s for s in stages if s.name not in done]
        if only_stage is not None:
            if not pending or pending[0].name != only_stage:
                expected = pending[0].name if pending else "none (the run is complete)"
                raise UsageError(
                    f"run {state.run_id} expects stage {expected} next, not {only_stage}"
                )
            pending = pending[:1]
        for stage in pending:
            code = self._stage(journal, state, stage)
            state = read_run(journal.folder) or state
            if code != ExitCode.OK:
                return code
        if len(state.completed_stages) == len(stages):
            warm_until = time.time() + self.ctx.plan.keep_warm_s
            self._finish(journal, "promoted", warm_until=round(warm_until, 3))
        return ExitCode.OK

    def _stage(self, journal: Journal, state: RunState, stage: Stage) -> int:
        self._log(journal, "stage_started", stage=stage.name, gate=stage.gate, action=stage.action)
        if self._gate_passed_before(state, stage):
            # Resuming after a crash inside the action: the gate's verdict stands.
            return self._act_and_close(journal, state, stage)
        code, summary = self._gate(journal, state, stage)
        if code != ExitCode.OK:
            self._log(
                journal, "gate_failed", stage=stage.name, gate=stage.gate, exit_code=int(code),
                **summary.as_dict(),
            )
            state = read_run(journal.folder) or state
            if state.traffic_moved:
                return self._rollback(state, f"gate {stage.gate} failed after traffic moved")
            self._finish(journal, "blocked", stage=stage.name, gate=stage.gate)
            return code
        self._log(journal, "gate_passed", stage=stage.name, gate=stage.gate, **summary.as_dict())
        return self._act_and_close(journal, state, stage)

    def _gate_passed_before(self, state: RunState, stage: Stage) -> bool:
        return any(e["event"] == "gate_passed" and e.get("stage") == stage.name for e in state.events)

    def _act_and_close(self, journal: Journal, state: RunState, stage: Stage) -> int:
        try:
            self._act(journal, state, stage)
        except (PlatformError, RouterError, SourceUnavailable) as exc:
            self._log(journal, "action_failed", stage=stage.name, action=stage.action, error=str(exc))
            state = read_run(journal.folder) or state
            if state.traffic_moved:
                return self._rollback(state, f"action {stage.action} failed: {exc}")
            self._finish(journal, "blocked", stage=stage.name, action=stage.action)
            return ExitCode.FAILED
        self._log(journal, "stage_done", stage=stage.name)
        return ExitCode.OK

    def _gate(self, journal: Journal, state: RunState, stage: Stage) -> tuple[int, GateSummary]:
        args = ["--candidate", state.candidate]
        settings = [
            f"versions.stable={state.started['stable']}",
            f"run.id={state.run_id}",
            f"run.candidate_color={state.candidate_color}",
            *([f"run.deployed_at={state.deployed_at}"] if state.deployed_at else []),
            *self.ctx.overrides,
        ]
        for setting in settings:
            args += ["--set", setting]
        log = journal.folder / f"{stage.name}.gate.log"
        self._log(journal, "gate_started", stage=stage.name, gate=stage.gate, log=str(log))
        if self.ctx.gate_runner is not None:
            code = self.ctx.gate_runner(stage.gate, args, log)
            junit = self.ctx.reports / "junit" / f"{stage.gate}.xml"
        else:
            result = run_gate(
                stage.gate, env=self.ctx.env_name, extra_args=args, reports_dir=self.ctx.reports
            )
            code, junit = int(result.exit_code), result.junit_path
        return code, summarize(junit)

    def _act(self, journal: Journal, state: RunState, stage: Stage) -> None:
        if stage.action == "none":
            return
        candidate_color: Color = state.candidate_color  # type: ignore[assignment]
        stable_color = other_color(candidate_color)
        if stage.action == "shift" and not self.ctx.router.supports_partial:
            self._log(journal, "action_skipped", stage=stage.name, action="shift",
                      reason=f"router {self.ctx.router.name} cannot split traffic")
            return
        before = self._read_weights()
        self._log(journal, "action_started", stage=stage.name, action=stage.action,
                  moves_traffic=stage.moves_traffic, weights_before=before)
        if stage.action == "deploy":
            self.ctx.platform.deploy(candidate_color, state.candidate)
            status = self.ctx.platform.wait_rollout(candidate_color, self.env.rollout.timeout_s)
            if not status.complete:
                raise PlatformError(f"rollout of {state.candidate} on {candidate_color}: {status.message}")
        else:
            share = stage.weight if stage.action == "shift" else 100
            assert share is not None
            self.ctx.router.set_weights({candidate_color: share, stable_color: 100 - share})
        self._log(journal, "action_done", stage=stage.name, action=stage.action,
                  weights_after=self._read_weights(), versions=self.ctx.platform.versions())

    # -- rollback ---------------------------------------------------------------------------
    def _rollback(self, state: RunState, reason: str) -> int:
        journal = Journal(runs_dir(self.ctx.reports) / state.run_id)
        candidate: Color = state.candidate_color  # type: ignore[assignment]
        stable = other_color(candidate)
        began = time.monotonic()
        self._log(journal, "rollback_started", reason=reason, weights_before=self._weights_or_none())
        try:
            held = self.ctx.router.set_weights({stable: 100, candidate: 0})
        except (RouterError, SourceUnavailable) as exc:
            self._log(journal, "rollback_failed", error=str(exc))
            raise RollbackFailed(
                f"ROLLBACK FAILED, traffic may still reach {candidate}: {exc}; "
                "run `shiftgate rollback` again (the run stays unfinished)"
            ) from None
        restored_s = time.monotonic() - began
        self._log(journal, "traffic_restored", weights_after=held, restored_s=round(restored_s, 3))
        try:
            self._undo(journal, state, candidate)
        except (PlatformError, SourceUnavailable) as exc:
            # Users are safe on the stable color already; the idle one needs a hand.
            self._log(journal, "undo_failed", color=candidate, error=str(exc))
        self._log(journal, "rollback_done", restored_s=round(restored_s, 3),
                  total_s=round(time.monotonic() - began, 3))
        self._finish(journal, "rolled_back", reason=reason)
        return ExitCode.FAILED

    def _undo(self, journal: Journal, state: RunState, color: Color) -> None:
        """``rollout undo`` of the candidate's color, once: undo only a color that runs the
        candidate (undoing twice would go back one version too far); a color left half-way
        by an undo that a crash interrupted is rolled out to its version to the end."""
        platform, timeout = self.ctx.platform, self.env.rollout.timeout_s
        if platform.versions().get(color) == state.candidate:
            platform.undo(color)
        elif not platform.rollout_status(color).complete:
            wanted = platform.versions().get(color)
            if wanted is None:
                return
            platform.deploy(color, wanted)
        else:
            return
        status = platform.wait_rollout(color, timeout)
        self._log(journal, "undo_done", color=color, complete=status.complete,
                  versions=platform.versions())

    def _warm_last_run(self) -> RunState:
        """A promoted run whose old color is still warm can be rolled back at once."""
        last = self.pointer.last()
        state = read_run(runs_dir(self.ctx.reports) / last) if last else None
        finished = state.finished if state else None
        if state is None or finished is None or finished.get("outcome") != "promoted":
            raise UsageError("nothing to roll back: no unfinished run and no promoted one")
        if time.time() > float(finished.get("warm_until", 0)):
            raise UsageError(
                f"run {state.run_id} is past its keep-warm time: release the old version instead"
            )
        return state

    # -- helpers ----------------------------------------------------------------------------
    def _finish(self, journal: Journal, outcome: str, **fields: object) -> None:
        self._log(journal, "run_finished", outcome=outcome, **fields)
        self.pointer.clear(journal.run_id)

    def _log(self, journal: Journal, event: str, **fields: object) -> None:
        self.ctx.on_event(journal.append(event, **fields))

    def _lock(self) -> AbstractContextManager[None]:
        return run_lock(self.ctx.reports, self.env.service.name, self.env.name)

    def _unfinished(self) -> RunState | None:
        """The run the pointer names, unless its journal says it finished: a crash between
        ``run_finished`` and removing the pointer must not let a run be advanced or resumed
        (a rolled-back candidate promoted), so the pointer is cleared then."""
        run_id = self.pointer.current()
        state = read_run(runs_dir(self.ctx.reports) / run_id) if run_id else None
        if run_id and state is not None and state.finished is not None:
            self.pointer.clear(run_id)
            return None
        return state

    def _last_outcome(self) -> str:
        last = self.pointer.last()
        state = read_run(runs_dir(self.ctx.reports) / last) if last else None
        if state is None or state.finished is None:
            return ""
        return f": run {state.run_id} already finished ({state.finished.get('outcome')}), nothing changed"

    def _unfinished_message(self, state: RunState) -> str:
        last = state.events[-1]
        return (
            f"run {state.run_id} ({state.candidate}) is unfinished, last step {last['event']}"
            f"{' of stage ' + last['stage'] if 'stage' in last else ''}: "
            "`shiftgate resume` continues it, `shiftgate rollback` ends it safely"
        )

    def _failed_after_traffic(self, state: RunState) -> bool:
        last = state.last("gate_failed", "action_failed")
        return last is not None and state.traffic_moved

    def _read_weights(self) -> Weights:
        return self.ctx.router.weights()

    def _weights_or_none(self) -> Weights | None:
        try:
            return self.ctx.router.weights()
        except SourceUnavailable:
            return None

    def _check_router_can_do_the_plan(self) -> None:
        partial = [s.name for s in self.ctx.plan.stages if s.action == "shift"]
        router = self.env.router
        if partial and not self.ctx.router.supports_partial:
            skip = router.kind == "service-selector" and router.skip_partial_shift
            if not skip:
                raise UsageError(
                    f"router {self.ctx.router.name} cannot split traffic, and plan "
                    f"{self.ctx.plan.name} shifts part of it in {', '.join(partial)}: set "
                    "router.skip_partial_shift to skip those steps, or use a weighted router"
                )
