"""Environment files: valid loads, precedence, and every bad input → one message, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.loader import load_environment
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError, ExitCode

SANDBOX_YAML = project_root() / "environments" / "sandbox.yaml"
ENV = {
    "SHIFTGATE_SANDBOX_DSN": "postgresql://probe:s3cret@127.0.0.1:5999/recommendations",
    "SHIFTGATE_SANDBOX_ROUTER_URL": "http://127.0.0.1:8000",
    "SHIFTGATE_SANDBOX_BLUE_URL": "http://127.0.0.1:8001",
    "SHIFTGATE_SANDBOX_GREEN_URL": "http://127.0.0.1:8002",
    "SHIFTGATE_SANDBOX_PROMETHEUS_URL": "http://127.0.0.1:9090",
    "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": "/tmp/admin.sock",
}


def write(tmp_path: Path, data: dict[str, object] | str) -> Path:
    path = tmp_path / "env.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def sandbox_data() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load(SANDBOX_YAML.read_text(encoding="utf-8"))
    return data


def test_sandbox_environment_loads_with_runbook_defaults() -> None:
    env = load_environment("sandbox", environ=ENV)
    assert env.name == "sandbox"
    assert env.slo.error_ratio_max == 0.05
    assert env.slo.latency_p95_max_ms == 300
    assert env.versions.candidate == "2.5.0"
    assert env.service.color_urls["blue"] == "http://127.0.0.1:8001"
    assert env.database.dsn() == ENV["SHIFTGATE_SANDBOX_DSN"]
    assert env.platform.kind == "sandbox"
    assert env.router.kind == "haproxy"


def test_dsn_never_shows_in_dumps() -> None:
    env = load_environment("sandbox", environ=ENV)
    assert "s3cret" not in env.model_dump_json()
    assert "s3cret" not in repr(env)


def test_incident_sizing_both_pools_exceed_what_stable_alone_needs() -> None:
    env = load_environment("sandbox", environ=ENV)
    stable = env.versions.stable_spec.pool.peak_connections
    candidate = env.versions.candidate_spec.pool.peak_connections
    assert (stable, candidate) == (20, 50)


@pytest.mark.parametrize(
    ("mutate", "key", "problem"),
    [
        (lambda d: d.update(bogus=1), "bogus", "unknown key"),
        (lambda d: d["slo"].update(error_ratio_max="lots"), "slo.error_ratio_max", "valid number"),
        (lambda d: d["slo"].update(error_ratio_max=7), "slo.error_ratio_max", "less than or equal"),
        (lambda d: d.pop("database"), "database", "missing required key"),
        (lambda d: d["versions"].update(candidate="9.9.9"), "versions", "9.9.9"),
        (lambda d: d["router"].update(kind="nginx"), "router", "nginx"),
        (lambda d: d["platform"].update(namespace="x"), "platform.namespace", "unknown key"),
        (
            lambda d: d["versions"]["specs"]["2.5.0"]["pool"].update(max_replicas=1),
            "versions.specs.2.5.0.pool",
            "max_replicas (1) < replicas (2)",
        ),
        (lambda d: d["database"].update(dsn_env="postgres://u:p@h/db"), "database.dsn_env", "pattern"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, mutate, key: str, problem: str) -> None:  # type: ignore[no-untyped-def]
    path, message = refusal(tmp_path, mutate)
    assert message.startswith(f"{path}: {key}"), message
    assert problem in message


def refusal(tmp_path: Path, mutate: Any) -> tuple[Path, str]:
    """The sandbox's environment changed by ``mutate``, written and loaded: the file and the
    loader's refusal."""
    data = sandbox_data()
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_environment(str(path), environ=ENV)
    return path, str(caught.value)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nservice: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{path}: line \d+, column \d+: invalid YAML"):
        load_environment(str(path), environ=ENV)


def test_missing_file_lists_known_environments() -> None:
    with pytest.raises(ConfigError, match=r"no such environment file \(known: .*sandbox"):
        load_environment("nope", environ=ENV)


def test_missing_dsn_variable_names_key_and_variable() -> None:
    environ = {k: v for k, v in ENV.items() if k != "SHIFTGATE_SANDBOX_DSN"}
    with pytest.raises(ConfigError) as caught:
        load_environment("sandbox", environ=environ)
    message = str(caught.value)
    expected = "sandbox.yaml: database.dsn_env: environment variable SHIFTGATE_SANDBOX_DSN is not set"
    assert expected in message
    assert "shiftgate sandbox up" in message


def test_missing_interpolated_variable_names_key() -> None:
    environ = {k: v for k, v in ENV.items() if k != "SHIFTGATE_SANDBOX_BLUE_URL"}
    expected = r"service\.color_urls\.blue: environment variable SHIFTGATE_SANDBOX_BLUE_URL"
    with pytest.raises(ConfigError, match=expected):
        load_environment("sandbox", environ=environ)


