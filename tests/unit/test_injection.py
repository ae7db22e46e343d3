"""No setting becomes a command: SQL, HAProxy names and PromQL are refused at load, with exit
code 2 naming the file and the key, before anything is sent anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.cli.main import main
from shiftgate.config.paths import project_root
from shiftgate.config.safety import matcher

VARIABLES = {
    "SHIFTGATE_SANDBOX_DSN": "postgresql://shiftgate_probe:Xyzzy-DSN-pw@127.0.0.1:5/recommendations",
    "SHIFTGATE_SANDBOX_ROUTER_URL": "http://127.0.0.1:1",
    "SHIFTGATE_SANDBOX_BLUE_URL": "http://127.0.0.1:2",
    "SHIFTGATE_SANDBOX_GREEN_URL": "http://127.0.0.1:3",
    "SHIFTGATE_SANDBOX_PROMETHEUS_URL": "http://127.0.0.1:4",
    "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": "/tmp/none.sock",
}


@pytest.fixture
def target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict[str, Any]]:
    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    data = yaml.safe_load((project_root() / "environments" / "sandbox.yaml").read_text())
    data.pop("env_file", None)
    return tmp_path / "target.yaml", data


def _config(path: Path, data: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    code = main(["config", "--env", str(path)])
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def _first_query(data: dict[str, Any]) -> dict[str, Any]:
    spec = next(iter(data["versions"]["specs"].values()))
    query: dict[str, Any] = spec["critical_queries"][0]
    return query


def test_the_unchanged_environment_loads(target: tuple[Path, dict[str, Any]],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _config(*target, capsys)
    assert code == 0, out
    assert "Xyzzy-DSN-pw" not in out


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE users",
        "SELECT item_id FROM user_recommendations WHERE user_id = %(user_id)s; DELETE FROM users",
        "SET default_transaction_read_only = off",
        "SELECT 1; SET default_transaction_read_only = off",
        "WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone",
        "SELECT set_config('default_transaction_read_only', 'off', false)",
        "SELECT * FROM users FOR UPDATE",
        "SELECT * INTO stolen FROM users",
    ],
)
def test_a_critical_query_must_be_one_read_only_select(
    sql: str, target: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = target
    _first_query(data)["sql"] = sql
    code, out = _config(path, data, capsys)
    assert code == 2, out
    assert str(path.name) in out and "critical_queries.0.sql" in out, out


@pytest.mark.parametrize(
    "backend",
    ["bk_router/blue-1 100; shutdown sessions server bk_router/blue-1", "bk_router\nshutdown", "bk router"],
)
def test_a_haproxy_backend_name_cannot_carry_a_command(
    backend: str, target: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = target
    data["router"]["backend"] = backend
    code, out = _config(path, data, capsys)
    assert code == 2, out
    assert path.name in out and "router.backend" in out, out


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("requests_rate_query", 'color:recommendation_requests:rate10s{a="b"} or vector(0)'),
        ("error_ratio_query", "sum(rate(x[1m]))"),
        ("latency_p95_query", 'm{a="b\\" or vector(1) or x{a=\\"c"}'),
        ("color_label", 'color"}'),
    ],
)
def test_promql_where_a_selector_is_required(
    key: str, value: str, target: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = target
    data.setdefault("monitoring", {})[key] = value
    code, out = _config(path, data, capsys)
    assert code == 2, out
    assert path.name in out and f"monitoring.{key}" in out, out


def test_a_quote_in_a_label_value_shiftgate_splices(
    target: tuple[Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    path, data = target
    data["monitoring"]["pools"][0]["alert"] = 'Saturated",alertstate="pending'
    code, out = _config(path, data, capsys)
    assert code == 2, out
    assert path.name in out and "monitoring.pools.0.alert" in out, out


def test_load_promql_must_parse(target: tuple[Path, dict[str, Any]],
                                capsys: pytest.CaptureFixture[str]) -> None:
    path, data = target
    data["load"]["db_connections_query"] = "sum(pg_stat_activity_count"
    code, out = _config(path, data, capsys)
    assert code == 2 and "load.db_connections_query" in out, out


def test_config_prints_no_secret(target: tuple[Path, dict[str, Any]],
                                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path, data = target
    monkeypatch.setenv("PROM_PASSWORD", "PromPw-9f8e7d")
    monkeypatch.setenv("API_TOKEN", "ApiTok-1a2b3c")
    data["prometheus"]["url"] = "https://gate:${PROM_PASSWORD}@prom.example:9090"
    data["prometheus"]["alertmanager_url"] = "https://am.example/?token=${API_TOKEN}"
    for args in (["config", "--env", str(path)], ["config", "--json", "--env", str(path)]):
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        assert main(args) == 0
        captured = capsys.readouterr()
        text = captured.out + captured.err
        assert "prom.example" in text
        for secret in ("PromPw-9f8e7d", "ApiTok-1a2b3c", "Xyzzy-DSN-pw"):
            assert secret not in text


def test_a_matcher_built_by_shiftgate_quotes_its_value() -> None:
    assert matcher("alertname", 'a"b\\c') == 'alertname="a\\"b\\\\c"'
