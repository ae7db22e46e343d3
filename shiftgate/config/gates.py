"""Gate definitions: which checks form a gate (``gates/<name>.yaml``).

A gate is a named suite of checks that must all pass before a step. Its file lists the checks
by path — a file or folder under the project root, or a pytest node id ``file::test_name`` —
and may mark a check ``optional``: only then may a skip of that check leave the gate passing
(docs/architecture.md rule 1, enforced by ``shiftgate.pytest_plugin``).

Everything wrong with a gate file is a ``ConfigError`` naming the file and the dotted key, so
the CLI can end with exit code 2 before any check runs. This module does not import pytest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shiftgate.config.files import first_error, read_mapping
from shiftgate.config.gate_paths import (
    GATE_NAME_PATTERN,
    available_gates,
    gate_file,
    gate_file_exists,
    gates_dir,
)
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError

if TYPE_CHECKING:
    from shiftgate.config.models import Environment

__all__ = [
    "GATE_NAME_PATTERN", "GateCheck", "GateDefinition", "GateMatch", "available_gates",
    "entries_covering", "gate_file", "gate_file_exists", "gates_dir", "load_gate",
    "match_item", "required_in", "time_limit",
]

TIME_LIMIT_MARGIN_S = 300.0
"""Added to the environment's analysis window and rollout time when a gate file sets no limit."""
TIME_LIMIT_MAX_S = 24 * 3600.0


class GateCheck(BaseModel):
    """One entry of a gate: a check file, folder or node id, relative to the project root."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1, description="checks/<area>/test_x.py, or that ::test_name.")
    optional: bool = Field(
        False, description="A skip of this check does not fail the gate; off: gates fail closed."
    )

    @property
    def file_part(self) -> str:
        """The path without a ``::`` node suffix: what must exist on disk."""
        return self.path.split("::", 1)[0].rstrip("/")


class GateDefinition(BaseModel):
    """A gate file, validated."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Must equal the file's stem, so logs and files agree.")
    purpose: str = Field(min_length=1, description="Which runbook step this gate guards.")
    checks: list[GateCheck] = Field(
        description="The checks; an empty list is valid here but fails when the gate runs."
    )
    timeout_s: float | None = Field(
        None, gt=0, le=TIME_LIMIT_MAX_S,
        description="Past this the gate's processes are killed and the gate fails; default: "
        "the environment's analysis window + rollout timeout + a margin (time_limit).",
    )

    @field_validator("timeout_s")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        return value


@dataclass(frozen=True)
class GateMatch:
    """How a collected test relates to a gate: selected or not, and optional or not."""

    selected: bool
    optional: bool = False


def load_gate(name: str) -> GateDefinition:
    """Read and validate ``gates/<name>.yaml``; every listed path must exist."""
    if not GATE_NAME_PATTERN.match(name):
        # A name is never a path: `--gate ../x` must not read files outside gates/.
        raise ConfigError(
            f"gate name {name!r}", None, f"expected a name like 'preflight' ({_known()})"
        )
    path = gate_file(name)
    source = str(path)
    data = read_mapping(path, missing=f"no such gate file ({_known()})",
                        shape="a mapping: name, purpose, checks")
    try:
        gate = GateDefinition.model_validate(data)
    except ValidationError as exc:
        raise first_error(exc, source) from None
    if gate.name != name:
        raise ConfigError(source, "name", f"is {gate.name!r} but the file is {name}.yaml")
    _check_paths(gate, source)
    return gate


def match_item(gate: GateDefinition, item_id: str) -> GateMatch:
    """Whether a test (``relative/file.py::name[param]``) belongs to the gate.

    An entry selects its file, everything under its folder, or its node and that node's
    children and parametrizations. When several entries select a test, the most specific
    one (the longest path) says whether it is optional.
    """
    best: GateCheck | None = None
    for check in gate.checks:
        if _covers(check.path, item_id) and (best is None or len(check.path) > len(best.path)):
            best = check
    if best is None:
        return GateMatch(selected=False)
    return GateMatch(selected=True, optional=best.optional)


def entries_covering(gate: GateDefinition, item_id: str) -> list[int]:
    """Indexes of every entry of the gate that selects the test (not only the best one)."""
    return [index for index, check in enumerate(gate.checks) if _covers(check.path, item_id)]


def time_limit(gate: GateDefinition, environment: Environment) -> float:
    """How long the gate may run: its file's ``timeout_s``, else long enough for one analysis
    window and one rollout of the environment, plus :data:`TIME_LIMIT_MARGIN_S`."""
    if gate.timeout_s is not None:
        return gate.timeout_s
    return environment.analysis.window_s + environment.rollout.timeout_s + TIME_LIMIT_MARGIN_S


def required_in(gate: GateDefinition, file_id: str) -> bool:
    """Whether a test file holds at least one non-optional check of the gate."""
    return any(
        not check.optional and (_covers(check.path, file_id) or check.file_part == file_id)
        for check in gate.checks
    )


def _covers(entry: str, item_id: str) -> bool:
    entry = entry.rstrip("/")
    return item_id == entry or item_id.startswith((entry + "::", entry + "[", entry + "/"))


def _check_paths(gate: GateDefinition, source: str) -> None:
    root = project_root()
    seen: dict[str, int] = {}
    for index, check in enumerate(gate.checks):
        key = f"checks.{index}.path"
        if Path(check.file_part).is_absolute() or ".." in Path(check.file_part).parts:
            raise ConfigError(source, key, f"{check.path!r} must be relative to the project root")
        if not (root / check.file_part).exists():
            raise ConfigError(source, key, f"no such check file: {check.file_part} (under {root})")
        if check.path in seen:
            raise ConfigError(source, key, f"listed twice (also checks.{seen[check.path]}.path)")
        seen[check.path] = index


def _known() -> str:
    return "known gates: " + (", ".join(available_gates()) or "none")
