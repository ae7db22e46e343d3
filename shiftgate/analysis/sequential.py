"""A sequential decision on a proportion with stated error rates (docs/analysis-method.md).

Both runbook criteria are proportions of the candidate's requests since the shift: errors
(5xx / requests) and slow requests (slower than the latency threshold / requests; "p95 ≤
300 ms" is "at most 5 % slower than 300 ms"). At every look the cumulative counts (x events
in n requests) give one-sided Clopper-Pearson bounds (exact binomial, scipy's beta quantiles):

- **rollback** as soon as the lower bound at level α/K exceeds the threshold p₀. K is the
  number of looks the window plans; by Bonferroni (the simplest α-spending: α/K per look)
  a candidate exactly at p₀ is rolled back with probability ≤ α over the whole window,
  however the looks depend on each other, and less often the further below p₀ it is.
- at the window's end, **pass** only if the upper bound at level α is below the "bad"
  proportion p₁ = bad_multiple × p₀: a candidate at or above p₁ passes with probability ≤ α.
- otherwise the window ends **inconclusive**: too few requests to tell, a failure with the
  number of requests that would have sufficed at the observed ratio.

**Recent counts** (``analysis.recent_s``): counts since the shift dilute a fault that begins
mid-window (a minute of clean requests hides seconds of 30 % errors), so the counts of the
last few seconds are judged too, with their own share of α (``recent_share``): a rollback
when their lower bound at ``α·share/K`` exceeds p₀. The cumulative rule keeps
``α·(1 − share)/K`` per look, so the union bound over both tests and all K looks stays α.
Recent counts only ever roll back; the pass decision is the cumulative one.

The error rates hold for independent events (a binomial count); errors arriving in bursts
break that, and ``benchmarks/analysis_quality.py`` shows by how much. The tables for the
simulation (``rollback_counts``, ``pass_counts``) are derived from the same bounds, and unit
tests check that they agree with ``decide``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy.stats import beta, binom  # type: ignore[import-untyped]  # scipy ships no stubs

State = Literal["rollback", "continue", "pass", "inconclusive"]


def lower_bound(x: float, n: float, alpha: float) -> float:
    """One-sided Clopper-Pearson lower bound: P(true proportion < bound) ≤ alpha."""
    if n <= 0 or x <= 0:
        return 0.0
    return float(beta.ppf(alpha, x, n - x + 1))


def upper_bound(x: float, n: float, alpha: float) -> float:
    """One-sided Clopper-Pearson upper bound: P(true proportion > bound) ≤ alpha."""
    if n <= 0 or x >= n:
        return 1.0
    return float(beta.ppf(1 - alpha, x + 1, n - x))


@dataclass(frozen=True)
class SequentialRule:
    threshold: float
    """p₀: the runbook's limit on the proportion (0.05)."""
    alpha: float
    """Both error rates: false rollback at p₀, false pass at p₁."""
    bad_multiple: float
    looks: int
    """K: looks the window plans (window / interval + 1)."""
    recent_share: float = 0.0
    """Share of α spent on the recent counts; 0: only the cumulative counts are judged."""

    def __post_init__(self) -> None:
        if not 0 < self.threshold < 1 or not 0 < self.alpha < 0.5:
            raise ValueError(f"threshold {self.threshold} and alpha {self.alpha} must be in (0, 1)")
        if self.bad_multiple <= 1 or self.looks < 1:
            raise ValueError(f"bad_multiple {self.bad_multiple} must be > 1, looks {self.looks} ≥ 1")
        if not 0 <= self.recent_share < 1:
            raise ValueError(f"recent_share {self.recent_share} must be in [0, 1)")

    @property
    def alpha_per_look(self) -> float:
        """The cumulative counts' rollback level at each look."""
        return self.alpha * (1 - self.recent_share) / self.looks

    @property
    def recent_alpha_per_look(self) -> float:
        """The recent counts' rollback level at each look (0: not judged)."""
        return self.alpha * self.recent_share / self.looks

    @property
    def bad(self) -> float:
        """p₁: the proportion a passing candidate must be shown to stay below."""
        return min(self.threshold * self.bad_multiple, 1.0 - 1e-9)


