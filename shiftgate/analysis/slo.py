"""SLOs of the candidate color from Prometheus, over one analysis window.

Both runbook rollback criteria are judged as proportions of the candidate's requests since
the window began (the gate runs right after the shift): errors (``slo.error_status`` among
``slo.requests_counter``) and requests slower than ``slo.latency_p95_max_ms`` (the histogram's
``+Inf`` bucket minus the bucket at the threshold: "p95 ≤ 300 ms" is "at most 5 % slower").
The raw counters of the candidate's color *and version* are read at every look and added up
by ``shiftgate.analysis.counts`` (counter resets handled). ``shiftgate.analysis.sequential``
decides at each look: roll back as soon as the evidence suffices, at the end pass only if
``analysis.bad_multiple`` x the threshold is ruled out, otherwise "inconclusive" (fails).
The error rates are stated in docs/analysis-method.md.

The counts are the candidate's requests after the shift (``run.shifted_at``, set by the
runner; run alone, after the first look). The counts of the last ``analysis.recent_s`` are
judged too, with their own share of α, so a fault that begins mid-window is not diluted.
Requests the router answered with a 5xx itself or could not deliver to the color
(``slo.router_failures``) count as errors. Only series with a sample in the last two scrape
intervals are read: a look without one is "no data". At every look the versions each color
runs are read from the same counters: a color that does not run the version it should
stops the window at once ("blue runs 2.5.0, expected 2.5.1").

Each look also reads the pool utilization (judged per measurement, ``failure_limit``) and
both colors' p95 from the recording rules, the evidence of the Mann-Whitney comparison
(``shiftgate.analysis.compare``). No requests on the candidate is "no data", never a pass.
The verdicts read one ``SloWindow`` each, so a module runs the window once and every check
of the module judges the same measurements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shiftgate.config.models import AnalysisConfig, Color, Environment, other_color
from shiftgate.errors import ConfigError
from shiftgate.probes.prometheus_facts import Sample
from shiftgate.verdict import Attachment, Verdict

from .counts import CandidateCounts, Counts
from .selectors import color_selector
from .sequential import Decision, SequentialRule, decide
from .window import Measurement, Observation, Reading, Stop, WindowResult

ERROR_RATIO = "error_ratio"
LATENCY = "latency_p95_ms"
SLOW_SHARE = "slow_share"
POOL = "pool_utilization"
STABLE_LATENCY = "stable_latency_p95_ms"
REQUESTS_SEEN = "requests_seen"
ERRORS_SEEN = "errors_seen"
TIMED_SEEN = "timed_seen"
SLOW_SEEN = "slow_seen"
THRESHOLD_BUCKET = "threshold_bucket"
FRESH = "fresh_series"
ROUTER_FAILED = "router_failures"
RECENT_REQUESTS = "recent_requests"
RECENT_ERRORS = "recent_errors"
RECENT_TIMED = "recent_timed"
RECENT_SLOW = "recent_slow"
VERSION = "version"
WRONG_VERSION = "wrong_version"
NOT_JUDGED = "not judged: the window stopped on"
"""How a check not judged because the window stopped on another criterion begins its reason."""
OWN = {
    "error_ratio": frozenset({ERROR_RATIO, VERSION, FRESH, "source"}),
    "slow_share": frozenset({SLOW_SHARE, "source"}),
    "pool_utilization": frozenset({POOL, "source"}),
}
"""The criteria each verdict answers for when they stop the window (the others: not judged)."""
LATENCY_SHARE_MAX = 0.05
"""p95 ≤ limit ⇔ at most 5 % of requests slower than the limit."""

@dataclass(frozen=True)
class SloTarget:
    """Who is measured, with what PromQL, against which thresholds, by which rules."""

    candidate_color: Color
    stable_color: Color
    candidate_version: str
    stable_version: str
    queries: dict[str, str]
    """Instant values per look (pool utilization, both colors' p95)."""
    counters: dict[str, str]
    """Raw counter selectors of the candidate: ``requests`` and ``buckets``."""
    thresholds: dict[str, float]
    rules: dict[str, SequentialRule]
    """The sequential rule of each proportion: ERROR_RATIO and SLOW_SHARE."""
    error_status: str
    latency_threshold_s: float
    latency_warmup_s: float
    latency_unit_s: float
    source: str
    router_failures: list[str] = field(default_factory=list)
    """Counter selectors of the router's own failures for the candidate's color."""
    versions_query: str = ""
    """Fresh requests series of both colors, counted by color and version."""
    fresh_s: float = 2.0
    """A series whose newest sample is older than this is no data (two scrape intervals)."""
    recent_looks: int = 0
    """Looks the recent counts span (0: not judged)."""

    def fresh(self, selector: str) -> str:
        """``selector`` as read at a look: each series' newest sample, if not older than
        ``fresh_s`` (a stale series drops out, and a look with none is no data)."""
        return f"last_over_time({selector}[{round(self.fresh_s * 1000)}ms])"

    def colors(self) -> str:
        return (
            f"candidate {self.candidate_version} on {self.candidate_color}, "
            f"stable {self.stable_version} on {self.stable_color}"
        )


def looks(config: AnalysisConfig) -> int:
    """K: the looks the window's schedule makes (one at the start, one per interval)."""
    return math.floor(config.window_s / config.interval_s + 1e-9) + 1


def slo_target(environment: Environment, candidate: Color, *, compare: bool) -> SloTarget:
    monitoring, slo, analysis = environment.monitoring, environment.slo, environment.analysis
    stable, label = other_color(candidate), monitoring.color_label
    version = environment.versions.candidate

    def on(field: str, color: Color, aggregate: str) -> str:
        selector = color_selector(getattr(monitoring, field), label, color, f"monitoring.{field}")
        return f"{aggregate}({selector})"

    def counter(field: str) -> str:
        return color_selector(
            getattr(slo, field), label, candidate, f"slo.{field}", **{slo.version_label: version}
        )

    color_selector(slo.requests_counter, label, candidate, "slo.requests_counter")  # a selector
    both = slo.requests_counter.strip()
    fresh_s = 2 * environment.prometheus.scrape_interval_s

    if not 0 < slo.error_ratio_max < 1:
        raise ConfigError("environment", "slo.error_ratio_max", "must be above 0 and below 1")
    queries = {
        LATENCY: on("latency_p95_query", candidate, "max"),
        POOL: on("pool_utilization_query", candidate, "max"),
    }
    if compare:
        queries[STABLE_LATENCY] = on("latency_p95_query", stable, "max")

    recent_looks = round(analysis.recent_s / analysis.interval_s) if analysis.recent_s else 0
    if analysis.recent_s:
        recent_looks = max(1, recent_looks)
    share = analysis.recent_alpha_share if recent_looks else 0.0

    def rule(threshold: float) -> SequentialRule:
        return SequentialRule(
            threshold, analysis.alpha, analysis.bad_multiple, looks(analysis), recent_share=share
        )

    return SloTarget(
        candidate_color=candidate,
        stable_color=stable,
        candidate_version=version,
        stable_version=environment.versions.stable,
        queries=queries,
        counters={"requests": counter("requests_counter"), "buckets": counter("latency_histogram")},
        router_failures=[q.replace("$color", candidate) for q in slo.router_failures],
        versions_query=(
            f"count by ({label}, {slo.version_label}) "
            f"(last_over_time({both}[{round(fresh_s * 1000)}ms]))"
        ),
        fresh_s=fresh_s,
        recent_looks=recent_looks,
        thresholds={
            ERROR_RATIO: slo.error_ratio_max,
            LATENCY: slo.latency_p95_max_ms,
            SLOW_SHARE: LATENCY_SHARE_MAX,
            POOL: analysis.pool_utilization_max,
        },
        rules={ERROR_RATIO: rule(slo.error_ratio_max), SLOW_SHARE: rule(LATENCY_SHARE_MAX)},
        error_status=slo.error_status,
        latency_threshold_s=slo.latency_p95_max_ms / 1000,
        latency_warmup_s=analysis.latency_warmup_s,
        latency_unit_s=monitoring.latency_unit_s,
        source=f"prometheus {environment.prometheus.url.rstrip('/')}",
    )


def new_counts(target: SloTarget) -> CandidateCounts:
    return CandidateCounts(target.error_status, target.latency_threshold_s, target.recent_looks)


def wrong_versions(target: SloTarget, running: Sequence[Sample], label: str, version_label: str) -> list[str]:
    """Each color that runs a version it should not, in words (fresh series only)."""
    expected = {target.candidate_color: target.candidate_version, target.stable_color: target.stable_version}
    seen: dict[str, set[str]] = {}
    for sample in running:
        color, version = sample.labels.get(label, ""), sample.labels.get(version_label, "")
        seen.setdefault(color, set()).add(version)
    return [
        f"{color} runs version {', '.join(sorted(seen[color] - {want}))}, expected {want}"
        for color, want in expected.items()
        if seen.get(color, set()) - {want}
    ]


def measurement(
    target: SloTarget, values: Mapping[str, float | None], counts: Counts | None = None,
    wrong: Sequence[str] = (),
) -> Measurement:
    """One look: the instant values of ``target.queries`` (None: no sample), the
    candidate's counts, and what ``wrong_versions`` found. The pool and the freshness of the
    candidate's series are judged per measurement; the proportions by the sequential rule
    over the looks. Latency is read in the metric's unit, shown in ms."""

    def to_ms(value: float | None) -> float | None:
        return None if value is None else value * target.latency_unit_s * 1000

    readings = [
        Reading(POOL, values.get(POOL), target.thresholds[POOL]),
        Reading(LATENCY, to_ms(values.get(LATENCY)), unit=" ms", judged=False),
    ]
    if STABLE_LATENCY in target.queries:
        readings.append(Reading(STABLE_LATENCY, to_ms(values.get(STABLE_LATENCY)), unit=" ms", judged=False))
    if counts is not None:
        readings += [
            Reading(REQUESTS_SEEN, float(counts.requests), judged=False),
            Reading(ERRORS_SEEN, float(counts.errors), judged=False),
            Reading(TIMED_SEEN, float(counts.timed), judged=False),
            Reading(SLOW_SEEN, float(counts.slow), judged=False),
            Reading(THRESHOLD_BUCKET, 1.0 if counts.threshold_bucket else 0.0, judged=False),
            Reading(ERROR_RATIO, counts.errors / counts.requests if counts.requests else None, judged=False),
            Reading(SLOW_SHARE, counts.slow / counts.timed if counts.timed else None, judged=False),
            Reading(ROUTER_FAILED, float(counts.router_failures), judged=False),
            Reading(
                FRESH, float(counts.fresh_series) if counts.fresh_series else None,
                missing=f"no requests on {target.candidate_color} ({target.candidate_version}) "
                f"reported in the last {target.fresh_s:g} s: no fresh sample of "
                f"{target.counters['requests']} (no traffic yet, or its replicas stopped or are "
                "no longer scraped)",
            ),
        ]
        if counts.recent is not None:
            names = (RECENT_REQUESTS, RECENT_ERRORS, RECENT_TIMED, RECENT_SLOW)
            readings += [
                Reading(n, float(v), judged=False) for n, v in zip(names, counts.recent, strict=True)
            ]
    facts = {WRONG_VERSION: "; ".join(wrong)} if wrong else {}
    return Measurement(readings, facts)


def decisions(target: SloTarget, observation: Observation, *, final: bool) -> dict[str, Decision]:
    """Each proportion's decision at one look (none without counts in it)."""
    out: dict[str, Decision] = {}
    for metric, (events, total), (r_events, r_total) in (
        (ERROR_RATIO, (ERRORS_SEEN, REQUESTS_SEEN), (RECENT_ERRORS, RECENT_REQUESTS)),
        (SLOW_SHARE, (SLOW_SEEN, TIMED_SEEN), (RECENT_SLOW, RECENT_TIMED)),
    ):
        x, n = observation.value(events), observation.value(total)
        if x is None or n is None:
            continue
        if metric == SLOW_SHARE and observation.value(THRESHOLD_BUCKET) == 0.0:
            continue  # no bucket at the threshold: the share is unknown, never a rollback
        rx, rn = observation.value(r_events), observation.value(r_total)
        recent = (int(rx), int(rn)) if rx is not None and rn is not None else None
        out[metric] = decide(target.rules[metric], int(x), int(n), final=final, recent=recent)
    return out


def sequential_stop(target: SloTarget) -> Callable[[Observation], Stop | None]:
    """The window's ``stop``: a color running the wrong version ends it at once; else the
    first look at which a proportion is shown above its limit."""

    def stop(observation: Observation) -> Stop | None:
        wrong = observation.facts.get(WRONG_VERSION)
        if wrong:
            return Stop(VERSION, f"wrong version: {wrong}: the analysis would judge another release")
        for metric, d in decisions(target, observation, final=False).items():
            if d.state == "rollback":
                return Stop(metric, f"{metric} above its limit: {describe(target, metric, d)}")
        return None

    return stop


def describe(target: SloTarget, metric: str, d: Decision) -> str:
    noun = "errors" if metric == ERROR_RATIO else f"slower than {target.thresholds[LATENCY]:g} ms"
    rule = target.rules[metric]
    if d.by == "recent" and d.recent_requests is not None and d.recent_events is not None:
        return (
            f"{d.recent_events} {noun} in the last {d.recent_requests} requests "
            f"({d.recent_events / max(1, d.recent_requests):.1%}, the recent counts); "
            f"{1 - rule.recent_alpha_per_look:.4%} lower bound {d.recent_lower or 0:.2%} "
            f"(limit {rule.threshold:.0%}); since the shift {d.events} in {d.requests}"
        )
    shown = f"{d.events} {noun} in {d.requests} requests"
    if d.requests:
        shown += f" ({d.events / d.requests:.1%})"
    return (
        f"{shown}; {1 - rule.alpha_per_look:.4%} lower bound {d.lower:.2%}, "
        f"{1 - rule.alpha:.0%} upper bound {d.upper:.2%} "
        f"(limit {rule.threshold:.0%}, must rule out {rule.bad:.0%})"
    )


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
    check = f"error rate of {window.target.candidate_color} during the window"
    return _proportion(window, ERROR_RATIO, check, f"≤ {limit:.0%} of requests (runbook rollback criterion)")


def latency_p95(window: SloWindow) -> Verdict:
    limit = window.target.thresholds[LATENCY]
    check = f"p95 latency of {window.target.candidate_color} during the window"
    threshold = f"p95 ≤ {limit:g} ms: ≤ 5 % of requests slower (runbook rollback criterion)"
    return _proportion(window, SLOW_SHARE, check, threshold)


def track(window: SloWindow, metric: str) -> list[tuple[float, Decision]]:
    """(seconds since the window began, decision) at every look with counts; the last look
    of a window that ran to its end decides finally."""
    result = window.result
    looks_with_counts = [o for o in result.counted if o.value(REQUESTS_SEEN) is not None]
    out: list[tuple[float, Decision]] = []
    for i, o in enumerate(looks_with_counts):
        final = i == len(looks_with_counts) - 1 and not result.stopped_early
        d = decisions(window.target, o, final=final).get(metric)
        if d is not None:
            out.append((o.elapsed_s, d))
    return out


def _proportion(window: SloWindow, metric: str, check: str, threshold: str) -> Verdict:
    result, target = window.result, window.target
    verdict = Verdict(check, False, "", threshold=threshold, source=target.source)
    points = track(window, metric)
    rolled = next(((t, d) for t, d in points if d.state == "rollback"), None)
    last = points[-1] if points else None
    if last is not None:
        verdict.measured = f"after {last[0]:.1f} s: {describe(target, metric, last[1])}"
    source_failures = [o.failures["source"] for o in result.observations if "source" in o.failures]
    unknown_bucket = metric == SLOW_SHARE and any(
        o.value(THRESHOLD_BUCKET) == 0.0 for o in result.counted
    )
    if rolled is not None:
        at, d = rolled
        verdict.reason = (
            f"roll back: {metric} above {target.rules[metric].threshold:.0%} after {at:.1f} s: "
            f"{describe(target, metric, d)}"
        )
    elif result.stopped_early and not result.stopped_on & OWN[metric]:
        verdict.reason = not_judged(result, f"{metric} so far: {describe(target, metric, last[1])}"
                                    if last else "")
        verdict.not_judged = ", ".join(sorted(result.stopped_on)) or result.stop_reason
        _evidence(verdict, window, metric, points, chart=False)
        return verdict
    elif VERSION in result.stopped_on:
        verdict.reason = result.stop_reason
    elif unknown_bucket:
        verdict.reason = (
            f"the latency histogram ({target.counters['buckets']}) has no bucket at "
            f"{target.latency_threshold_s:g} s: the share of slower requests cannot be counted"
        )
        verdict.fault = "configuration"
    elif result.stopped_early:
        so_far = f"; {metric} so far: {describe(target, metric, last[1])}" if last else ""
        verdict.reason = f"{result.stop_reason}{so_far}"
        verdict.fault = "infrastructure"  # no data or no source: nothing breached
        if source_failures:
            verdict.reason += f"; the source failed: {source_failures[0]}"
        fresh = [o.failures[FRESH] for o in result.observations if FRESH in o.failures]
        if fresh:
            verdict.reason = f"no data from {target.candidate_color}: {fresh[-1]}; {verdict.reason}"
    elif last is None:
        why = source_failures[0] if source_failures else "no look read the counters"
        verdict.reason = f"no data: {why} ({target.counters['requests']})"
        verdict.fault = "infrastructure"
    elif last[1].state == "pass":
        verdict.passed = True
        verdict.reason = (
            f"{metric} ruled out {target.rules[metric].bad:.0%}: {describe(target, metric, last[1])}"
        )
    else:
        verdict.reason = _inconclusive(target, metric, last[1])
        if last[1].estimate is None or last[1].estimate < target.rules[metric].threshold:
            verdict.fault = "infrastructure"  # not enough traffic to tell
    _evidence(verdict, window, metric, points)
    return verdict


def not_judged(result: WindowResult, so_far: str = "") -> str:
    """The reason of a check whose window stopped on another criterion (issue 13 item 7):
    it was not judged, which is not a failure of its own."""
    on = ", ".join(sorted(result.stopped_on))
    tail = f"; {so_far}" if so_far else ""
    return f"{NOT_JUDGED} {on}, so it was not judged over the whole window ({result.stop_reason}){tail}"


def _inconclusive(target: SloTarget, metric: str, d: Decision) -> str:
    rule = target.rules[metric]
    if d.requests == 0:
        return (
            f"no data: no requests on {target.candidate_color} ({target.candidate_version}) "
            f"counted during the window; too few samples to rule out {rule.bad:.0%} "
            f"(needs {d.needed})"
        )
    needs = (
        f"ruling out {rule.bad:.0%} needs {d.needed}" if d.needed is not None
        else f"at {d.events / d.requests:.1%} no number of requests rules out {rule.bad:.0%}"
    )
    return f"inconclusive: {d.requests} requests seen; {needs} ({describe(target, metric, d)})"


def pool_utilization(window: SloWindow) -> Verdict:
    """Judged per measurement: ``failure_limit`` failed measurements fail it."""
    result, config, target = window.result, window.result.config, window.target
    limit = target.thresholds[POOL]
    verdict = Verdict(
        f"connection pool utilization of {target.candidate_color} during the window", False, "",
        threshold=f"≤ {limit:.0%} of the pool's connections in use", source=target.source,
    )
    counted = result.counted
    failures = [(o, why) for o in counted if (why := o.metric_failure(POOL))]
    if result.stopped_early and not result.stopped_on & OWN[POOL] and len(failures) < config.failure_limit:
        verdict.reason = not_judged(result)
        verdict.not_judged = ", ".join(sorted(result.stopped_on)) or result.stop_reason
        _evidence(verdict, window, POOL, [])
        return verdict
    values = [v for o in counted if (v := o.value(POOL)) is not None and v == v]  # v == v: not NaN
    worst = max(values) if values else None
    verdict.measured = (
        f"worst {worst:.0%} over {len(values)} samples" if worst is not None else "no samples"
    ) + f", {len(failures)} failed of {len(counted)} measurements in {result.elapsed_s:.1f} s"
    if len(failures) >= config.failure_limit:
        first = "; ".join(f"{o.elapsed_s:.0f} s: {why}" for o, why in failures[:3])
        verdict.reason = (
            f"{POOL} failed in {len(failures)} measurements, the failure limit is "
            f"{config.failure_limit}: {first}"
        )
        if all(o.kinds.get(POOL) != "breach" for o, _ in failures):
            verdict.fault = "infrastructure"  # nothing breached: no data or no source
    elif len(values) < config.min_samples:
        verdict.reason = (
            f"too few samples of {POOL}: {len(values)}, need {config.min_samples} "
            f"({result.stop_reason})"
        )
        verdict.fault = "infrastructure"
    else:
        verdict.passed = True
        verdict.reason = (
            f"{POOL} held ≤ {limit:.0%} in {len(counted) - len(failures)} of {len(counted)} "
            f"measurements (worst {worst:.0%})"
        )
    _evidence(verdict, window, POOL, [])
    return verdict


def _evidence(
    verdict: Verdict, window: SloWindow, metric: str, points: list[tuple[float, Decision]],
    *, chart: bool = True,
) -> None:
    """``chart``: the PNG of the decision; a check that was not judged gets none (it would
    only repeat its numbers, and rendering costs the rollback a fraction of a second)."""
    from .slo_chart import render  # matplotlib loads only when a verdict is built

    result, target = window.result, window.target
    verdict.details.extend([
        target.colors(),
        result.describe(),
        f"window: {result.stop_reason}",
    ])
    if metric == POOL:
        verdict.details.append(f"PromQL {POOL}: {target.queries[POOL]}")
    else:
        rule = target.rules[metric]
        verdict.details += [
            f"counters: {target.counters['requests' if metric == ERROR_RATIO else 'buckets']}",
            f"rule: roll back when the lower bound at α/K = {rule.alpha:g}/{rule.looks} exceeds "
            f"{rule.threshold:.0%}; pass when the upper bound at α = {rule.alpha:g} is below "
            f"{rule.bad:.0%} (docs/analysis-method.md)",
        ]
        verdict.attach_json("decisions", [{"elapsed_s": t, **d.to_json()} for t, d in points])
        if points and chart:
            png = render(metric, rule, points)
            verdict.attachments.append(Attachment("estimate and bounds over time", png, "png"))
    verdict.attach_json("measurements", [o.to_json() for o in result.observations])
    verdict.attach_json("analysis", {
        "queries": target.queries,
        "counters": target.counters,
        "thresholds": target.thresholds,
        "window": result.config.model_dump(),
        "started_at": result.started_at,
        "ended_at": result.ended_at,
        "stopped_early": result.stopped_early,
        "stop_reason": result.stop_reason,
        "stopped_on": sorted(result.stopped_on),
        "router_failures": target.router_failures,
        "versions_query": target.versions_query,
        "fresh_s": target.fresh_s,
        "recent_looks": target.recent_looks,
        "candidate": {"color": target.candidate_color, "version": target.candidate_version},
        "stable": {"color": target.stable_color, "version": target.stable_version},
    })
