"""Verdicts of the candidate's rollout, the post-deploy gate's first checks: every replica
of its color updated, ready and available on the candidate version; the logs since the
deploy free of error patterns; CPU and memory of each replica within limits
(the runbook's `kubectl rollout status`, `kubectl logs`, `kubectl top pods`).

Fail closed: no replicas, no measurement, no or invalid error patterns fail with their
reason. No log line at all since the deploy fails (a silent replica proves nothing), and so
does a replica of the candidate that wrote none, has no record on the platform, or restarted
since the deploy: a crash-looping pod that is Ready right now has restarted. Facts come in as
the platform's ``RolloutStatus``, ``LogLine``, ``ReplicaState`` and ``ResourceUse``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from shiftgate.config.models import Color, RolloutConfig
from shiftgate.probes.platform import LogLine, ReplicaState, ResourceUse, RolloutStatus
from shiftgate.verdict import Verdict

LOOKBACK_ALONE_S = 15 * 60.0
"""Log window of a check run alone (no ``run.deployed_at``): the last 15 minutes."""
SHOWN_LINES = 20
_LINE_CHARS = 300
_MIB = 1024 * 1024  # memory in MB as `kubectl top` shows Mi


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_window(deployed_at: float | None, now: float) -> tuple[float, str]:
    """Since when log lines count, and why: the runner's deploy time, else the last 15 min."""
    if deployed_at is not None:
        return deployed_at, f"since the deploy began at {iso(deployed_at)} (run.deployed_at)"
    since = now - LOOKBACK_ALONE_S
    return since, (
        f"since {iso(since)}, the last {LOOKBACK_ALONE_S / 60:g} min: the check ran alone, "
        "without the runner's deploy time (run.deployed_at)"
    )


@dataclass
class Candidate:
    """The candidate under check. Its color is resolved on first use, inside the check, so
    an unreachable platform or router fails the check rather than erroring its setup."""

    version: str
    since: float
    since_note: str
    platform: str
    resolve_color: Callable[[], Color] = field(repr=False)

    @cached_property
    def color(self) -> Color:
        return self.resolve_color()

    @property
    def source(self) -> str:
        return f"{self.platform} platform, {self.color} color, candidate {self.version}"


def rollout_complete(
    status: RolloutStatus,
    versions: Mapping[Color, str | None],
    candidate_version: str,
    *,
    platform: str = "platform",
) -> Verdict:
    check = "every replica of the candidate's color ready on the candidate version"
    color, desired = status.color, status.desired
    running = versions.get(color)
    problems: list[str] = []
    if desired <= 0:
        problems.append(f"{color} has no replicas desired: nothing runs the candidate")
    if status.failed:
        problems.append(f"rollout failed: {status.message}")
    counts = {"updated": status.updated, "ready": status.ready, "available": status.available}
    for name, count in counts.items():
        if count < desired:
            problems.append(f"{count} of {desired} replicas {name}")
    if not status.complete and not status.failed:
        problems.append(f"rollout not complete: {status.message}")
    if status.version != candidate_version:
        problems.append(f"{color} is rolled out to {status.version or 'no version'}, not {candidate_version}")
    elif running != candidate_version:
        shown = running or "nothing running"
        problems.append(f"the platform reports {shown} on {color}, not {candidate_version}")
    reason = "; ".join(problems) or (
        f"{desired}/{desired} replicas of {color} updated, ready and available on {candidate_version}"
    )
    verdict = Verdict(
        check,
        passed=not problems,
        reason=reason,
        measured=(
            f"{color}: version {status.version}, desired {desired}, updated {status.updated}, "
            f"ready {status.ready}, available {status.available}, complete {status.complete}, "
            f"failed {status.failed}"
        ),
        threshold=f"all {max(desired, 1)} replicas updated, ready and available on {candidate_version}",
        source=f"{platform} platform, {color} color",
        details=[f"platform says: {status.message}", f"versions per color: {dict(versions)}"],
    )
    verdict.attach_json(
        "rollout status",
        {"status": dataclasses.asdict(status), "versions": dict(versions), "candidate": candidate_version},
    )
    return verdict


