"""Nothing secret leaves (docs/architecture.md rule 6): the sandbox story run with distinctive
secrets planted, then every file under the reports folder and every captured stdout/stderr
searched for each of them. Zero hits, also after pytest is killed in the middle of a gate.

Planted: the DSN's password (the sandbox's generated probe password, and the app's and
admin's), a Prometheus URL with basic-auth credentials (the probe reaches Prometheus through
it, so it is really used), a query-string token (``config``'s Alertmanager URL), and a bearer
token and an API token in the environment of every command (as a CI job holds them).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import pytest
import requests

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager
from shiftgate.sandbox import state as st
from shiftgate.sandbox.remediate import remediate
from tests.e2e.release import CLI, Release, short_profile

pytestmark = pytest.mark.e2e


class Planted:
    def __init__(self, sandbox_dir: Path) -> None:
        state = st.load(sandbox_dir)
        assert state is not None
        self.prometheus_password = f"PromPw{secrets.token_hex(8)}"
        self.query_token = f"QueryTok{secrets.token_hex(8)}"
        self.bearer_token = f"BearerTok{secrets.token_hex(8)}"
        self.api_token = f"ApiTok{secrets.token_hex(8)}"
        self.values = {
            "probe DSN password": state.probe_password,
            "app DSN password": state.app_password,
            "admin password": state.admin_password,
            "Prometheus basic-auth password": self.prometheus_password,
            "query-string token": self.query_token,
            "bearer token": self.bearer_token,
            "API token": self.api_token,
        }
        self.prometheus_url = (
            f"http://gate:{self.prometheus_password}@127.0.0.1:{state.ports.prometheus}"
        )

    def environ(self, base: dict[str, str]) -> dict[str, str]:
        return {
            **base,
            "SHIFTGATE_SANDBOX_PROMETHEUS_URL": self.prometheus_url,
            "SHIFTGATE_API_TOKEN": self.api_token,
            "CI_BEARER_AUTHORIZATION": f"Bearer {self.bearer_token}",
        }

    def hits(self, reports: Path, outputs: dict[str, str]) -> list[str]:
        found = []
        texts = {f"file {p}": p.read_bytes().decode("utf-8", "replace") for p in _files(reports)}
        texts |= {f"output of {name}": text for name, text in outputs.items()}
        for where, text in texts.items():
            for what, value in self.values.items():
                if value in text or quote(value, safe="") in text:
                    found.append(f"{what} in {where}")
        return found


def _files(folder: Path) -> Iterator[Path]:
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


@pytest.fixture
def planted(sandbox: dict[str, Any], sandbox_dir: Path) -> Iterator[Planted]:
    planted = Planted(sandbox_dir)
    _wait_only_live_gets_traffic(sandbox["prometheus_url"], "blue")
    yield planted
    manager.reset(sandbox_dir)


def _run(release: Release, outputs: dict[str, str], name: str, *args: str) -> int:
    done = release.run(*args)
    outputs[f"{name} (stdout)"] = done.stdout
    outputs[f"{name} (stderr)"] = done.stderr
    return done.returncode


def test_the_sandbox_story_leaks_no_secret(planted: Planted, sandbox_dir: Path, tmp_path: Path) -> None:
    """The story as `make demo` tells it, in its order (no reset between the runs): the
    incident blocked at preflight, 2.5.0 promoted through every gate, 2.5.1 rolled back at 50 %
    on the other color."""
    release = Release(tmp_path / "reports")
    release.env = planted.environ(release.env)
    outputs: dict[str, str] = {}
    profile = ["--set", f"load.profile={short_profile(tmp_path)}"]
    short = [*profile, "--set", "analysis.window_s=16"]
    # 2.5.1 fails from 50 s after its start: a window that reaches past that.
    until_failing = [*profile, "--set", "analysis.window_s=60"]
    assert _run(release, outputs, "blocked run", "run", "--candidate", "2.5.0", "--plain") == 1
    remediate(index=True, connections=True, folder=sandbox_dir)
    code = _run(release, outputs, "promoted run", "run", "--candidate", "2.5.0", "--plain", *short)
    assert code == 0, outputs["promoted run (stdout)"][-3000:]
    remediate(index=True, connections=True, folder=sandbox_dir, candidate="2.5.1")
    code = _run(release, outputs, "rolled-back run", "run", "--candidate", "2.5.1", "--plain",
                *until_failing)
    assert code == 1, outputs["rolled-back run (stdout)"][-3000:]
    assert release.events()[-1]["outcome"] == "rolled_back", outputs["rolled-back run (stdout)"][-3000:]
    config_env = {**release.env, "SHIFTGATE_PROMETHEUS__ALERTMANAGER_URL":
                  f"http://alertmanager:9093/?token={planted.query_token}"}
    plain = Release(release.reports)
    plain.env = config_env
    assert _run(plain, outputs, "config", "config") == 0
    assert _run(plain, outputs, "config --json", "config", "--json") == 0
    assert "alertmanager:9093" in outputs["config --json (stdout)"]  # the URL is shown, masked
    assert _run(release, outputs, "status --json", "status", "--json") == 0
    _run(release, outputs, "report", "report")
    assert (release.reports / "summary.md").is_file()
    # The Prometheus URL with its credentials was really used: the runs above reached it.
    assert any("gate:***@" in text for text in outputs.values()) or _mentions_masked(release.reports)

    assert planted.hits(release.reports, outputs) == []


def _wait_only_live_gets_traffic(prometheus: str, idle: str, timeout_s: float = 330) -> None:
    """After a reset the rate windows still show the color that was live a moment ago, and
    after a Prometheus restart its last samples stay visible for the 5-minute lookback; the
    next preflight would see two live colors."""
    query = f'sum(color:recommendation_requests:rate10s{{color="{idle}"}}) > 0'
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        answer = requests.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=5).json()
        if not answer["data"]["result"]:
            return
        time.sleep(1)
    raise AssertionError(f"{idle} still receives traffic {timeout_s} s after the reset")


def _mentions_masked(reports: Path) -> bool:
    return any("gate:***@" in p.read_text("utf-8", "replace") for p in _files(reports))


def test_a_gate_killed_mid_run_leaves_no_secret(planted: Planted, tmp_path: Path) -> None:
    """pytest killed (SIGKILL) once it wrote an Allure result of a check that read Prometheus
    (its URL carries the basic-auth password): no end-of-session sweep ran, and still nothing
    under reports/ holds a secret."""
    reports = tmp_path / "reports"
    env = planted.environ({**os.environ, "SHIFTGATE_REPORTS_DIR": str(reports)})
    gate = subprocess.Popen(
        [*CLI, "gate", "preflight"], env=env, cwd=project_root(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    results = reports / "allure-results"
    deadline = time.monotonic() + 180
    killed = False
    while time.monotonic() < deadline and gate.poll() is None:
        if any("prometheus http" in p.read_text("utf-8", "replace")
               for p in results.glob("*-result.json")):
            for child in psutil.Process(gate.pid).children(recursive=True):
                if "pytest" in " ".join(child.cmdline()):
                    child.send_signal(signal.SIGKILL)
                    killed = True
            break
        time.sleep(0.05)
    stdout, stderr = gate.communicate(timeout=60)
    assert killed, f"pytest ended before it could be killed: {stdout[-2000:]}"
    assert gate.returncode != 0  # a killed gate never passes
    assert planted.hits(reports, {"gate (stdout)": stdout, "gate (stderr)": stderr}) == []
    # There was something to mask: the Prometheus URL, credentials masked, in a written result.
    assert _mentions_masked(results)
