"""Verdicts on deployment monitoring: per-color SLO series have data for the live color, both
colors are scraped, the SLO alerts are no laxer than the runbook's rollback criteria, and the
rule files pass ``promtool check rules``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from shiftgate.analysis.alert_rules import AlertRule, PromqlError, parse_expr, resolve_names
from shiftgate.analysis.pool_alerts import Rules, static_problems
from shiftgate.config.models import COLORS, MonitoringConfig, SloConfig
from shiftgate.probes.prometheus_facts import PromtoolRun, RuleFile, Sample
from shiftgate.verdict import Verdict


def live_colors(requests: Sequence[Sample], color_label: str) -> list[str]:
    """Colors receiving traffic now: a requests rate above zero."""
    return sorted({s.labels.get(color_label, "") for s in requests if s.value > 0} - {""})


def slo_series(
    requests: Sequence[Sample], series: Mapping[str, Sequence[Sample]], cfg: MonitoringConfig, source: str
) -> Verdict:
    """Each SLO query returns a number (not NaN) for every color that receives traffic."""
    live = live_colors(requests, cfg.color_label)
    check = "per-color SLO series have data"
    if not live:
        return Verdict(
            check=check, passed=False, source=source, measured="no color with requests > 0",
            reason=f"{cfg.requests_rate_query} shows no traffic on any color: the error ratio and "
            "latency cannot be shown to work (fail closed); send traffic or fix the query",
        )
    bad: list[str] = []
    good: list[str] = []
    for query, samples in series.items():
        by_color = {s.labels.get(cfg.color_label, ""): s.value for s in samples}
        for color in live:
            value = by_color.get(color)
            if value is None:
                bad.append(f"{query}: no sample for live color {color}")
            elif math.isnan(value):
                bad.append(f"{query}: NaN for live color {color}")
            else:
                good.append(f"{query}{{{cfg.color_label}={color!r}}} = {value:g}")
    verdict = Verdict(
        check=check, passed=not bad, source=source, measured=f"live: {', '.join(live)}",
        reason="; ".join(bad) if bad else f"data for {', '.join(live)}",
        details=[*bad, *good],
    )
    verdict.attach_json("samples", {q: [s.__dict__ for s in v] for q, v in series.items()})
    verdict.attach_json("requests", [s.__dict__ for s in requests])
    return verdict


def targets_up(targets: Sequence[dict[str, object]], color_label: str, source: str) -> Verdict:
    """Both colors have scrape targets and every one of them is up."""
    bad: list[str] = []
    good: list[str] = []
    for color in COLORS:
        mine = [t for t in targets if _labels(t).get(color_label) == color]
        if not mine:
            bad.append(f"{color}: no scrape target with {color_label}={color!r}")
        for t in mine:
            line = f"{color}: {t.get('scrapeUrl')} {t.get('health')}"
            if t.get("health") == "up":
                good.append(line)
            else:
                bad.append(f"{line}: {t.get('lastError') or 'not scraped yet'}")
    verdict = Verdict(
        check="both colors scraped", passed=not bad, source=source,
        reason="; ".join(bad) if bad else f"{len(good)} targets up", details=[*bad, *good],
    )
    verdict.attach_json("targets", list(targets))
    return verdict


def slo_alerts(loaded: Rules, cfg: MonitoringConfig, slo: SloConfig) -> Verdict:
    """Alerts on the error ratio and latency p95, no laxer than the rollback criteria."""
    wanted = {
        "error ratio": (cfg.error_ratio_query, slo.error_ratio_max),
        "latency p95": (cfg.latency_p95_query, slo.latency_p95_max_ms / 1000 / cfg.latency_unit_s),
    }
    bad: list[str] = []
    good: list[str] = []
    for what, (query, limit) in wanted.items():
        candidates = [a for a in loaded.alerts if _reads(a, query, loaded.recording)]
        judged = [(a, static_problems(a, limit, cfg)) for a in candidates]
        best = next((j for j in judged if not j[1]), judged[0] if judged else None)
        if best is None:
            bad.append(f"{what}: no loaded alert reads {query}")
            continue
        alert, problems = best
        if alert.health != "ok" or alert.last_error:
            problems = [*problems, f"health {alert.health}: {alert.last_error or '-'}"]
        line = f"{what}: {alert.name}: {' '.join(alert.expr.split())} (for {alert.for_s:g}s)"
        (bad if problems else good).append(f"{line}: {'; '.join(problems) or 'ok'}")
    return Verdict(
        check="SLO alerts no laxer than the rollback criteria", passed=not bad, source=loaded.source,
        threshold=f"error ratio <= {slo.error_ratio_max:g}, p95 <= {slo.latency_p95_max_ms:g} ms, "
        f"for <= {cfg.alert_for_max_s:g}s",
        reason="; ".join(bad) if bad else "error ratio and latency alerts in place",
        details=[*bad, *good],
    )


def rules_valid(run: PromtoolRun, files: Sequence[RuleFile]) -> Verdict:
    """``promtool check rules`` passed on every rule file; the files are the evidence."""
    if not files:
        return Verdict(
            check="rule files valid", passed=False, fault="configuration",
            reason="no rule files found (prometheus.rule_files)", source="promtool check rules",
        )
    lines = run.output.splitlines()
    failure = lines[-1] if lines else f"promtool exited {run.returncode}"
    verdict = Verdict(
        check="rule files valid", passed=run.passed, source="promtool check rules",
        reason=f"{len(files)} files pass" if run.passed else failure, details=lines[-10:],
    )
    verdict.attach_text("promtool check rules", f"$ {' '.join(run.command)}\n{run.output}")
    for file in files:
        verdict.attach_text(file.path.name, file.text, "yaml")
    return verdict


def _reads(alert: AlertRule, query: str, recording: dict[str, str]) -> bool:
    try:
        alert_names = resolve_names(parse_expr(alert.expr), recording)
        query_parsed = parse_expr(query)
    except PromqlError:
        return False
    # A recording rule's name read directly, or every raw metric the query reads.
    raw = resolve_names(query_parsed, recording) - set(recording)
    return bool(query_parsed.names & parse_expr(alert.expr).names) or (bool(raw) and raw <= alert_names)


def _labels(target: dict[str, object]) -> dict[str, str]:
    labels = target.get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
