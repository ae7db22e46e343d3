"""Reports per run, from real Allure results of real gate runs (pytester): a run's report holds
its own results only, its outcome first, its gates in order, its versions; a check the window
never judged shows as not judged, naming the criterion that stopped the window.

Before issue 13 (item 7) ``summary.md`` was one table per gate across every run in
``reports/allure-results`` (the newest session of each gate, whatever its run), a not-judged
check read "❌ failed (product)", and the one Allure report held every run's results (25
"retries" of each check) under the last session's versions.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest

from shiftgate.report.html import ReportPaths, build_report, generate_html
from shiftgate.report.junit import summarize
from shiftgate.report.runs import NOT_JUDGED, group, read_results, read_sessions
from shiftgate.report.summary import render
from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]

RUN_A, RUN_B = "20990101-000000-recommendation-aaaa", "20990102-000000-recommendation-bbbb"
SLO_CHECKS = '''\
from shiftgate.verdict import Verdict


def test_error_rate(expect, environment):
    """Error rate within its limit."""
    bad = environment.versions.candidate == "2.0.0"
    expect(Verdict("error rate", not bad, "40 errors in 100 requests" if bad else "ruled out 10%",
                   measured="40 %" if bad else "0 %", threshold="≤ 5 %"))


def test_latency(expect, environment):
    """p95 latency within its limit."""
    v = Verdict("p95 latency", False, "not judged over the whole window", measured="worst 46 ms",
                threshold="≤ 300 ms")
    if environment.versions.candidate == "2.0.0":
        v.not_judged = "stopped early after 12.0 s of 60 s: error_ratio above its limit"
    else:
        v.passed, v.reason = True, "ruled out 10%"
    expect(v)
'''


class Journal:
    """A run's journal as the report sees it (``shiftgate.run.journal.RunState``)."""

    def __init__(self, run_id: str, candidate: str, events: list[dict[str, Any]]) -> None:
        self.run_id, self.candidate, self.events = run_id, candidate, events

    @property
    def completed_stages(self) -> list[str]:
        return [e["stage"] for e in self.events if e["event"] == "stage_done"]

    @property
    def finished(self) -> dict[str, Any] | None:
        return next((e for e in reversed(self.events) if e["event"] == "run_finished"), None)


_MADE: list[Path] = []  # the four gate runs take seconds: made once, copied for each test


@pytest.fixture
def reports(project: pytest.Pytester, tmp_path: Path) -> Path:  # noqa: F811
    if not _MADE:
        _MADE.append(_gate_runs(project))
    folder = tmp_path / "copy" / "reports"
    shutil.copytree(_MADE[0], folder)
    return folder


def _gate_runs(project: pytest.Pytester) -> Path:  # noqa: F811
    (project.path / "checks" / "database" / "test_slo.py").write_text(SLO_CHECKS)
    (project.path / "gates" / "slo.yaml").write_text(
        "name: slo\npurpose: test\nchecks:\n  - path: checks/database/test_slo.py\n")
    folder = project.path / "reports"
    allure = ["--alluredir", str(folder / "allure-results")]
    # run A: preflight-like gate and the SLO gate pass on 1.1.0
    assert run(project, "--gate", "labels", *allure, "--set", f"run.id={RUN_A}").ret == 0
    assert run(project, "--gate", "slo", *allure, "--set", f"run.id={RUN_A}").ret == 0
    # run B: 2.0.0 fails its error rate; latency is not judged; the gate fails (exit 1)
    gate = run(project, "--gate", "slo", *allure, "--candidate", "2.0.0", "--set", f"run.id={RUN_B}",
               "--junitxml", str(folder / "junit" / "slo.xml"))
    assert gate.ret == 1
    # a gate run by hand, no run id
    assert run(project, "--gate", "labels", *allure).ret == 0
    return folder