@dataclass(frozen=True)
class Decision:
    state: State
    events: int
    requests: int
    lower: float
    """Lower bound at α/K (the rollback bound)."""
    upper: float
    """Upper bound at α (the pass bound)."""
    needed: int | None = None
    """Requests that would rule out p₁ if the observed ratio held; None: it cannot."""
    recent_events: int | None = None
    recent_requests: int | None = None
    recent_lower: float | None = None
    """Lower bound of the recent counts at α·share/K (None: not judged)."""
    by: Literal["cumulative", "recent"] | None = None
    """Which counts decided a rollback."""

    @property
    def estimate(self) -> float | None:
        return self.events / self.requests if self.requests else None

    @property
    def failed(self) -> bool:
        return self.state in ("rollback", "inconclusive")

    def to_json(self) -> dict[str, object]:
        return {
            "state": self.state, "events": self.events, "requests": self.requests,
            "estimate": self.estimate, "lower": self.lower, "upper": self.upper,
            "needed": self.needed, "recent_events": self.recent_events,
            "recent_requests": self.recent_requests, "recent_lower": self.recent_lower,
            "by": self.by,
        }


def decide(
    rule: SequentialRule, events: int, requests: int, *, final: bool,
    recent: tuple[int, int] | None = None,
) -> Decision:
    """The decision after ``requests`` requests with ``events`` errors (or slow requests);
    ``recent``: (events, requests) of the last ``analysis.recent_s``, judged when the rule
    gives them a share of α.

    ``final``: the window has ended, decide pass or inconclusive. Counts must be whole,
    non-negative and events ≤ requests; anything else is a programming error upstream."""
    _check(events, requests)
    lower = lower_bound(events, requests, rule.alpha_per_look)
    upper = upper_bound(events, requests, rule.alpha)
    base = Decision("continue", events, requests, lower, upper)
    if recent is not None and rule.recent_share > 0:
        _check(*recent)
        recent_lower = lower_bound(recent[0], recent[1], rule.recent_alpha_per_look)
        base = replace(base, recent_events=recent[0], recent_requests=recent[1],
                       recent_lower=recent_lower)
    if lower > rule.threshold:
        return replace(base, state="rollback", by="cumulative")
    if base.recent_lower is not None and base.recent_lower > rule.threshold:
        return replace(base, state="rollback", by="recent")
    if not final:
        return base
    if upper < rule.bad:
        return replace(base, state="pass")
    ratio = events / requests if requests else 0.0
    return replace(base, state="inconclusive", needed=needed_requests(rule, ratio))


def _check(events: int, requests: int) -> None:
    if requests < 0 or events < 0 or events > requests:
        raise ValueError(f"bad counts: {events} events of {requests} requests")


def needed_requests(rule: SequentialRule, ratio: float) -> int | None:
    """Fewest requests whose upper bound at α is below p₁ if ``ratio`` of them are events."""
    if not 0 <= ratio < rule.bad or math.isnan(ratio):
        return None

    def enough(n: int) -> bool:
        return upper_bound(ratio * n, n, rule.alpha) < rule.bad

    high = 1
    while not enough(high):
        high *= 2
        if high > 10**9:
            return None
    low = high // 2
    while high - low > 1:  # enough(high) holds, enough(low) does not (or low is 0)
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


# -- tables for simulation: the same bounds, by count ---------------------------------------
def rollback_counts(rule: SequentialRule, n_max: int, *, recent: bool = False) -> np.ndarray:
    """c[n]: the fewest events in n requests that roll back (lower bound > p₀); n+1 if none.
    ``recent``: at the recent counts' level instead of the cumulative counts'.

    Clopper-Pearson duality: lower_bound(x, n, a) > p₀ ⇔ P(X ≥ x | n, p₀) < a."""
    n = np.arange(n_max + 1)
    a = rule.recent_alpha_per_look if recent else rule.alpha_per_look
    if a <= 0:
        return n + 1
    k = binom.isf(a, n, rule.threshold)  # smallest k with P(X > k) ≤ a
    c = np.nan_to_num(k, nan=0).astype(np.int64) + 1
    # isf's boundary is "≤ a", the bound's is "< a": move c up where sf(c-1) == a exactly.
    tie = binom.sf(c - 1, n, rule.threshold) >= a
    c = c + tie
    return np.where(c > n, n + 1, c)


def pass_counts(rule: SequentialRule, n_max: int) -> np.ndarray:
    """m[n]: the most events in n requests that still pass at the end (upper bound < p₁);
    -1 if none. Duality: upper_bound(x, n, α) < p₁ ⇔ P(X ≤ x | n, p₁) < α."""
    n = np.arange(n_max + 1)
    k = binom.ppf(rule.alpha, n, rule.bad)  # smallest k with P(X ≤ k) ≥ α
    m = np.nan_to_num(k, nan=0).astype(np.int64) - 1
    ok_next = binom.cdf(m + 1, n, rule.bad) < rule.alpha
    m = m + ok_next
    return np.where(n == 0, -1, m)
