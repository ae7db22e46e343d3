"""Mann-Whitney U of the candidate's p95 against the stable's: regressions, noise, too few."""

from __future__ import annotations

import random

import pytest

from shiftgate.analysis import compare
from shiftgate.analysis.slo import LATENCY, STABLE_LATENCY, SloTarget, SloWindow
from shiftgate.analysis.window import Observation, Reading, WindowResult
from shiftgate.config.models import AnalysisConfig

CONFIG = AnalysisConfig(min_samples=5)


def test_clearly_slower_candidate_is_flagged() -> None:
    result = compare.compare([120, 130, 125, 140, 135, 128], [60, 62, 58, 65, 61, 59])
    assert result.effect == pytest.approx(1.0)
    assert result.p_value < 0.01
    assert result.slower(CONFIG)


def test_faster_candidate_is_not_flagged() -> None:
    result = compare.compare([30, 31, 29, 32, 30], [60, 62, 58, 65, 61])
    assert result.effect == pytest.approx(-1.0)
    assert result.p_value > 0.5
    assert not result.slower(CONFIG)


def test_same_distribution_is_noise() -> None:
    rng = random.Random(7)
    a = [rng.gauss(100, 10) for _ in range(30)]
    b = [rng.gauss(100, 10) for _ in range(30)]
    assert not compare.compare(a, b).slower(CONFIG)


def test_identical_samples_have_no_effect() -> None:
    result = compare.compare([50.0] * 6, [50.0] * 6)
    assert result.effect == 0 and result.p_value == 1.0
    assert not result.slower(CONFIG)


@pytest.mark.parametrize(("candidate", "stable", "why"), [
    ([9.2, 9.3, 9.1, 9.4, 9.2], [4.9, 5.0, 4.8, 5.1, 4.9], "4 ms slower: below the ms floor"),
    ([210, 212, 211, 213, 214], [200, 201, 199, 202, 200], "x1.05: below the ratio floor"),
])
def test_significant_but_small_slowdowns_pass(candidate: list[float], stable: list[float], why: str) -> None:
    result = compare.compare(candidate, stable)
    assert result.p_value < 0.05 and result.effect > 0.5
    assert not result.slower(CONFIG), why


def test_small_effect_passes_even_when_significant() -> None:
    # Overlapping samples: the candidate is higher in about 70 % of pairs (r ≈ 0.4).
    cand = [100, 140, 90, 150, 95, 145, 85, 160, 110, 155] * 3
    stab = [80, 120, 70, 130, 75, 125, 65, 140, 90, 135] * 3
    result = compare.compare(cand, stab)
    assert 0 < result.effect <= 0.5
    assert not result.slower(CONFIG)


def window(candidate: list[float | None], stable: list[float | None]) -> SloWindow:
    target = SloTarget(
        "blue", "green", "2.5.0", "2.4.3", {LATENCY: "q1", STABLE_LATENCY: "q2"}, {}, {}, {},
        "5..", 0.3, 0.0, 1.0, "prometheus p",
    )
    observations = [
        Observation(
            i, i * 2.0, i * 2.0, [Reading(LATENCY, c, 300), Reading(STABLE_LATENCY, s, judged=False)], {}
        )
        for i, (c, s) in enumerate(zip(candidate, stable, strict=True))
    ]
    result = WindowResult(CONFIG, 0, 20, observations, False, "window complete")
    return SloWindow(target, result)


def test_verdict_on_a_regression_names_versions_and_statistics() -> None:
    verdict = compare.latency_against_stable(window([200, 210, 205, 220, 215, 230], [60, 62, 58, 65, 61, 59]))
    assert not verdict.passed
    assert "2.5.0 is slower than 2.4.3" in verdict.reason
    assert "rank-biserial r=+1.00" in verdict.reason
    assert verdict.attachments[0].name == "p95 samples (ms)"


def test_verdict_passes_a_comparable_candidate() -> None:
    verdict = compare.latency_against_stable(window([21, 22, 21, 23, 22], [20, 21, 20, 22, 21]))
    assert verdict.passed, verdict.message()


@pytest.mark.parametrize(("candidate", "stable"), [
    ([20, 21, None, None, None], [20, 21, 22, 20, 21]),
    ([20, 21, 22, 20, 21], [None, None, None, None, float("nan")]),
])
def test_too_few_samples_on_either_side_fail_closed(
    candidate: list[float | None], stable: list[float | None]
) -> None:
    verdict = compare.latency_against_stable(window(candidate, stable))
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert "too few samples to compare" in verdict.reason
