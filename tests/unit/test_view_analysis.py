"""The live view's analysis line shows the sequential rule's running estimate and bounds."""

from __future__ import annotations

import json
from pathlib import Path

from shiftgate.run.plan import load_plan
from shiftgate.run.view import LiveView


def test_analysis_line_shows_estimate_bounds_and_state(tmp_path: Path) -> None:
    view = LiveView(load_plan(), tmp_path)
    view.run_id = "r1"
    log = tmp_path / "runs" / "r1" / "analysis.jsonl"
    log.parent.mkdir(parents=True)
    decision = {"state": "continue", "events": 3, "requests": 120, "estimate": 0.025,
                "lower": 0.001, "upper": 0.07, "needed": None}
    log.write_text(json.dumps({"elapsed_s": 12.0, "values": {}, "failures": {},
                               "decisions": {"error_ratio": decision}}) + "\n")
    line = view._analysis()
    assert line == "analysis at 12.0 s: error_ratio 3/120 = 2.5% [0.1%, 7.0%] continue"
