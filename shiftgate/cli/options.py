"""Options that several command groups share: ``--env``, ``--set`` and ``--candidate``."""

from __future__ import annotations

import argparse
import os


def with_env(sub: argparse.ArgumentParser) -> None:
    """Add ``--env`` (default ``$SHIFTGATE_ENV``, else ``sandbox``) and ``--set`` to a command."""
    sub.add_argument("--env", default=os.environ.get("SHIFTGATE_ENV", "sandbox"),
                     help="environment name or file")
    sub.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config value (highest precedence), e.g. slo.error_ratio_max=0.02",
    )


def add_candidate(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--candidate", help="candidate version (overrides versions.candidate)")


def overrides(args: argparse.Namespace) -> list[str]:
    """``--set`` values, then ``--candidate`` as ``versions.candidate=…``."""
    values = list(args.overrides)
    if getattr(args, "candidate", None):
        values.append(f"versions.candidate={args.candidate}")
    return values
