"""``shiftgate gate NAME``: run one gate suite as a pytest subprocess; extra arguments go to pytest.

Exit code: the gate's, mapped by ``shiftgate.run.gate`` (0 passed, 1 failed or timed out, 2
usage or configuration error, 3 shiftgate broke). Arguments that would run only part of the
gate are refused (exit 2). Engine imports stay inside the handler, and the handler validates
nothing itself: every CI stage starts a gate as its own process, its start-up is paid on each
one, and the gate's pytest validates the gate and the environment first thing (a bad one is
still exit 2 naming file and key, see ``shiftgate.run.gate``).
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from shiftgate.cli.options import add_candidate, overrides, with_env


def add_gate_command(commands: Any) -> None:
    gate = commands.add_parser(
        "gate", help="run one gate suite; extra arguments go to pytest"
    )
    gate.add_argument("name", help="gate name: a file gates/NAME.yaml")
    with_env(gate)
    add_candidate(gate)
    gate.add_argument(
        "--timeout", type=_seconds, default=None, metavar="SECONDS",
        help="kill the gate and fail it after this long (default: the gate file's timeout_s, "
        "else the environment's analysis window + rollout timeout + a margin)",
    )
    gate.set_defaults(handler=_gate, passthrough=True)


def _gate(args: argparse.Namespace) -> int:
    from shiftgate.cli.output import error
    from shiftgate.config.paths import reports_dir
    from shiftgate.run.gate import run_gate

    extra = [*args.extra]
    for override in overrides(args):
        extra += ["--set", override]
    result = run_gate(
        args.name, env=args.env, extra_args=extra, reports_dir=reports_dir(),
        timeout_s=args.timeout,
    )
    if result.message:
        error(result.message)
    return int(result.exit_code)


def _seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value
