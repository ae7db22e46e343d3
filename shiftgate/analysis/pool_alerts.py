"""Verdicts on the connection-pool alerts: loaded and healthy, strict enough, would fire, can fire.

Pure functions over what the probes read: the rules API's groups, the rule files' text, the
series each selector matches now, promtool's runs of the unit tests generated here
(``firing_tests``; ``shiftgate.probes.promtool`` runs them). Each verdict covers every
configured pool, one line per pool, and fails if any pool fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shiftgate.analysis import promtool
from shiftgate.analysis.alert_rules import (
    AlertRule,
    PromqlError,
    parse_expr,
    resolve_names,
    rules_from_api,
    rules_from_files,
)
from shiftgate.config.models import COLORS, MonitoringConfig, PoolAlertSpec
from shiftgate.probes.prometheus_facts import PromtoolRun, RuleFile
from shiftgate.verdict import Verdict


@dataclass(frozen=True)
class Rules:
    """Alerting and recording rules from one source (the rules API or the files on disk)."""

    alerts: list[AlertRule]
    recording: dict[str, str]
    source: str

    @classmethod
    def loaded(cls, groups: Iterable[Mapping[str, Any]], source: str) -> Rules:
        """What Prometheus runs: the groups of its rules API (``PrometheusProbe.rules()``)."""
        alerts, recording = rules_from_api(groups)
        return cls(alerts, recording, source)

    @classmethod
    def on_disk(cls, files: Sequence[RuleFile]) -> Rules:
        """What the team wrote: the rule files as read from disk."""
        alerts, recording = rules_from_files(files)
        return cls(alerts, recording, "rule files " + ", ".join(str(f.path) for f in files))


@dataclass(frozen=True)
class FiringTest:
    """The promtool unit tests that must prove a pool's alert fires; ``problem`` says why
    none could be generated (no alert in the files, an expression no input can match)."""

    pool: PoolAlertSpec
    alert: AlertRule | None = None
    scenarios: list[promtool.Scenario] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    """Test file name -> YAML text, for ``shiftgate.probes.promtool.run_rule_tests``."""
    problem: str = ""


def reads_pool(alert: AlertRule, pool: PoolAlertSpec, recording: dict[str, str]) -> bool:
    """The expression reads the pool's utilization: a ratio metric, or in use and capacity
    (and the reserved slots, where configured), directly or through recording rules."""
    try:
        names = resolve_names(parse_expr(alert.expr), recording)
    except PromqlError:
        return False
    if names & set(pool.utilization):
        return True
    needed = [pool.in_use, pool.capacity, *([pool.reserved] if pool.reserved else [])]
    return all(names & set(group) for group in needed)


def static_problems(alert: AlertRule, threshold_max: float, cfg: MonitoringConfig) -> list[str]:
    """What makes an alert unable to page in time: lax threshold, long `for`, missing labels."""
    try:
        parsed = parse_expr(alert.expr)
    except PromqlError as exc:
        return [str(exc)]
    problems = []
    if parsed.threshold is None:
        problems.append("no `<expr> > <number>` comparison found: cannot tell when it fires")
    elif parsed.threshold > threshold_max:
        problems.append(f"threshold {parsed.threshold:g} is laxer than the maximum {threshold_max:g}")
    if alert.for_s > cfg.alert_for_max_s:
        problems.append(f"for {alert.for_s:g}s is longer than the maximum {cfg.alert_for_max_s:g}s")
    problems += [f"no {label!r} label" for label in cfg.required_labels if not alert.labels.get(label)]
    problems += [
        f"no {name!r} annotation" for name in cfg.required_annotations if not alert.annotations.get(name)
    ]
    return problems


def pool_alert(pool: PoolAlertSpec, rules: Rules, cfg: MonitoringConfig) -> AlertRule | None:
    """The pool's alert: the named one, else the first reading the pool's metrics that meets
    the static criteria, else the first reading them (so its failures are reported)."""
    if pool.alert:
        return next((a for a in rules.alerts if a.name == pool.alert), None)
    candidates = [a for a in rules.alerts if reads_pool(a, pool, rules.recording)]
    good = [a for a in candidates if not static_problems(a, cfg.pool_alert_threshold_max, cfg)]
    return next(iter(good or candidates), None)


def alerts_loaded(loaded: Rules, disk: Rules, cfg: MonitoringConfig) -> Verdict:
    good: list[str] = []
    bad: list[str] = []
    for pool in cfg.pools:
        alert = pool_alert(pool, loaded, cfg)
        if alert is None:
            on_disk = pool_alert(pool, disk, cfg)
            bad.append(
                f"{pool.name}: no loaded alert {_wanted(pool)}"
                + (f"; {on_disk.name} is in {on_disk.file} but Prometheus did not load it"
                   if on_disk else "; none in the rule files either")
            )
        elif alert.health != "ok" or alert.last_error:
            bad.append(f"{pool.name}: {alert.name} health {alert.health}: {alert.last_error or '-'}")
        else:
            good.append(f"{pool.name}: {alert.name} loaded from {alert.file}, health ok")
    return _verdict("pool alerts loaded and healthy", good, bad, loaded.source,
                    "add an alerting rule per pool to the rule files and reload Prometheus")


def alerts_strict(loaded: Rules, cfg: MonitoringConfig) -> Verdict:
    good: list[str] = []
    bad: list[str] = []
    for pool in cfg.pools:
        alert = pool_alert(pool, loaded, cfg)
        if alert is None:
            bad.append(f"{pool.name}: no loaded alert {_wanted(pool)}")
            continue
        problems = static_problems(alert, cfg.pool_alert_threshold_max, cfg)
        if not reads_pool(alert, pool, loaded.recording):
            problems.insert(0, f"expression does not read {_metrics(pool)}")
        status = "; ".join(problems) if problems else "ok"
        line = f"{pool.name}: {alert.name} (for {alert.for_s:g}s): {' '.join(alert.expr.split())}: {status}"
        (bad if problems else good).append(line)
    verdict = _verdict("pool alerts strict enough", good, bad, loaded.source,
                       "alert at or below the maximum utilization, soon enough, with routing labels")
    verdict.threshold = (
        f"threshold <= {cfg.pool_alert_threshold_max:g}, for <= {cfg.alert_for_max_s:g}s, "
        f"labels {cfg.required_labels}, annotations {cfg.required_annotations}"
    )
    return verdict


def firing_tests(disk: Rules, rule_files: Sequence[Path], cfg: MonitoringConfig) -> list[FiringTest]:
    """One generated promtool unit test per pool alert in the files on disk (``rule_files``:
    absolute paths, promtool reads them from a temporary folder)."""
    tests: list[FiringTest] = []
    for pool in cfg.pools:
        alert = pool_alert(pool, disk, cfg)
        if alert is None:
            tests.append(FiringTest(pool, problem=f"{pool.name}: no alert in the rule files {_wanted(pool)}"))
            continue
        try:
            parsed = parse_expr(alert.expr)
            scenarios = promtool.pool_scenarios(
                alert, parsed, pool, cfg.pool_alert_threshold_max, disk.recording, cfg.color_label
            )
        except (PromqlError, ValueError) as exc:
            problem = f"{pool.name}: {alert.name}: cannot generate a test: {exc}"
            tests.append(FiringTest(pool, alert, problem=problem))
            continue
        files = promtool.test_files(alert.name, rule_files, scenarios)
        tests.append(FiringTest(pool, alert, scenarios, files))
    return tests


def alerts_would_fire(tests: Sequence[FiringTest], runs: Mapping[str, PromtoolRun]) -> Verdict:
    """promtool's verdict on each pool's generated tests (``runs``: pool name -> its run)."""
    good: list[str] = []
    bad: list[str] = []
    attachments: list[tuple[str, str]] = []
    for test in tests:
        run = runs.get(test.pool.name)
        if test.problem or test.alert is None or run is None:
            bad.append(test.problem or f"{test.pool.name}: promtool did not run")
            continue
        pool, alert, scenarios = test.pool, test.alert, test.scenarios
        attachments += list(run.files.items())
        attachments.append((f"{alert.name} promtool output", f"$ {' '.join(run.command)}\n{run.output}"))
        if run.passed:
            good.append(f"{pool.name}: {alert.name}: fires when saturated, silent otherwise "
                         f"({', '.join(s.name for s in scenarios)})")
        else:
            wrong = [s for s in scenarios if any(f".{s.name}." in f for f in run.failed)]
            said = [f"{s.name} ({'did not fire' if s.expect_firing else 'fired'})" for s in wrong]
            bad.append(f"{pool.name}: {alert.name}: wrong in {', '.join(said) or run.output[:300]}")
    verdict = _verdict("pool alerts would fire", good, bad, "promtool test rules",
                       "an alert that cannot fire on real saturation never pages anyone")
    for name, body in attachments:
        verdict.attach_text(name, body, "yaml" if name.endswith(".yml") else "text")
    return verdict


def alert_selectors(loaded: Rules, cfg: MonitoringConfig) -> list[str]:
    """Every series selector the pools' loaded alerts read: what ``alerts_can_fire`` needs
    looked up (``shiftgate.probes.prometheus.recent_series``)."""
    selectors: list[str] = []
    for pool in cfg.pools:
        alert = pool_alert(pool, loaded, cfg)
        try:
            parsed = parse_expr(alert.expr) if alert is not None else None
        except PromqlError:
            continue
        if parsed is not None:
            selectors += [s.promql() for s in parsed.selectors]
    return list(dict.fromkeys(selectors))


def alerts_can_fire(
    loaded: Rules, series: Mapping[str, list[dict[str, str]]], cfg: MonitoringConfig
) -> Verdict:
    """Every series the expression selects exists now (per color for per-color pools);
    ``series``: selector -> label sets of the series it matched recently."""
    good: list[str] = []
    bad: list[str] = []
    seen: dict[str, list[dict[str, str]]] = {}
    for pool in cfg.pools:
        alert = pool_alert(pool, loaded, cfg)
        if alert is None:
            bad.append(f"{pool.name}: no loaded alert {_wanted(pool)}")
            continue
        try:
            selectors = parse_expr(alert.expr).selectors
        except PromqlError as exc:
            bad.append(f"{pool.name}: {exc}")
            continue
        for selector in selectors:
            text = selector.promql()
            found = seen[text] = list(series.get(text, []))
            colors = {s.get(cfg.color_label, "") for s in found}
            missing = [c for c in COLORS if c not in colors] if pool.per_color else []
            if not found or missing:
                why = "no series" if not found else f"no series for {', '.join(missing)}"
                bad.append(f"{pool.name}: {alert.name}: {text}: {why}")
            else:
                good.append(f"{pool.name}: {alert.name}: {text}: {len(found)} series")
    verdict = _verdict("pool alerts can fire here", good, bad, loaded.source,
                       "a renamed metric or a label no series has leaves the alert silent")
    verdict.attach_json("series per selector", seen)
    return verdict


def _wanted(pool: PoolAlertSpec) -> str:
    return f"named {pool.alert}" if pool.alert else f"reads {_metrics(pool)}"


def _metrics(pool: PoolAlertSpec) -> str:
    if pool.utilization and not pool.in_use:
        return " or ".join(pool.utilization)
    ratio = "/".join(pool.in_use + pool.capacity + pool.reserved)
    return " or ".join([*pool.utilization, ratio]) if pool.utilization else ratio


def _verdict(check: str, good: list[str], bad: list[str], source: str, fix: str) -> Verdict:
    if not good and not bad:
        return Verdict(check=check, passed=False, reason="no pools configured (monitoring.pools)",
                       source=source, fault="configuration")
    return Verdict(
        check=check,
        passed=not bad,
        reason="; ".join(bad) if bad else f"{len(good)} checked, all good",
        source=source,
        details=[*bad, *good, *([f"fix: {fix}"] if bad else [])],
    )
