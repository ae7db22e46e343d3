"""``shiftgate config``: validate an environment file and print it (a table, or ``--json``).

Values are printed redacted (docs/architecture.md rule 6): the loader registered every secret
the file brought in (a password in a URL, a ``?token=``), and those become ``***``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from shiftgate.cli.options import add_candidate, overrides, with_env
from shiftgate.errors import ExitCode
from shiftgate.redact import redact_data


def add_config_command(commands: Any) -> None:
    config = commands.add_parser("config", help="validate an environment file and print it")
    with_env(config)
    add_candidate(config)
    config.add_argument("--json", action="store_true", help="print JSON")
    config.set_defaults(handler=_config)


def _config(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from shiftgate.config.loader import load_environment

    out = Console(highlight=False)
    environment = load_environment(args.env, overrides=overrides(args))
    data: dict[str, Any] = redact_data(environment.model_dump(mode="json", by_alias=True))
    if args.json:
        out.print_json(json.dumps(data))
    else:
        table = Table("section", "value", title=f"environment {environment.name}")
        for key, value in data.items():
            table.add_row(key, json.dumps(value, indent=1)[:2000])
        out.print(table)
    return ExitCode.OK
