"""Rollout verdicts on synthetic platform facts: complete, logs clean, resources within,
and every way each fails closed; plus the sandbox platform's log parsing."""

from __future__ import annotations

import json
import math

import pytest

from shiftgate.analysis import rollout
from shiftgate.analysis.rollout import Candidate, log_window
from shiftgate.config.models import Color, RolloutConfig
from shiftgate.platforms.base import LogLine, ResourceUse, RolloutStatus
from shiftgate.probes.kubernetes_platform import replica_state
from shiftgate.probes.platform import ReplicaState
from shiftgate.sandbox.platform import parse_log

CANDIDATE = "2.5.0"
VERSIONS: dict[Color, str | None] = {"blue": CANDIDATE, "green": "2.4.3"}
PATTERNS = RolloutConfig().log_error_patterns
MB = 1024 * 1024


def status(**changes: object) -> RolloutStatus:
    values: dict[str, object] = {
        "color": "blue", "version": CANDIDATE, "desired": 2, "updated": 2, "ready": 2,
        "available": 2, "complete": True, "failed": False, "message": "2/2 ready",
    }
    values.update(changes)
    return RolloutStatus(**values)  # type: ignore[arg-type]


# -- rollout_complete -----------------------------------------------------------------------
def test_complete_rollout_on_the_candidate_passes() -> None:
    verdict = rollout.rollout_complete(status(), VERSIONS, CANDIDATE, platform="sandbox")
    assert verdict.passed, verdict.message()
    assert verdict.reason == "2/2 replicas of blue updated, ready and available on 2.5.0"
    assert verdict.source == "sandbox platform, blue color"
    body = json.loads(verdict.attachments[0].body)
    assert body["status"]["ready"] == 2 and body["versions"] == VERSIONS


@pytest.mark.parametrize(
    ("changes", "versions", "expected"),
    [
        ({"ready": 1, "available": 1, "complete": False}, VERSIONS, "1 of 2 replicas ready"),
        ({"updated": 1, "complete": False, "message": "1 out of 2 new replicas"}, VERSIONS,
         "1 of 2 replicas updated"),
        ({"available": 0, "complete": False}, VERSIONS, "0 of 2 replicas available"),
        ({"failed": True, "complete": False, "message": "not running: blue-1"}, VERSIONS,
         "rollout failed: not running: blue-1"),
        ({"complete": False, "message": "old replicas pending termination"}, VERSIONS,
         "rollout not complete: old replicas pending termination"),
        ({"version": "2.4.3"}, {"blue": "2.4.3", "green": "2.4.3"},
         "blue is rolled out to 2.4.3, not 2.5.0"),
        ({"version": None}, VERSIONS, "blue is rolled out to no version, not 2.5.0"),
        ({}, {"blue": None, "green": "2.4.3"}, "the platform reports nothing running on blue"),
        ({}, {"blue": "2.4.3", "green": "2.5.0"}, "the platform reports 2.4.3 on blue"),
        ({"desired": 0, "updated": 0, "ready": 0, "available": 0}, VERSIONS,
         "blue has no replicas desired"),
    ],
)
def test_incomplete_or_wrong_rollout_fails(
    changes: dict[str, object], versions: dict[Color, str | None], expected: str
) -> None:
    verdict = rollout.rollout_complete(status(**changes), versions, CANDIDATE)
    assert not verdict.passed
    assert expected in verdict.reason
    assert "platform says:" in verdict.message()


def test_a_failed_rollout_lists_every_problem() -> None:
    verdict = rollout.rollout_complete(
        status(ready=0, available=0, updated=1, failed=True, complete=False), VERSIONS, CANDIDATE
    )
    assert verdict.reason.count(";") == 3  # failed, updated, ready, available


# -- logs_clean -----------------------------------------------------------------------------
SINCE = 1_700_000_000.0


def line(text: str, at: float = SINCE + 10, replica: str = "blue-1") -> LogLine:
    return LogLine(replica=replica, timestamp=at, text=text)


