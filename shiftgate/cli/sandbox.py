"""``shiftgate sandbox …``: the sandbox's commands on the command line.

The sandbox's front door: the one module outside ``shiftgate.sandbox`` that imports it, and
only inside the handlers, so building the parser for any other command never loads it.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from shiftgate.errors import ExitCode
from shiftgate.redact import redact

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _say(message: str) -> None:
    err.print(f"[dim]sandbox:[/] {message}")


def add_sandbox_commands(commands: Any) -> None:
    sandbox = commands.add_parser(
        "sandbox", help="the embedded sandbox (PostgreSQL, service, router, Prometheus)"
    )
    sub = sandbox.add_subparsers(title="sandbox commands", required=True)
    sub.add_parser("up", help="start everything (idempotent, reuses warm data)").set_defaults(handler=_up)
    sub.add_parser("down", help="stop everything the sandbox started").set_defaults(handler=_down)
    status = sub.add_parser("status", help="what runs where")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(handler=_status)
    sub.add_parser("reset", help="back to the incident state of v2.5.0").set_defaults(handler=_reset)
    deploy = sub.add_parser("deploy", help="replace one color's replicas with a version")
    deploy.add_argument("color", choices=["blue", "green"])
    deploy.add_argument("version")
    deploy.add_argument(
        "--fail-ratio", type=float, help="override the version's share of failed requests"
    )
    deploy.add_argument(
        "--fail-after", type=float, help="override the seconds before failures begin"
    )
    deploy.set_defaults(handler=_deploy)
    sub.add_parser("reload", help="Prometheus re-reads its rule files").set_defaults(handler=_reload)
    traffic = sub.add_parser("traffic", help="start or stop the users' background load")
    traffic.add_argument("switch", choices=["on", "off"])
    traffic.set_defaults(handler=_traffic)
    remediate = sub.add_parser(
        "remediate", help="apply the runbook's database fixes (both unless one is named)"
    )
    remediate.add_argument("--index", action="store_true", help="CREATE INDEX CONCURRENTLY on user_segment")
    remediate.add_argument(
        "--connections", action="store_true", help="raise max_connections to what the capacity check needs"
    )
    remediate.add_argument(
        "--candidate", help="size connections for this release (default: the environment's)"
    )
    remediate.set_defaults(handler=_remediate)


def _up(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    began = time.monotonic()
    manager.up(say=_say)
    _say(f"up in {time.monotonic() - began:.1f}s")
    _print_status(manager.status())
    return ExitCode.OK


def _down(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    manager.down(say=_say)
    return ExitCode.OK


def _reset(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    manager.reset(say=_say)
    _print_status(manager.status())
    return ExitCode.OK


def _deploy(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    faults = {
        key: value
        for key, value in (("fail_ratio", args.fail_ratio), ("fail_after_s", args.fail_after))
        if value is not None
    }
    manager.deploy(args.color, args.version, say=_say, faults=faults)
    _print_status(manager.status())
    return ExitCode.OK


def _remediate(args: argparse.Namespace) -> int:
    from shiftgate.sandbox.remediate import remediate

    both = not (args.index or args.connections)
    done = remediate(
        index=args.index or both, connections=args.connections or both, say=_say,
        candidate=args.candidate,
    )
    _say("remediated: " + ", ".join(f"{key} {value}" for key, value in done.items()))
    return ExitCode.OK


def _traffic(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    manager.set_traffic(args.switch == "on", say=_say)
    return ExitCode.OK


def _reload(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    if not manager.reload():
        err.print("Prometheus is not running: run `shiftgate sandbox up`")
        return ExitCode.FAILED
    _say("Prometheus reloads its rules")
    return ExitCode.OK


def _status(args: argparse.Namespace) -> int:
    from shiftgate.sandbox import manager

    status = manager.status()
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        _print_status(status)
    return ExitCode.OK if status.get("running") else ExitCode.FAILED


def _print_status(status: dict[str, Any]) -> None:
    if not status.get("initialised"):
        out.print("sandbox not initialised: run `shiftgate sandbox up`")
        return
    table = Table("color", "version", "weight", "url", "replicas", title="sandbox")
    for color, info in status["colors"].items():
        replicas = ", ".join(
            f"{name} {'up' if r['running'] else 'DOWN'}" for name, r in info["replicas"].items()
        )
        live = " (live)" if status["live"] == color else ""
        table.add_row(color + live, info["version"], str(status["weights"][color]), info["url"], replicas)
    out.print(table)
    out.print(f"router      {status['router_url']}")
    out.print(f"prometheus  {status['prometheus_url']}")
    out.print(f"database    {redact(status['database_dsn'])}")
    traffic = status["traffic"]
    if traffic["enabled"]:
        measured = f", measured {traffic['rps']} rps" if traffic["rps"] is not None else ""
        out.print(f"users       {traffic['target_rps']:g} rps through the router{measured}")
    else:
        out.print("users       off (`shiftgate sandbox traffic on`)")
    down = [name for name, ok in status["components"].items() if not ok]
    out.print("all components running" if not down else f"[red]not running:[/] {', '.join(down)}")
