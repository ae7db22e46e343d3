"""Prometheus for the sandbox: scrapes both colors' replicas, HAProxy and itself every second
and loads the team's rule files from ``sandbox/prometheus/rules/``.

The config is generated (ports are chosen at ``up``); the rules are the team's own files,
reloaded on ``shiftgate sandbox reload`` (SIGHUP), as a real team would do. The lifecycle API
(``/-/reload``, ``/-/quit``) stays off: any local user could stop Prometheus through it.
Prometheus runs as the unprivileged account, which owns its folder and data.
"""

from __future__ import annotations

import shutil
import signal
from pathlib import Path
from typing import Any

import yaml

from shiftgate.config.paths import source_root
from shiftgate.errors import SandboxError
from shiftgate.sandbox import processes
from shiftgate.sandbox.state import ProcessRecord, SandboxState, replica_names

RULES_DIR = source_root() / "sandbox" / "prometheus" / "rules"


def binary() -> str:
    found = shutil.which("prometheus")
    if not found:
        raise SandboxError("prometheus not found: run `make sandbox-up` (installs it)")
    return found


def render(state: SandboxState) -> dict[str, Any]:
    replicas = [
        {
            "targets": [f"127.0.0.1:{state.ports.replicas[name]}"],
            "labels": {"color": color, "replica": name},
        }
        for color in ("blue", "green")
        for name in replica_names(color)
    ]
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(RULES_DIR / "*.yml")],
        "scrape_configs": [
            {
                "job_name": "prometheus",
                "static_configs": [{"targets": [f"127.0.0.1:{state.ports.prometheus}"]}],
            },
            {
                "job_name": "haproxy",
                "static_configs": [{"targets": [f"127.0.0.1:{state.ports.haproxy_stats}"]}],
            },
            {
                "job_name": "postgres",
                "static_configs": [{"targets": [f"127.0.0.1:{state.ports.postgres_exporter}"]}],
            },
            {
                # The service labels its own series with color and version; they win.
                # Every 0.5 s: the SLO analysis reads these counters raw, so their age is
                # the part of detection time left to the scrape.
                "job_name": "recommendation",
                "scrape_interval": "500ms",
                "scrape_timeout": "500ms",
                "honor_labels": True,
                "static_configs": replicas,
            },
        ],
    }


def start(state: SandboxState, folder: Path) -> ProcessRecord:
    owner = processes.Unprivileged()
    home = owner.own(folder / "prometheus")  # its data was root's before the sandbox dropped root
    cfg = home / "prometheus.yml"
    cfg.write_text(yaml.safe_dump(render(state), sort_keys=False), encoding="utf-8")
    owner.chown(cfg)
    return processes.start(
        [
            binary(),
            f"--config.file={cfg}",
            f"--storage.tsdb.path={home / 'data'}",
            "--storage.tsdb.retention.time=2d",
            f"--web.listen-address=127.0.0.1:{state.ports.prometheus}",
            "--log.level=warn",
        ],
        log=home / "prometheus.log",
        user=owner,
    )


def reload(record: ProcessRecord) -> bool:
    """SIGHUP: Prometheus re-reads its config and the rule files."""
    return processes.send_signal(record, signal.SIGHUP)
