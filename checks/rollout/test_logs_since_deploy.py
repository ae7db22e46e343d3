"""Monitor Deployment: the candidate's logs since the deploy hold no error, and every replica
logged and never restarted since."""

from __future__ import annotations

import pytest

from shiftgate.analysis import rollout
from shiftgate.analysis.rollout import Candidate
from shiftgate.config.models import Environment
from shiftgate.probes.platform import PlatformView

pytestmark = pytest.mark.checklist("Enhance Deployment Monitoring Protocols")


def test_no_errors_in_logs_since_deploy(
    environment: Environment, platform: PlatformView, candidate: Candidate, expect
) -> None:
    """Monitor Deployment: check for errors in logs (`kubectl logs`) since the deploy."""
    lines = platform.logs(candidate.color, candidate.since)
    expect(rollout.logs_clean(
        lines, environment.rollout.log_error_patterns, candidate.since,
        source=candidate.source, since_note=candidate.since_note,
    ))


def test_every_replica_logged_and_never_restarted(
    platform: PlatformView, candidate: Candidate, expect
) -> None:
    """Monitor Deployment: every replica logged since the deploy and none restarted
    (`kubectl get pods` RESTARTS, `kubectl logs --previous`)."""
    replicas = platform.replicas(candidate.color)
    lines = platform.logs(candidate.color, candidate.since)
    expect(rollout.replicas_steady(
        replicas, lines, candidate.since, source=candidate.source, since_note=candidate.since_note,
    ))
