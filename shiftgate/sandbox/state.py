"""The sandbox's state on disk: ports, generated passwords, versions per color, processes.

One JSON file (``<state_dir>/state.json``, mode 0600 because it holds the sandbox's
generated passwords) is the single source of truth between commands; a lock file serialises
the commands that change the sandbox, so two ``up`` runs cannot start things twice. Every
save also writes ``<state_dir>/variables.env`` (mode 0600: it holds the probe's DSN), the
SHIFTGATE_SANDBOX_* variables that ``environments/sandbox.yaml`` names as its ``env_file``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, Field

from shiftgate.config.models import Color
from shiftgate.config.paths import source_root
from shiftgate.ports import free_port

__all__ = ["free_port"]  # kept here for the sandbox's callers; the home is shiftgate.ports

STATE_DIR_ENV = "SHIFTGATE_SANDBOX_DIR"
REPLICAS_PER_COLOR = 2
STABLE_VERSION = "2.4.3"
INCIDENT_MAX_CONNECTIONS = 50
LIVE_COLOR: Color = "green"


class ProcessRecord(BaseModel):
    """A process the sandbox started: pid plus start time, so a reused pid is never killed."""

    pid: int
    create_time: float
    command: list[str]
    log: str
    version: str | None = None
    """The service version a replica runs (None for other components)."""


class Ports(BaseModel):
    postgres: int
    router: int
    blue: int
    green: int
    haproxy_stats: int
    prometheus: int
    replicas: dict[str, int] = Field(description="replica name (blue-1) -> port")
    # Default 0 so state files written before the exporter existed still load; up picks a port.
    postgres_exporter: int = Field(0, description="postgres_exporter's metrics port")


class ColorState(BaseModel):
    version: str
    previous: str | None = Field(None, description="The version before the last deploy.")
    faults: dict[str, float] = Field(
        default_factory=dict, description="Overrides of the version's fault injection."
    )


class SandboxState(BaseModel):
    ports: Ports
    admin_password: str
    app_password: str
    probe_password: str
    pgdata: str
    seeded: bool = False
    colors: dict[Color, ColorState]
    weights: dict[Color, int]
    processes: dict[str, ProcessRecord] = Field(default_factory=dict)
    traffic: bool = Field(True, description="Whether the users' background load runs.")

    def dsn(self, role: str, password: str, database: str = "recommendations") -> str:
        return (
            f"postgresql://{role}:{password}@127.0.0.1:{self.ports.postgres}/{database}"
            "?connect_timeout=5"
        )

    @property
    def probe_dsn(self) -> str:
        return self.dsn("shiftgate_probe", self.probe_password)

    @property
    def admin_dsn(self) -> str:
        return self.dsn("sandbox_admin", self.admin_password)

    @property
    def app_dsn(self) -> str:
        return self.dsn("recommendation_app", self.app_password)

    def url(self, port: int) -> str:
        return f"http://127.0.0.1:{port}"

    def color_url(self, color: Color) -> str:
        return self.url(self.ports.blue if color == "blue" else self.ports.green)

    def haproxy_socket(self, state_dir: Path) -> str:
        return str(state_dir / "haproxy" / "admin.sock")


def state_dir() -> Path:
    """``SHIFTGATE_SANDBOX_DIR`` (tests use their own), else ``<project>/.sandbox``."""
    override = os.environ.get(STATE_DIR_ENV)
    return Path(override).resolve() if override else source_root() / ".sandbox"


def state_file(folder: Path) -> Path:
    return folder / "state.json"


def load(folder: Path) -> SandboxState | None:
    path = state_file(folder)
    if not path.exists():
        return None
    return SandboxState.model_validate_json(path.read_text(encoding="utf-8"))


def variables_file(folder: Path) -> Path:
    return folder / "variables.env"


def save(folder: Path, state: SandboxState) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_private(state_file(folder), state.model_dump_json(indent=2))
    lines = [f"{name}={value}\n" for name, value in variables(state, folder.resolve()).items()]
    _write_private(variables_file(folder), "".join(lines))


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)  # atomic: a reader never sees half a file


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the sandbox lock for one changing command."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "state.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now. SO_REUSEADDR, as servers set it:
    connections of a stopped server lingering in TIME_WAIT do not make the port taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def replica_names(color: Color) -> list[str]:
    return [f"{color}-{i}" for i in range(1, REPLICAS_PER_COLOR + 1)]


def new_state(pgdata: Path) -> SandboxState:
    """Fresh state: free loopback ports, new passwords, both colors on the stable version."""
    taken: set[int] = set()

    def pick() -> int:
        while (port := free_port()) in taken:
            pass
        taken.add(port)
        return port

    replicas = {name: pick() for color in ("blue", "green") for name in replica_names(color)}
    ports = Ports(
        postgres=pick(), router=pick(), blue=pick(), green=pick(), haproxy_stats=pick(),
        prometheus=pick(), replicas=replicas, postgres_exporter=pick(),
    )
    return SandboxState(
        ports=ports,
        admin_password=secrets.token_urlsafe(18),
        app_password=secrets.token_urlsafe(18),
        probe_password=secrets.token_urlsafe(18),
        pgdata=str(pgdata),
        colors={"blue": ColorState(version=STABLE_VERSION), "green": ColorState(version=STABLE_VERSION)},
        weights={"blue": 0, "green": 100} if LIVE_COLOR == "green" else {"blue": 100, "green": 0},
    )


def exported_environ(folder: Path | None = None) -> dict[str, str]:
    """The SHIFTGATE_SANDBOX_* variables that ``environments/sandbox.yaml`` reads.

    Empty when the sandbox was never brought up, so loading the sandbox environment then
    fails with a message that says to run ``shiftgate sandbox up``.
    """
    folder = folder or state_dir()
    state = load(folder)
    return {} if state is None else variables(state, folder)


def variables(state: SandboxState, folder: Path) -> dict[str, str]:
    """Where the sandbox's components listen, as ``environments/sandbox.yaml`` reads it."""
    return {
        "SHIFTGATE_SANDBOX_DSN": state.probe_dsn,
        "SHIFTGATE_SANDBOX_ROUTER_URL": state.url(state.ports.router),
        "SHIFTGATE_SANDBOX_BLUE_URL": state.color_url("blue"),
        "SHIFTGATE_SANDBOX_GREEN_URL": state.color_url("green"),
        "SHIFTGATE_SANDBOX_PROMETHEUS_URL": state.url(state.ports.prometheus),
        "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": state.haproxy_socket(folder),
    }
