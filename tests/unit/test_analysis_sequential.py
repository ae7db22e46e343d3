"""The sequential decision: bounds from scipy agree with scipy's own binomial test, the
count tables agree with ``decide``, and the stated error rates hold at the boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest  # type: ignore[import-untyped]

from shiftgate.analysis.sequential import (
    SequentialRule,
    decide,
    lower_bound,
    needed_requests,
    pass_counts,
    rollback_counts,
    upper_bound,
)

RULE = SequentialRule(threshold=0.05, alpha=0.01, bad_multiple=2, looks=46)


@pytest.mark.parametrize(("x", "n"), [(1, 10), (5, 100), (23, 450), (0, 50), (50, 50), (9, 30)])
def test_bounds_are_scipys_exact_one_sided_intervals(x: int, n: int) -> None:
    low = binomtest(x, n, alternative="greater").proportion_ci(0.99, method="exact").low
    high = binomtest(x, n, alternative="less").proportion_ci(0.99, method="exact").high
    assert lower_bound(x, n, 0.01) == pytest.approx(low, abs=1e-9)
    assert upper_bound(x, n, 0.01) == pytest.approx(high, abs=1e-9)


def test_no_requests_decide_nothing_and_end_inconclusive() -> None:
    assert decide(RULE, 0, 0, final=False).state == "continue"
    end = decide(RULE, 0, 0, final=True)
    assert end.state == "inconclusive" and end.failed
    assert end.needed == 44  # 0 errors: 1 - 0.01^(1/n) < 0.10 from n = 44


def test_all_errors_roll_back_within_a_few_dozen_requests() -> None:
    assert decide(RULE, 30, 30, final=False).state == "rollback"
    assert decide(RULE, 2, 2, final=False).state == "continue"  # two requests prove little
    assert decide(RULE, 45, 450, final=False).state == "rollback"  # 10 %: lower bound 5.7 %


def test_a_clean_window_passes_and_a_bad_one_is_inconclusive() -> None:
    assert decide(RULE, 13, 450, final=True).state == "pass"  # 2.9 %
    bad = decide(RULE, 40, 450, final=True)  # 8.9 %: neither > 5 % nor < 10 % shown
    assert bad.state == "inconclusive" and bad.needed == 3928
    assert decide(RULE, 2, 20, final=True).needed is None  # at 10 % it can never pass
    near = decide(RULE, 30, 412, final=True)
    assert near.state == "inconclusive" and near.needed is not None and near.needed > 412


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        decide(RULE, 5, 4, final=False)
    with pytest.raises(ValueError):
        decide(RULE, -1, 4, final=False)
    with pytest.raises(ValueError):
        SequentialRule(threshold=0.05, alpha=0.01, bad_multiple=1, looks=10)


def test_needed_requests_is_the_smallest_sufficient_count() -> None:
    for ratio in (0.0, 0.02, 0.05, 0.08):
        n = needed_requests(RULE, ratio)
        assert n is not None
        assert upper_bound(ratio * n, n, 0.01) < 0.10 <= upper_bound(ratio * (n - 1), n - 1, 0.01)
    assert needed_requests(RULE, 0.10) is None and needed_requests(RULE, float("nan")) is None


@pytest.mark.parametrize("rule", [RULE, SequentialRule(0.05, 0.05, 3, 10), SequentialRule(0.2, 0.01, 1.5, 5)])
def test_count_tables_agree_with_decide(rule: SequentialRule) -> None:
    rollback, passing = rollback_counts(rule, 400), pass_counts(rule, 400)
    for n in [*range(0, 60), 99, 100, 250, 400]:
        for x in range(0, n + 1):
            assert (decide(rule, x, n, final=False).state == "rollback") == (x >= rollback[n]), (x, n)
            passes = x <= passing[n] and x < rollback[n]
            assert (decide(rule, x, n, final=True).state == "pass") == passes, (x, n)


def test_error_rates_hold_exactly_at_the_boundaries() -> None:
    """Exact, no simulation: P(rollback at some look | p₀) ≤ α by the union bound, and
    P(pass | p₁) ≤ α with all requests seen."""
    rollback = rollback_counts(RULE, 2000)
    from scipy.stats import binom  # type: ignore[import-untyped]

    per_look = [binom.sf(rollback[n] - 1, n, RULE.threshold) for n in (10, 50, 200, 1000, 2000)]
    assert max(per_look) <= RULE.alpha / RULE.looks
    passing = pass_counts(RULE, 2000)
    assert binom.cdf(passing[450], 450, RULE.bad) < RULE.alpha
    assert np.all(np.diff(rollback[1:]) >= 0)  # more requests never need fewer errors


SPLIT = SequentialRule(threshold=0.05, alpha=0.01, bad_multiple=2, looks=46, recent_share=0.5)


def test_recent_counts_roll_back_at_their_own_share_of_alpha() -> None:
    recent = rollback_counts(SPLIT, 400, recent=True)
    cumulative = rollback_counts(SPLIT, 400)
    for n in (10, 30, 50, 200):
        x = int(recent[n])
        assert decide(SPLIT, 0, 1000, final=False, recent=(x, n)).by == "recent"
        assert decide(SPLIT, 0, 1000, final=False, recent=(x - 1, n)).state == "continue"
        assert decide(SPLIT, int(cumulative[n]), n, final=False).by == "cumulative"
    from scipy.stats import binom  # type: ignore[import-untyped]

    # The union bound over both tests and the K looks is α at p₀.
    worst = max(binom.sf(recent[n] - 1, n, 0.05) for n in range(1, 400)) + max(
        binom.sf(cumulative[n] - 1, n, 0.05) for n in range(1, 400))
    assert worst * SPLIT.looks <= SPLIT.alpha
    assert np.all(rollback_counts(RULE, 50, recent=True) == np.arange(51) + 1)  # share 0: never


def test_recent_counts_never_pass_a_window_nor_count_without_a_share() -> None:
    assert decide(SPLIT, 13, 450, final=True, recent=(0, 50)).state == "pass"
    assert decide(SPLIT, 40, 450, final=True, recent=(0, 50)).state == "inconclusive"
    assert decide(RULE, 0, 100, final=False, recent=(30, 30)).state == "continue"  # share 0
    with pytest.raises(ValueError):
        SequentialRule(0.05, 0.01, 2, 10, recent_share=1.0)
