"""Gate definitions: which checks form a gate (``gates/<name>.yaml``).

A gate is a named suite of checks that must all pass before a step. Its file lists the checks
by path — a file or folder under the project root, or a pytest node id ``file::test_name`` —
and may mark a check ``optional``: only then may a skip of that check leave the gate passing
(docs/architecture.md rule 1, enforced by ``shiftgate.pytest_plugin``).

Everything wrong with a gate file is a ``ConfigError`` naming the file and the dotted key, so
the CLI can end with exit code 2 before any check runs. This module does not import pytest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shiftgate.config.files import first_error, read_mapping
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError

GATE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


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


@dataclass(frozen=True)
class GateMatch:
    """How a collected test relates to a gate: selected or not, and optional or not."""

    selected: bool
    optional: bool = False


def gates_dir() -> Path:
    return project_root() / "gates"


def gate_file(name: str) -> Path:
    return gates_dir() / f"{name}.yaml"


def available_gates() -> list[str]:
    """Names of the gate files under ``gates/``, sorted."""
    return sorted(p.stem for p in gates_dir().glob("*.yaml"))


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