def _journals() -> list[Journal]:
    return [
        Journal(RUN_A, "1.1.0", [
            {"event": "gate_passed", "gate": "labels", "stage": "preflight", "ts": 1.0},
            {"event": "gate_passed", "gate": "slo", "stage": "shift", "ts": 2.0},
            {"event": "run_finished", "outcome": "promoted", "ts": 3.0},
        ]),
        Journal(RUN_B, "2.0.0", [
            {"event": "gate_failed", "gate": "slo", "stage": "shift", "ts": 9e12, "exit_code": 1},
            {"event": "run_finished", "outcome": "rolled_back", "reason": "gate slo failed", "ts": 9e12},
        ]),
    ]


def _by_key(reports: Path) -> dict[str, Any]:
    folder = reports / "allure-results"
    records = {j.run_id: j for j in _journals()}
    return {r.key: r for r in group(read_results(folder), read_sessions(folder), records.get)}


def test_one_report_per_run_and_per_gate_run_by_hand(reports: Path) -> None:
    found = _by_key(reports)
    assert set(found) >= {RUN_A, RUN_B} and len(found) == 3
    run_a, run_b = found[RUN_A], found[RUN_B]
    assert [g.gate for g in run_a.gates] == ["labels", "slo"]  # in the order they ran
    assert [g.gate for g in run_b.gates] == ["slo"]
    assert {c.run_id for c in run_a.checks} == {RUN_A}
    assert {c.parameters["candidate version"] for c in run_a.checks} == {"1.1.0"}
    assert {c.parameters["candidate version"] for c in run_b.checks} == {"2.0.0"}
    assert run_a.facts["version.candidate"] == "1.1.0" and run_b.facts["version.candidate"] == "2.0.0"
    (by_hand,) = (r for r in found.values() if r.run_id is None)
    assert by_hand.key.startswith("session-") and by_hand.outcome == "gate labels passed"


def test_outcome_first_from_the_journal(reports: Path) -> None:
    found = _by_key(reports)
    assert found[RUN_A].outcome == "promoted" and found[RUN_A].ok is True
    assert found[RUN_B].outcome == "rolled back (gate slo failed)" and found[RUN_B].ok is False
    summary = render(found[RUN_B], list(found.values()))
    assert summary.startswith(f"# shiftgate run `{RUN_B}`: ❌ rolled back")


def test_not_judged_is_not_a_product_failure(reports: Path) -> None:
    run_b = _by_key(reports)[RUN_B]
    (gate,) = run_b.gates
    statuses = {c.check: c.status for c in gate.checks}
    assert statuses == {"Error rate within its limit.": "failed", "p95 latency within its limit.": NOT_JUDGED}
    assert gate.verdict == "failed"  # decided by the error rate, the criterion that stopped it
    summary = render(run_b, [run_b])
    assert "## Gate `slo`: ❌ blocked (0/2 checks passed, 1 failed, 1 not judged)" in summary
    latency_row = next(line for line in summary.splitlines() if line.startswith("| p95 latency"))
    assert "⏸️ not judged" in latency_row and "failed" not in latency_row and "product" not in latency_row
    assert "stopped by stopped early after 12.0 s of 60 s: error_ratio above its limit" in summary
    error_row = next(line for line in summary.splitlines() if line.startswith("| Error rate"))
    assert "❌ failed (product)" in error_row


def test_a_run_summary_holds_no_other_run(reports: Path) -> None:
    found = _by_key(reports)
    text = render(found[RUN_A], ())
    assert "2.0.0" not in text and RUN_B not in text
    assert "## Gate `labels`: ✅ passed" in text and "## Gate `slo`: ✅ passed" in text
    assert text.index("## Gate `labels`") < text.index("## Gate `slo`")


def test_junit_counts_not_judged_apart_and_the_gate_still_failed(reports: Path) -> None:
    summary = summarize(reports / "junit" / "slo.xml")
    assert (summary.tests, summary.failed, summary.passed) == (2, 1, 0)
    assert [line.split(":")[0] for line in summary.not_judged] == ["test_latency"]
    assert summary.failures[0].startswith("test_error_rate: Failed: [product regression]")


