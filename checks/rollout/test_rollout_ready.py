"""Deploy the New Version: the candidate's rollout finished, every replica ready on it."""

from __future__ import annotations

import pytest

from shiftgate.analysis import rollout
from shiftgate.analysis.rollout import Candidate
from shiftgate.config.models import Environment
from shiftgate.probes.platform import PlatformView

pytestmark = pytest.mark.checklist("Enhance Deployment Monitoring Protocols")


@pytest.mark.critical
def test_candidate_rollout_complete(
    environment: Environment, platform: PlatformView, candidate: Candidate, expect
) -> None:
    """Prepare the Environment: every replica of the candidate's color is ready on the candidate."""
    status = platform.wait_rollout(candidate.color, environment.rollout.timeout_s)
    expect(rollout.rollout_complete(status, platform.versions(), candidate.version, platform=platform.name))
