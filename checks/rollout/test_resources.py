"""Evaluate Performance: the candidate's replicas stay within their CPU and memory limits."""

from __future__ import annotations

import pytest

from shiftgate.analysis import rollout
from shiftgate.analysis.rollout import Candidate
from shiftgate.config.models import Environment
from shiftgate.probes.platform import PlatformView

pytestmark = pytest.mark.checklist("Enhance Deployment Monitoring Protocols")


def test_cpu_and_memory_per_replica(
    environment: Environment, platform: PlatformView, candidate: Candidate, expect
) -> None:
    """Evaluate Performance: CPU and memory of each replica within limits (`kubectl top pods`)."""
    uses = platform.resource_use(candidate.color)
    expect(rollout.resources_within(uses, environment.rollout, source=candidate.source))
