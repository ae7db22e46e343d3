"""Settings that would switch a check off are refused where they are loaded (issue 13, item 3).

Each case below loaded before this change (``shiftgate config`` exit 0, and every gate ran
with the check switched off); now loading raises ``ConfigError`` naming the key and where the
value came from, and the CLI exits 2 with the file and key named. Overrides that load are
recorded with their source for the journal and the report.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shiftgate.config.bounds import measurements_in_window
from shiftgate.config.loader import load_environment
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError, ExitCode
from tests.unit.test_config import ENV, SANDBOX_YAML, refusal, sandbox_data, write

Data = dict[str, Any]


def kubernetes(data: Data, **fields: Any) -> None:
    data["platform"] = {"kind": "kubernetes", "namespace": "shop", **fields}


FILE_CASES: list[tuple[str, Callable[[Data], None], str, str]] = [
    ("failure_limit above the window's measurements: a candidate failing every one passes",
     lambda d: d["analysis"].update(failure_limit=60), "analysis.failure_limit", "can never be reached"),
    ("min_samples above the window's measurements: nothing can pass",
     lambda d: d["analysis"].update(min_samples=47), "analysis.min_samples", "can never be collected"),
    ("an infinite latency threshold in the file", lambda d: d["slo"].update(latency_p95_max_ms=float("inf")),
     "slo.latency_p95_max_ms", "finite number"),
    ("NaN error ratio", lambda d: d["slo"].update(error_ratio_max=float("nan")),
     "slo.error_ratio_max", "finite number"),
    ("seconds written as ms", lambda d: d["slo"].update(latency_p95_max_ms=0.3),
     "slo.latency_p95_max_ms", "outside [1 ms, 60000 ms]"),
    ("a latency threshold of an hour", lambda d: d["slo"].update(latency_p95_max_ms=3_600_000),
     "slo.latency_p95_max_ms", "outside"),
    ("latency_unit_s contradicting a _seconds series", lambda d: d["monitoring"].update(latency_unit_s=0.001),
     "monitoring.latency_unit_s", "its name says seconds"),
    ("a color label that injects a matcher",
     lambda d: d["monitoring"].update(color_label='color="green",x'), "monitoring.color_label",
     "not a Prometheus label name"),
    ("a required label that is no label name",
     lambda d: d["monitoring"].update(required_labels=["sev erity"]),
     "monitoring.required_labels.0", "not a Prometheus label name"),
    ("a Deployment name without {color}: both colors one Deployment",
     lambda d: kubernetes(d, deployment="recommendation"), "platform.deployment", "must hold {color}"),
    ("a Deployment name with another field", lambda d: kubernetes(d, deployment="rec-{color}-{x}"),
     "platform.deployment", "only the field {color}"),
    ("both colors at one URL",
     lambda d: d["service"]["color_urls"].update(green="${SHIFTGATE_SANDBOX_BLUE_URL}"),
     "service.color_urls", "same object"),
    ("compare_effect_max 1: the Mann-Whitney check cannot block",
     lambda d: d["analysis"].update(compare_effect_max=1), "analysis.compare_effect_max", "inside (0, 1)"),
    ("compare_effect_max 0", lambda d: d["analysis"].update(compare_effect_max=0),
     "analysis.compare_effect_max", "inside (0, 1)"),
    ("a window of 1e12 s", lambda d: d["analysis"].update(window_s=1e12), "analysis.window_s", "longer than"),
    ("an opt-out without a reason", lambda d: d["versions"]["specs"]["2.5.0"].update(required_indexes="none"),
     "versions.specs.2.5.0", "needs a reason"),
]


@pytest.mark.parametrize(("case", "mutate", "key", "problem"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_setting_in_the_file_is_refused(
    tmp_path: Path, case: str, mutate: Callable[[Data], None], key: str, problem: str
) -> None:
    """Before: the file loaded (exit 0) and the check ran switched off. Now: ConfigError naming
    the file and the key (exit 2)."""
    path, message = refusal(tmp_path, mutate)
    assert message.startswith(f"{path}: {key}"), message
    assert problem in message


def test_duplicate_key_is_refused(tmp_path: Path) -> None:
    """Before: the second ``failure_limit`` won silently (exit 0). Now: refused with both lines."""
    text = SANDBOX_YAML.read_text(encoding="utf-8").replace(
        "  failure_limit: 2\n", "  failure_limit: 2\n  failure_limit: 20\n"
    )
    path = write(tmp_path, text)
    duplicate = r"line \d+, column \d+: invalid YAML: duplicate key 'failure_limit'"
    with pytest.raises(ConfigError, match=duplicate):
        load_environment(str(path), environ=ENV)


@pytest.mark.parametrize("folder", ["environments", "gates", "plans", "loadtests/profiles"])
def test_project_yaml_has_no_duplicate_keys(folder: str) -> None:
    """Every YAML file the project ships loads under the duplicate-key rule."""
    from shiftgate.config.files import read_mapping

    for path in sorted((project_root() / folder).glob("*.yaml")):
        assert read_mapping(path, missing="missing")


@pytest.mark.parametrize(
    ("environ", "sets", "origin", "key"),
    [
        ({"SHIFTGATE_SLO__LATENCY_P95_MAX_MS": ".inf"}, [],
         "environment variable SHIFTGATE_SLO__LATENCY_P95_MAX_MS", "slo.latency_p95_max_ms"),
        ({"SHIFTGATE_SLO__LATENCY_P95_MAX_MS": "nan"}, [],
         "environment variable SHIFTGATE_SLO__LATENCY_P95_MAX_MS", "slo.latency_p95_max_ms"),
        ({"SHIFTGATE_ANALYSIS__FAILURE_LIMIT": "60"}, [],
         "environment variable SHIFTGATE_ANALYSIS__FAILURE_LIMIT", "analysis.failure_limit"),
        ({}, ["analysis.min_samples=47"], "command line --set analysis.min_samples=47",
         "analysis.min_samples"),
        ({}, ["analysis.compare_effect_max=1"], "command line --set analysis.compare_effect_max=1",
         "analysis.compare_effect_max"),
        ({}, ["monitoring.color_label=color=\"green\",x"], "command line --set monitoring.color_label",
         "monitoring.color_label"),
        ({}, ["slo.error_ratio_max=.inf"], "command line --set slo.error_ratio_max=.inf",
         "slo.error_ratio_max"),
    ],
)
def test_bad_override_is_refused_naming_its_origin_and_the_file(
    environ: dict[str, str], sets: list[str], origin: str, key: str
) -> None:
    """Before: the override loaded (exit 0). Now: refused naming the variable or flag, the key
    and the file it overrides."""
    with pytest.raises(ConfigError) as caught:
        load_environment("sandbox", environ={**ENV, **environ}, overrides=sets)
    message = str(caught.value)
    assert message.startswith(origin) and f": {key}: " in message, message
    assert f"(overriding {SANDBOX_YAML})" in message


def test_infinite_value_through_interpolation_is_refused(tmp_path: Path) -> None:
    """Before: ``${VAR}`` holding ``inf`` loaded as an infinite threshold. Now: file and key named."""
    data = sandbox_data()
    data["slo"]["latency_p95_max_ms"] = "${P95}"
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=rf"^{path}: slo\.latency_p95_max_ms: .*finite number"):
        load_environment(str(path), environ={**ENV, "P95": "inf"})


def test_the_window_holds_what_the_observer_takes() -> None:
    env = load_environment("sandbox", environ=ENV)
    assert measurements_in_window(env.analysis) == 46  # 0, 1, … 45 s of a 45 s window
    assert load_environment("sandbox", environ=ENV, overrides=["analysis.failure_limit=46"])


def test_explicit_opt_out_with_a_reason_loads(tmp_path: Path) -> None:
    data = sandbox_data()
    data["versions"]["specs"]["2.5.0"].update(
        required_indexes="none", critical_queries="none", reason="reads a cache only"
    )
    env = load_environment(str(write(tmp_path, data)), environ=ENV)
    spec = env.versions.candidate_spec
    assert spec.indexes_opted_out and spec.queries_opted_out
    assert spec.required_indexes == [] and spec.critical_queries == []


def test_reason_without_opt_out_is_refused(tmp_path: Path) -> None:
    data = sandbox_data()
    data["versions"]["specs"]["2.5.0"]["reason"] = "because"
    with pytest.raises(ConfigError, match="reason is only for an opt-out"):
        load_environment(str(write(tmp_path, data)), environ=ENV)


def test_overrides_are_recorded_with_their_source() -> None:
    env = load_environment(
        "sandbox",
        environ={**ENV, "SHIFTGATE_ANALYSIS__FAILURE_LIMIT": "3"},
        overrides=["slo.error_ratio_max=0.2", "run.id=r1", "analysis.min_samples=5"],
    )
    texts = [o.describe() for o in env.overrides]
    assert texts == [
        "`analysis.failure_limit` 2 → 3, from `SHIFTGATE_ANALYSIS__FAILURE_LIMIT`",
        "`slo.error_ratio_max` 0.05 → 0.2, from `--set slo.error_ratio_max=0.2`",
    ]  # run.* is the runner's context; min_samples=5 changed nothing
    assert env.overrides[0].as_dict()["source"] == "SHIFTGATE_ANALYSIS__FAILURE_LIMIT"
    assert load_environment("sandbox", environ=ENV).overrides == []


@pytest.mark.parametrize(
    ("extra", "args"),
    [
        ({"SHIFTGATE_SLO__LATENCY_P95_MAX_MS": ".inf"}, []),
        ({}, ["--set", "analysis.failure_limit=60"]),
    ],
)
def test_cli_exits_2_on_a_bound(extra: dict[str, str], args: list[str]) -> None:
    """Before: exit 0. Now: exit 2, file and key named, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "config", "--env", "sandbox", *args],
        capture_output=True, text=True, env={**ENV, **extra, "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "sandbox.yaml" in result.stderr
