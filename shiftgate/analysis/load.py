"""Verdicts of a load test: was the load real, did the SLOs hold, did the pools and the
database keep up while it ran.

Fail closed everywhere: no requests, a rate that cannot be computed, NaN percentiles, or no
Prometheus samples over the run's window are failures with their reason. The series come in
as facts: the check reads them over the run's window with ``PrometheusProbe.query_range``.
"""

from __future__ import annotations

import math
import string

from shiftgate.config.models import Environment, LoadConfig, SloConfig
from shiftgate.load.results import LoadResult
from shiftgate.probes.prometheus_facts import Series
from shiftgate.verdict import Attachment, Verdict


def _window(result: LoadResult) -> str:
    return f"{result.url}, {result.ended - result.started:.0f} s, {result.workers or 'in-process'} workers"


def load_was_real(result: LoadResult, config: LoadConfig) -> Verdict:
    profile = result.profile
    check = "the load test reached its target rate"
    rate = result.steady_rate()
    wanted = config.rate_tolerance * profile.target_rps
    measured = f"{rate:.1f} rps steady, {result.total.requests} requests"
    threshold = (
        f"≥ {wanted:.1f} rps ({config.rate_tolerance:.0%} of {profile.target_rps:g}), "
        f"≥ {profile.min_requests} requests"
    )
    if math.isnan(rate) or rate < wanted:
        shown = "no steady phase" if math.isnan(rate) else f"achieved {rate:.0f}"
        reason = f"load generator could not reach {profile.target_rps:g} rps: {shown}"
        passed = False
    elif result.total.requests < profile.min_requests:
        reason = f"only {result.total.requests} requests sent, fewer than {profile.min_requests}"
        passed = False
    else:
        reason = f"held {rate:.1f} rps over the steady phase"
        passed = True
    return Verdict(check, passed, reason, measured=measured, threshold=threshold, source=_window(result))


def error_ratio_within_slo(result: LoadResult, slo: SloConfig, failures: list[str]) -> Verdict:
    check = "error ratio under load within the SLO"
    ratio = result.error_ratio
    total = result.total
    measured = f"{ratio:.2%} ({total.failures} of {total.requests})" if total.requests else "no requests"
    if math.isnan(ratio):
        verdict = Verdict(check, False, "no request was sent: nothing to judge", measured=measured)
    else:
        passed = ratio <= slo.error_ratio_max
        reason = f"error ratio {ratio:.2%} {'≤' if passed else '>'} {slo.error_ratio_max:.0%}"
        verdict = Verdict(check, passed, reason, measured=measured)
    verdict.threshold = f"≤ {slo.error_ratio_max:.0%} (runbook rollback criterion)"
    verdict.source = _window(result)
    verdict.details.extend(f"failure: {line}" for line in failures[:5])
    return verdict


def latency_within_slo(result: LoadResult, slo: SloConfig) -> Verdict:
    check = "p95 latency under load within the SLO"
    p95, p99 = result.total.p95_ms, result.total.p99_ms
    measured = f"p95 {p95:.0f} ms (p50 {result.total.p50_ms:.0f}, p99 {p99:.0f})"
    if math.isnan(p95) or result.total.requests == 0:
        verdict = Verdict(check, False, "no latency samples: nothing to judge", measured=measured)
    elif result.total.failures == result.total.requests:
        # Refused connections answer fast: a p95 of failures says nothing about the service.
        verdict = Verdict(
            check, False, "every request failed: no latency of a served request", measured=measured
        )
    else:
        passed = p95 <= slo.latency_p95_max_ms
        reason = f"p95 {p95:.0f} ms {'≤' if passed else '>'} {slo.latency_p95_max_ms:g} ms"
        verdict = Verdict(check, passed, reason, measured=measured)
    verdict.threshold = f"p95 ≤ {slo.latency_p95_max_ms:g} ms (runbook rollback criterion)"
    verdict.source = _window(result)
    verdict.details.extend(
        f"{e.name}: p50 {e.p50_ms:.0f} ms, p95 {e.p95_ms:.0f} ms, p99 {e.p99_ms:.0f} ms, "
        f"{e.requests} requests" for e in result.endpoints
    )
    return verdict


def pool_waiting_query(config: LoadConfig, color: str) -> str:
    return string.Template(config.pool_waiting_query).safe_substitute(color=color)


