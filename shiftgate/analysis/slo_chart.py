"""The sequential decision as a chart (PNG): the candidate's proportion over the window with
its rollback (lower) and pass (upper) bounds, the threshold, the ruled-out proportion and
the decision time, so a reviewer sees why the verdict fell where it did.

Rendered in memory (matplotlib's Agg backend): no file, no display; attached to the verdict.
"""

from __future__ import annotations

import io

from .sequential import Decision, SequentialRule


def render(metric: str, rule: SequentialRule, points: list[tuple[float, Decision]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    xs = [t for t, _ in points]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(xs, [d.estimate if d.estimate is not None else float("nan") for _, d in points],
            label="estimate (cumulative)", color="tab:blue")
    ax.fill_between(xs, [d.lower for _, d in points], [d.upper for _, d in points],
                    color="tab:blue", alpha=0.15,
                    label=f"bounds: lower at α/K = {rule.alpha_per_look:.1e}, upper at α = {rule.alpha:g}")
    ax.axhline(rule.threshold, color="tab:red", linestyle="--", label=f"limit {rule.threshold:.0%}")
    ax.axhline(rule.bad, color="tab:orange", linestyle=":", label=f"must rule out {rule.bad:.0%}")
    decided = next(((t, d) for t, d in points if d.state != "continue"), points[-1])
    ax.axvline(decided[0], color="grey", linestyle="-.", label=f"decision: {decided[1].state}")
    ax.set_ylim(0, min(1.0, max(rule.bad * 2, max(d.upper for _, d in points if d.requests) if
                                any(d.requests for _, d in points) else rule.bad * 2)))
    ax.set_xlabel("seconds since the window began")
    ax.set_ylabel(metric)
    ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=90)
    plt.close(fig)
    return out.getvalue()
