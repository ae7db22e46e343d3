"""Plans: the runbook's procedure loads; a plan that cannot be run safely is a ConfigError."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.errors import ConfigError
from shiftgate.run.plan import load_plan


def test_blue_green_is_the_runbooks_procedure() -> None:
    plan = load_plan("blue-green")
    assert [(s.gate, s.action, s.weight) for s in plan.stages] == [
        ("preflight", "deploy", None),
        ("post-deploy", "shift", 50),
        ("shift", "promote", None),
        ("promoted", "none", None),
    ]
    assert [s.moves_traffic for s in plan.stages] == [False, True, True, False]


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ("stages: [{name: a, gate: g, action: shift}]", "stages.0", "needs a weight"),
        ("stages: [{name: a, gate: g, action: promote}]", None, "first stage must deploy"),
        ("stages: [{name: a, gate: g, action: deploy}, {name: a, gate: g, action: none}]", None, "repeat"),
        ("stages: [{name: a, gate: g, action: deploy, weight: 50}]", "stages.0", "only a shift stage"),
        ("stages: [{name: a, gate: g, action: deploy, retries: 3}]", "stages.0.retries", "unknown key"),
        ("stages: []", "stages", "at least 1"),
    ],
)
def test_bad_plans_name_file_and_key(tmp_path: Path, body: str, key: str | None, problem: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"name: p\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        load_plan(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}" if key else str(path)), message
    assert problem in message


def test_missing_plan_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such plan"):
        load_plan(str(tmp_path / "nope.yaml"))
    path = tmp_path / "p.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match=r"line \d+, column \d+: invalid YAML"):
        load_plan(str(path))
