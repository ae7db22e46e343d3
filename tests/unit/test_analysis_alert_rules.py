"""What an alert's PromQL reads and its threshold, over many expression shapes."""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.analysis.alert_rules import (
    Matcher,
    PromqlError,
    Selector,
    parse_duration,
    parse_expr,
    resolve_names,
    rules_from_api,
    rules_from_files,
)
from shiftgate.probes.prometheus_facts import RuleFile


@pytest.mark.parametrize(
    ("expr", "threshold"),
    [
        ("x > 0.8", 0.8),
        ("x >= 0.75", 0.75),
        ("0.8 < x", 0.8),
        ("(x) > (0.9)", 0.9),
        ("max by (color) (a / b) > 0.8", 0.8),
        ("a > 0.8 * b", 0.8),
        ("a > b * 0.7", 0.7),
        ("x > 0.8 and on() vector(0) > 1", 0.8),  # constants compared: not the metric's bound
        ("x > 0.8 and y > 0.95", 0.95),  # both must hold: the laxer decides
        ("x > 0.8 or y > 0.5", 0.5),  # either fires: the lower decides
        ("x > 0.8 unless z > 0", 0.8),
        ("x > bool 0.8", None),
        ("x < 0.2", None),
        ("x", None),
        ("x > y", None),
        ("rate(x[5m]) > 2", 2.0),
    ],
)
def test_threshold(expr: str, threshold: float | None) -> None:
    assert parse_expr(expr).threshold == threshold


def test_selectors_matchers_and_ranges() -> None:
    parsed = parse_expr('sum(rate(x{b="1", a=~"5.."}[30s])) / sum(y) > 0.1 and max_over_time(z[10m:1m]) > 0')
    assert parsed.selectors == (
        Selector("x", (Matcher("a", "=~", "5.."), Matcher("b", "=", "1"))),
        Selector("y"),
        Selector("z"),
    )
    assert parsed.ranges_s == (30.0, 600.0)
    assert parsed.selectors[0].promql() == 'x{a=~"5..",b="1"}'
    assert parsed.names == {"x", "y", "z"}


@pytest.mark.parametrize(
    ("matcher", "value", "ok"),
    [
        (Matcher("a", "=", "x"), "x", True),
        (Matcher("a", "=", "x"), "y", False),
        (Matcher("a", "!=", "x"), "", True),
        (Matcher("a", "=~", "5.."), "503", True),
        (Matcher("a", "=~", "5.."), "200", False),
        (Matcher("a", "!~", "idle"), "active", True),
        (Matcher("a", "!~", "idle"), "idle", False),
    ],
)
def test_matcher(matcher: Matcher, value: str, ok: bool) -> None:
    assert matcher.matches(value) is ok


def test_unparsable_expression_raises() -> None:
    with pytest.raises(PromqlError):
        parse_expr("x >")


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 0), ("", 0), (30, 30), (0.5, 0.5), ("30s", 30), ("1h", 3600), ("1m30s", 90)]
)
def test_parse_duration(value: str | float | None, seconds: float) -> None:
    assert parse_duration(value) == seconds


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(ValueError, match="not a Prometheus duration"):
        parse_duration("soon")


def test_resolve_names_through_recording_rules() -> None:
    recording = {"color:ratio": "sum(a) / sum(b)", "top": "max(color:ratio)"}
    assert resolve_names(parse_expr("top > 0.8"), recording) == {"top", "color:ratio", "a", "b"}


def test_rules_from_api_and_files_agree(tmp_path: Path) -> None:
    text = (
        "groups:\n- name: g\n  rules:\n"
        "  - record: r\n    expr: sum(a)\n"
        "  - alert: A\n    expr: r > 0.8\n    for: 2m\n    labels: {severity: page}\n"
        "    annotations: {runbook_url: x}\n"
    )
    alerts, recording = rules_from_files([RuleFile(tmp_path / "r.yml", text)])
    assert recording == {"r": "sum(a)"}
    assert (alerts[0].name, alerts[0].for_s, alerts[0].labels) == ("A", 120.0, {"severity": "page"})
    assert alerts[0].file == str(tmp_path / "r.yml")
    api = [{"name": "g", "file": "f", "rules": [
        {"type": "alerting", "name": "A", "query": "r > 0.8", "duration": 120, "labels": {"severity": "page"},
         "annotations": {}, "health": "ok", "lastError": ""},
        {"type": "recording", "name": "r", "query": "sum(a)"},
    ]}]
    loaded, rec = rules_from_api(api)
    assert (loaded[0].for_s, loaded[0].health, loaded[0].file, rec) == (120.0, "ok", "f", {"r": "sum(a)"})
