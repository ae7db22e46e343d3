"""The analysis window runs once per module; every SLO check of the module judges it.

The candidate's color comes from the runner (``run.candidate_color``) or, run alone, from
the platform and the router (``shiftgate.analysis.colors.candidate_color``); the stable color is the
other one. Prometheus errors inside the window are failed measurements, not setup errors:
every check then fails with the source's reason (docs/architecture.md rule 1).

Wiring only: at each look the probe reads each query's value, the versions both colors run,
and the candidate's raw counters with the router's failures for its color, each series only if
it has a sample in the last two scrape intervals (``shiftgate.analysis.counts`` adds them up
since the shift, ``run.shifted_at``, or else since the first look; the latency histogram from
``analysis.latency_warmup_s`` on), ``shiftgate.analysis.slo`` judges them, the window
(``shiftgate.analysis.window``) runs on the system clock and stops at the first look whose
evidence suffices for a rollback, or at once on a wrong version, and each measurement with its
decisions is appended to the run's analysis log, which the runner's live view tails.

The chart library loads in the background while the window waits between looks: the verdict
of a rollback then costs its chart's drawing only, not the import (docs/analysis-method.md,
"Detection time").
"""

from __future__ import annotations

import threading

import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.colors import candidate_color
from shiftgate.analysis.counts import CandidateCounts, at_shift
from shiftgate.analysis.slo import SloWindow
from shiftgate.analysis.window import Measurement, Observation, observe
from shiftgate.config.models import Color, Environment
from shiftgate.probes.analysis_log import analysis_log, jsonl_appender, window_stopped
from shiftgate.probes.clock import SystemClock
from shiftgate.probes.prometheus import PrometheusProbe, instant_values
from shiftgate.probes.prometheus_facts import Sample
from shiftgate.probes.views import platform_view, router_view


def _candidate(environment: Environment) -> Color:
    if environment.run.candidate_color is not None:
        return environment.run.candidate_color  # the runner knows: no router call needed
    weights = router_view(environment).weights()
    return candidate_color(environment, platform_view(environment).versions, weights)


def _load_chart_library() -> None:
    def load() -> None:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot  # noqa: F401  # the import is the work

    threading.Thread(target=load, name="chart-library", daemon=True).start()


def _baseline(probe: PrometheusProbe, target: slo.SloTarget, counts: CandidateCounts,
              shifted_at: float) -> None:
    """The counters at the shift: before it, up to 30 s back; after it, two scrapes."""
    start, end = shifted_at - 30, shifted_at + target.fresh_s

    def at(selector: str) -> list[Sample]:
        return at_shift(probe.raw_samples(selector, start, end), shifted_at)

    counts.baseline(at(target.counters["requests"]),
                    [s for q in target.router_failures for s in at(q)])


def run_window(environment: Environment, *, compare: bool) -> SloWindow:
    """Observe the candidate's SLOs for one window, logging each measurement inside a run."""
    target = slo.slo_target(environment, _candidate(environment), compare=compare)
    probe = PrometheusProbe(environment.prometheus)
    clock = SystemClock()
    counts = slo.new_counts(target)
    shifted_at = environment.run.shifted_at
    started = clock.now()
    label, version_label = environment.monitoring.color_label, environment.slo.version_label
    _load_chart_library()

    def measure() -> Measurement:
        if shifted_at is not None and counts.requests.looks == 0:
            _baseline(probe, target, counts, shifted_at)
        values = instant_values(probe, target.queries)
        running = probe.query(target.versions_query)
        requests = probe.query(target.fresh(target.counters["requests"]))
        router = [s for q in target.router_failures for s in probe.query(target.fresh(q))]
        warm = clock.now() - (shifted_at or started) >= target.latency_warmup_s
        buckets = probe.query(target.fresh(target.counters["buckets"])) if warm else None
        wrong = slo.wrong_versions(target, running, label, version_label)
        return slo.measurement(target, values, counts.update(requests, buckets, router), wrong)

    log = analysis_log(environment)
    on_measurement = None
    append = None
    if log is not None:
        append = jsonl_appender(log, **slo.log_context(target))

        def on_measurement(observation: Observation) -> None:
            assert append is not None
            decided = slo.decisions(target, observation, final=False)
            append({**observation.to_json(), "decisions": {m: d.to_json() for m, d in decided.items()}})

    result = observe(
        measure, environment.analysis, clock, on_measurement, stop=slo.sequential_stop(target)
    )
    if append is not None and result.stopped_early:
        # The gate fails now, whatever the checks still write: the runner, which reads this
        # log while the gate runs, moves traffic back without waiting for pytest to end.
        append(window_stopped(result.stop_reason, result.stopped_on))
    return SloWindow(target, result)


@pytest.fixture(scope="module")
def shift_window(environment: Environment) -> SloWindow:
    """Both colors serve traffic: the candidate's SLOs, and its latency next to the stable's."""
    return run_window(environment, compare=True)


@pytest.fixture(scope="module")
def promoted_window(environment: Environment) -> SloWindow:
    """All traffic on the candidate: the stable color has none left to compare with."""
    return run_window(environment, compare=False)