def test_clean_logs_pass() -> None:
    lines = [line("2023-11-14T22:13:30.000Z INFO recommendation pool opened"), line("WARNING slow")]
    verdict = rollout.logs_clean(lines, PATTERNS, SINCE, source="sandbox", since_note="since x")
    assert verdict.passed, verdict.message()
    assert verdict.reason == "none of 2 log lines matches the 4 error patterns"
    assert "since x" in str(verdict.measured)


def test_no_lines_since_the_deploy_fail() -> None:
    """Issue 13 item 2. Before: zero log lines passed ("none of 0 log lines matches"; the
    post-deploy gate exit 0). Now: nothing to scan fails (exit 1)."""
    verdict = rollout.logs_clean([], PATTERNS, SINCE)
    assert not verdict.passed and "no log line since" in verdict.reason
    old = line("fine", at=SINCE - 1)
    assert not rollout.logs_clean([old], PATTERNS, SINCE).passed


# -- replicas_steady -------------------------------------------------------------------------
def steady(*replicas: ReplicaState, lines: list[LogLine] | None = None) -> rollout.Verdict:
    shown = [line("INFO up", replica="blue-1"), line("INFO up", replica="blue-2")] if lines is None else lines
    return rollout.replicas_steady(replicas, shown, SINCE, since_note="since the deploy")


def test_replicas_that_logged_and_never_restarted_pass() -> None:
    verdict = steady(ReplicaState("blue-1"), ReplicaState("blue-2", restarts=3, last_restart_at=SINCE - 60))
    assert verdict.passed, verdict.message()
    assert verdict.reason == "all 2 replicas logged since the deploy, none restarted"


def test_a_replica_without_a_log_line_since_the_deploy_fails() -> None:
    """Issue 13 item 2. Before: a replica that wrote nothing was invisible (its siblings'
    lines passed the log check, exit 0). Now it fails by name (exit 1)."""
    only_one = [line("INFO up", replica="blue-1")]
    verdict = steady(ReplicaState("blue-1"), ReplicaState("blue-2"), lines=only_one)
    assert not verdict.passed and verdict.reason == "blue-2 wrote no log line since the deploy"


def test_a_replica_without_a_record_fails() -> None:
    """Issue 13 item 2. Before: the sandbox skipped a replica without a record (exit 0).
    Now it fails (exit 1)."""
    verdict = steady(ReplicaState("blue-1"), ReplicaState("blue-2", recorded=False))
    assert not verdict.passed
    assert "blue-2 has no record on the platform" in verdict.reason


@pytest.mark.parametrize("last", [SINCE + 5, None], ids=["after the deploy", "unknown time"])
def test_a_restart_since_the_deploy_fails(last: float | None) -> None:
    """Issue 13 item 2. Before: restarts were never counted, so a crash-looping pod that is
    Ready now passed (exit 0). Now a restart since the deploy (or of unknown time) fails (exit 1)."""
    verdict = steady(ReplicaState("blue-1"), ReplicaState("blue-2", restarts=1, last_restart_at=last))
    assert not verdict.passed
    assert verdict.reason == "blue-2 restarted since the deploy (1 restarts in all)"


def test_no_replica_fails_closed() -> None:
    assert not rollout.replicas_steady([], [line("x")], SINCE).passed


def test_previous_container_lines_count_for_their_pod() -> None:
    lines = [line("INFO", replica="pod-a/app (previous)"), line("INFO", replica="pod-b")]
    assert steady(ReplicaState("pod-a"), ReplicaState("pod-b"), lines=lines).passed


def test_kubernetes_restarts_come_from_the_container_statuses() -> None:
    pod = {"metadata": {"name": "p"}, "status": {"containerStatuses": [
        {"name": "app", "restartCount": 2,
         "lastState": {"terminated": {"finishedAt": "2023-11-14T22:13:30Z"}}},
        {"name": "sidecar", "restartCount": 0},
    ]}}
    state = replica_state(pod)
    assert (state.restarts, state.last_restart_at) == (2, 1_700_000_010.0)
    unknown = {"metadata": {"name": "p"}, "status": {"containerStatuses": [{"restartCount": 1}]}}
    assert replica_state(unknown).last_restart_at is None
    assert replica_state({"metadata": {"name": "p"}, "status": {}}).restarts == 0


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("2023-11-14T22:13:30.000Z ERROR recommendation request failed: internal error", r"\bERROR\b"),
        ("CRITICAL worker died", r"\bCRITICAL\b"),
        ("Traceback (most recent call last):", "Traceback"),
        ('psycopg.OperationalError: FATAL: sorry, too many clients already', "too many clients"),
    ],
)
def test_each_error_pattern_fails(text: str, pattern: str) -> None:
    verdict = rollout.logs_clean([line("fine"), line(text, replica="blue-2")], PATTERNS, SINCE)
    assert not verdict.passed
    assert verdict.reason.startswith("1 of 2 log lines match an error pattern; first: blue-2: ")
    assert text in verdict.message() and pattern in verdict.message()


