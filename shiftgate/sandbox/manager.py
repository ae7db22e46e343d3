"""The sandbox's commands: up, down, status, reset, deploy, reload.

``up`` is idempotent: it starts only what is not running and reuses a warm data directory.
``down`` stops exactly the processes recorded in the state file (pid and start time) and the
PostgreSQL cluster in our data directory, nothing else. The state keeps which version runs on
which color and the router weights, so ``up`` after ``down`` brings back the same world;
``reset`` brings back the incident state of the runbook's last release.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

from shiftgate.config.models import COLORS, Color
from shiftgate.errors import SandboxError, UsageError
from shiftgate.sandbox import exporter, haproxy, processes, prometheus, service, traffic
from shiftgate.sandbox import state as st
from shiftgate.sandbox.postgres import SandboxPostgres, data_dir

Say = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def up(folder: Path | None = None, say: Say = _quiet) -> dict[str, float]:
    """Bring every component up; returns timings (seconds) of the slow steps."""
    folder = (folder or st.state_dir()).resolve()
    timings: dict[str, float] = {}
    with st.locked(folder):
        state = st.load(folder)
        if state is None:
            state = st.new_state(data_dir(folder, processes.Unprivileged()))
            st.save(folder, state)
        _move_taken_ports(state)
        pg = SandboxPostgres(state)
        if not pg.initialised():
            say("initialising PostgreSQL cluster")
            pg.init()
        began = time.monotonic()
        pg.start()
        timings["postgres_start"] = time.monotonic() - began
        if not state.seeded:
            say("seeding the recommendation database (2M segment rows)")
            timings["seed"] = pg.seed()
            state.seeded = True
        st.save(folder, state)
        began = time.monotonic()
        _start_replicas(state, folder, say)
        timings["replicas"] = time.monotonic() - began
        _ensure(state, folder, "haproxy", lambda: haproxy.start(state, folder), say)
        _ensure(state, folder, exporter.NAME, lambda: exporter.start(state, folder), say)
        if not _ensure(state, folder, "prometheus", lambda: prometheus.start(state, folder), say):
            prometheus.reload(state.processes["prometheus"])  # rule files may have changed
        _wait_http(f"{state.url(state.ports.prometheus)}/-/ready", "Prometheus")
        _wait_http(f"{state.url(state.ports.router)}/readyz", "the router")
        _wait_scraped(state)
        if state.traffic:
            _ensure(state, folder, traffic.NAME, lambda: traffic.start(state, folder), say)
    return timings


def set_traffic(enabled: bool, folder: Path | None = None, say: Say = _quiet) -> None:
    """Start or stop the users' background load (and remember it across up/down)."""
    folder = (folder or st.state_dir()).resolve()
    with st.locked(folder):
        state = _require(folder)
        state.traffic = enabled
        record = state.processes.get(traffic.NAME)
        if enabled:
            _ensure(state, folder, traffic.NAME, lambda: traffic.start(state, folder), say)
        elif record is not None:
            say("stopping the users' traffic")
            processes.stop(record)
            del state.processes[traffic.NAME]
        st.save(folder, state)


def down(folder: Path | None = None, say: Say = _quiet) -> None:
    folder = (folder or st.state_dir()).resolve()
    with st.locked(folder):
        state = st.load(folder)
        if state is None:
            return
        haproxy_record = state.processes.get("haproxy")
        if haproxy_record is not None and processes.is_running(haproxy_record):
            # Weights set at runtime (the router adapter) live in HAProxy only: keep them.
            with contextlib.suppress(OSError, SandboxError):
                state.weights = dict(haproxy.AdminSocket(state.haproxy_socket(folder)).weights())
        for name in [traffic.NAME, "prometheus", "haproxy", *sorted(state.processes)]:
            record = state.processes.pop(name, None)
            if record is not None:
                say(f"stopping {name}")
                processes.stop(record)
        st.save(folder, state)
        say("stopping PostgreSQL")
        SandboxPostgres(state).stop()


