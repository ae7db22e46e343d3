"""The runner: a plan's stages, each action only after its gate passed, rollback by itself.

One run releases one candidate in one environment. Every step is journaled before and after
it happens (``shiftgate.run.journal``); a gate that fails before traffic moved stops the run with
traffic untouched; one that fails after traffic moved rolls back: all traffic to the stable
color first (seconds: it is still warm), then ``undo`` of the candidate's color.
Gates run as pytest subprocesses, so each leaves its Allure results and JUnit XML.

Once traffic may be split, nothing ends the run with users on the candidate: any exception,
and SIGINT, SIGTERM or SIGHUP, passes through one safety net that moves all traffic to the
stable color first, journals why, and only then lets the error or the signal end the process.
In a rollback the traffic write comes before the journal: a full disk must not keep users on
a bad release.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from shiftgate.config.gates import load_gate
from shiftgate.config.models import Color, Environment, other_color
from shiftgate.errors import ConfigError, ExitCode, ShiftgateError, SourceUnavailable, UsageError
from shiftgate.platforms.base import Platform, PlatformError
from shiftgate.probes.analysis_log import StopWatch
from shiftgate.report.junit import GateSummary, summarize
from shiftgate.routers.base import Router, RouterError, Weights, live_color
from shiftgate.run.gate import run_gate
from shiftgate.run.journal import Event, RunState
from shiftgate.run.plan import Plan, Stage, plan_file
from shiftgate.run.store import JOURNAL_FAULTS, FileStore, RunJournal, RunStore


class RollbackFailed(ShiftgateError):
    """Traffic could not be moved back: the release failed, and a person must act now."""

    exit_code = ExitCode.ROLLBACK_FAILED


class Interrupted(BaseException):
    """A signal asked the runner to stop. A BaseException, like KeyboardInterrupt: no
    ``except Exception`` on the way may swallow it before the safety net sees it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class RunInterrupted(ShiftgateError):
    """The run ended on a signal, after the safety net did its part (exit 128 + signal)."""

    def __init__(self, signum: int, message: str) -> None:
        self.exit_code = 128 + signum
        super().__init__(message)


_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_ROUTER_FAULTS = (RouterError, SourceUnavailable, OSError)


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
    """Runs a gate in place of ``run_gate`` (tests); the analysis log is then read once, after it."""
    gate_log: bool = False
    """A gate's output goes to its log file in the run's folder, not the terminal (the live
    view owns the terminal)."""
    on_event: Callable[[Event], None] = lambda entry: None
    warn: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))
    """Where problems that must not stop a rollback are reported (a journal write failed)."""
    say: Callable[[str], None] = field(default=print)
    """Where a command's plain answer goes ("nothing to roll back: …")."""
    store: RunStore | None = None
    """Journal, pointer and lock (``shiftgate.run.store.store_for``); None: files in ``reports``."""


