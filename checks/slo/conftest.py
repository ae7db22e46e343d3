"""The analysis window runs once per module; every SLO check of the module judges it.

The candidate's color comes from the runner (``run.candidate_color``) or, run alone, from
the platform and the router (``shiftgate.analysis.colors.candidate_color``); the stable color is the
other one. Prometheus errors inside the window are failed measurements, not setup errors:
every check then fails with the source's reason (DESIGN.md rule 1).
"""

from __future__ import annotations

import pytest

from shiftgate.analysis.colors import candidate_color
from shiftgate.analysis.slo import SloWindow, analysis_log, run_window
from shiftgate.config.models import Color, Environment
from shiftgate.probes.prometheus import PrometheusProbe
from shiftgate.probes.views import platform_view, router_view


def _candidate(environment: Environment) -> Color:
    if environment.run.candidate_color is not None:
        return environment.run.candidate_color  # the runner knows: no router call needed
    weights = router_view(environment).weights()
    return candidate_color(environment, platform_view(environment).versions, weights)


@pytest.fixture(scope="module")
def shift_window(environment: Environment) -> SloWindow:
    """Both colors serve traffic: the candidate's SLOs, and its latency next to the stable's."""
    return run_window(
        environment, PrometheusProbe(environment.prometheus), _candidate(environment),
        compare=True, log=analysis_log(environment),
    )


@pytest.fixture(scope="module")
def promoted_window(environment: Environment) -> SloWindow:
    """All traffic on the candidate: the stable color has none left to compare with."""
    return run_window(
        environment, PrometheusProbe(environment.prometheus), _candidate(environment),
        compare=False, log=analysis_log(environment),
    )
