"""Does the latency histogram have a bucket boundary at the SLO's latency threshold?

The latency criterion counts requests slower than ``slo.latency_p95_max_ms`` as the ``+Inf``
bucket minus the bucket at the threshold (``shiftgate.analysis.slo``). Without a boundary
there, the count is unknowable, and a p95 read from the histogram is an interpolation
between the neighbouring boundaries that can sit on either side of the threshold. So a
histogram without one fails, naming the nearest boundaries; one with no series at all fails
closed too (wrong name or label, or no request yet).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from shiftgate.probes.prometheus_facts import Sample
from shiftgate.verdict import Verdict

from .counts import bucket_at


def threshold_bucket(
    samples: Sequence[Sample], threshold_ms: float, selector: str, source: str
) -> Verdict:
    threshold_s = threshold_ms / 1000
    verdict = Verdict(
        f"latency histogram has a bucket boundary at {threshold_ms:g} ms", False, "",
        threshold=f"a bucket le={threshold_s:g} (seconds)", source=source,
    )
    verdict.details.append(f"PromQL: {selector}")
    bounds: set[float] = set()
    for sample in samples:
        try:
            bounds.add(float(sample.labels.get("le", "")))
        except ValueError:
            continue
    finite = sorted(b for b in bounds if math.isfinite(b))
    verdict.measured = f"boundaries (s): {', '.join(f'{b:g}' for b in finite) or 'none'}"
    verdict.attach_json("buckets", sorted({s.labels.get("le", "") for s in samples}))
    if not finite:
        verdict.reason = f"no histogram buckets for {selector}: no series, or no request yet"
        verdict.fault = "infrastructure"
    elif any(bucket_at(str(b), threshold_s) for b in finite):
        verdict.passed = True
        verdict.reason = f"a bucket ends at {threshold_s:g} s: slower requests are counted exactly"
    else:
        below = max((b for b in finite if b < threshold_s), default=None)
        above = min((b for b in finite if b > threshold_s), default=None)
        verdict.reason = (
            f"no bucket at {threshold_s:g} s; the nearest are {below if below is not None else 'none'}"
            f" and {above if above is not None else '+Inf'} s: add {threshold_s:g} to the "
            "histogram's buckets, or the latency criterion cannot be judged"
        )
        verdict.fault = "configuration"
    return verdict