class Runner:
    def __init__(self, ctx: RunnerContext) -> None:
        self.ctx = ctx
        self.env = ctx.environment
        self.store: RunStore = ctx.store or FileStore(ctx.reports, self.env.service.name, self.env.name)
        self._in_rollback = False
        self._restored_early = False
        self._unwritten: list[tuple[RunJournal, str, dict[str, object]]] = []

    # -- commands ---------------------------------------------------------------------------
    def run(self, candidate: str, *, only_stage: str | None = None) -> int:
        """The whole plan (or, for CI jobs, the one stage ``only_stage``)."""
        # A gate that does not exist, or a step this router cannot take, fails now, not at 50 %.
        check_plan(self.ctx.plan, self.env, router_supports_partial=self.ctx.router.supports_partial)
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
            return self._guarded(state, lambda: self._advance(state, only_stage=only_stage))

    def resume(self) -> int:
        with self._lock():
            state = self._unfinished()
            if state is None:
                raise UsageError(f"no unfinished run to resume{self._last_outcome()}")
            if state.rollback_began or self._failed_after_traffic(state):
                # A rollback that began is finished, never undone by advancing the plan.
                return self._guarded(state, lambda: self._rollback(state, "resuming an unfinished rollback"))
            # Advancing runs gates, and gates read the database: its DSN must be there.
            self.env.database.dsn()
            check_plan(self.ctx.plan, self.env, router_supports_partial=self.ctx.router.supports_partial)
            return self._guarded(state, lambda: self._advance(state))

    def rollback(self, reason: str = "asked for by `shiftgate rollback`") -> int:
        # A hung or stuck runner must not keep users on the candidate: take its lock over.
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self._lock(take_over_s=self.ctx.plan.takeover_wait_s))
                state = self._unfinished() or self._warm_last_run()
            except UsageError:
                raise
            except JOURNAL_FAULTS as exc:
                # No record, no way to know the stable color: a person must look (exit 4).
                raise RollbackFailed(
                    f"ROLLBACK NOT STARTED: the run state cannot be read ({exc}); check by hand "
                    "that one color has all traffic (`shiftgate status`), then rollback again"
                ) from None
            if state is None:
                return self._nothing_to_roll_back()
            return self._guarded(state, lambda: self._rollback(state, reason))
        raise AssertionError("unreachable: the block returns or raises")

    # -- the safety net ---------------------------------------------------------------------
    def _guarded(self, state: RunState, step: Callable[[], int]) -> int:
        """Run ``step``; whatever ends it early (an exception, a signal) after traffic may
        have moved, all traffic goes to the stable color before the error ends the run."""
        try:
            with self._signals_raise():
                return step()
        except RollbackFailed:
            raise
        except BaseException as exc:
            current = self._reread(state)
            why = _why(exc)
            if current.finished is None and (current.traffic_moved or current.rollback_began):
                with self._signals_deferred():
                    self._rollback(current, f"the runner stopped: {why}")
            elif current.finished is None:
                self._log_safe(self.store.journal(state.run_id), "interrupted", reason=why)
            if isinstance(exc, Interrupted):
                raise RunInterrupted(exc.signum, f"stopped by {why}; traffic is on the stable "
                                     "color" if current.traffic_moved else f"stopped by {why}") from None
            raise

    @contextlib.contextmanager
    def _signals_raise(self) -> Iterator[None]:
        """SIGINT, SIGTERM and SIGHUP raise ``Interrupted`` where the runner is, so the safety
        net sees them; during a rollback they are ignored until it is done."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if self._in_rollback:
                self.ctx.warn(f"{signal.Signals(signum).name} ignored: a rollback is in progress")
                return
            raise Interrupted(signum)

        previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS}
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    @contextlib.contextmanager
    def _signals_deferred(self) -> Iterator[None]:
        was, self._in_rollback = self._in_rollback, True
        try:
            yield
        finally:
            self._in_rollback = was

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
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{self.env.service.name}-{uuid.uuid4().hex[:4]}"
        journal = self.store.journal(run_id)
        self.store.set_current(run_id)
        self._log(
            journal, "run_started", env=self.env.name, service=self.env.service.name,
            plan=self.ctx.plan.name, candidate=candidate, stable=versions[live],
            candidate_color=other_color(live), stable_color=live, weights=weights,
            versions=versions,
            # Settings changed by SHIFTGATE_* or --set: a pass under a loosened threshold says so.
            overrides=[o.as_dict() for o in self.env.overrides],
        )
        state = self.store.read_run(run_id)
        assert state is not None
        return state

    def _advance(self, state: RunState, only_stage: str | None = None) -> int:
        journal = self.store.journal(state.run_id)
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
            state = self._reread(state)
            if code != ExitCode.OK:
                return code
        if len(state.completed_stages) == len(stages):
            warm_until = time.time() + self.ctx.plan.keep_warm_s
            self._finish(journal, "promoted", warm_until=round(warm_until, 3))
        return ExitCode.OK

    def _stage(self, journal: RunJournal, state: RunState, stage: Stage) -> int:
        self._log(journal, "stage_started", stage=stage.name, gate=stage.gate, action=stage.action)
        if self._gate_passed_before(state, stage):
            # Resuming after a crash inside the action: the gate's verdict stands.
            return self._act_and_close(journal, state, stage)
        code, summary = self._gate(journal, state, stage)
        if self._restored_early and code == ExitCode.OK:
            # Traffic went back on the analysis's word: the run never goes forward from there.
            code = ExitCode.FAILED
            summary.failures.append("the analysis window stopped early, yet the gate passed")
        if code != ExitCode.OK:
            self._log(
                journal, "gate_failed", stage=stage.name, gate=stage.gate, exit_code=int(code),
                **summary.as_dict(),
            )
            state = self._reread(state)
            if state.traffic_moved:
                return self._rollback(state, f"gate {stage.gate} failed after traffic moved")
            self._finish(journal, "blocked", stage=stage.name, gate=stage.gate)
            return code
        self._log(journal, "gate_passed", stage=stage.name, gate=stage.gate, **summary.as_dict())
        return self._act_and_close(journal, state, stage)

    def _gate_passed_before(self, state: RunState, stage: Stage) -> bool:
        return any(e["event"] == "gate_passed" and e.get("stage") == stage.name for e in state.events)

    def _act_and_close(self, journal: RunJournal, state: RunState, stage: Stage) -> int:
        try:
            self._act(journal, state, stage)
        except (PlatformError, RouterError, SourceUnavailable) as exc:
            self._log(journal, "action_failed", stage=stage.name, action=stage.action, error=str(exc))
            state = self._reread(state)
            if state.traffic_moved:
                return self._rollback(state, f"action {stage.action} failed: {exc}")
            self._finish(journal, "blocked", stage=stage.name, action=stage.action)
            return ExitCode.FAILED
        self._log(journal, "stage_done", stage=stage.name)
        return ExitCode.OK

    def _gate(self, journal: RunJournal, state: RunState, stage: Stage) -> tuple[int, GateSummary]:
        args = ["--candidate", state.candidate]
        settings = [
            f"versions.stable={state.started['stable']}",
            f"run.id={state.run_id}",
            f"run.candidate_color={state.candidate_color}",
            *([f"run.deployed_at={state.deployed_at}"] if state.deployed_at else []),
            *(f"run.shifted_at={e['ts']}" for e in [state.last("action_done")]
              if e and e["action"] != "deploy"),
            *self.ctx.overrides,
        ]
        for setting in settings:
            args += ["--set", setting]
        log = journal.folder / f"{stage.name}.gate.log"
        self._log(journal, "gate_started", stage=stage.name, gate=stage.gate, log=str(log))
        watch = self._early_restore(journal, state, stage) if state.traffic_moved else None
        if self.ctx.gate_runner is not None:
            code = self.ctx.gate_runner(stage.gate, args, log)
            if watch is not None:
                watch()
            junit = self.ctx.reports / "junit" / f"{stage.gate}.xml"
        else:
            result = run_gate(
                stage.gate, env=self.ctx.env_name, extra_args=args, reports_dir=self.ctx.reports,
                timeout_s=stage.timeout_s, log=log if self.ctx.gate_log else None, watch=watch,
            )
            code, junit = int(result.exit_code), result.junit_path
            if result.message:  # a gate killed at its time limit wrote no JUnit of its own
                summary = summarize(junit)
                summary.failures.append(result.message)
                return code, summary
        return code, summarize(junit)

    def _act(self, journal: RunJournal, state: RunState, stage: Stage) -> None:
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
    def _early_restore(self, journal: RunJournal, state: RunState, stage: Stage) -> Callable[[], None]:
        """While a gate runs after traffic moved: as soon as its analysis window stops early
        (the gate will fail), all traffic goes back to the stable color, without waiting the
        seconds pytest and its interpreter take to end. The rest of the rollback (the undo,
        the run's end) follows the gate's verdict as always. Traffic moves only towards the
        stable color here, so reading the log can at worst make users safe too early."""
        watcher = StopWatch(journal.folder / "analysis.jsonl")

        def watch() -> None:
            if self._restored_early:
                return
            reason = watcher.stopped()
            if reason is None:
                return
            self._restored_early = True
            with self._signals_deferred():
                self._restore_traffic(journal, state, f"gate {stage.gate}: {reason}")

        return watch

    def _restore_traffic(self, journal: RunJournal, state: RunState, reason: str) -> None:
        try:
            self._traffic_back(journal, state, reason, early=True)
        except _ROUTER_FAULTS as exc:  # the rollback after the gate tries again
            self._log_safe(journal, "early_restore_failed", error=str(exc))

    def _traffic_back(
        self, journal: RunJournal, state: RunState, reason: str, **fields: object
    ) -> tuple[Weights, float]:
        """All traffic to the stable color, journaled around the write: the router's weights
        and the seconds it took. A router that keeps refusing raises its error."""
        candidate: Color = state.candidate_color  # type: ignore[assignment]
        wanted: Weights = {other_color(candidate): 100, candidate: 0}
        began = time.monotonic()
        self._log_safe(journal, "rollback_started", reason=reason, **fields,
                       weights_before=self._weights_or_none())
        held = self._write_with_retries(wanted)
        restored_s = round(time.monotonic() - began, 3)
        self._log_safe(journal, "traffic_restored", weights_after=held, **fields, restored_s=restored_s)
        return held, restored_s

    def _rollback(self, state: RunState, reason: str) -> int:
        with self._signals_deferred():
            return self._rollback_now(state, reason)

    def _rollback_now(self, state: RunState, reason: str) -> int:
        journal = self.store.journal(state.run_id)
        candidate: Color = state.candidate_color  # type: ignore[assignment]
        stable = other_color(candidate)
        began = time.monotonic()
        try:
            _, restored_s = self._traffic_back(journal, state, reason)
        except _ROUTER_FAULTS as exc:
            self._log_safe(journal, "rollback_failed", error=str(exc))
            raise RollbackFailed(
                f"ROLLBACK FAILED, traffic may still reach {candidate}: {exc}; "
                "run `shiftgate rollback` again (the run stays unfinished)"
            ) from None
        self._verify_restored(journal, {stable: 100, candidate: 0}, stable)
        undone = True
        try:
            self._undo(journal, state, candidate)
        except JOURNAL_FAULTS as exc:  # PlatformError, SourceUnavailable, a journal write
            # Users are safe on the stable color already; the idle one needs a hand.
            undone = False
            self._log_safe(journal, "undo_failed", color=candidate, error=str(exc))
        self._log_safe(journal, "rollback_done", restored_s=round(restored_s, 3),
                       total_s=round(time.monotonic() - began, 3))
        outcome = "rolled_back" if undone else "rolled_back_undo_failed"
        self._finish_safe(journal, outcome, reason=reason)
        return ExitCode.FAILED

    def _write_with_retries(self, wanted: Weights) -> Weights:
        """The router's write, retried with backoff for ``rollback_retry_s``: a router that
        refuses once (a conflict, a restarting API server) must not end the rollback."""
        for attempt in Retrying(
            stop=stop_after_delay(self.ctx.plan.rollback_retry_s),
            wait=wait_exponential(multiplier=0.1, max=2),
            retry=retry_if_exception_type(_ROUTER_FAULTS),
            reraise=True,
        ):
            with attempt:
                return self.ctx.router.set_weights(wanted)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _verify_restored(self, journal: RunJournal, wanted: Weights, stable: Color) -> None:
        """Read the weights back and ask whether the stable color can serve: a rollback onto
        a color with no ready replica has not made users safe."""
        held = self._weights_or_none()
        if held is not None and held != wanted:
            self._log_safe(journal, "rollback_failed", error=f"router holds {held}, not {wanted}")
            raise RollbackFailed(f"ROLLBACK FAILED: the router holds {held} after writing {wanted}")
        try:
            status = self.ctx.platform.rollout_status(stable)
        except (PlatformError, SourceUnavailable, OSError) as exc:
            self._log_safe(journal, "stable_unverified", color=stable, error=str(exc))
            return
        self._log_safe(journal, "stable_checked", color=stable, ready=status.ready,
                       desired=status.desired, version=status.version)
        if status.ready == 0:
            self._log_safe(journal, "rollback_failed", error=f"no ready replica on {stable}")
            raise RollbackFailed(
                f"ROLLBACK FAILED: all traffic is on {stable}, but {stable} has no ready replica "
                f"({status.message})"
            )

    def _undo(self, journal: RunJournal, state: RunState, color: Color) -> None:
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

    def _warm_last_run(self) -> RunState | None:
        """A promoted run whose old color is still warm can be rolled back at once; None when
        there is no such run."""
        last = self.store.last()
        state = self.store.read_run(last) if last else None
        finished = state.finished if state else None
        if state is None or finished is None or finished.get("outcome") != "promoted":
            return None
        if time.time() > float(finished.get("warm_until", 0)):
            self.ctx.say(
                f"run {state.run_id} promoted {state.candidate} and is past its keep-warm time: "
                "to go back, release the old version"
            )
            return None
        return state

    def _nothing_to_roll_back(self) -> int:
        """No run to end and no warm one to undo: fine (a pipeline's safety net calls
        ``rollback`` after every failure) while one color has all traffic; traffic split
        with no run that knows it is not fine, and a person must say where it goes."""
        try:
            weights = self._read_weights()
        except _ROUTER_FAULTS as exc:
            raise RollbackFailed(
                f"no run to roll back, and the router cannot be read ({exc}): check by hand "
                "that one color has all traffic (`shiftgate status`)"
            ) from None
        if sorted(weights.values()) != [0, 100]:
            raise RollbackFailed(
                f"traffic is split {weights} and no shiftgate run knows it: set the router's "
                "weights by hand, all traffic to the color that runs the stable version "
                "(`shiftgate status` shows each color's version)"
            )
        self.ctx.say(f"nothing to roll back: all traffic on {live_color(weights)}")
        return ExitCode.OK

    # -- helpers ----------------------------------------------------------------------------
    def _finish(self, journal: RunJournal, outcome: str, **fields: object) -> None:
        self._log(journal, "run_finished", outcome=outcome, **fields)
        self.store.clear(journal.run_id)

    def _finish_safe(self, journal: RunJournal, outcome: str, **fields: object) -> None:
        """End a rolled-back run; if the journal cannot say so, the run stays unfinished
        (its pointer kept), and a later ``rollback`` ends it again, harmlessly."""
        if self._log_safe(journal, "run_finished", outcome=outcome, **fields):
            try:
                self.store.clear(journal.run_id)
            except JOURNAL_FAULTS as exc:
                self.ctx.warn(f"could not clear the run pointer: {exc}")

    def _log(self, journal: RunJournal, event: str, **fields: object) -> None:
        # A view that raises here is a fault like any other: the safety net rolls back.
        self.ctx.on_event(journal.append(event, **fields))

    def _log_safe(self, journal: RunJournal, event: str, **fields: object) -> bool:
        """Journal without ever raising: entries that could not be written are reported,
        kept, and written first the next time (in their order). True when all are written."""
        self._unwritten.append((journal, event, fields))
        while self._unwritten:
            target, name, values = self._unwritten[0]
            try:
                entry = target.append(name, **values)
            except JOURNAL_FAULTS as exc:
                self.ctx.warn(f"journal write failed ({name}): {exc}; traffic actions go on")
                return False
            self._unwritten.pop(0)
            self._show(entry)
        return True

    def _show(self, entry: Event) -> None:
        """In a rollback the view may break (a terminal gone, a bug); the rollback must not."""
        try:
            self.ctx.on_event(entry)
        except Exception as exc:
            self.ctx.warn(f"could not show event {entry.get('event')}: {exc!r}")

    def _lock(self, take_over_s: float | None = None) -> AbstractContextManager[None]:
        return self.store.lock(take_over_s=take_over_s)

    def _reread(self, state: RunState) -> RunState:
        return self.store.read_run(state.run_id) or state

    def _unfinished(self) -> RunState | None:
        """The run the pointer names, unless its journal says it finished: a crash between
        ``run_finished`` and removing the pointer must not let a run be advanced or resumed
        (a rolled-back candidate promoted), so the pointer is cleared then."""
        run_id = self.store.current()
        state = self.store.read_run(run_id) if run_id else None
        if run_id and state is not None and state.finished is not None:
            self.store.clear(run_id)
            return None
        return state

    def _last_outcome(self) -> str:
        last = self.store.last()
        state = self.store.read_run(last) if last else None
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
        """Best effort, for evidence: no router error may stop a rollback before its write."""
        try:
            return self.ctx.router.weights()
        except _ROUTER_FAULTS:
            return None


def _why(exc: BaseException) -> str:
    if isinstance(exc, Interrupted):
        return f"signal {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "KeyboardInterrupt"
    return f"{type(exc).__name__}: {exc}"


def check_plan_gates(plan: Plan) -> None:
    """Every gate the plan names exists and is valid (ConfigError naming the file otherwise)."""
    for stage in plan.stages:
        load_gate(stage.gate)


def check_plan(plan: Plan, environment: Environment, *, router_supports_partial: bool) -> None:
    """Everything that can be known before the first action, without reaching the router:
    every gate exists, and every step is one this router can take (a partial shift needs a
    router that splits traffic, unless ``router.skip_partial_shift`` skips it). The plan's
    own shape (deploy first, promote exactly once) was checked when it was loaded."""
    check_plan_gates(plan)
    partial = [i for i, s in enumerate(plan.stages) if s.action == "shift"]
    router = environment.router
    skip = router.kind == "service-selector" and router.skip_partial_shift
    if partial and not router_supports_partial and not skip:
        names = ", ".join(plan.stages[i].name for i in partial)
        raise ConfigError(
            str(plan_file(plan.name)),
            f"stages.{partial[0]}.action",
            f"router kind {router.kind} ({environment.source}: router.kind) cannot split "
            f"traffic, and plan {plan.name} shifts part of it in {names}: set "
            "router.skip_partial_shift to skip those steps, or use a weighted router",
        )
