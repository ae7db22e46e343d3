"""The analysis window on a fake clock: schedule, fail fast, fail closed, grace."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from shiftgate.analysis.window import Measurement, Reading, observe
from shiftgate.config.models import AnalysisConfig
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.analysis_log import jsonl_appender


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def config(**changes: float) -> AnalysisConfig:
    values: dict[str, float] = {
        "interval_s": 2, "window_s": 20, "failure_limit": 2, "min_samples": 5, "no_data_grace_s": 0,
    }
    values.update(changes)
    return AnalysisConfig.model_validate(values)


def series(*values: float | None) -> Callable[[], Measurement]:
    """A measure returning one error ratio per call (limit 0.05), then the last forever."""
    queue = list(values)

    def measure() -> Measurement:
        value = queue.pop(0) if len(queue) > 1 else queue[0]
        return Measurement([Reading("error_ratio", value, 0.05), Reading("info", 1.0, judged=False)])

    return measure


def test_all_good_runs_the_whole_window() -> None:
    clock = FakeClock()
    result = observe(series(0.01), config(), clock)
    assert result.passed
    assert len(result.observations) == 11  # t = 0, 2, ..., 20
    assert not result.stopped_early
    assert result.elapsed_s == pytest.approx(20)
    assert "window complete: 11 counted" in result.stop_reason


def test_breach_from_the_third_sample_stops_at_the_failure_limit() -> None:
    clock = FakeClock()
    result = observe(series(0.0, 0.0, 0.5, 0.6, 0.0), config(), clock)
    assert not result.passed
    assert result.stopped_early
    assert len(result.observations) == 4
    assert result.elapsed_s == pytest.approx(6) and result.elapsed_s < 20
    assert result.observations[2].failures == {"error_ratio": "0.5 > 0.05"}
    assert "2 failed measurements reached the failure limit 2 after 6.0 s" in result.stop_reason


@pytest.mark.parametrize("bad", [math.nan, None])
def test_nan_and_no_data_fail(bad: float | None) -> None:
    result = observe(series(bad), config(), FakeClock())
    assert result.stopped_early
    reason = result.observations[0].failures["error_ratio"]
    assert reason.startswith("NaN" if bad is not None else "no data")


def test_too_few_samples_fail() -> None:
    result = observe(series(0.0), config(window_s=4, interval_s=2), FakeClock())
    assert len(result.observations) == 3
    assert not result.passed
    assert "fewer than the 5 needed" in result.stop_reason


@pytest.mark.parametrize("values", [
    (0.0, 0.9, 0.0, 0.0, 0.0),
    (0.9, 0.0, 0.0, 0.0, 0.0, 0.0),
    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.9),
])
def test_single_failures_below_the_limit_pass(values: tuple[float, ...]) -> None:
    result = observe(series(*values), config(), FakeClock())
    assert result.passed
    assert len(result.failed) == 1


def test_failures_need_not_be_consecutive() -> None:
    result = observe(series(0.9, 0.0, 0.0, 0.9, 0.0), config(), FakeClock())
    assert result.stopped_early and len(result.observations) == 4


def test_failure_limit_one_stops_at_the_first_breach() -> None:
    result = observe(series(0.0, 0.2), config(failure_limit=1), FakeClock())
    assert result.stopped_early and len(result.observations) == 2


def test_unreadable_source_fails_the_measurement_with_its_reason() -> None:
    def measure() -> Measurement:
        raise SourceUnavailable("prometheus http://x", "ConnectionError: refused")

    result = observe(measure, config(no_data_grace_s=10), FakeClock())
    assert result.stopped_early and len(result.observations) == 2
    assert "refused" in result.observations[0].failures["source"]
    assert result.observations[0].metric_failure("error_ratio") is not None


def test_schedule_does_not_drift_with_slow_measurements() -> None:
    clock = FakeClock()

    def slow() -> Measurement:
        clock.t += 0.5  # each query round trip takes half a second
        return Measurement([Reading("error_ratio", 0.0, 0.05)])

    result = observe(slow, config(window_s=6), clock)
    assert [o.elapsed_s for o in result.observations] == [0, 2, 4, 6]
    assert clock.sleeps == [1.5, 1.5, 1.5]


def test_no_data_right_after_a_shift_is_warm_up_within_the_grace() -> None:
    result = observe(series(None, None, 0.0), config(no_data_grace_s=10), FakeClock())
    assert result.passed
    assert [o.warming_up for o in result.observations[:3]] == [True, True, False]
    assert len(result.counted) == 9


def test_no_data_forever_fails_after_the_grace() -> None:
    result = observe(series(None), config(no_data_grace_s=5), FakeClock())
    assert result.stopped_early
    assert [o.warming_up for o in result.observations] == [True, True, True, False, False]


def test_no_data_after_data_is_a_failure_even_within_the_grace() -> None:
    result = observe(series(0.0, None, None), config(no_data_grace_s=10), FakeClock())
    assert result.stopped_early and len(result.observations) == 3


def test_breach_is_never_warm_up() -> None:
    result = observe(series(0.5), config(no_data_grace_s=10), FakeClock())
    assert result.stopped_early and len(result.observations) == 2


def test_every_observation_is_recorded_as_a_json_line(tmp_path: Path) -> None:
    log = tmp_path / "runs" / "r1" / "analysis.jsonl"
    seen = []
    append = jsonl_appender(log, candidate_color="blue")

    def record(observation):  # type: ignore[no-untyped-def]
        seen.append(observation)
        append(observation.to_json())

    observe(series(0.0, math.nan, 0.2), config(), FakeClock(), on_measurement=record)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == len(seen) == 3
    assert lines[1]["values"]["error_ratio"] is None  # NaN is not JSON
    assert lines[2]["failures"] == {"error_ratio": "0.2 > 0.05"}
    assert lines[0]["candidate_color"] == "blue"
    assert lines[0]["thresholds"] == {"error_ratio": 0.05}


def test_stop_ends_the_window_with_its_reason() -> None:
    seen: list[int] = []

    def stop(observation: object) -> str | None:
        seen.append(1)
        return "enough evidence" if len(seen) == 3 else None

    config = AnalysisConfig(interval_s=1, window_s=30)
    result = observe(lambda: Measurement([Reading("x", 1.0, 2.0)]), config, _StopClock(), stop=stop)
    assert result.stopped_early and len(result.observations) == 3
    assert result.stop_reason == "stopped early after 2.0 s of 30 s: enough evidence"


class _StopClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