def logs_clean(
    lines: Sequence[LogLine],
    patterns: Sequence[str],
    since: float,
    *,
    source: str | None = None,
    since_note: str = "",
) -> Verdict:
    check = "no error in the candidate's logs since the deploy"
    window = since_note or f"since {iso(since)}"
    try:
        compiled = [re.compile(p) for p in patterns]
    except re.error as exc:
        return Verdict(check, False, f"invalid error pattern in rollout.log_error_patterns: {exc}",
                       source=source, fault="configuration")
    if not compiled:
        return Verdict(check, False, "rollout.log_error_patterns is empty: nothing to scan for",
                       source=source, fault="configuration")
    matches = [
        (line, hit.pattern)
        for line in lines
        if line.timestamp >= since
        for hit in [next((c for c in compiled if c.search(line.text)), None)]
        if hit is not None
    ]
    scanned = sum(1 for line in lines if line.timestamp >= since)
    shown = [
        {"replica": line.replica, "time": iso(line.timestamp), "pattern": pattern,
         "text": line.text[:_LINE_CHARS]}
        for line, pattern in matches[:SHOWN_LINES]
    ]
    if not scanned:
        return Verdict(
            check, False, f"no log line {window}: nothing shows the candidate ran, so nothing passes",
            measured=f"0 log lines ({window})", threshold="log lines to scan, none matching",
            source=source, fault="infrastructure",
        )
    if matches:
        first = shown[0]
        reason = (
            f"{len(matches)} of {scanned} log lines match an error pattern; "
            f"first: {first['replica']}: {first['text']}"
        )
    else:
        reason = f"none of {scanned} log lines matches the {len(compiled)} error patterns"
    verdict = Verdict(
        check,
        passed=not matches,
        reason=reason,
        measured=f"{len(matches)} matching lines of {scanned} ({window})",
        threshold=f"no line matching {', '.join(patterns)}",
        source=source,
        details=[f"{m['time']} {m['replica']}: {m['text']}  [{m['pattern']}]" for m in shown],
    )
    if len(matches) > SHOWN_LINES:
        verdict.details.append(f"... and {len(matches) - SHOWN_LINES} more")
    verdict.attach_json(
        "matching log lines",
        {"since": iso(since), "window": window, "patterns": list(patterns), "scanned": scanned,
         "matching": len(matches), f"first {SHOWN_LINES}": shown},
    )
    return verdict


def replicas_steady(
    replicas: Sequence[ReplicaState],
    lines: Sequence[LogLine],
    since: float,
    *,
    source: str | None = None,
    since_note: str = "",
) -> Verdict:
    """Every replica of the candidate is recorded, wrote at least one log line since the
    deploy, and never restarted since: a replica that crashed and came back is Ready now,
    and its errors are in the previous container's log, not in the current one."""
    check = "every replica of the candidate logged since the deploy and never restarted"
    window = since_note or f"since {iso(since)}"
    threshold = "each replica: recorded, ≥ 1 log line, 0 restarts since the deploy"
    if not replicas:
        return Verdict(check, False, "the platform lists no replica of the candidate's color",
                       threshold=threshold, source=source, fault="infrastructure")
    counts = {r.replica: 0 for r in replicas}
    for line in lines:
        if line.timestamp < since:
            continue
        owner = line.replica.split("/", 1)[0].removesuffix(" (previous)")
        if owner in counts:
            counts[owner] += 1
    problems: list[str] = []
    rows: list[str] = []
    for r in replicas:
        restart = ""
        if r.restarts:
            when = iso(r.last_restart_at) if r.last_restart_at is not None else "at an unknown time"
            restart = f", {r.restarts} restarts (last {when})"
        rows.append(f"{r.replica}: {'recorded' if r.recorded else 'NO RECORD'}, "
                    f"{counts[r.replica]} log lines{restart}")
        if not r.recorded:
            problems.append(f"{r.replica} has no record on the platform: nothing can be read of it")
        elif r.restarted_since(since):
            problems.append(f"{r.replica} restarted {window} ({r.restarts} restarts in all)")
        elif counts[r.replica] == 0:
            problems.append(f"{r.replica} wrote no log line {window}")
    verdict = Verdict(
        check,
        passed=not problems,
        reason="; ".join(problems) or f"all {len(replicas)} replicas logged {window}, none restarted",
        measured=f"{len(replicas) - len(problems)} of {len(replicas)} replicas steady ({window})",
        threshold=threshold,
        source=source,
        details=rows,
    )
    verdict.attach_json("replicas", {
        "since": iso(since), "window": window,
        "replicas": [dataclasses.asdict(r) | {"log_lines": counts[r.replica]} for r in replicas],
    })
    return verdict


