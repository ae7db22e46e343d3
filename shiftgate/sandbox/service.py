"""The sample recommendation service's replicas: start one, wait until ready, replace a color.

``sandbox/versions.yaml`` is the sandbox's catalog of versions, the way manifests are in a
cluster: how each version behaves (query pattern, pool sizing, injected faults). A deploy
replaces a color's replicas one at a time, each drained in HAProxy first and put back only
after ``/readyz`` answers, so users going through the router never see the swap.

A replica runs as the unprivileged account with an explicit environment: its settings and
the app's DSN, and nothing of the caller's (no token of the engineer who ran ``up``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import requests
import yaml
from pydantic import BaseModel, ConfigDict, Field
from tenacity import RetryError, retry, retry_if_result, stop_after_delay, wait_fixed

from shiftgate.config.models import Color
from shiftgate.config.paths import source_root
from shiftgate.errors import ConfigError, SandboxError
from shiftgate.sandbox import processes
from shiftgate.sandbox.state import ProcessRecord, SandboxState

CATALOG = source_root() / "sandbox" / "versions.yaml"
APP_DIR = source_root() / "sandbox" / "service"
READY_TIMEOUT_S = 30.0


class VersionBehaviour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query_mode: str = Field(pattern="^(per_user|segment)$")
    pool_min_size: int = Field(ge=0)
    pool_max_size: int = Field(ge=1)
    fail_ratio: float = Field(0.0, ge=0, le=1)
    fail_after_s: float = Field(0.0, ge=0)


def catalog() -> dict[str, VersionBehaviour]:
    try:
        raw = yaml.safe_load(CATALOG.read_text(encoding="utf-8")) or {}
        return {str(v): VersionBehaviour.model_validate(b) for v, b in raw.items()}
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(str(CATALOG), None, f"cannot read the version catalog: {exc}") from None


FAULT_FIELDS = ("fail_ratio", "fail_after_s")


def behaviour(version: str, faults: dict[str, float] | None = None) -> VersionBehaviour:
    """The catalog's behaviour of a version, with its fault injection overridden (drills)."""
    known = catalog()
    if version not in known:
        raise ConfigError(
            str(CATALOG), version, f"unknown version (known: {', '.join(sorted(known))})"
        )
    if not faults:
        return known[version]
    unknown = set(faults) - set(FAULT_FIELDS)
    if unknown:
        raise ConfigError("sandbox deploy", ", ".join(sorted(unknown)), "not a fault setting")
    try:
        return VersionBehaviour.model_validate({**known[version].model_dump(), **faults})
    except ValueError as exc:
        raise ConfigError("sandbox deploy", None, f"bad fault setting: {exc}") from None


def start_replica(
    state: SandboxState, folder: Path, name: str, color: Color, version: str
) -> ProcessRecord:
    spec = behaviour(version, state.colors[color].faults)
    port = state.ports.replicas[name]
    user = processes.Unprivileged()
    env = {
        "PYTHONPATH": os.pathsep.join(processes.project_python_path()),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SERVICE_COLOR": color,
        "SERVICE_VERSION": version,
        "SERVICE_REPLICA": name,
        "DATABASE_URL": state.app_dsn,
        "POOL_MIN_SIZE": str(spec.pool_min_size),
        "POOL_MAX_SIZE": str(spec.pool_max_size),
        "QUERY_MODE": spec.query_mode,
        "FAIL_RATIO": str(spec.fail_ratio),
        "FAIL_AFTER_S": str(spec.fail_after_s),
    }
    command = [
        processes.python_for(user), "-s", "-m", "uvicorn", "app:app", "--app-dir", str(APP_DIR),
        "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]
    record = processes.start(command, log=folder / "logs" / f"{name}.log", env=env, user=user)
    record.version = version
    return record


def wait_ready(record: ProcessRecord, url: str, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Poll ``/readyz`` until 200; fail early with the log tail if the process died."""

    def probe() -> bool:
        if not processes.is_running(record):
            raise SandboxError(f"replica at {url} exited:\n{processes.tail(record.log)}")
        try:
            return requests.get(f"{url}/readyz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    waiter: Callable[[], bool] = retry(
        retry=retry_if_result(lambda ok: not ok),
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(0.2),
    )(probe)
    try:
        waiter()
    except RetryError:
        raise SandboxError(
            f"replica at {url} not ready after {timeout_s:.0f}s:\n{processes.tail(record.log)}"
        ) from None
