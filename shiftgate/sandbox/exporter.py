"""postgres_exporter for the sandbox: the database's connections and settings as metrics.

The connection-pool alert on the database side (connections in use against usable
``max_connections``) needs ``pg_stat_activity_count`` and ``pg_settings_*`` in Prometheus,
as a real team has them from the Debian/Prometheus-community exporter. It connects as the
read-only probe role (``pg_monitor``) and listens on a loopback port chosen at ``up``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from shiftgate.errors import SandboxError
from shiftgate.sandbox import processes
from shiftgate.sandbox.state import ProcessRecord, SandboxState

NAME = "postgres-exporter"
BINARIES = ("prometheus-postgres-exporter", "postgres_exporter")


def binary() -> str:
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    raise SandboxError(
        "prometheus-postgres-exporter not found: run `make sandbox-up` (installs it with apt-get)"
    )


def data_source_name(state: SandboxState) -> str:
    # lib/pq (the exporter's driver) defaults to sslmode=require; the sandbox's server has no TLS.
    return f"{state.probe_dsn}&sslmode=disable&application_name=postgres_exporter"


def start(state: SandboxState, folder: Path) -> ProcessRecord:
    home = folder / "postgres-exporter"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        # The DSN goes by environment, never on the command line (visible in ps).
        "DATA_SOURCE_NAME": data_source_name(state),
    }
    return processes.start(
        [
            binary(),
            f"--web.listen-address=127.0.0.1:{state.ports.postgres_exporter}",
            "--log.level=warn",
        ],
        log=home / "postgres-exporter.log",
        env=env,
        user=processes.Unprivileged(),
    )
