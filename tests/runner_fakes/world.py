"""File-backed router, platform and gates for runner tests (the crash-point matrix).

The world is a folder (``$SHIFTGATE_FAKE_WORLD``): ``router.json`` holds the weights,
``platform.json`` the version each color runs and the one before it, ``gates.json`` each
gate's exit code (default 0). Every write is atomic (a temporary file renamed over the old
one), like a real router's or API server's: a process killed mid-write leaves the old state
or the new one, never half.

They are registered by replacing the ``sandbox`` platform and ``haproxy`` router entries of
the four registries (read views and writers), so the sandbox's environment file validates
as it is and no production registry needs a test kind: ``install`` does it in a process
(the driver), ``entries`` lists what to set (for ``monkeypatch`` in a test's own process).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from shiftgate.config.models import Color, Environment
from shiftgate.errors import ExitCode
from shiftgate.platforms.base import LogLine, ResourceUse, RolloutStatus
from shiftgate.routers.base import RouterError, Weights, validate_weights
from shiftgate.run.gate import GateResult

WORLD_ENV = "SHIFTGATE_FAKE_WORLD"
STABLE, CANDIDATE = "2.4.3", "2.5.0"


def world() -> Path:
    return Path(os.environ[WORLD_ENV])


def read(name: str, folder: Path | None = None) -> Any:
    return json.loads(((folder or world()) / name).read_text(encoding="utf-8"))


def write(name: str, data: Any, folder: Path | None = None) -> None:
    path = (folder or world()) / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def new_world(folder: Path, gates: dict[str, int] | None = None) -> Path:
    """Green live with the stable version, blue idle with it too (as the sandbox starts)."""
    folder.mkdir(parents=True, exist_ok=True)
    write("router.json", {"blue": 0, "green": 100}, folder)
    write("platform.json", {"running": {"blue": STABLE, "green": STABLE},
                            "previous": {"blue": None, "green": None}}, folder)
    write("gates.json", gates or {}, folder)
    return folder


class FileRouter:
    name = "file-router"
    supports_partial = True

    @classmethod
    def from_environment(cls, environment: Environment) -> FileRouter:
        return cls()

    def weights(self) -> Weights:
        held: Weights = read("router.json")
        return held

    def set_weights(self, weights: Weights) -> Weights:
        validate_weights(self, weights)
        write("router.json", dict(weights))
        held = self.weights()
        if held != weights:
            raise RouterError(f"router holds {held}, not {weights}")
        return held


class FilePlatform:
    name = "file-platform"

    @classmethod
    def from_environment(cls, environment: Environment) -> FilePlatform:
        return cls()

    def versions(self) -> dict[Color, str | None]:
        running: dict[Color, str | None] = read("platform.json")["running"]
        return running

    def deploy(self, color: Color, version: str) -> None:
        state = read("platform.json")
        if state["running"][color] == version:
            return  # as on Kubernetes: the same pod template makes no new revision to undo
        state["previous"][color], state["running"][color] = state["running"][color], version
        write("platform.json", state)

    def undo(self, color: Color) -> None:
        state = read("platform.json")
        state["running"][color] = state["previous"][color]
        write("platform.json", state)

    def rollout_status(self, color: Color) -> RolloutStatus:
        return RolloutStatus(color, self.versions()[color], 2, 2, 2, 2, True, False, "complete")

    def wait_rollout(self, color: Color, timeout_s: float) -> RolloutStatus:
        return self.rollout_status(color)

    def logs(self, color: Color, since: float) -> list[LogLine]:
        return []

    def resource_use(self, color: Color) -> list[ResourceUse]:
        return []

    def max_replicas(self, color: Color) -> int | None:
        return 2


def run_gate(name: str, *, env: str | None = None, extra_args: Any = (),
             reports_dir: Path | None = None, runner: Any = None, timeout_s: float | None = None,
             log: Path | None = None, watch: Any = None) -> GateResult:
    """The gate's exit code from ``gates.json``: no pytest, so a run takes milliseconds."""
    code = int(read("gates.json").get(name, 0))
    if watch is not None:
        watch()  # the runner reads the analysis log once, as it would while a gate runs
    reports = reports_dir or world()
    return GateResult(gate=name, exit_code=ExitCode(code), pytest_status=code, command=(),
                      junit_path=reports / "junit" / f"{name}.xml", allure_dir=reports / "allure")


def entries() -> list[tuple[dict[str, str], str, str]]:
    from shiftgate.platforms.registry import PLATFORMS
    from shiftgate.probes.views import PLATFORM_VIEWS, ROUTER_VIEWS
    from shiftgate.routers.registry import ROUTERS

    platform, router = f"{__name__}:FilePlatform", f"{__name__}:FileRouter"
    return [(PLATFORMS, "sandbox", platform), (PLATFORM_VIEWS, "sandbox", platform),
            (ROUTERS, "haproxy", router), (ROUTER_VIEWS, "haproxy", router)]


def install() -> None:
    """In this process: the file world instead of the sandbox, fake gates instead of pytest."""
    import shiftgate.run.runner

    for registry, kind, target in entries():
        registry[kind] = target
    shiftgate.run.runner.run_gate = run_gate  # type: ignore[assignment]
