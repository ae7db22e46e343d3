"""``shiftgate gate NAME``: run one gate suite as a pytest subprocess; extra arguments go to pytest.

Exit code: the gate's, mapped by ``shiftgate.run.gate`` (0 passed, 1 failed, 2 usage or
configuration error, 3 shiftgate broke). Engine imports stay inside the handler: every CI stage
starts a gate as its own process, and its start-up is paid on each one.
"""

from __future__ import annotations

import argparse
from typing import Any

from shiftgate.cli.options import add_candidate, overrides, with_env


def add_gate_command(commands: Any) -> None:
    gate = commands.add_parser(
        "gate", help="run one gate suite; extra arguments go to pytest"
    )
    gate.add_argument("name", help="gate name: a file gates/NAME.yaml")
    with_env(gate)
    add_candidate(gate)
    gate.set_defaults(handler=_gate, passthrough=True)


def _gate(args: argparse.Namespace) -> int:
    from shiftgate.config.loader import load_environment
    from shiftgate.config.paths import reports_dir
    from shiftgate.run.gate import run_gate

    # Validate the environment here: a bad file is exit 2 before pytest even starts.
    load_environment(args.env, overrides=overrides(args))
    extra = [*args.extra]
    for override in overrides(args):
        extra += ["--set", override]
    result = run_gate(args.name, env=args.env, extra_args=extra, reports_dir=reports_dir())
    return int(result.exit_code)
