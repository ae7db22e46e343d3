"""promtool runs for real (no services): check rules, test rules, and a missing binary."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from shiftgate.probes import promtool

needs_promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
RULES = "groups:\n- name: g\n  rules:\n  - alert: High\n    expr: m > 1\n"


def document(rules: Path, value: int, expected: int) -> str:
    return yaml.safe_dump({
        "rule_files": [str(rules)],
        "evaluation_interval": "1s",
        "tests": [{
            "interval": "1s",
            "input_series": [{"series": "m", "values": f"{value}x10"}],
            "promql_expr_test": [{
                "expr": '(count(ALERTS{alertname="High"}) > bool 0) or vector(0)',
                "eval_time": "5s", "exp_samples": [{"labels": "{}", "value": expected}],
            }],
        }],
    })


@needs_promtool
def test_run_rule_tests_names_the_files_that_failed(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES, encoding="utf-8")
    files = {"High.fires.test.yml": document(rules, 5, 1), "High.wrong.test.yml": document(rules, 0, 1)}
    run = promtool.run_rule_tests(files)
    assert not run.passed and run.command[1:3] == ["test", "rules"]
    assert run.failed == ["High.wrong.test.yml"]
    assert run.files == files
    good = promtool.run_rule_tests({"High.fires.test.yml": document(rules, 5, 1)})
    assert good.passed and good.failed == []


@needs_promtool
def test_check_rules(tmp_path: Path) -> None:
    (tmp_path / "ok.yml").write_text(RULES, encoding="utf-8")
    (tmp_path / "bad.yml").write_text("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: 'm >'\n")
    assert promtool.check_rules([tmp_path / "ok.yml"]).passed
    bad = promtool.check_rules([tmp_path / "bad.yml"])
    assert not bad.passed and "bad.yml" in bad.output


def test_missing_binary_is_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(promtool, "binary", lambda: None)
    for run in (promtool.run_rule_tests({"a.test.yml": ""}), promtool.check_rules([])):
        assert not run.passed and run.returncode == 127 and "not found" in run.output
