"""SLOs of the candidate color from Prometheus, over one analysis window.

Each measurement reads the per-color recording rules (``monitoring.*_query``) for the
candidate color: error ratio, p95 latency, pool utilization and request rate, plus the
stable color's p95 for the comparison (``shiftgate.analysis.compare``). A color is selected
with a label matcher on the rule's series; versions of one color are aggregated (max for
ratios and latency: the worst version decides; sum for the rate). No requests on the
candidate is "no data", never a pass: an idle candidate proves nothing.

The values come in as facts (``shiftgate.probes.prometheus.instant_values`` reads them; the
check passes ``measurement(target, values)`` to the window as its ``measure``). The verdicts
read one ``SloWindow`` each, so a module runs the window once and every check of the module
judges the same measurements.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shiftgate.config.models import Color, Environment, other_color
from shiftgate.errors import ConfigError
from shiftgate.verdict import Verdict

from .window import Measurement, Reading, WindowResult

ERROR_RATIO = "error_ratio"
LATENCY = "latency_p95_ms"
POOL = "pool_utilization"
REQUESTS = "request_rate"
STABLE_LATENCY = "stable_latency_p95_ms"

_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$", re.DOTALL)


def color_selector(query: str, label: str, color: str, key: str) -> str:
    """``metric{a="b"}`` → ``metric{color="blue", a="b"}``; anything but a selector is a
    configuration error (naming ``key``): a label cannot be spliced into an expression."""
    match = _SELECTOR.match(query)
    if match is None:
        raise ConfigError(
            "environment", key, f"{query!r} is not a metric selector; use a per-color recording rule"
        )
    name, matchers = match.group(1), (match.group(2) or "").strip()
    inner = f'{label}="{color}"' + (f", {matchers}" if matchers else "")
    return f"{name}{{{inner}}}"


@dataclass(frozen=True)
class SloTarget:
    """Who is measured, with what PromQL, against which thresholds."""

    candidate_color: Color
    stable_color: Color
    candidate_version: str
    stable_version: str
    queries: dict[str, str]
    thresholds: dict[str, float]
    latency_unit_s: float
    source: str

    def colors(self) -> str:
        return (
            f"candidate {self.candidate_version} on {self.candidate_color}, "
            f"stable {self.stable_version} on {self.stable_color}"
        )


def slo_target(environment: Environment, candidate: Color, *, compare: bool) -> SloTarget:
    monitoring, stable = environment.monitoring, other_color(candidate)
    label = monitoring.color_label

    def on(field: str, color: Color, aggregate: str) -> str:
        selector = color_selector(getattr(monitoring, field), label, color, f"monitoring.{field}")
        return f"{aggregate}({selector})"

    queries = {
        ERROR_RATIO: on("error_ratio_query", candidate, "max"),
        LATENCY: on("latency_p95_query", candidate, "max"),
        POOL: on("pool_utilization_query", candidate, "max"),
        REQUESTS: on("requests_rate_query", candidate, "sum"),
    }
    if compare:
        queries[STABLE_LATENCY] = on("latency_p95_query", stable, "max")
    return SloTarget(
        candidate_color=candidate,
        stable_color=stable,
        candidate_version=environment.versions.candidate,
        stable_version=environment.versions.stable,
        queries=queries,
        thresholds={
            ERROR_RATIO: environment.slo.error_ratio_max,
            LATENCY: environment.slo.latency_p95_max_ms,
            POOL: environment.analysis.pool_utilization_max,
        },
        latency_unit_s=monitoring.latency_unit_s,
        source=f"prometheus {environment.prometheus.url.rstrip('/')}",
    )


def measurement(target: SloTarget, values: Mapping[str, float | None]) -> Measurement:
    """One measurement: the instant value of each query of ``target`` (None: no sample),
    judged against its threshold. Latency comes in the metric's unit, is judged in ms."""
    t = target.thresholds

    def to_ms(value: float | None) -> float | None:
        return None if value is None else value * target.latency_unit_s * 1000

    rate = values.get(REQUESTS)
    idle = rate is None or not rate > 0  # not `<= 0`: NaN is no requests too
    readings = [
        Reading(ERROR_RATIO, values.get(ERROR_RATIO), t[ERROR_RATIO]),
        Reading(LATENCY, to_ms(values.get(LATENCY)), t[LATENCY], unit=" ms"),
        Reading(POOL, values.get(POOL), t[POOL]),
        Reading(
            REQUESTS, None if idle else rate, unit="/s",
            missing=f"no requests on {target.candidate_color} (rate {rate})",
        ),
    ]
    if STABLE_LATENCY in target.queries:
        readings.append(Reading(STABLE_LATENCY, to_ms(values.get(STABLE_LATENCY)), unit=" ms", judged=False))
    return Measurement(readings)