def test_precedence_cli_over_environment_over_file() -> None:
    env = load_environment("sandbox", environ={**ENV, "SHIFTGATE_SLO__ERROR_RATIO_MAX": "0.02"})
    assert env.slo.error_ratio_max == 0.02
    env = load_environment(
        "sandbox",
        environ={**ENV, "SHIFTGATE_SLO__ERROR_RATIO_MAX": "0.02"},
        overrides=["slo.error_ratio_max=0.01", "versions.candidate=2.5.1"],
    )
    assert env.slo.error_ratio_max == 0.01
    assert env.versions.candidate == "2.5.1"


def test_bad_override_names_its_origin() -> None:
    variable = "SHIFTGATE_SLO__ERROR_RATIO_MAX"
    with pytest.raises(ConfigError, match=rf"^environment variable {variable}: slo\.error_ratio_max"):
        load_environment("sandbox", environ={**ENV, "SHIFTGATE_SLO__ERROR_RATIO_MAX": "high"})
    origin = r"^command line --set analysis\.bogus=1"
    with pytest.raises(ConfigError, match=rf"{origin}: analysis\.bogus: unknown key"):
        load_environment("sandbox", environ=ENV, overrides=["analysis.bogus=1"])
    with pytest.raises(ConfigError, match=r"expected key\.path=value"):
        load_environment("sandbox", environ=ENV, overrides=["slo"])


def test_cli_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nservice: {name: 1}\nbogus: true\n")
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "config", "--env", str(path)],
        capture_output=True, text=True, env={**ENV, "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == ExitCode.USAGE
    assert "Traceback" not in result.stderr + result.stdout
    assert str(path) in result.stderr
    assert "bogus: unknown key" in result.stderr or "unknown key" in result.stderr


def test_cli_good_config_prints_no_secret() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "config", "--env", "sandbox", "--json"],
        capture_output=True, text=True, env={**ENV, "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "s3cret" not in result.stdout
    assert "SHIFTGATE_SANDBOX_DSN" in result.stdout


def test_production_example_is_valid() -> None:
    env = load_environment(
        str(project_root() / "environments" / "production.example.yaml"),
        environ={"SHIFTGATE_DATABASE_DSN": "postgresql://probe:x@db:5432/recommendations"},
    )
    assert env.platform.kind == "kubernetes"
    assert env.router.kind == "gateway-api"
    assert env.versions.candidate_spec.pool.peak_connections == 8 * 2 * 25


def test_unknown_candidate_from_the_command_line_names_the_flag() -> None:
    with pytest.raises(ConfigError) as caught:
        load_environment("sandbox", environ=ENV, overrides=["versions.candidate=9.9.9"])
    message = str(caught.value)
    assert message.startswith("command line --set versions.candidate=9.9.9: versions:")
    assert "9.9.9' has no entry in specs (known: 2.4.3, 2.5.0, 2.5.1)" in message
    assert "got {" not in message  # no dump of the whole section


def test_env_file_variables_fill_the_file_and_the_process_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "variables.env").write_text(
        "# written by the sandbox\n\n"
        + "".join(f"{name}={value}\n" for name, value in ENV.items())
        + "SHIFTGATE_SANDBOX_BLUE_URL=http://from-the-file:1\n",
        encoding="utf-8",
    )
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIFTGATE_SANDBOX_DIR", str(tmp_path))
    monkeypatch.setenv("SHIFTGATE_SANDBOX_GREEN_URL", "http://from-the-process:2")
    env = load_environment("sandbox")
    assert env.database.dsn() == ENV["SHIFTGATE_SANDBOX_DSN"]
    assert env.service.color_urls == {"blue": "http://from-the-file:1", "green": "http://from-the-process:2"}
    assert env.source == str(SANDBOX_YAML)


def test_missing_env_file_still_says_to_start_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHIFTGATE_SANDBOX_DIR", str(tmp_path / "never-started"))
    with pytest.raises(ConfigError) as caught:
        load_environment("sandbox")
    assert "environment variable SHIFTGATE_SANDBOX_" in str(caught.value)
    assert "shiftgate sandbox up" in str(caught.value)


def test_bad_env_file_line_names_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "variables.env").write_text("SHIFTGATE_SANDBOX_DSN=x\nexport nonsense\n", encoding="utf-8")
    monkeypatch.setenv("SHIFTGATE_SANDBOX_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=rf"^{tmp_path / 'variables.env'}: line 2: expected NAME=value"):
        load_environment("sandbox")


def test_env_file_must_be_a_path(tmp_path: Path) -> None:
    data = sandbox_data()
    data["env_file"] = 3
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=rf"^{path}: env_file: must be the path"):
        load_environment(str(path), environ=None)


def test_interpolation_default_applies_only_when_the_variable_is_unset_or_empty(tmp_path: Path) -> None:
    data = sandbox_data()
    data["service"]["url"] = "${SHIFTGATE_TEST_URL:-http://default:1}"  # type: ignore[index]
    path = write(tmp_path, data)
    assert load_environment(str(path), environ=ENV).service.url == "http://default:1"
    given = {**ENV, "SHIFTGATE_TEST_URL": "http://given:2"}
    assert load_environment(str(path), environ=given).service.url == "http://given:2"
