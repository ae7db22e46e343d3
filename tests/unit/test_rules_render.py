"""deploy/prometheusrule.yaml is generated from the one source of the team's rules.

The committed file must equal what ``shiftgate rules render`` writes from
sandbox/prometheus/rules/ and deploy/rules/production.yaml (a hand edit, or a rule changed
only in the sandbox, fails here); the renderer refuses parameters that would make production
read "no data" (a window under four scrapes, a window or `for` it has no value for).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from shiftgate.cli.rules import load_params, render
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError

ROOT = project_root()
PARAMS = ROOT / "deploy" / "rules" / "production.yaml"


def _rendered() -> str:
    return render(load_params(PARAMS), base=ROOT)


def test_committed_prometheusrule_is_what_the_command_renders() -> None:
    committed = (ROOT / "deploy" / "prometheusrule.yaml").read_text()
    assert committed == _rendered(), "deploy/prometheusrule.yaml drifted: run `shiftgate rules render`"


def test_every_sandbox_rule_is_in_production() -> None:
    sandbox = {
        rule.get("record") or rule.get("alert")
        for path in (ROOT / "sandbox" / "prometheus" / "rules").glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    }
    rendered = yaml.safe_load(_rendered())
    alerts = {r["alert"] for g in rendered["spec"]["groups"] for r in g["rules"] if "alert" in r}
    records = {r["record"] for g in rendered["spec"]["groups"] for r in g["rules"] if "record" in r}
    assert alerts == {n for n in sandbox if not n.startswith("color:")}
    assert len(records) == len([n for n in sandbox if n.startswith("color:")])


def test_production_windows_are_long_enough_and_names_match_them() -> None:
    rendered = yaml.safe_load(_rendered())
    for group in rendered["spec"]["groups"]:
        assert group["interval"] == "30s"
        for rule in group["rules"]:
            windows = set(re.findall(r"\[(\w+)\]", rule["expr"]))
            assert windows <= {"1m", "2m"}, rule
            name = rule.get("record", "")
            for window in windows:
                if re.search(r"\d+[smh]$", name):
                    assert name.endswith(window), f"{name} claims a window it does not use"
            assert "10s" not in rule["expr"] and "30s" not in rule["expr"], rule


def test_error_ratio_keeps_the_zero_term() -> None:
    """Without `or … * 0` a candidate with no 5xx has no ratio: the gate reads no data."""
    rendered = yaml.safe_load(_rendered())
    ratios = [
        r for g in rendered["spec"]["groups"] for r in g["rules"] if "ratio_rate" in r.get("record", "")
    ]
    assert ratios and all(" or\n" in r["expr"] and "* 0" in r["expr"] for r in ratios)


def test_runbook_urls_are_absolute() -> None:
    rendered = yaml.safe_load(_rendered())
    urls = [
        r["annotations"]["runbook_url"]
        for g in rendered["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    ]
    assert urls and all(u.startswith("https://") and "/docs/runbook-" in u for u in urls)


def test_production_example_reads_the_rendered_series() -> None:
    env = yaml.safe_load((ROOT / "environments" / "production.example.yaml").read_text())
    groups = yaml.safe_load(_rendered())["spec"]["groups"]
    records = {r["record"] for g in groups for r in g["rules"] if "record" in r}
    for key in ("requests_rate_query", "error_ratio_query", "latency_p95_query"):
        assert env["monitoring"][key] in records, key


def _params(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(PARAMS.read_text()) | changes
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_window_shorter_than_four_scrapes_is_refused(tmp_path: Path) -> None:
    params = load_params(_params(tmp_path, windows={"10s": "30s", "30s": "2m"}))
    with pytest.raises(ConfigError, match=r"windows\.10s.*four scrape intervals"):
        render(params, base=ROOT)


def test_unmapped_window_is_refused(tmp_path: Path) -> None:
    params = load_params(_params(tmp_path, windows={"30s": "2m"}))
    with pytest.raises(ConfigError, match="10s"):
        render(params, base=ROOT)


def test_unmapped_for_is_refused(tmp_path: Path) -> None:
    params = load_params(_params(tmp_path, alert_for={"1m": "2m"}))
    with pytest.raises(ConfigError, match="for: 30s"):
        render(params, base=ROOT)


def test_relative_runbook_base_is_refused(tmp_path: Path) -> None:
    params = load_params(_params(tmp_path, runbook_base_url="docs/"))
    with pytest.raises(ConfigError, match="runbook_base_url"):
        render(params, base=ROOT)


def test_unknown_key_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scrape_intervall"):
        load_params(_params(tmp_path, scrape_intervall="15s"))


def test_check_mode_exits_1_on_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from shiftgate.cli.rules import add_rules_command

    parser = argparse.ArgumentParser()
    add_rules_command(parser.add_subparsers())
    monkeypatch.chdir(ROOT)
    args = parser.parse_args(["rules", "render", "--check"])
    assert args.handler(args) == 0
    stale = tmp_path / "stale.yaml"
    stale.write_text("# hand-edited\n")
    args = parser.parse_args(["rules", "render", "--check", "--output", str(stale)])
    assert args.handler(args) == 1
