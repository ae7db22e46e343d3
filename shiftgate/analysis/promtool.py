"""Prove a pool alert would fire, with Prometheus's own rule engine: ``promtool test rules``.

For one alerting rule a rules unit test is generated: synthetic series of the pool's metrics
at a utilization above the allowed maximum, held for longer than the rule's ``for``, must
raise the alert; the same load for less than ``for``, or a normal load, must not. Per-color
pools are also saturated one color at a time: an alert that averages the colors away is
caught. Each scenario is its own test file so promtool's per-file SUCCESS/FAILED names it.

Whether the alert fires is read from ``ALERTS{alertstate="firing"}`` in a
``promql_expr_test``, so the expected alert labels need not be guessed.

Pure: this module generates the test documents; ``shiftgate.probes.promtool`` runs promtool.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shiftgate.analysis.alert_rules import AlertRule, ParsedExpr, Selector, parse_expr, resolve_names
from shiftgate.config.models import COLORS, PoolAlertSpec

CAPACITY = 100.0
RESERVED = 3.0


@dataclass(frozen=True)
class Scenario:
    name: str
    series: dict[str, str]  # series selector text -> promtool values notation
    eval_time_s: int
    interval_s: int
    expect_firing: bool


def pool_scenarios(
    alert: AlertRule, parsed: ParsedExpr, pool: PoolAlertSpec, threshold_max: float,
    recording: dict[str, str], color_label: str,
) -> list[Scenario]:
    """The scenarios a pool alert must get right (raises ValueError if no input can be made)."""
    step = _step(alert.for_s, parsed.ranges_s)
    hold = int(alert.for_s) + 4 * step
    high = (threshold_max + 1.0) / 2  # over the policy's maximum, still a possible utilization
    low = min(threshold_max, parsed.threshold if parsed.threshold is not None else 1.0) / 2
    roles = {s: _role(s, pool, recording) for s in parsed.selectors}
    colors: Sequence[str | None] = COLORS if pool.per_color else (None,)

    def series(level: dict[str | None, float], samples: int) -> dict[str, str]:
        out: dict[str, str] = {}
        for selector, role in roles.items():
            for color in colors:
                for replica in (1, 2) if color else (1,):
                    labels = _labels(selector, color, replica, color_label)
                    if labels is None:
                        continue  # this series cannot match the selector (e.g. color="blue" only)
                    value = _value(role, level[color])
                    out[_series_text(selector.name, labels)] = f"{value!r}x{samples}"
        if not out:
            raise ValueError("no synthetic series can match the expression's selectors")
        return out

    long = math.ceil(hold / step) + 1
    everywhere = dict.fromkeys(colors, high)
    scenarios = [
        Scenario("saturated", series(everywhere, long), hold, step, True),
        Scenario("normal-load", series(dict.fromkeys(colors, low), long), hold, step, False),
    ]
    if pool.per_color:
        for color in COLORS:
            level: dict[str | None, float] = {c: (high if c == color else low) for c in colors}
            scenarios.append(Scenario(f"only-{color}-saturated", series(level, long), hold, step, True))
    if alert.for_s >= 2 * step:
        brief = int(alert.for_s) - step  # saturated, but for less than `for`
        scenarios.append(Scenario("shorter-than-for", series(everywhere, long), brief, step, False))
    return scenarios


def test_document(alert_name: str, rule_files: Sequence[Path], scenario: Scenario) -> dict[str, Any]:
    firing = f'(count(ALERTS{{alertname="{alert_name}",alertstate="firing"}}) > bool 0) or vector(0)'
    return {
        "rule_files": [str(p) for p in rule_files],  # absolute: promtool runs elsewhere
        "evaluation_interval": f"{scenario.interval_s}s",
        "tests": [
            {
                "interval": f"{scenario.interval_s}s",
                "input_series": [{"series": s, "values": v} for s, v in scenario.series.items()],
                "promql_expr_test": [
                    {
                        "expr": firing,
                        "eval_time": f"{scenario.eval_time_s}s",
                        "exp_samples": [{"labels": "{}", "value": 1 if scenario.expect_firing else 0}],
                    }
                ],
            }
        ],
    }


def test_files(alert_name: str, rule_files: Sequence[Path], scenarios: Sequence[Scenario]) -> dict[str, str]:
    """One promtool test file per scenario (file name -> YAML text), so promtool's per-file
    SUCCESS/FAILED names the scenario; ``shiftgate.probes.promtool`` runs them."""
    return {
        f"{alert_name}.{scenario.name}.test.yml": yaml.safe_dump(
            test_document(alert_name, rule_files, scenario), sort_keys=False
        )
        for scenario in scenarios
    }


# -- internals -----------------------------------------------------------------------------
def _step(for_s: float, ranges_s: Sequence[float]) -> int:
    """Sample and evaluation step: fine enough for `for` and every range window, >= 1 s."""
    bounds = [15.0] + [r / 4 for r in ranges_s] + ([for_s / 4] if for_s > 0 else [])
    return max(1, int(min(bounds)))


def _role(selector: Selector, pool: PoolAlertSpec, recording: dict[str, str]) -> str:
    name = selector.name
    for role in ("utilization", "in_use", "capacity", "reserved"):
        if name in getattr(pool, role):
            return role
    if name in recording:
        reads = resolve_names(parse_expr(recording[name]), recording)
        if reads & set(pool.utilization) or (reads & set(pool.in_use) and reads & set(pool.capacity)):
            return "utilization"
        if reads & set(pool.in_use):
            return "in_use"
    return "other"


def _value(role: str, utilization: float) -> float:
    usable = CAPACITY - RESERVED
    return {
        "utilization": utilization,
        "in_use": round(utilization * usable, 6),
        "capacity": CAPACITY,
        "reserved": RESERVED,
    }.get(role, 1.0)


def _labels(selector: Selector, color: str | None, replica: int, color_label: str) -> dict[str, str] | None:
    labels = {"job": "synthetic", "instance": f"{color or 'db'}-{replica}"}
    if color:
        labels |= {color_label: color, "version": "synthetic"}
    for m in selector.matchers:
        if m.op == "=":
            labels[m.label] = m.value
        elif m.op == "=~" and not m.matches(labels.get(m.label, "")):
            labels[m.label] = _regex_example(m.value)
    if color and labels.get(color_label) != color:
        return None
    ok = all(m.matches(labels.get(m.label, "")) for m in selector.matchers)
    return labels if ok else None


def _regex_example(pattern: str) -> str:
    """A value a simple regex matcher accepts: its first alternative, '.' read as a digit."""
    first = pattern.split("|")[0].strip("^$()")
    return first.replace(".*", "").replace(".+", "x").replace(".", "0")


def _series_text(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"