def test_lines_before_the_window_do_not_count() -> None:
    old = line("ERROR before the deploy", at=SINCE - 1)
    assert rollout.logs_clean([old, line("ok")], PATTERNS, SINCE).passed


def test_words_containing_error_do_not_match() -> None:
    assert rollout.logs_clean([line("errors_total=0 TERRORIST")], PATTERNS, SINCE).passed


def test_only_the_first_20_matching_lines_are_shown() -> None:
    lines = [line(f"ERROR request failed {i}") for i in range(30)]
    verdict = rollout.logs_clean(lines, PATTERNS, SINCE)
    body = json.loads(verdict.attachments[0].body)
    assert body["matching"] == 30 and len(body["first 20"]) == 20
    assert body["patterns"] == PATTERNS
    assert verdict.details[-1] == "... and 10 more"
    assert "request failed 19" in verdict.message() and "request failed 20" not in verdict.message()


def test_long_lines_are_cut() -> None:
    verdict = rollout.logs_clean([line("ERROR " + "x" * 1000)], PATTERNS, SINCE)
    assert len(verdict.details[0]) < 400


@pytest.mark.parametrize(
    ("patterns", "expected"), [([], "is empty"), (["(unclosed"], "invalid error pattern")]
)
def test_missing_or_invalid_patterns_fail_as_configuration(patterns: list[str], expected: str) -> None:
    verdict = rollout.logs_clean([line("fine")], patterns, SINCE)
    assert not verdict.passed and verdict.fault == "configuration"
    assert expected in verdict.reason


def test_custom_patterns() -> None:
    assert not rollout.logs_clean([line("pool exhausted")], ["exhausted"], SINCE).passed


# -- resources_within -----------------------------------------------------------------------
LIMITS = RolloutConfig(cpu_cores_max=1.0, memory_mb_max=512)


def use(replica: str = "blue-1", cpu: float = 0.1, mb: float = 60) -> ResourceUse:
    return ResourceUse(replica=replica, cpu_cores=cpu, memory_bytes=int(mb * MB))


def test_replicas_within_limits_pass() -> None:
    verdict = rollout.resources_within([use(), use("blue-2", 0.4, 80)], LIMITS, source="s")
    assert verdict.passed, verdict.message()
    assert verdict.reason == "peak CPU 0.40 cores, peak memory 80.0 MB over 2 replicas"
    body = json.loads(verdict.attachments[0].body)
    assert body["replicas"][1] == {"replica": "blue-2", "cpu_cores": 0.4, "memory_mb": 80.0}
    assert body["memory_mb_max"] == 512


@pytest.mark.parametrize(
    ("uses", "expected"),
    [
        ([use(mb=600)], "blue-1 memory 600.0 MB > 512 MB"),
        ([use(), use("blue-2", cpu=1.5)], "blue-2 CPU 1.50 cores > 1"),
        ([use(cpu=math.nan)], "blue-1: no valid measurement"),
        ([use(mb=0)], "blue-1: no valid measurement"),
        ([use(cpu=-0.1)], "blue-1: no valid measurement"),
    ],
)
def test_replicas_over_limits_or_unmeasured_fail(uses: list[ResourceUse], expected: str) -> None:
    verdict = rollout.resources_within(uses, LIMITS)
    assert not verdict.passed
    assert expected in verdict.reason


def test_limits_are_inclusive() -> None:
    assert rollout.resources_within([use(cpu=1.0, mb=512)], LIMITS).passed


