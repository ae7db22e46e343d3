"""The team's rule files on disk: found by their globs, read as text.

Parsing them is analysis (``shiftgate.analysis.alert_rules.rules_from_files``); finding and
reading them is I/O and lives here.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Sequence
from pathlib import Path

from shiftgate.probes.prometheus_facts import RuleFile


def rule_paths(patterns: Sequence[str], root: Path) -> list[Path]:
    """The team's rule files: globs relative to the project root (or absolute), sorted,
    resolved (promtool's unit tests run in a temporary folder and name them absolutely)."""
    found: set[Path] = set()
    for pattern in patterns:
        base = pattern if Path(pattern).is_absolute() else str(root / pattern)
        found |= {Path(p).resolve() for p in glob.glob(base)}  # noqa: PTH207 - absolute or relative globs
    return sorted(found)


def read_rule_files(paths: Iterable[Path]) -> list[RuleFile]:
    return [RuleFile(path, path.read_text(encoding="utf-8")) for path in paths]