def reset(folder: Path | None = None, say: Say = _quiet) -> None:
    """The incident state: stable on both colors, green live, no index, low max_connections."""
    folder = (folder or st.state_dir()).resolve()
    up(folder, say)
    with st.locked(folder):
        state = _require(folder)
        say("restoring the incident state in PostgreSQL")
        SandboxPostgres(state).restore_incident()
        for color in COLORS:
            current = state.colors[color]
            if current.version != st.STABLE_VERSION or current.faults:
                _deploy(state, folder, color, st.STABLE_VERSION, say)
        set_weights({"blue": 0, "green": 100}, folder, _locked=True)


def deploy(
    color: Color,
    version: str,
    folder: Path | None = None,
    say: Say = _quiet,
    faults: dict[str, float] | None = None,
) -> None:
    """Replace one color's replicas with ``version``, one at a time; ``faults`` overrides the
    version's fault injection (``fail_ratio``, ``fail_after_s``) for drills and tests."""
    folder = (folder or st.state_dir()).resolve()
    service.behaviour(version, faults)  # a bad version or fault fails before anything moves
    with st.locked(folder):
        state = _require(folder)
        _deploy(state, folder, color, version, say, faults or {})


def set_weights(weights: dict[Color, int], folder: Path | None = None, *, _locked: bool = False) -> None:
    folder = (folder or st.state_dir()).resolve()
    for color, weight in weights.items():
        if not 0 <= weight <= 100:
            raise UsageError(f"weight of {color} must be 0-100, got {weight}")

    def apply() -> None:
        state = _require(folder)
        haproxy.AdminSocket(state.haproxy_socket(folder)).set_weights(weights)
        state.weights.update(weights)
        st.save(folder, state)

    if _locked:
        apply()
    else:
        with st.locked(folder):
            apply()


def reload(folder: Path | None = None) -> bool:
    """Prometheus re-reads its rule files (SIGHUP)."""
    folder = (folder or st.state_dir()).resolve()
    state = _require(folder)
    record = state.processes.get("prometheus")
    return record is not None and prometheus.reload(record)


def status(folder: Path | None = None) -> dict[str, Any]:
    folder = (folder or st.state_dir()).resolve()
    state = st.load(folder)
    if state is None:
        return {"running": False, "initialised": False}
    components = {name: processes.is_running(rec) for name, rec in sorted(state.processes.items())}
    components["postgres"] = SandboxPostgres(state).running()
    weights = dict(state.weights)
    if components.get("haproxy"):
        # On a socket error the recorded weights stand; components shows haproxy's health.
        with contextlib.suppress(OSError, SandboxError):
            weights = dict(haproxy.AdminSocket(state.haproxy_socket(folder)).weights())
    expected = {"postgres", "haproxy", "prometheus", exporter.NAME, *state.ports.replicas}
    if state.traffic:
        expected.add(traffic.NAME)
    return {
        "running": all(components.get(name, False) for name in expected),
        "initialised": True,
        "state_dir": str(folder),
        "router_url": state.url(state.ports.router),
        "prometheus_url": state.url(state.ports.prometheus),
        "haproxy_stats_url": f"{state.url(state.ports.haproxy_stats)}/stats",
        "database_dsn": state.probe_dsn,
        "weights": weights,
        "live": max(COLORS, key=lambda c: weights[c]),
        "colors": {
            color: {
                "url": state.color_url(color),
                "version": state.colors[color].version,
                "faults": state.colors[color].faults,
                "replicas": {
                    name: {
                        "url": state.url(state.ports.replicas[name]),
                        "running": components.get(name, False),
                    }
                    for name in st.replica_names(color)
                },
            }
            for color in COLORS
        },
        "components": components,
        "traffic": {
            "enabled": state.traffic,
            "running": components.get(traffic.NAME, False),
            "target_rps": traffic.target_rps(),
            "rps": _router_rate(state) if components.get("prometheus") else None,
        },
    }


def _router_rate(state: st.SandboxState) -> float | None:
    """Requests per second users send through the router now (Prometheus, best effort)."""
    query = 'sum(rate(haproxy_frontend_http_requests_total{proxy="fe_router"}[15s]))'
    try:
        response = requests.get(
            f"{state.url(state.ports.prometheus)}/api/v1/query", params={"query": query}, timeout=2
        )
        result = response.json()["data"]["result"]
        return round(float(result[0]["value"][1]), 1) if result else None
    except (requests.RequestException, KeyError, ValueError, IndexError):
        return None


