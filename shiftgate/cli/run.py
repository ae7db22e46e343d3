"""``shiftgate run | stage | status | rollback | resume``: the runner on the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from shiftgate.config.gates import load_gate
from shiftgate.config.loader import load_environment
from shiftgate.config.paths import reports_dir
from shiftgate.errors import ConfigError, ExitCode, ShiftgateError, SourceUnavailable
from shiftgate.platforms.registry import PLATFORMS, platform_for
from shiftgate.probes.router import live_color
from shiftgate.probes.views import load_class, platform_view, router_view
from shiftgate.routers.registry import ROUTERS, router_for
from shiftgate.run.plan import load_plan
from shiftgate.run.runner import Runner, RunnerContext, check_plan
from shiftgate.run.store import RunStore, store_for
from shiftgate.run.view import LiveView, PlainView

out = Console(highlight=False)


def add_runner_commands(commands: Any, with_env: Any) -> None:
    run = commands.add_parser("run", help="release a candidate through every stage of a plan")
    run.add_argument("plan", nargs="?", default="blue-green", help="plans/PLAN.yaml (default blue-green)")
    run.add_argument("--candidate", required=True, help="version to release")
    run.add_argument("--dry-run", action="store_true", help="show what would run; change nothing")
    _common(run, with_env)
    run.set_defaults(handler=_run)

    stage = commands.add_parser("stage", help="run one stage (gate, then action), for CI jobs")
    stage.add_argument("name", help="stage name in the plan (preflight, post-deploy, …)")
    stage.add_argument("--candidate", required=True, help="version to release")
    stage.add_argument("--plan", default="blue-green")
    _common(stage, with_env)
    stage.set_defaults(handler=_stage)

    status = commands.add_parser("status", help="live color, weights, versions, the unfinished run")
    status.add_argument("--json", action="store_true")
    with_env(status)
    status.set_defaults(handler=_status)

    for name, handler, text in (
        ("rollback", _rollback, "all traffic to the stable color, then undo the candidate"),
        ("resume", _resume, "continue the unfinished run where it stopped"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--plan", default="blue-green")
        _common(sub, with_env)
        sub.set_defaults(handler=handler)


def _common(parser: argparse.ArgumentParser, with_env: Any) -> None:
    with_env(parser)
    parser.add_argument("--plain", action="store_true", help="plain lines, no live view")


def _runner(
    args: argparse.Namespace, candidate: str | None, view: Any, *, needs_database: bool = True
) -> Runner:
    overrides = [*args.overrides, *([f"versions.candidate={candidate}"] if candidate else [])]
    environment = load_environment(args.env, overrides=overrides, needs_database=needs_database)
    plan = load_plan(getattr(args, "plan", "blue-green"))
    reports = reports_dir()
    live = isinstance(view, LiveView)
    ctx = RunnerContext(
        env_name=args.env, environment=environment, plan=plan, platform=platform_for(environment),
        router=router_for(environment), reports=reports, overrides=args.overrides,
        gate_log=live, on_event=view.on_event,
        say=lambda text: out.print(text, markup=False),
        # Kubernetes: the run's record and lock live in the cluster, shared by every machine.
        store=store_for(environment, reports),
    )
    return Runner(ctx)


def _view(args: argparse.Namespace) -> Any:
    if args.plain or not out.is_terminal:
        return PlainView(out)
    return LiveView(load_plan(getattr(args, "plan", "blue-green")), reports_dir())


def _drive(
    args: argparse.Namespace, candidate: str | None, action: str, *params: str,
    needs_database: bool = True,
) -> int:
    view = _view(args)
    runner = _runner(args, candidate, view, needs_database=needs_database)
    with Live(view, console=out, refresh_per_second=4) if isinstance(view, LiveView) else nullcontext():
        code = int(getattr(runner, action)(*params))
    verdict = "done" if code == 0 else f"exit {code}"
    out.print(f"[bold]{verdict}[/]; journals in {escape(runner.store.where)}")
    return code


def _run(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _dry_run(args)
    return _drive(args, args.candidate, "run", args.candidate)


def _stage(args: argparse.Namespace) -> int:
    view = _view(args)
    runner = _runner(args, args.candidate, view)
    with Live(view, console=out, refresh_per_second=4) if isinstance(view, LiveView) else nullcontext():
        return runner.run(args.candidate, only_stage=args.name)


# Rollback and resume touch the router and the platform; the database only through gates,
# which resume checks for before it runs one.
def _rollback(args: argparse.Namespace) -> int:
    return _drive(args, None, "rollback", needs_database=False)


def _resume(args: argparse.Namespace) -> int:
    return _drive(args, None, "resume", needs_database=False)


def _dry_run(args: argparse.Namespace) -> int:
    """Everything checked before the first action, without reaching the router: the plan's
    shape (when loaded), every gate it names, every step possible on this router kind and
    platform (exit 2 naming file and key otherwise); then the plan as it would run."""
    overrides = [*args.overrides, f"versions.candidate={args.candidate}"]
    environment = load_environment(args.env, overrides=overrides)
    plan = load_plan(args.plan)
    router_class = load_class(ROUTERS, environment.router.kind, "router.kind", environment.source)
    platform_class = load_class(
        PLATFORMS, environment.platform.kind, "platform.kind", environment.source
    )
    for verb in ("deploy", "undo"):
        if not callable(getattr(platform_class, verb, None)):
            raise ConfigError(environment.source, "platform.kind",
                              f"platform kind {environment.platform.kind} cannot {verb}")
    check_plan(plan, environment, router_supports_partial=bool(router_class.supports_partial))
    out.print(f"plan {plan.name}: {args.candidate} → the idle color; every gate and step checked")
    for stage in plan.stages:
        checks = ", ".join(c.path for c in load_gate(stage.gate).checks) or "NO CHECKS (fails closed)"
        action = f"{stage.action} {stage.weight}%" if stage.weight else stage.action
        out.print(escape(f"  {stage.name}: gate {stage.gate} [{checks}] → {action}"))
    out.print("dry run: nothing was changed, the router was not asked")
    return ExitCode.OK


def status_dict(env_name: str, overrides: Sequence[str]) -> dict[str, Any]:
    environment = load_environment(env_name, overrides=overrides, needs_database=False)
    store = store_for(environment, reports_dir())
    result: dict[str, Any] = {"environment": environment.name, "service": environment.service.name}
    try:
        weights = router_view(environment).weights()
        versions = platform_view(environment).versions()
        result.update(
            live=live_color(weights), weights=weights,
            colors={c: {"version": v} for c, v in versions.items()},
        )
    except SourceUnavailable as exc:
        result.update(live=None, weights=None, colors=None, error=str(exc))
    try:
        run = _run_summary(store, store.current())
        # A run whose journal says it finished is not unfinished, even if a crash kept its pointer.
        result["run"] = run if run is None or run["outcome"] is None else None
        result["last_run"] = _run_summary(store, store.last())
    except ShiftgateError as exc:  # the cluster's record unreadable: say so, never "no run"
        result.update(run=None, last_run=None, error=f"{result.get('error') or ''} {exc}".strip())
    return result


def _run_summary(store: RunStore, run_id: str | None) -> dict[str, Any] | None:
    state = store.read_run(run_id) if run_id else None
    if state is None:
        return None
    last = state.events[-1]
    finished = state.finished
    return {
        "id": state.run_id, "candidate": state.candidate, "candidate_color": state.candidate_color,
        "stable": state.started.get("stable"), "completed_stages": state.completed_stages,
        "last_event": last["event"], "last_stage": last.get("stage"),
        "outcome": finished.get("outcome") if finished else None,
        "warm_until": finished.get("warm_until") if finished else None,
        "journal": store.location(state.run_id),
    }


def _status(args: argparse.Namespace) -> int:
    status = status_dict(args.env, args.overrides)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        out.print(
            f"{status['service']} in {status['environment']}: "
            f"live {status['live']}, weights {status['weights']}"
        )
        for color, info in (status["colors"] or {}).items():
            out.print(f"  {color}: {info['version']}")
        if status.get("error"):
            out.print(f"[red]{status['error']}[/]")
        run = status["run"]
        out.print(
            f"unfinished run: {run['id']} ({run['candidate']}), last {run['last_event']}"
            if run else "no unfinished run"
        )
    return ExitCode.FAILED if status.get("error") else ExitCode.OK
