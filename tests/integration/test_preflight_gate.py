"""The preflight gate as CI runs it (`shiftgate gate preflight`): database and monitoring
checks together, the same verdicts whether pytest runs them in one process or with xdist."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from shiftgate.config.paths import project_root

pytestmark = pytest.mark.integration


def gate(reports: Path, *extra: str) -> tuple[int, dict[str, str], str]:
    env = {**os.environ, "SHIFTGATE_REPORTS_DIR": str(reports)}
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "gate", "preflight", "--env", "sandbox",
         "--candidate", "2.5.0", *extra],
        env=env, cwd=project_root(), capture_output=True, text=True, check=False, timeout=300,
    )
    outcomes = {}
    for case in ET.parse(reports / "junit" / "preflight.xml").getroot().iter("testcase"):
        failed = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        outcomes[f"{case.get('classname')}.{case.get('name')}"] = (
            "failed" if failed else "skipped" if skipped else "passed"
        )
    return result.returncode, outcomes, result.stdout


def test_incident_state_same_verdicts_with_and_without_xdist(sandbox: dict[str, Any], tmp_path: Path) -> None:
    code, serial, out = gate(tmp_path / "serial")
    assert code == 1
    assert "peak demand" in out and "no usable index leading with (user_segment)" in out
    failed = {name.rsplit(".", 1)[1] for name, verdict in serial.items() if verdict == "failed"}
    assert {
        "test_max_connections_hold_both_colors_at_peak",
        "test_candidate_indexes_exist_and_are_usable",
        "test_candidate_queries_use_an_index",
    } <= failed
    assert any("monitoring" in name for name in serial)  # both areas in one gate
    parallel_code, parallel, _ = gate(tmp_path / "xdist", "-n", "2")
    assert parallel_code == code
    assert parallel == serial