@dataclass
class UnderLoad:
    """CPU and memory of the loaded color's replicas, read during the load run (one list per
    reading) and once after it; a read that failed is kept as its reason."""

    during: list[list[ResourceUse]] = field(default_factory=list)
    after: list[ResourceUse] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def resources_under_load(
    during: Sequence[Sequence[ResourceUse]],
    after: Sequence[ResourceUse],
    errors: Sequence[str],
    config: RolloutConfig,
    *,
    source: str | None = None,
) -> Verdict:
    """Each replica's CPU averaged over the readings during the load (a sustained use, as
    ``kubectl top`` averages over its window: one busy instant is no breach) and its peak
    memory during and after the load, against the rollout limits."""
    check = "CPU and memory of each replica within limits during and after the load"
    threshold = f"≤ {config.cpu_cores_max:g} cores and ≤ {config.memory_mb_max:g} MB per replica"
    if errors or not during:
        reason = "; ".join(errors) or "no reading of CPU and memory during the load"
        return Verdict(check, False, f"not measured under load: {reason}", threshold=threshold,
                       source=source, fault="infrastructure")
    cpu: dict[str, list[float]] = {}
    memory: dict[str, int] = {}
    for reading in [*during, after]:
        for use in reading:
            memory[use.replica] = max(memory.get(use.replica, 0), use.memory_bytes)
    for reading in during:
        for use in reading:
            cpu.setdefault(use.replica, []).append(use.cpu_cores)
    uses = [
        ResourceUse(name, sum(cpu[name]) / len(cpu[name]) if cpu.get(name) else math.nan, memory[name])
        for name in sorted(memory)
    ]
    verdict = resources_within(uses, config, source=source)
    verdict.check = check
    verdict.details.append(f"{len(during)} readings during the load, 1 after it "
                           f"({len(after)} replicas); CPU averaged, memory at its peak")
    return verdict


def resources_within(
    uses: Sequence[ResourceUse], config: RolloutConfig, *, source: str | None = None
) -> Verdict:
    check = "CPU and memory of each replica within limits"
    threshold = f"≤ {config.cpu_cores_max:g} cores and ≤ {config.memory_mb_max:g} MB per replica"
    if not uses:
        return Verdict(check, False, "no replica to measure: the color runs nothing (or no metrics yet)",
                       threshold=threshold, source=source, fault="infrastructure")
    rows = [(u.replica, u.cpu_cores, u.memory_bytes / _MIB) for u in uses]
    problems: list[str] = []
    for replica, cpu, memory in rows:
        if math.isnan(cpu) or math.isnan(memory) or cpu < 0 or memory <= 0:
            problems.append(f"{replica}: no valid measurement (CPU {cpu} cores, memory {memory} MB)")
            continue
        if cpu > config.cpu_cores_max:
            problems.append(f"{replica} CPU {cpu:.2f} cores > {config.cpu_cores_max:g}")
        if memory > config.memory_mb_max:
            problems.append(f"{replica} memory {memory:.1f} MB > {config.memory_mb_max:g} MB")
    peak_cpu = max(cpu for _, cpu, _ in rows)
    peak_memory = max(memory for _, _, memory in rows)
    verdict = Verdict(
        check,
        passed=not problems,
        reason="; ".join(problems) or (
            f"peak CPU {peak_cpu:.2f} cores, peak memory {peak_memory:.1f} MB over {len(rows)} replicas"
        ),
        measured=f"peak CPU {peak_cpu:.2f} cores, peak memory {peak_memory:.1f} MB ({len(rows)} replicas)",
        threshold=threshold,
        source=source,
        details=[f"{name}: CPU {cpu:.3f} cores, memory {memory:.1f} MB" for name, cpu, memory in rows],
    )
    verdict.attach_json(
        "CPU and memory per replica",
        {"replicas": [{"replica": name, "cpu_cores": round(cpu, 3), "memory_mb": round(memory, 1)}
                      for name, cpu, memory in rows],
         "cpu_cores_max": config.cpu_cores_max, "memory_mb_max": config.memory_mb_max},
    )
    return verdict
