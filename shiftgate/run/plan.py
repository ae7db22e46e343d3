"""Deployment plans (``plans/*.yaml``): ordered stages, each a gate then an action.

Actions: ``deploy`` (the candidate to the idle color), ``shift`` (``weight`` % of traffic to
the candidate), ``promote`` (all traffic to the candidate), ``none`` (the gate alone).
``rollback`` and ``undo`` are not plan steps: the runner takes them by itself when a gate
fails after traffic moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shiftgate.config.files import first_error, read_mapping
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError

Action = Literal["deploy", "shift", "promote", "none"]
TRAFFIC_ACTIONS: frozenset[str] = frozenset({"shift", "promote"})


class Stage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    gate: str = Field(description="gates/<gate>.yaml must pass before the action.")
    action: Action
    weight: int | None = Field(None, ge=1, le=99, description="Candidate's share (shift).")
    timeout_s: float | None = Field(
        None, gt=0, le=86400,
        description="The gate's time limit; default: the gate file's, else the analysis window "
        "plus the rollout timeout plus a margin. A gate that hangs is killed and fails.",
    )

    @model_validator(mode="after")
    def _weight_for_shift(self) -> Stage:
        if (self.action == "shift") != (self.weight is not None):
            raise ValueError("a shift stage needs a weight (1-99), and only a shift stage has one")
        return self

    @property
    def moves_traffic(self) -> bool:
        return self.action in TRAFFIC_ACTIONS


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    keep_warm_s: float = Field(
        900, ge=0, description="How long the old color stays ready for an instant rollback."
    )
    rollback_retry_s: float = Field(
        30, ge=0, description="How long a rollback retries the router's write before exit 4."
    )
    takeover_wait_s: float = Field(
        30, ge=0, description="How long `rollback` waits for a running runner to stop (SIGTERM) "
        "before it kills it and takes over.",
    )
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> Plan:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        actions = [s.action for s in self.stages]
        if actions.count("deploy") != 1 or actions[0] != "deploy":
            raise ValueError("the first stage must deploy the candidate, and only the first")
        if "promote" in actions and actions.index("promote") < max(
            (i for i, a in enumerate(actions) if a == "shift"), default=-1
        ):
            raise ValueError("no shift may come after promote")
        if actions.count("promote") != 1:
            # A plan that never promotes leaves traffic split when it ends.
            raise ValueError("a plan must promote exactly once: it ends with 100 % on one color")
        return self

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        known = ", ".join(s.name for s in self.stages)
        raise ConfigError(f"plan {self.name}", name, f"no such stage (stages: {known})")

    def index(self, name: str) -> int:
        return self.stages.index(self.stage(name))


def plan_file(name_or_path: str) -> Path:
    if name_or_path.endswith((".yaml", ".yml")) or "/" in name_or_path:
        return Path(name_or_path)
    return project_root() / "plans" / f"{name_or_path}.yaml"


def load_plan(name_or_path: str = "blue-green") -> Plan:
    path = plan_file(name_or_path)
    raw = read_mapping(path, missing="no such plan")
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc, str(path)) from None
