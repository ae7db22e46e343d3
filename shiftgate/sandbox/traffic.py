"""The sandbox's users: a steady Locust load through the router while the sandbox is up.

Without production traffic every analysis window would be empty (and fail closed); this
plays the users' part, at the modest rate of ``loadtests/profiles/users.yaml``, with the
same locustfile as the load tests. ``shiftgate sandbox traffic off`` stops it.
"""

from __future__ import annotations

import os
from pathlib import Path

from shiftgate.config.paths import source_root
from shiftgate.load.profile import load_profile
from shiftgate.sandbox import processes
from shiftgate.sandbox.state import ProcessRecord, SandboxState

NAME = "traffic"
PROFILE = source_root() / "loadtests" / "profiles" / "users.yaml"
LOCUSTFILE = source_root() / "loadtests" / "recommendations.py"


def target_rps() -> float:
    return load_profile(PROFILE).target_rps


def start(state: SandboxState, folder: Path) -> ProcessRecord:
    # Unprivileged, and an explicit environment: nothing of the caller's (in-process load
    # tests set LOCUST_SKIP_MONKEY_PATCH, which Locust needs off here, for one).
    user = processes.Unprivileged()
    env = {
        "SHIFTGATE_LOAD_PROFILE": str(PROFILE),
        "PYTHONPATH": os.pathsep.join(processes.project_python_path()),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [
        processes.python_for(user), "-s", "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", state.url(state.ports.router), "--loglevel", "WARNING", "--only-summary",
    ]
    return processes.start(command, log=folder / "logs" / "traffic.log", env=env, user=user)