@dataclass
class SloWindow:
    target: SloTarget
    result: WindowResult


def log_context(target: SloTarget) -> dict[str, str]:
    """What every line of the run's analysis log repeats: who was measured."""
    return {
        "candidate_color": target.candidate_color,
        "stable_color": target.stable_color,
        "candidate_version": target.candidate_version,
        "stable_version": target.stable_version,
    }


# -- verdicts ------------------------------------------------------------------------------
def error_ratio(window: SloWindow) -> Verdict:
    limit = window.target.thresholds[ERROR_RATIO]
    return _metric(
        window, f"error rate of {window.target.candidate_color} during the window",
        (ERROR_RATIO, REQUESTS), f"≤ {limit:.0%} (runbook rollback criterion)", "{:.2%}",
    )


def latency_p95(window: SloWindow) -> Verdict:
    limit = window.target.thresholds[LATENCY]
    return _metric(
        window, f"p95 latency of {window.target.candidate_color} during the window",
        (LATENCY, REQUESTS), f"p95 ≤ {limit:g} ms (runbook rollback criterion)", "{:.0f} ms",
    )


def pool_utilization(window: SloWindow) -> Verdict:
    limit = window.target.thresholds[POOL]
    return _metric(
        window, f"connection pool utilization of {window.target.candidate_color} during the window",
        (POOL,), f"≤ {limit:.0%} of the pool's connections in use", "{:.0%}",
    )


def _metric(
    window: SloWindow, check: str, metrics: tuple[str, ...], threshold: str, fmt: str
) -> Verdict:
    """Judge ``metrics[0]`` over the window; failures of any of ``metrics`` count against it
    (the request rate: without requests the error ratio and latency were not measured)."""
    result, config = window.result, window.result.config
    metric = metrics[0]
    counted = result.counted
    failures = [
        (o, why) for o in counted
        if (why := next((w for m in metrics if (w := o.metric_failure(m))), None))
    ]
    values = [v for o in counted if (v := o.value(metric)) is not None and v == v]  # v == v: not NaN
    worst = max(values) if values else None
    verdict = Verdict(check, False, "", threshold=threshold, source=window.target.source)
    verdict.measured = (
        f"worst {fmt.format(worst)} over {len(values)} samples" if worst is not None else "no samples"
    ) + f", {len(failures)} failed of {len(counted)} measurements in {result.elapsed_s:.1f} s"
    if len(failures) >= config.failure_limit:
        first = "; ".join(f"{o.elapsed_s:.0f} s: {why}" for o, why in failures[:3])
        verdict.reason = (
            f"{metric} failed in {len(failures)} measurements, the failure limit is "
            f"{config.failure_limit}: {first}"
        )
        if all(o.kinds.get(m) != "breach" for o, _ in failures for m in metrics):
            verdict.fault = "infrastructure"  # nothing breached: no data or no source
    elif result.stopped_early:
        others = sorted({name for o in result.failed for name in o.failures})
        verdict.reason = (
            f"not judged over the whole window: {result.stop_reason} "
            f"(failed: {', '.join(others)}); {metric} failed {len(failures)} times"
        )
    elif len(values) < config.min_samples:
        verdict.reason = (
            f"too few samples of {metric}: {len(values)}, need {config.min_samples} "
            f"({result.stop_reason}) — does the candidate get traffic?"
        )
        verdict.fault = "infrastructure"
    else:
        verdict.passed = True
        verdict.reason = (
            f"{metric} held {threshold.split(' (')[0]} in {len(counted) - len(failures)} of "
            f"{len(counted)} measurements (worst {fmt.format(worst)})"
        )
    _evidence(verdict, window, metrics)
    return verdict


def _evidence(verdict: Verdict, window: SloWindow, metrics: tuple[str, ...]) -> None:
    result, target = window.result, window.target
    verdict.details.extend([
        target.colors(),
        result.describe(),
        f"window: {result.stop_reason}",
        *(f"PromQL {m}: {target.queries[m]}" for m in metrics),
    ])
    verdict.attach_json("measurements", [o.to_json() for o in result.observations])
    verdict.attach_json("analysis", {
        "queries": target.queries,
        "thresholds": target.thresholds,
        "window": result.config.model_dump(),
        "started_at": result.started_at,
        "ended_at": result.ended_at,
        "stopped_early": result.stopped_early,
        "stop_reason": result.stop_reason,
        "candidate": {"color": target.candidate_color, "version": target.candidate_version},
        "stable": {"color": target.stable_color, "version": target.stable_version},
    })
