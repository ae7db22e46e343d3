"""Fixtures of the monitoring checks: the team's rule files.

Nothing here touches the network: a probe call happens inside the check, so an unreachable
Prometheus is a failed check with its reason (docs/architecture.md rule 1), not a setup error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shiftgate.config.models import Environment
from shiftgate.config.paths import project_root
from shiftgate.probes.rule_files import rule_paths


@pytest.fixture
def rule_files(environment: Environment, tmp_path: Path) -> list[Path]:
    """The team's rule files on disk (prometheus.rule_files, globs from the project root),
    and its PrometheusRule objects when the Prometheus Operator loads them
    (prometheus.operator_rules): an unreachable cluster fails the check with its reason."""
    paths = rule_paths(environment.prometheus.rule_files, project_root())
    operator = environment.prometheus.operator_rules
    if operator is not None:
        from shiftgate.probes.operator_rules import write_rule_file

        platform = environment.platform
        context = platform.context if platform.kind == "kubernetes" else None
        in_cluster = platform.kind == "kubernetes" and platform.in_cluster
        paths.append(write_rule_file(operator, tmp_path, context, in_cluster))
    return paths
