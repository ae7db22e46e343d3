"""How often each analysis rule rolls back, passes or ends inconclusive: a seeded simulation.

    .venv/bin/python benchmarks/analysis_quality.py [--runs 1000] [--seed 14]

No services. The candidate gets Poisson traffic (5, 10, 50, 200 requests/s) for the
sandbox's 45 s window, with a true error ratio from 0 to 30 %, errors independent or in
bursts (a two-state chain: bursts of 5 s on average, the same mean ratio). Two rules judge
the same traffic:

- **new**: the sequential rule of ``shiftgate.analysis.sequential`` (cumulative counts, a
  look every second, one-sided Clopper-Pearson bounds, α·(1 − share)/K per look for a
  rollback, pass only if p₁ = 2 × 5 % is ruled out at the end; docs/analysis-method.md),
  plus the recent counts: the last ``--recent-s`` seconds roll back at α·share/K per look;
- **cumulative only**: the same rule without the recent counts (share 0), for comparison;
- **today**: a ratio over the last 10 s measured every 2 s, two measurements above 5 %
  roll back, at least 5 measurements pass (the sandbox's settings before this change).

Printed per cell: P(rollback), P(inconclusive), and the median and p95 seconds of data at the
decision (a pass or an inconclusive decides at the window's end). The latency criterion is
the same proportion (requests slower than 300 ms; with a bucket at 300 ms, p95 > 300 ms
exactly when more than 5 % are slower), so its table is the same simulation with "slow" for
"error", plus a cold start: the first 5 s at 30 % slow, the rest at 1 %.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import numpy as np

from shiftgate.analysis.sequential import SequentialRule, pass_counts, rollback_counts
from shiftgate.config.models import AnalysisConfig

RECENT_S = round(AnalysisConfig.model_fields["recent_s"].default)
RECENT_SHARE = AnalysisConfig.model_fields["recent_alpha_share"].default

WINDOW_S = 45
LOOK_S = 1
THRESHOLD = 0.05
RATIOS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.075, 0.10, 0.30)
RATES = (5, 10, 50, 200)
BURST_S = 5.0
FAULT_AT_S = 20
FAULT = "fault at 20 s"


@dataclass(frozen=True)
class Outcome:
    rollback: np.ndarray  # bool per run
    inconclusive: np.ndarray
    decided_s: np.ndarray  # seconds of data at the decision

    def row(self) -> str:
        t = self.decided_s
        return (
            f"{self.rollback.mean():6.1%} {self.inconclusive.mean():6.1%} "
            f"{np.median(t):5.1f} {np.percentile(t, 95):5.1f}"
        )


def traffic(
    rng: np.random.Generator, runs: int, rate: float, ratio: np.ndarray, bursty: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Requests and events per second, shape (runs, WINDOW_S). ``ratio``: per second."""
    requests = rng.poisson(rate, size=(runs, WINDOW_S))
    if not bursty:
        return requests, rng.binomial(requests, ratio)
    mean = float(ratio.mean())
    if mean == 0:
        return requests, np.zeros_like(requests)
    inside = min(1.0, 5 * mean)  # the ratio inside a burst
    share = mean / inside  # time spent in bursts
    leave = 1 / BURST_S
    enter = min(1.0, share * leave / max(1e-9, 1 - share))
    state = np.zeros((runs, WINDOW_S), dtype=bool)
    state[:, 0] = rng.random(runs) < share
    for t in range(1, WINDOW_S):
        stay = rng.random(runs)
        state[:, t] = np.where(state[:, t - 1], stay >= leave, stay < enter)
    return requests, rng.binomial(requests, np.where(state, inside, 0.0))


def new_rule(
    requests: np.ndarray, events: np.ndarray, rule: SequentialRule, warmup_s: int = 0,
    recent_s: int = 0, offset_s: int = 0,
) -> Outcome:
    """``warmup_s``: the first seconds are not counted (``analysis.latency_warmup_s``);
    ``recent_s``: the last seconds are judged too (``analysis.recent_s``, at the rule's
    ``recent_share``); ``offset_s``: times are counted from then (a fault's start)."""
    requests, events = requests.copy(), events.copy()
    requests[:, :warmup_s] = 0
    events[:, :warmup_s] = 0
    n = np.cumsum(requests, axis=1)  # n[:, t-1]: requests in the first t seconds
    x = np.cumsum(events, axis=1)
    top = int(n.max()) + 1
    roll, passing = rollback_counts(rule, top), pass_counts(rule, top)
    looks = np.arange(LOOK_S, WINDOW_S + 1, LOOK_S) - 1
    hit = x[:, looks] >= roll[n[:, looks]]
    if recent_s and rule.recent_share > 0:
        recent_roll = rollback_counts(rule, top, recent=True)
        pad = np.zeros((n.shape[0], recent_s), dtype=n.dtype)
        n_r = n - np.concatenate([pad, n], axis=1)[:, : n.shape[1]]
        x_r = x - np.concatenate([pad, x], axis=1)[:, : x.shape[1]]
        hit |= x_r[:, looks] >= recent_roll[n_r[:, looks]]
    rolled = hit.any(axis=1)
    first = np.where(rolled, hit.argmax(axis=1), len(looks) - 1)
    decided = (looks[first] + 1).astype(float) - offset_s
    passed = ~rolled & (x[:, -1] <= passing[n[:, -1]])
    return Outcome(rolled, ~rolled & ~passed, np.where(rolled, decided, WINDOW_S - offset_s))