def test_not_judged_alone_still_fails_the_gate(project: pytest.Pytester) -> None:  # noqa: F811
    """A gate whose only non-passing check was not judged (the deciding criterion is not in
    it) must not pass: fail closed, exit status 1."""
    (project.path / "checks" / "database" / "test_slo.py").write_text(SLO_CHECKS)
    (project.path / "gates" / "latency.yaml").write_text(
        "name: latency\npurpose: test\nchecks:\n  - path: checks/database/test_slo.py::test_latency\n")
    assert run(project, "--gate", "latency", "--candidate", "2.0.0").ret == 1


def test_build_writes_one_summary_per_run_and_the_index(reports: Path) -> None:
    built = build_report(reports, runs=_journals(), html=False, current=RUN_B)
    assert built.shown is not None and built.shown.key == RUN_B
    files = {p.stem for p in (reports / "summaries").glob("*.md")}
    assert {RUN_A, RUN_B} <= files and len(files) == 3
    text = (reports / "summary.md").read_text()
    assert text.startswith(f"# shiftgate run `{RUN_B}`")
    index = text[text.index("## Runs"):]
    assert RUN_A in index and f"`{RUN_B}` (this report)" in index
    head = text[: text.index("## Runs")]
    assert "version.candidate 2.0.0" in head  # this run's versions, not the other run's
    assert "version.candidate 1.1.0" not in head and RUN_A not in head


FAKE_ALLURE = """\
#!/usr/bin/env python3
# A stand-in for `allure generate RESULTS --config CFG --output OUT`: records what it was given.
import json, os, sys
results, config, out = sys.argv[2], sys.argv[4], sys.argv[6]
cfg = json.load(open(config))
os.makedirs(out, exist_ok=True)
names = sorted(os.listdir(results))
given = open(cfg["historyPath"]).read().splitlines()
json.dump({"files": names, "name": cfg["name"], "history": given,
           "env": open(os.path.join(results, "environment.properties")).read()},
          open(os.path.join(out, "given.json"), "w"))
open(os.path.join(out, "index.html"), "w").write("<html></html>")
with open(cfg["historyPath"], "a") as h:
    h.write(json.dumps({"uuid": out, "name": cfg["name"], "timestamp": 1}) + "\\n")
"""


def test_each_run_gets_its_own_allure_report_and_earlier_history(reports: Path, tmp_path: Path) -> None:
    binary = tmp_path / "allure"
    binary.write_text(textwrap.dedent(FAKE_ALLURE))
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    paths = ReportPaths.under(reports)
    found = sorted(_by_key(reports).values(), key=lambda r: r.start)
    generated = generate_html(paths, found, "t", binary)
    assert generated == [r.key for r in found]
    given = {r.key: json.loads((paths.run_html(r) / "given.json").read_text()) for r in found}
    results_of = {r.key: {f for c in r.checks for f in c.files if f.endswith("-result.json")} for r in found}
    for report in found:
        files = set(given[report.key]["files"])
        assert {f for f in files if f.endswith("-result.json")} == results_of[report.key]
        assert "environment.properties" in files and "categories.json" in files
    env = given[RUN_B]["env"]
    assert env.startswith("outcome=rolled back")  # the run's outcome first
    assert "version.candidate=2.0.0" in env and "version.candidate=1.1.0" not in env
    # history: each run sees the runs before it, never itself or a later one
    assert [len(given[r.key]["history"]) for r in found] == [0, 1, 2]
    assert "rolled back" in given[RUN_B]["name"] or "blocked" in given[RUN_B]["name"]
    index = (paths.html / "index.html").read_text()
    assert all(f'href="runs/{r.slug}/index.html"' in index for r in found)
    # nothing changed: nothing generated again, history unchanged
    before = paths.history.read_text()
    assert generate_html(paths, found, "t", binary) == []
    assert paths.history.read_text() == before and len(before.splitlines()) == 3


def test_a_run_id_cannot_name_a_path_outside_the_reports(reports: Path) -> None:
    found = _by_key(reports)
    report = found[RUN_A]
    report.key = "../../etc/x"
    assert "/" not in report.slug and not report.slug.startswith(".")
    assert os.sep not in report.slug
