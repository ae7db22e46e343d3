"""The analysis window: one measurement every ``interval_s`` for ``window_s``, stopping early.

Independent of where the numbers come from: ``measure`` returns a ``Measurement`` (readings
with their thresholds); this module decides which failed and when the window ends. The clock
is passed in (``shiftgate.probes.clock.SystemClock`` in a check, a fake in unit tests), and
each observation goes to ``on_measurement`` (the check writes the run's log with it).

Rules (docs/architecture.md rule 1, fail closed):
- a reading fails when it is missing ("no data"), NaN, or above its threshold;
- a source that cannot be read (``SourceUnavailable``) fails the measurement with its reason;
- the window stops at the measurement whose failure count reaches ``failure_limit``: a
  regression is detected seconds after it shows, not at the end of the window;
- fewer than ``min_samples`` counted measurements at the end fail the window;
- ``stop`` (the SLOs' sequential decision, ``shiftgate.analysis.slo``) may end the window
  at any measurement with its reason: the evidence for a rollback is already enough, or the
  color runs another version than the one to judge. The result names the criteria that
  stopped it (``stopped_on``), so the other checks report "not judged", not a failure of
  their own.

One leniency, bounded in time: right after a shift, rate windows need two scrapes of the
candidate before any ratio exists. Measurements whose only failures are "no data", taken
before the first complete measurement and within ``no_data_grace_s``, are kept as "warming
up" and neither fail nor count as samples. A window that never gets data still fails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shiftgate.config.models import AnalysisConfig
from shiftgate.errors import SourceUnavailable

FailureKind = Literal["no data", "breach", "unavailable"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds (Unix time for the system clock)."""
        ...

    def sleep(self, seconds: float) -> None: ...


@dataclass(frozen=True)
class Reading:
    """One metric read in one measurement. A ``judged`` reading fails when missing, NaN or
    above ``max`` (no ``max``: it only has to be there); others are evidence only."""

    name: str
    value: float | None
    max: float | None = None
    unit: str = ""
    judged: bool = True
    missing: str = "no series"
    """Why ``value`` is None, in words: 'no series', 'no requests on blue'."""

    def problem(self) -> tuple[FailureKind, str] | None:
        if not self.judged:
            return None
        if self.value is None:
            return "no data", f"no data: {self.missing}"
        if math.isnan(self.value):
            return "no data", "NaN (no requests in the rate window?)"
        if self.max is not None and self.value > self.max:
            return "breach", f"{self.value:.4g}{self.unit} > {self.max:g}{self.unit}"
        return None


@dataclass(frozen=True)
class Measurement:
    readings: list[Reading]
    facts: dict[str, str] = field(default_factory=dict)
    """Evidence in words that a ``stop`` may act on (the versions each color runs)."""

    def value(self, name: str) -> float | None:
        return next((r.value for r in self.readings if r.name == name), None)


@dataclass(frozen=True)
class Observation:
    """A measurement as the window judged it."""

    index: int
    at: float
    elapsed_s: float
    readings: list[Reading]
    failures: dict[str, str]
    """Metric (or ``source``) → why it failed."""
    kinds: dict[str, FailureKind] = field(default_factory=dict)
    warming_up: bool = False
    facts: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.failures) and not self.warming_up

    @property
    def counted(self) -> bool:
        return not self.warming_up

    def value(self, name: str) -> float | None:
        return next((r.value for r in self.readings if r.name == name), None)

    def metric_failure(self, name: str) -> str | None:
        """Why ``name`` failed here (a source error fails every metric), or None."""
        if self.warming_up:
            return None
        return self.failures.get(name) or self.failures.get("source")

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "at": round(self.at, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "values": {r.name: _finite_or_none(r.value) for r in self.readings},
            "thresholds": {r.name: r.max for r in self.readings if r.judged},
            "failures": self.failures,
            "warming_up": self.warming_up,
            **({"facts": self.facts} if self.facts else {}),
        }


