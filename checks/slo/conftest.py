"""The analysis window runs once per module; every SLO check of the module judges it.

The candidate's color comes from the runner (``run.candidate_color``) or, run alone, from
the platform and the router (``shiftgate.analysis.colors.candidate_color``); the stable color is the
other one. Prometheus errors inside the window are failed measurements, not setup errors:
every check then fails with the source's reason (docs/architecture.md rule 1).

Wiring only: at each look the probe reads each query's value and the candidate's raw counters
(``shiftgate.analysis.counts`` adds them up since the first look; the latency histogram from
``analysis.latency_warmup_s`` on), ``shiftgate.analysis.slo`` judges them, the window
(``shiftgate.analysis.window``) runs on the system clock and stops at the first look whose
evidence suffices for a rollback, and each measurement with its decisions is appended to the
run's analysis log, which the runner's live view tails.
"""

from __future__ import annotations

import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.colors import candidate_color
from shiftgate.analysis.counts import CandidateCounts
from shiftgate.analysis.slo import SloWindow
from shiftgate.analysis.window import Measurement, Observation, observe
from shiftgate.config.models import Color, Environment
from shiftgate.probes.analysis_log import analysis_log, jsonl_appender
from shiftgate.probes.clock import SystemClock
from shiftgate.probes.prometheus import PrometheusProbe, instant_values
from shiftgate.probes.views import platform_view, router_view


def _candidate(environment: Environment) -> Color:
    if environment.run.candidate_color is not None:
        return environment.run.candidate_color  # the runner knows: no router call needed
    weights = router_view(environment).weights()
    return candidate_color(environment, platform_view(environment).versions, weights)


def run_window(environment: Environment, *, compare: bool) -> SloWindow:
    """Observe the candidate's SLOs for one window, logging each measurement inside a run."""
    target = slo.slo_target(environment, _candidate(environment), compare=compare)
    probe = PrometheusProbe(environment.prometheus)
    clock = SystemClock()
    counts = CandidateCounts(target.error_status, target.latency_threshold_s)
    started = clock.now()

    def measure() -> Measurement:
        values = instant_values(probe, target.queries)
        requests = probe.query(target.counters["requests"])
        warm = clock.now() - started >= target.latency_warmup_s
        buckets = probe.query(target.counters["buckets"]) if warm else None
        return slo.measurement(target, values, counts.update(requests, buckets))

    log = analysis_log(environment)
    on_measurement = None
    if log is not None:
        append = jsonl_appender(log, **slo.log_context(target))

        def on_measurement(observation: Observation) -> None:
            decided = slo.decisions(target, observation, final=False)
            append({**observation.to_json(), "decisions": {m: d.to_json() for m, d in decided.items()}})

    result = observe(
        measure, environment.analysis, clock, on_measurement, stop=slo.sequential_stop(target)
    )
    return SloWindow(target, result)


@pytest.fixture(scope="module")
def shift_window(environment: Environment) -> SloWindow:
    """Both colors serve traffic: the candidate's SLOs, and its latency next to the stable's."""
    return run_window(environment, compare=True)


@pytest.fixture(scope="module")
def promoted_window(environment: Environment) -> SloWindow:
    """All traffic on the candidate: the stable color has none left to compare with."""
    return run_window(environment, compare=False)