def today_rule(requests: np.ndarray, events: np.ndarray, *, interval: int = 2, span: int = 10,
               limit: int = 2, min_samples: int = 5, grace_s: int = 10) -> Outcome:
    runs = requests.shape[0]
    n = np.concatenate([np.zeros((runs, 1), int), np.cumsum(requests, axis=1)], axis=1)
    x = np.concatenate([np.zeros((runs, 1), int), np.cumsum(events, axis=1)], axis=1)
    failures = np.zeros(runs, int)
    counted = np.zeros(runs, int)
    complete = np.zeros(runs, bool)
    decided = np.full(runs, float(WINDOW_S))
    rolled = np.zeros(runs, bool)
    for t in range(0, WINDOW_S + 1, interval):
        start = max(0, t - span)
        reqs, errs = n[:, t] - n[:, start], x[:, t] - x[:, start]
        no_data = reqs == 0
        warming = no_data & ~complete & (t < grace_s)
        breach = ~no_data & (errs > THRESHOLD * np.maximum(reqs, 1))
        failed = (breach | (no_data & ~warming)) & ~rolled
        failures += failed
        counted += ~warming & ~rolled
        complete |= ~no_data
        now = (failures >= limit) & ~rolled
        decided[now] = t
        rolled |= now
    inconclusive = ~rolled & (counted < min_samples)
    return Outcome(rolled, inconclusive, decided)


def table(title: str, rng: np.random.Generator, runs: int, rule: SequentialRule,
          ratios: dict[str, np.ndarray], noun: str, warmup_s: int = 0, recent_s: int = 0) -> None:
    print(f"\n## {title}\n")
    print(f"{runs} runs per row; P(rollback) P(inconclusive) median p95 seconds of data at the decision")
    header = (f"{'req/s':>5} {'errors':>7} {noun:>13}  {'new rule':^27} | {'cumulative only':^27} "
              f"| {'today (10 s ratio, limit 2)':^27}")
    print(header)
    print("-" * len(header))
    alone = replace(rule, recent_share=0.0)
    for rate in RATES:
        for bursty in (False, True):
            for label, ratio in ratios.items():
                if bursty and len(set(ratio)) > 1:
                    continue  # a cold start is a shape in time already, not a burst
                requests, events = traffic(rng, runs, rate, ratio, bursty)
                offset = FAULT_AT_S if label == FAULT else 0
                new = new_rule(requests, events, rule, warmup_s, recent_s, offset)
                cumulative = new_rule(requests, events, alone, warmup_s, 0, offset)
                old = today_rule(requests, events)
                if offset:
                    old = Outcome(old.rollback, old.inconclusive, old.decided_s - offset)
                kind = "bursty" if bursty else "indep."
                print(f"{rate:5d} {kind:>7} {label:>13}  {new.row()} | {cumulative.row()} | {old.row()}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--bad-multiple", type=float, default=2.0)
    parser.add_argument("--latency-warmup-s", type=int, default=10)
    parser.add_argument("--recent-s", type=int, default=RECENT_S)
    parser.add_argument("--recent-share", type=float, default=RECENT_SHARE)
    args = parser.parse_args()
    rule = SequentialRule(THRESHOLD, args.alpha, args.bad_multiple, WINDOW_S // LOOK_S + 1,
                          recent_share=args.recent_share if args.recent_s else 0.0)
    rng = np.random.default_rng(args.seed)
    print(f"# analysis quality: threshold {THRESHOLD:.0%}, α = {rule.alpha:g}, "
          f"p₁ = {rule.bad:.0%}, {rule.looks} looks over {WINDOW_S} s, seed {args.seed}; "
          f"recent counts: the last {args.recent_s} s at α share {rule.recent_share:g}")
    fault = np.full(WINDOW_S, 0.30)
    fault[:FAULT_AT_S] = 0.0
    flat = {**{f"{r:.1%}": np.full(WINDOW_S, r) for r in RATIOS}, FAULT: fault}
    table("error ratio (5xx / requests)", rng, args.runs, rule, flat, "true ratio",
          recent_s=args.recent_s)
    cold = np.full(WINDOW_S, 0.01)
    cold[:5] = 0.30
    latency = {**{f"{r:.1%}": np.full(WINDOW_S, r) for r in RATIOS}, "cold start": cold}
    table(
        f"latency (share slower than 300 ms; p95 ≤ 300 ms ⇔ share ≤ 5 %); the new rule "
        f"counts from {args.latency_warmup_s} s after the shift",
        rng, args.runs, rule, latency, "slow share", args.latency_warmup_s, args.recent_s,
    )


if __name__ == "__main__":
    main()