@dataclass
class WindowResult:
    config: AnalysisConfig
    started_at: float
    ended_at: float
    observations: list[Observation]
    stopped_early: bool
    stop_reason: str
    stopped_on: frozenset[str] = frozenset()
    """The criteria that ended the window early (metric names, ``source``, or a ``Stop``'s
    criterion); the verdicts of the other checks say "not judged" and name them."""

    @property
    def counted(self) -> list[Observation]:
        return [o for o in self.observations if o.counted]

    @property
    def failed(self) -> list[Observation]:
        return [o for o in self.observations if o.failed]

    @property
    def elapsed_s(self) -> float:
        return self.ended_at - self.started_at

    @property
    def passed(self) -> bool:
        return not self.stopped_early and len(self.counted) >= self.config.min_samples

    def describe(self) -> str:
        c = self.config
        return (
            f"window {c.window_s:g} s, one measurement every {c.interval_s:g} s, "
            f"failure limit {c.failure_limit}, at least {c.min_samples} samples"
        )


@dataclass(frozen=True)
class Stop:
    """Why ``stop`` ends the window: the criterion (a metric name, ``version``) and the reason."""

    criterion: str
    reason: str


def observe(
    measure: Callable[[], Measurement],
    config: AnalysisConfig,
    clock: Clock,
    on_measurement: Callable[[Observation], None] | None = None,
    stop: Callable[[Observation], Stop | str | None] | None = None,
) -> WindowResult:
    """Measure on a fixed schedule (start + k x interval, no drift) until the window ends,
    failed measurements reach ``config.failure_limit``, or ``stop`` gives a reason."""
    start = clock.now()
    observations: list[Observation] = []
    complete_seen = False
    failed = 0
    index = 0
    while True:
        at = clock.now()
        elapsed = at - start
        observation = _judge(index, at, elapsed, measure, config, warm=not complete_seen)
        complete_seen = complete_seen or _has_all_data(observation)
        observations.append(observation)
        if on_measurement is not None:
            on_measurement(observation)
        failed += observation.failed
        if failed >= config.failure_limit:
            reason = (
                f"stopped early: {failed} failed measurements reached the failure limit "
                f"{config.failure_limit} after {elapsed:.1f} s of {config.window_s:g} s"
            )
            on = frozenset(observation.failures) or frozenset({"failure limit"})
            return WindowResult(config, start, clock.now(), observations, True, reason, on)
        stopped = stop(observation) if stop is not None else None
        if stopped:
            if isinstance(stopped, str):
                stopped = Stop("stop", stopped)
            reason = f"stopped early after {elapsed:.1f} s of {config.window_s:g} s: {stopped.reason}"
            return WindowResult(
                config, start, clock.now(), observations, True, reason, frozenset({stopped.criterion})
            )
        index += 1
        next_at = start + index * config.interval_s
        if next_at - start > config.window_s + 1e-9:
            break
        clock.sleep(max(0.0, next_at - clock.now()))
    end = clock.now()
    counted = sum(o.counted for o in observations)
    reason = f"window complete: {counted} counted measurements over {end - start:.1f} s"
    if counted < config.min_samples:
        reason += f", fewer than the {config.min_samples} needed"
    return WindowResult(config, start, end, observations, False, reason)


def _judge(
    index: int,
    at: float,
    elapsed: float,
    measure: Callable[[], Measurement],
    config: AnalysisConfig,
    *,
    warm: bool,
) -> Observation:
    try:
        measurement = measure()
    except SourceUnavailable as exc:
        # An unreadable source is a failed measurement, never a warm-up: it is not "early".
        return Observation(index, at, elapsed, [], {"source": str(exc)}, {"source": "unavailable"})
    readings = measurement.readings
    failures: dict[str, str] = {}
    kinds: dict[str, FailureKind] = {}
    for reading in readings:
        problem = reading.problem()
        if problem is not None:
            kinds[reading.name], failures[reading.name] = problem
    warming = (
        warm
        and bool(failures)
        and elapsed < config.no_data_grace_s
        and all(kind == "no data" for kind in kinds.values())
    )
    return Observation(index, at, elapsed, readings, failures, kinds, warming, measurement.facts)


def _has_all_data(observation: Observation) -> bool:
    return bool(observation.readings) and all(k != "no data" for k in observation.kinds.values())


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value

