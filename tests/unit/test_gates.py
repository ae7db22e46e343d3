"""Gate files: loading, every kind of bad input, and how tests are matched to a gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.config.gates import (
    GateCheck,
    GateDefinition,
    available_gates,
    load_gate,
    match_item,
    required_in,
)
from shiftgate.errors import ConfigError, ExitCode

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SHIFTGATE_ROOT", str(tmp_path))
    (tmp_path / "gates").mkdir()
    check = tmp_path / "checks" / "database" / "test_max_connections.py"
    check.parent.mkdir(parents=True)
    check.write_text("def test_ok():\n    pass\n")
    return tmp_path


def write_gate(root: Path, name: str, text: str) -> Path:
    path = root / "gates" / f"{name}.yaml"
    path.write_text(text)
    return path


def load_error(name: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_gate(name)
    assert info.value.exit_code is ExitCode.USAGE
    return info.value


def test_valid_gate_loads(root: Path) -> None:
    write_gate(
        root,
        "preflight",
        "name: preflight\n"
        "purpose: pre-deployment checklist\n"
        "checks:\n"
        "  - path: checks/database/test_max_connections.py\n"
        "  - path: checks/database/test_max_connections.py::test_ok\n"
        "    optional: true\n",
    )
    gate = load_gate("preflight")
    assert gate.name == "preflight"
    assert [c.path for c in gate.checks] == [
        "checks/database/test_max_connections.py",
        "checks/database/test_max_connections.py::test_ok",
    ]
    assert [c.optional for c in gate.checks] == [False, True]
    assert available_gates() == ["preflight"]


def test_empty_check_list_is_valid(root: Path) -> None:
    write_gate(root, "shift", "name: shift\npurpose: SLO gate\nchecks: []\n")
    assert load_gate("shift").checks == []


def test_missing_file_names_the_known_gates(root: Path) -> None:
    write_gate(root, "preflight", "name: preflight\npurpose: p\nchecks: []\n")
    write_gate(root, "shift", "name: shift\npurpose: p\nchecks: []\n")
    err = load_error("preflgiht")
    assert err.source == str(root / "gates" / "preflgiht.yaml")
    assert "known gates: preflight, shift" in str(err)


def test_bad_yaml_names_file_and_line(root: Path) -> None:
    path = write_gate(root, "preflight", "name: preflight\npurpose: [unclosed\nchecks: []\n")
    err = load_error("preflight")
    assert err.source == str(path)
    assert err.key is not None and err.key.startswith("line ")
    assert "invalid YAML" in str(err)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("name: preflight\npurpose: p\nchecks: []\ntimeout: 3\n", "timeout", "unknown key"),
        (
            "name: preflight\npurpose: p\nchecks:\n  - path: checks/database\n    optinal: true\n",
            "checks.0.optinal",
            "unknown key",
        ),
        ("name: preflight\nchecks: []\n", "purpose", "missing required key"),
        ("name: preflight\npurpose: p\nchecks: checks/database\n", "checks", "valid list"),
        (
            "name: preflight\npurpose: p\nchecks:\n  - path: checks/database\n    optional: maybe\n",
            "checks.0.optional",
            "valid boolean",
        ),
        ("name: other\npurpose: p\nchecks: []\n", "name", "preflight.yaml"),
    ],
)
def test_bad_content_names_file_and_key(root: Path, text: str, key: str, problem: str) -> None:
    path = write_gate(root, "preflight", text)
    err = load_error("preflight")
    assert (err.source, err.key) == (str(path), key)
    assert problem in err.problem
    assert f"{path}: {key}:" in str(err)


def test_not_a_mapping(root: Path) -> None:
    write_gate(root, "preflight", "- just a list\n")
    assert "must hold a mapping" in str(load_error("preflight"))


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("checks/database/test_missing.py", "no such check file: checks/database/test_missing.py"),
        ("checks/nowhere/test_x.py::test_a", "no such check file: checks/nowhere/test_x.py"),
        ("/etc/passwd", "must be relative"),
        ("../outside/test_x.py", "must be relative"),
    ],
)
def test_check_path_must_exist_under_the_root(root: Path, entry: str, problem: str) -> None:
    path = write_gate(
        root,
        "preflight",
        "name: preflight\npurpose: p\nchecks:\n"
        "  - path: checks/database/test_max_connections.py\n"
        f"  - path: {entry}\n",
    )
    err = load_error("preflight")
    assert (err.source, err.key) == (str(path), "checks.1.path")
    assert problem in err.problem


def test_duplicate_check_path(root: Path) -> None:
    write_gate(
        root,
        "preflight",
        "name: preflight\npurpose: p\nchecks:\n"
        "  - path: checks/database\n  - path: checks/database\n",
    )
    err = load_error("preflight")
    assert err.key == "checks.1.path"
    assert "listed twice (also checks.0.path)" in err.problem


@pytest.mark.parametrize("name", ["../etc/passwd", "Pre Flight", "", "a/b"])
def test_gate_name_is_never_a_path(root: Path, name: str) -> None:
    assert "expected a name like 'preflight'" in str(load_error(name))


def test_repository_gates_load_and_list_no_missing_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIFTGATE_ROOT", str(REPO_ROOT))
    names = available_gates()
    assert {"preflight", "post-deploy", "shift", "promoted"} <= set(names)
    for name in names:
        assert load_gate(name).purpose


GATE = GateDefinition(
    name="demo",
    purpose="p",
    checks=[
        GateCheck(path="checks/database/test_a.py"),
        GateCheck(path="checks/database/test_b.py::test_skip", optional=True),
        GateCheck(path="checks/monitoring"),
        GateCheck(path="checks/load/test_c.py::TestLoad"),
    ],
)


@pytest.mark.parametrize(
    ("item_id", "selected", "optional"),
    [
        ("checks/database/test_a.py::test_x", True, False),
        ("checks/database/test_a.py::test_x[1-2]", True, False),
        ("checks/database/test_b.py::test_skip", True, True),
        ("checks/database/test_b.py::test_skip[p]", True, True),
        ("checks/database/test_b.py::test_skipper", False, False),
        ("checks/database/test_b.py::test_other", False, False),
        ("checks/monitoring/test_rules.py::test_r", True, False),
        ("checks/monitoringx/test_rules.py::test_r", False, False),
        ("checks/load/test_c.py::TestLoad::test_m", True, False),
        ("checks/load/test_c.py::test_free", False, False),
        ("tests/unit/test_gates.py::test_x", False, False),
    ],
)
def test_match_item(item_id: str, selected: bool, optional: bool) -> None:
    match = match_item(GATE, item_id)
    assert (match.selected, match.optional) == (selected, optional)


def test_most_specific_entry_decides_optional() -> None:
    gate = GateDefinition(
        name="demo",
        purpose="p",
        checks=[
            GateCheck(path="checks/database"),
            GateCheck(path="checks/database/test_a.py::test_flaky", optional=True),
        ],
    )
    assert match_item(gate, "checks/database/test_a.py::test_flaky").optional
    assert not match_item(gate, "checks/database/test_a.py::test_solid").optional


def test_required_in() -> None:
    assert required_in(GATE, "checks/database/test_a.py")
    assert not required_in(GATE, "checks/database/test_b.py")  # its only entry is optional
    assert required_in(GATE, "checks/monitoring/test_rules.py")
    assert required_in(GATE, "checks/load/test_c.py")
    assert not required_in(GATE, "checks/slo/test_d.py")