def test_no_replicas_fail_closed() -> None:
    verdict = rollout.resources_within([], LIMITS)
    assert not verdict.passed and verdict.fault == "infrastructure"
    assert "no replica to measure" in verdict.reason


# -- window and candidate -------------------------------------------------------------------
def test_log_window_is_the_deploy_time_when_the_runner_gives_it() -> None:
    since, note = log_window(SINCE, SINCE + 3600)
    assert since == SINCE and "run.deployed_at" in note and "deploy began" in note


def test_log_window_alone_is_the_last_15_minutes_and_says_so() -> None:
    since, note = log_window(None, SINCE)
    assert since == SINCE - 900
    assert "the last 15 min" in note and "ran alone" in note


def test_candidate_resolves_its_color_once_on_first_use() -> None:
    calls: list[int] = []

    def resolve() -> str:
        calls.append(1)
        return "blue"

    candidate = Candidate("2.5.0", SINCE, "note", "sandbox", resolve)  # type: ignore[arg-type]
    assert calls == []
    assert candidate.source == "sandbox platform, blue color, candidate 2.5.0"
    assert candidate.color == "blue" and calls == [1]


# -- the sandbox platform's log parsing -----------------------------------------------------
def test_sandbox_log_lines_get_their_own_or_the_next_timestamp() -> None:
    text = (
        "Traceback at the head\n"
        "2023-11-14T22:13:20.500Z ERROR recommendation request failed\n"
        "  File app.py\n"
        "2023-11-14T22:13:30.000Z INFO recommendation ok\n"
        "uvicorn trailing line\n"
    )
    lines = parse_log("blue-1", text, written=SINCE + 99)
    stamps = [round(entry.timestamp - SINCE, 1) for entry in lines]
    assert stamps == [0.5, 0.5, 10.0, 10.0, 99.0]
    assert lines[1].text.endswith("request failed") and lines[0].replica == "blue-1"


# -- resources_under_load --------------------------------------------------------------------
def reading(replica: str, cpu: float, mb: float) -> ResourceUse:
    return ResourceUse(replica, cpu, int(mb * MB))


def test_memory_grown_only_under_load_fails() -> None:
    """Issue 13 item 5. Before: the post-deploy gate read CPU and memory once, before the load
    test, on idle replicas (120 MB: exit 0). Now the readings during the load catch the 600 MB
    peak (exit 1)."""
    config = RolloutConfig()
    idle = [reading("blue-1", 0.01, 120), reading("blue-2", 0.01, 118)]
    assert rollout.resources_within(idle, config).passed  # what the gate judged before
    during = [idle, [reading("blue-1", 0.6, 380), reading("blue-2", 0.5, 300)],
              [reading("blue-1", 0.7, 600), reading("blue-2", 0.6, 310)]]
    verdict = rollout.resources_under_load(during, idle, [], config, source="blue under load")
    assert not verdict.passed
    assert verdict.reason == "blue-1 memory 600.0 MB > 512 MB"
    assert "3 readings during the load, 1 after it" in verdict.message()


def test_cpu_under_load_is_averaged_and_memory_peaks_after_count() -> None:
    config = RolloutConfig()
    during = [[reading("blue-1", 1.4, 200)], [reading("blue-1", 0.4, 210)]]
    assert rollout.resources_under_load(during, [reading("blue-1", 0.0, 220)], [], config).passed
    busy = [[reading("blue-1", 1.4, 200)], [reading("blue-1", 1.2, 210)]]
    assert "CPU 1.30 cores > 1" in rollout.resources_under_load(busy, [], [], config).reason
    after = [reading("blue-1", 0.0, 700)]
    assert "memory 700.0 MB" in rollout.resources_under_load(during, after, [], config).reason


@pytest.mark.parametrize(
    ("during", "errors", "expected"),
    [([], [], "no reading of CPU and memory during the load"),
     ([[reading("blue-1", 0.1, 100)]], ["after the load: replica blue-1 unavailable"], "after the load")],
)
def test_not_measured_under_load_fails_closed(
    during: list[list[ResourceUse]], errors: list[str], expected: str
) -> None:
    verdict = rollout.resources_under_load(during, [], errors, RolloutConfig())
    assert not verdict.passed and expected in verdict.reason and verdict.fault == "infrastructure"
