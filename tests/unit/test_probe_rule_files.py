"""The team's rule files: found by glob from the project root, read as text."""

from __future__ import annotations

from pathlib import Path

from shiftgate.probes.prometheus_facts import RuleFile
from shiftgate.probes.rule_files import read_rule_files, rule_paths


def test_rule_paths_globs(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    for name in ("b.yml", "a.yml", "c.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert rule_paths(["*.yml"], tmp_path) == [tmp_path / "a.yml", tmp_path / "b.yml"]
    assert rule_paths([str(tmp_path / "a.yml")], Path("/nowhere")) == [tmp_path / "a.yml"]


def test_rule_paths_are_absolute_for_promtool(tmp_path: Path) -> None:
    (tmp_path / "real.yml").write_text("", encoding="utf-8")
    (tmp_path / "link.yml").symlink_to(tmp_path / "real.yml")
    found = rule_paths(["link.yml"], tmp_path)
    assert found == [(tmp_path / "real.yml").resolve()] and found[0].is_absolute()


def test_read_rule_files_keeps_path_and_text(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("groups: []\n", encoding="utf-8")
    assert read_rule_files([tmp_path / "a.yml"]) == [RuleFile(tmp_path / "a.yml", "groups: []\n")]
