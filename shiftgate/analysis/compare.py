"""Is the candidate slower than the stable color? Mann-Whitney U on their p95 samples.

Both colors are sampled in the same measurements of one window (``shiftgate.analysis.slo``),
so they share the same traffic and the same moment. The test is one-sided ("candidate
slower"), non-parametric (latency is skewed, never normal) and rank-based, so one spike
cannot dominate it. A p-value alone flags tiny differences once samples are many; the verdict
also needs a large effect — the rank-biserial correlation r = 2·U/(n₁·n₂) − 1, from −1
(candidate always faster) to +1 (always slower) — and a slowdown of the medians worth acting
on, relative and absolute (``compare_ratio_min``, ``compare_slowdown_min_ms``): a release
9 ms instead of 5 ms is twice as slow and still no reason to roll back.

Caveat, written down: successive samples of a 30 s rate window overlap and are not
independent, so p is optimistic; the effect and ratio bounds are what keep the verdict sane.
Too few samples on either side fail closed.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from scipy.stats import mannwhitneyu  # type: ignore[import-untyped]  # scipy ships no stubs

from shiftgate.config.models import AnalysisConfig
from shiftgate.verdict import Verdict

from .slo import LATENCY, STABLE_LATENCY, SloWindow, not_judged


@dataclass(frozen=True)
class Comparison:
    candidate: list[float]
    stable: list[float]
    u: float
    p_value: float
    effect: float
    """Rank-biserial correlation: +1 the candidate is slower in every pair of samples."""
    median_ratio: float
    """Candidate's median / stable's median (inf when the stable median is 0)."""
    slowdown_ms: float
    """Candidate's median - stable's median."""

    def slower(self, config: AnalysisConfig) -> bool:
        return (
            self.p_value < config.compare_alpha
            and self.effect > config.compare_effect_max
            and self.median_ratio > config.compare_ratio_min
            and self.slowdown_ms > config.compare_slowdown_min_ms
        )

    def summary(self) -> str:
        return (
            f"U={self.u:g}, p={self.p_value:.4f}, rank-biserial r={self.effect:+.2f}, "
            f"medians {statistics.median(self.candidate):.1f} vs "
            f"{statistics.median(self.stable):.1f} ms "
            f"(x{self.median_ratio:.2f}, {self.slowdown_ms:+.1f} ms), "
            f"n={len(self.candidate)}/{len(self.stable)}"
        )


def compare(candidate: list[float], stable: list[float]) -> Comparison:
    """One-sided Mann-Whitney U, H1: the candidate's samples are stochastically greater."""
    result = mannwhitneyu(candidate, stable, alternative="greater")
    u, p = float(result.statistic), float(result.pvalue)
    effect = 2 * u / (len(candidate) * len(stable)) - 1
    base, mid = statistics.median(stable), statistics.median(candidate)
    ratio = mid / base if base > 0 else math.inf
    return Comparison(candidate, stable, u, 1.0 if math.isnan(p) else p, effect, ratio, mid - base)


def paired_samples(window: SloWindow) -> tuple[list[float], list[float]]:
    """Finite p95 samples of both colors from the window's counted measurements."""
    candidate: list[float] = []
    stable: list[float] = []
    for observation in window.result.counted:
        for name, into in ((LATENCY, candidate), (STABLE_LATENCY, stable)):
            value = observation.value(name)
            if value is not None and math.isfinite(value):
                into.append(value)
    return candidate, stable


def latency_against_stable(window: SloWindow) -> Verdict:
    target, config = window.target, window.result.config
    check = f"p95 latency of {target.candidate_color} not worse than {target.stable_color}'s"
    threshold = (
        f"not (p < {config.compare_alpha:g} and r > {config.compare_effect_max:g} "
        f"and median ratio > {config.compare_ratio_min:g} "
        f"and median slowdown > {config.compare_slowdown_min_ms:g} ms)"
    )
    verdict = Verdict(check, False, "", threshold=threshold, source=target.source)
    verdict.details.extend([
        target.colors(),
        window.result.describe(),
        f"window: {window.result.stop_reason}",
        f"PromQL candidate: {target.queries[LATENCY]}",
        f"PromQL stable: {target.queries.get(STABLE_LATENCY, 'not measured')}",
    ])
    candidate, stable = paired_samples(window)
    verdict.attach_json("p95 samples (ms)", {"candidate": candidate, "stable": stable})
    need = max(config.min_samples, 3)
    too_few = (
        f"too few samples to compare: {len(candidate)} on {target.candidate_color}, "
        f"{len(stable)} on {target.stable_color}, need {need} each"
    )
    if window.result.stopped_early:
        # The window stopped on a criterion of another check: this one was not judged.
        verdict.measured = f"{len(candidate)} candidate and {len(stable)} stable samples"
        short = len(candidate) < need or len(stable) < need
        verdict.reason = not_judged(window.result, too_few if short else "")
        verdict.not_judged = ", ".join(sorted(window.result.stopped_on)) or window.result.stop_reason
        return verdict
    if len(candidate) < need or len(stable) < need:
        verdict.measured = f"{len(candidate)} candidate and {len(stable)} stable samples"
        verdict.reason = f"{too_few} — do both colors get traffic?"
        verdict.fault = "infrastructure"
        return verdict
    result = compare(candidate, stable)
    verdict.measured = result.summary()
    verdict.passed = not result.slower(config)
    if verdict.passed:
        verdict.reason = f"no latency regression worth a rollback: {result.summary()}"
    else:
        verdict.reason = (
            f"{target.candidate_version} is slower than {target.stable_version}: "
            f"{result.summary()}"
        )
    return verdict
