"""Where gate files live and what a gate name may be, without reading one.

Kept apart from ``shiftgate.config.gates`` (which validates a gate file with pydantic) so that
``shiftgate gate NAME`` can refuse an unknown gate before it starts pytest while importing
nothing heavy: the gate's own pytest process validates the file anyway.
"""

from __future__ import annotations

import re
from pathlib import Path

from shiftgate.config.paths import project_root

GATE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def gates_dir() -> Path:
    return project_root() / "gates"


def gate_file(name: str) -> Path:
    return gates_dir() / f"{name}.yaml"


def available_gates() -> list[str]:
    """Names of the gate files under ``gates/``, sorted."""
    return sorted(p.stem for p in gates_dir().glob("*.yaml"))


def gate_file_exists(name: str) -> bool:
    """A valid gate name with a file: cheap, no YAML read (a name is never a path)."""
    return bool(GATE_NAME_PATTERN.match(name)) and gate_file(name).is_file()