def series_peak(
    check: str, query: str, series: list[Series], limit: float, *, what: str, min_points: int,
    sustained: int = 1,
) -> Verdict:
    """The highest value over the run stays at or below ``limit``; no samples fail.

    ``sustained``: how many consecutive samples of one series above ``limit`` fail the check
    (1: any sample). A queue that one scrape catches for an instant is not a queue that lasts."""
    points = [v for s in series for _, v in s.points]
    finite = [v for v in points if not math.isnan(v)]
    threshold = f"≤ {limit:g}" + (f" (fails when above for {sustained} consecutive samples)"
                                   if sustained > 1 else "")
    verdict = Verdict(check, False, "", threshold=threshold, source=f"PromQL: {query}")
    if len(finite) < min_points:
        verdict.reason = (
            f"too few samples of {what} during the run: {len(finite)} "
            f"(NaN: {len(points) - len(finite)}), need {min_points} — is it scraped?"
        )
        verdict.fault = "infrastructure"
        return verdict
    peak = max(finite)
    longest = max((_longest_run_above(s.points, limit) for s in series), default=0)
    verdict.measured = f"peak {peak:g} over {len(finite)} samples"
    verdict.passed = longest < sustained
    if peak <= limit:
        verdict.reason = f"{what} peaked at {peak:g} ≤ {limit:g}"
    elif verdict.passed:
        verdict.reason = (
            f"{what} peaked at {peak:g} > {limit:g} for {longest} sample(s) only: it fails when "
            f"above for {sustained} consecutive samples"
        )
    else:
        verdict.reason = (
            f"{what} peaked at {peak:g} > {limit:g} and stayed above for {longest} consecutive "
            "samples"
        )
    verdict.attach_json("samples", [{"labels": s.labels, "points": s.points} for s in series])
    return verdict


def _longest_run_above(points: list[tuple[float, float]], limit: float) -> int:
    longest = current = 0
    for _, value in sorted(points):
        current = current + 1 if value > limit else 0  # NaN is not above: the run breaks
        longest = max(longest, current)
    return longest


def chart(png: bytes) -> Attachment:
    return Attachment("rate, p95 and errors over time", png, "png")


def min_points(run: LoadResult, environment: Environment, *, skip_s: float = 0.0) -> int:
    """Samples a series must have over the run (after its first ``skip_s``): half the scrapes
    at least, gaps are tolerated."""
    expected = (run.ended - run.started - skip_s) / environment.prometheus.scrape_interval_s
    return max(2, int(expected / 2))


def pool_waiting(run: LoadResult, environment: Environment, series: list[Series]) -> Verdict:
    """``series``: ``pool_waiting_query`` over the run (``PrometheusProbe.query_range``).

    The ramp and the ``load.pool_warmup_s`` after it are left out: a pool opens its
    connections as the users ramp up, and requests wait for them meanwhile (seen: 2, then 4
    waiting in the two scrapes after a 2 s ramp, none after). A pool too small for the load
    keeps them waiting after that."""
    config = environment.load
    query = pool_waiting_query(config, run.color or "")
    skip_s = run.profile.shape.ramp_s + config.pool_warmup_s
    warm = run.started + skip_s
    judged = [Series(s.labels, [(t, v) for t, v in s.points if t >= warm]) for s in series]
    verdict = series_peak(
        f"requests waiting for a DB connection on {run.color} during the load", query, judged,
        config.pool_waiting_max, what="pool waiting count",
        min_points=min_points(run, environment, skip_s=skip_s),
        sustained=config.pool_waiting_samples,
    )
    verdict.threshold += f", from {skip_s:g} s into the load (ramp + {config.pool_warmup_s:g} s)"
    warming = [{"labels": s.labels, "points": [p for p in s.points if p[0] < warm]} for s in series]
    if any(w["points"] for w in warming):
        verdict.attach_json("samples of the warm-up (not judged)", warming)
    return verdict


def db_connections(run: LoadResult, environment: Environment, series: list[Series]) -> Verdict:
    """``series``: ``load.db_connections_query`` over the run."""
    query = environment.load.db_connections_query
    return series_peak(
        "database connections / usable during the load", query, series,
        environment.load.db_connections_ratio_max, what="connections / usable",
        min_points=min_points(run, environment),
    )
