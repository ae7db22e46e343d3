"""The sandbox for real: traffic through the router, Prometheus series, the incident state,
deploys, and the lifecycle (up twice, down, up again from warm data)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import requests
from tenacity import retry, stop_after_delay, wait_fixed

from shiftgate.config.loader import load_environment
from shiftgate.sandbox import manager, processes
from shiftgate.sandbox import state as st
from shiftgate.sandbox.postgres import SandboxPostgres

pytestmark = pytest.mark.integration


def recommendations(url: str, user_id: int = 1) -> dict[str, Any]:
    response = requests.get(f"{url}/recommendations", params={"user_id": user_id}, timeout=10)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


@retry(stop=stop_after_delay(20), wait=wait_fixed(0.5), reraise=True)
def prometheus_values(url: str, query: str, expected: int) -> list[dict[str, Any]]:
    response = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=5)
    result: list[dict[str, Any]] = response.json()["data"]["result"]
    assert len(result) >= expected, f"{query}: {result}"
    return result


def test_router_serves_green_stable_with_all_weight_on_green(sandbox: dict[str, Any]) -> None:
    assert sandbox["weights"] == {"blue": 0, "green": 100}
    assert sandbox["live"] == "green"
    answers = [recommendations(sandbox["router_url"], user_id) for user_id in range(1, 21)]
    assert {(a["color"], a["version"]) for a in answers} == {("green", "2.4.3")}
    assert all(len(a["items"]) == 5 for a in answers)


def test_each_color_has_its_own_url(sandbox: dict[str, Any]) -> None:
    for color in ("blue", "green"):
        answer = recommendations(sandbox["colors"][color]["url"])
        assert (answer["color"], answer["version"]) == (color, sandbox["colors"][color]["version"])


def test_prometheus_holds_series_of_both_colors_and_haproxy(sandbox: dict[str, Any]) -> None:
    url = sandbox["prometheus_url"]
    colors = prometheus_values(url, "count by (color) (recommendation_build_info)", 2)
    assert {r["metric"]["color"] for r in colors} == {"blue", "green"}
    pools = prometheus_values(url, "recommendation_db_pool_max", 4)
    assert {r["metric"]["color"] for r in pools} == {"blue", "green"}
    up = prometheus_values(url, 'up{job="haproxy"} == 1', 1)
    assert up
    prometheus_values(url, 'haproxy_backend_active_servers{proxy="bk_router"}', 1)


def test_incident_state_seq_scan_and_too_few_connections(sandbox: dict[str, Any]) -> None:
    env = load_environment("sandbox")
    query = env.versions.specs["2.5.0"].critical_queries[0]
    with psycopg.connect(sandbox["database_dsn"]) as conn:
        plan = conn.execute(
            f"EXPLAIN (FORMAT JSON) {query.sql}", query.params[0]  # type: ignore[arg-type]
        ).fetchone()
        settings = dict(
            conn.execute(
                "SELECT name, setting::int FROM pg_settings"
                " WHERE name IN ('max_connections', 'superuser_reserved_connections')"
            ).fetchall()
        )
        rows = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'recommendations'")
        assert rows.fetchone()[0] >= 2_000_000  # type: ignore[index]
    assert plan is not None
    assert '"Node Type": "Seq Scan"' in json.dumps(plan[0]), plan
    usable = settings["max_connections"] - settings["superuser_reserved_connections"]
    specs = (env.versions.stable_spec, env.versions.candidate_spec)
    both_pools = sum(spec.pool.peak_connections for spec in specs)
    assert both_pools > usable, f"pools {both_pools} vs usable {usable}"


def test_deploy_replaces_one_color_and_reset_restores_it(
    sandbox: dict[str, Any], sandbox_dir: Path
) -> None:
    manager.deploy("blue", "2.5.0", sandbox_dir)
    status = manager.status(sandbox_dir)
    assert status["colors"]["blue"]["version"] == "2.5.0"
    answer = recommendations(status["colors"]["blue"]["url"], 42)
    assert (answer["version"], answer["color"]) == ("2.5.0", "blue")
    assert "segment" in answer
    # Users still only reach green: the deploy did not touch the router's weights.
    assert {recommendations(status["router_url"])["color"] for _ in range(10)} == {"green"}
    manager.reset(sandbox_dir)
    status = manager.status(sandbox_dir)
    assert status["colors"]["blue"]["version"] == "2.4.3"
    assert status["weights"] == {"blue": 0, "green": 100}


def test_unknown_version_is_refused_before_anything_changes(
    sandbox_dir: Path, sandbox: dict[str, Any]
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "sandbox", "deploy", "blue", "9.9.9"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "versions.yaml" in result.stderr and "9.9.9" in result.stderr
    assert manager.status(sandbox_dir)["colors"]["blue"]["version"] == "2.4.3"


def test_status_json_cli(sandbox: dict[str, Any]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", "sandbox", "status", "--json"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    for key in ("router_url", "prometheus_url", "database_dsn", "weights"):
        assert key in status
    assert status["colors"]["blue"]["url"] and status["colors"]["green"]["version"] == "2.4.3"


def test_up_twice_keeps_the_same_processes(sandbox: dict[str, Any], sandbox_dir: Path) -> None:
    before = st.load(sandbox_dir)
    assert before is not None
    timings = manager.up(sandbox_dir)
    after = st.load(sandbox_dir)
    assert after is not None
    assert "seed" not in timings
    assert {n: r.pid for n, r in before.processes.items()} == {n: r.pid for n, r in after.processes.items()}


def test_down_stops_everything_then_up_reuses_warm_data(
    sandbox: dict[str, Any], sandbox_dir: Path
) -> None:
    state = st.load(sandbox_dir)
    assert state is not None
    records = list(state.processes.values())
    manager.down(sandbox_dir)
    assert not any(processes.is_running(r) for r in records)
    assert not SandboxPostgres(state).running()
    ours = [
        p for p in psutil.process_iter(["cmdline"])
        if any(mark in " ".join(p.info["cmdline"] or []) for mark in (str(sandbox_dir), state.pgdata))
    ]
    assert ours == []
    ports = [state.ports.postgres, state.ports.router, state.ports.prometheus, *state.ports.replicas.values()]
    assert all(st.port_is_free(port) for port in ports), "a port of ours is still listened on"
    assert manager.status(sandbox_dir)["running"] is False
    timings = manager.up(sandbox_dir)
    assert "seed" not in timings  # warm data directory: no reseed
    status = manager.status(sandbox_dir)
    assert status["running"] is True
    assert status["weights"] == {"blue": 0, "green": 100}
    assert recommendations(status["router_url"])["color"] == "green"
