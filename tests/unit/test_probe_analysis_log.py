"""The run's analysis log: where it is, and one JSON line per record with its context."""

from __future__ import annotations

import json
from pathlib import Path

from shiftgate.config.loader import load_environment
from shiftgate.probes.analysis_log import analysis_log, jsonl_appender
from tests.unit.test_analysis_slo import FAKE


def test_analysis_log_only_inside_a_run() -> None:
    assert analysis_log(load_environment("sandbox", environ=FAKE)) is None
    path = analysis_log(load_environment("sandbox", environ=FAKE, overrides=["run.id=r42"]))
    assert path is not None and path.parts[-3:] == ("runs", "r42", "analysis.jsonl")


def test_records_are_appended_as_json_lines_with_their_context(tmp_path: Path) -> None:
    log = tmp_path / "runs" / "r1" / "analysis.jsonl"  # the folder does not exist yet
    append = jsonl_appender(log, candidate_color="blue")
    append({"index": 0, "at": 1.5})
    append({"index": 1, "candidate_color": "green"})  # the record's own value wins
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [
        {"candidate_color": "blue", "index": 0, "at": 1.5},
        {"candidate_color": "green", "index": 1},
    ]
