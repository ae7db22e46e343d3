"""A PNG chart of a load test over time: rate, p95 latency and failures per second."""

from __future__ import annotations

import io

from shiftgate.load.results import LoadResult


def render(result: LoadResult, p95_limit_ms: float) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display: render to memory
    from matplotlib import pyplot as plt

    history = result.history
    t0 = history[0].timestamp if history else result.started
    xs = [p.timestamp - t0 for p in history]
    fig, (rate, latency) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    rate.plot(xs, [p.rps for p in history], label="requests/s")
    rate.plot(xs, [p.failures_per_s for p in history], label="failures/s", color="tab:red")
    rate.axhline(result.profile.target_rps, linestyle="--", color="grey", label="target")
    rate.set_ylabel("per second")
    rate.legend(loc="upper left")
    latency.plot(xs, [p.p95_ms for p in history], label="p95 (10 s window)", color="tab:purple")
    latency.axhline(p95_limit_ms, linestyle="--", color="tab:red", label="SLO")
    latency.set_ylabel("ms")
    latency.set_xlabel("seconds since start")
    latency.legend(loc="upper left")
    fig.suptitle(f"{result.profile.name} against {result.url}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()