# -- internals -----------------------------------------------------------------------------
def _require(folder: Path) -> st.SandboxState:
    state = st.load(folder)
    if state is None:
        raise UsageError("the sandbox was never started: run `shiftgate sandbox up`")
    return state


def _ensure(
    state: st.SandboxState, folder: Path, name: str, start: Callable[[], st.ProcessRecord], say: Say
) -> bool:
    """Start ``name`` unless it runs; True when it was started now."""
    record = state.processes.get(name)
    if record is not None and processes.is_running(record):
        return False
    say(f"starting {name}")
    state.processes[name] = start()
    st.save(folder, state)
    return True


def _start_replicas(state: st.SandboxState, folder: Path, say: Say) -> None:
    started: list[tuple[st.ProcessRecord, str]] = []
    for color in COLORS:
        for name in st.replica_names(color):
            record = state.processes.get(name)
            if record is not None and processes.is_running(record):
                continue
            say(f"starting {name} ({state.colors[color].version})")
            record = service.start_replica(state, folder, name, color, state.colors[color].version)
            state.processes[name] = record
            st.save(folder, state)
            started.append((record, state.url(state.ports.replicas[name])))
    for record, url in started:
        service.wait_ready(record, url)


def _deploy(
    state: st.SandboxState,
    folder: Path,
    color: Color,
    version: str,
    say: Say,
    faults: dict[str, float] | None = None,
) -> None:
    sock = haproxy.AdminSocket(state.haproxy_socket(folder))
    current = state.colors[color]
    # Like a Deployment's spec: the desired version is recorded first, each replica's own
    # version as it is replaced; `previous` is what `undo` goes back to.
    previous = current.version if current.version != version else current.previous
    state.colors[color] = st.ColorState(version=version, faults=faults or {}, previous=previous)
    for name in st.replica_names(color):
        say(f"deploying {version} to {name}")
        sock.set_state(name, "maint")  # drain first: no request reaches a stopping replica
        old = state.processes.pop(name, None)
        if old is not None:
            processes.stop(old)
        record = service.start_replica(state, folder, name, color, version)
        state.processes[name] = record
        st.save(folder, state)
        service.wait_ready(record, state.url(state.ports.replicas[name]))
        sock.set_state(name, "ready")
    st.save(folder, state)


def _move_taken_ports(state: st.SandboxState) -> None:
    """A port another program took while we were down is replaced before we start."""
    ports = state.ports
    groups: dict[str, list[str]] = {
        "postgres": ["postgres"],
        "haproxy": ["router", "blue", "green", "haproxy_stats"],
        "prometheus": ["prometheus"],
        exporter.NAME: ["postgres_exporter"],
    }
    for component, fields in groups.items():
        record = state.processes.get(component)
        if component == "postgres":
            if SandboxPostgres(state).running():
                continue
        elif record is not None and processes.is_running(record):
            continue
        for field in fields:
            if not getattr(ports, field) or not st.port_is_free(getattr(ports, field)):
                setattr(ports, field, st.free_port())
    for name, port in list(ports.replicas.items()):
        record = state.processes.get(name)
        if (record is None or not processes.is_running(record)) and not st.port_is_free(port):
            ports.replicas[name] = st.free_port()


@retry(
    retry=retry_if_exception_type((requests.RequestException, SandboxError, KeyError)),
    stop=stop_after_delay(30),
    wait=wait_fixed(0.5),
    reraise=True,
)
def _wait_scraped(state: st.SandboxState) -> None:
    """Up means observed: every scrape target of Prometheus has been scraped and is up."""
    url = f"{state.url(state.ports.prometheus)}/api/v1/targets"
    targets = requests.get(url, params={"state": "active"}, timeout=2).json()["data"]["activeTargets"]
    down = [t["labels"].get("job", "?") for t in targets if t.get("health") != "up"]
    if not targets or down:
        raise SandboxError(f"Prometheus targets not up yet: {down or 'none discovered'}")


@retry(
    retry=retry_if_exception_type((requests.RequestException, SandboxError)),
    stop=stop_after_delay(30),
    wait=wait_fixed(0.2),
    reraise=True,
)
def _wait_http(url: str, what: str) -> None:
    response = requests.get(url, timeout=1)
    if response.status_code != 200:
        raise SandboxError(f"{what} answered {response.status_code} at {url}")
