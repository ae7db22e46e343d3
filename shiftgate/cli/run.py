"""``shiftgate run | stage | status | rollback | resume``: the runner on the command line."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.markup import escape

from shiftgate.config.gates import load_gate
from shiftgate.config.loader import load_environment
from shiftgate.config.paths import reports_dir
from shiftgate.errors import ExitCode, SourceUnavailable
from shiftgate.platforms.registry import platform_for
from shiftgate.probes.router import live_color
from shiftgate.probes.views import platform_view, router_view
from shiftgate.report.redacted import pipe_redacted
from shiftgate.routers.registry import router_for
from shiftgate.run.gate import run_gate
from shiftgate.run.journal import Pointer, read_run, runs_dir
from shiftgate.run.plan import load_plan
from shiftgate.run.runner import Runner, RunnerContext
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


def _runner(args: argparse.Namespace, candidate: str | None, view: Any) -> Runner:
    overrides = [*args.overrides, *([f"versions.candidate={candidate}"] if candidate else [])]
    environment = load_environment(args.env, overrides=overrides)
    plan = load_plan(getattr(args, "plan", "blue-green"))
    reports = reports_dir()

    def gate_to_log(gate: str, extra: Sequence[str], log: Path) -> int:
        def into_log(command: Sequence[str], cwd: Path) -> int:
            return pipe_redacted(command, cwd, log)  # rule 6: the gate log is written masked

        result = run_gate(gate, env=args.env, extra_args=extra, reports_dir=reports, runner=into_log)
        return int(result.exit_code)

    live = isinstance(view, LiveView)
    ctx = RunnerContext(
        env_name=args.env, environment=environment, plan=plan, platform=platform_for(environment),
        router=router_for(environment), reports=reports, overrides=args.overrides,
        gate_runner=gate_to_log if live else None, on_event=view.on_event,
    )
    return Runner(ctx)


def _view(args: argparse.Namespace) -> Any:
    if args.plain or not out.is_terminal:
        return PlainView(out)
    return LiveView(load_plan(getattr(args, "plan", "blue-green")), reports_dir())


def _drive(args: argparse.Namespace, candidate: str | None, action: str, *params: str) -> int:
    view = _view(args)
    runner = _runner(args, candidate, view)
    with Live(view, console=out, refresh_per_second=4) if isinstance(view, LiveView) else nullcontext():
        code = int(getattr(runner, action)(*params))
    verdict = "done" if code == 0 else f"exit {code}"
    out.print(f"[bold]{verdict}[/]; journals in {runs_dir(reports_dir())}")
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


def _rollback(args: argparse.Namespace) -> int:
    return _drive(args, None, "rollback")


def _resume(args: argparse.Namespace) -> int:
    return _drive(args, None, "resume")


def _dry_run(args: argparse.Namespace) -> int:
    overrides = [*args.overrides, f"versions.candidate={args.candidate}"]
    environment = load_environment(args.env, overrides=overrides)
    plan = load_plan(args.plan)
    # A dry run only reads: it holds views, not the adapters that write.
    weights = router_view(environment).weights()
    live = live_color(weights)
    versions = platform_view(environment).versions()
    idle = "green" if live == "blue" else "blue"
    out.print(f"plan {plan.name}: {args.candidate} → {idle} (idle), stable {versions[live]} on {live}")
    for stage in plan.stages:
        checks = ", ".join(c.path for c in load_gate(stage.gate).checks) or "NO CHECKS (fails closed)"
        action = f"{stage.action} {stage.weight}%" if stage.weight else stage.action
        out.print(escape(f"  {stage.name}: gate {stage.gate} [{checks}] → {action}"))
    out.print("dry run: nothing was changed")
    return ExitCode.OK


def status_dict(env_name: str, overrides: Sequence[str]) -> dict[str, Any]:
    environment = load_environment(env_name, overrides=overrides)
    reports = reports_dir()
    pointer = Pointer(reports, environment.service.name, environment.name)
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
    result["run"] = _run_summary(reports, pointer.current())
    result["last_run"] = _run_summary(reports, pointer.last())
    return result


def _run_summary(reports: Path, run_id: str | None) -> dict[str, Any] | None:
    state = read_run(runs_dir(reports) / run_id) if run_id else None
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
        "journal": str(runs_dir(reports) / state.run_id / "journal.jsonl"),
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
