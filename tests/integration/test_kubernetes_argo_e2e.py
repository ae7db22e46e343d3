"""The Argo Rollouts path end to end on the fake API: the administrator applies ci/argo/ with
kubectl, Argo resolves the analysis arguments from the stored Rollout, and shiftgate runs with
exactly the argv of the analysis Jobs.

Two things are mapped, as the Job's pod would have them: the image's /app is a folder of links
to this repository whose environments/ holds only the ConfigMap's production.yaml (a copy of
environments/production.example.yaml), and the in-cluster ServiceAccount is the fake's
kubeconfig. Nothing else runs here (no database,
no Prometheus, no preview Service), so every gate must fail closed with its reasons: exit 1,
never 2 (arguments and candidate accepted) — while the old template's candidate, a ReplicaSet
hash, is a configuration error (exit 2), which is why it could never pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.paths import project_root
from tests.k8s_fake.argo import analysis_args, job_commands
from tests.k8s_fake.cluster import FakeCluster, start_fake_cluster

ROOT = project_root()
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (make system installs it)")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeCluster]:
    made = start_fake_cluster(tmp_path, enforce_rbac=False)  # the administrator applies ci/argo/
    yield made
    made.stop()


def kubectl(cluster: FakeCluster, *args: str) -> Any:
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "-o" in args else done.stdout


def shiftgate(argv: list[str], app: Path, cluster: FakeCluster, tmp_path: Path) -> tuple[int, str]:
    """``argv`` as the Job's container runs it, in the image's /app (``app``)."""
    assert argv[0] == "shiftgate"
    args = argv[1:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIFTGATE_")}
    env |= {
        "SHIFTGATE_DATABASE_DSN": "postgresql://gate:secret@127.0.0.1:1/recommendation",  # the Secret
        "SHIFTGATE_REPORTS_DIR": (tmp_path / "reports").as_posix(),
        "SHIFTGATE_ROOT": app.as_posix(),  # the image's ENV (Dockerfile: SHIFTGATE_ROOT=/app)
        "KUBECONFIG": cluster.kubeconfig.as_posix(),
        "PYTHONPATH": ROOT.as_posix(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", *args],
        capture_output=True, text=True, timeout=300, check=False, cwd=app, env=env,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def production_environment() -> str:
    """The ConfigMap: production's example with nothing reachable behind it."""
    environment = yaml.safe_load((ROOT / "environments" / "production.example.yaml").read_text())
    environment["prometheus"]["url"] = "http://127.0.0.1:1"
    environment["prometheus"].pop("alertmanager_url", None)
    return yaml.safe_dump(environment)


# What the Dockerfile copies to /app (the package itself comes from PYTHONPATH here).
IMAGE_FILES = ["conftest.py", "pyproject.toml", "checks", "gates", "plans", "loadtests", "deploy", "docs",
               "sandbox/prometheus"]  # fmt: skip


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """The image's /app, with the ConfigMap mounted over environments/ (copies, not links:
    pytest resolves links, and a check outside the root is deselected)."""
    root = tmp_path / "app"
    for name in IMAGE_FILES:
        source, target = ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (root / "environments").mkdir()
    (root / "environments" / "production.yaml").write_text(production_environment())
    return root


def test_argo_runs_shiftgate_with_the_rollouts_version(
    cluster: FakeCluster, app: Path, tmp_path: Path
) -> None:
    applied = kubectl(
        cluster, "apply", "--server-side", "--validate=false",
        "-f", (ROOT / "ci" / "argo" / "analysis-template.yaml").as_posix(),
        "-f", (ROOT / "ci" / "argo" / "rollout.yaml").as_posix(),
    )  # fmt: skip
    assert "rollout.argoproj.io/recommendation serverside-applied" in applied
    rollout = kubectl(cluster, "get", "rollout", "recommendation", "-o", "json")
    templates = {
        t["metadata"]["name"]: t for t in kubectl(cluster, "get", "analysistemplates", "-o", "json")["items"]
    }
    blue_green = rollout["spec"]["strategy"]["blueGreen"]
    ran: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
        values = analysis_args(rollout, blue_green[key])
        assert values == {"candidate": "2.5.0"}  # the pod template's version label
        for ref in blue_green[key]["templates"]:
            for metric, argv in job_commands(templates[ref["templateName"]], values).items():
                if metric == "load-on-preview":
                    continue  # a full Locust profile against an absent preview Service: minutes
                assert argv[argv.index("--candidate") + 1] == "2.5.0"
                code, output = shiftgate(argv, app, cluster, tmp_path)
                assert code == 1, output  # ran, failed closed: nothing to reach
                assert " 0 selected" not in output and "deselected" not in output, output
                assert "unavailable" in output, output  # the checks ran and said why
                ran[metric], outputs[metric] = argv[2], output
    assert ran == {"preflight": "preflight", "slo-on-active": "promoted"}
    # The SLO evidence names the Rollout's candidate on the active pods (blue).
    assert "candidate 2.5.0 on blue" in outputs["slo-on-active"]


def test_a_replicaset_hash_as_candidate_is_refused(cluster: FakeCluster, app: Path, tmp_path: Path) -> None:
    """The old template's ``podTemplateHashValue: Latest``: exit 2 before any check runs."""
    template = next(yaml.safe_load_all((ROOT / "ci" / "argo" / "analysis-template.yaml").read_text()))
    argv = job_commands(template, {"candidate": "6c9f8d7b54"})["preflight"]
    code, output = shiftgate(argv, app, cluster, tmp_path)
    assert code == 2, output
    assert "candidate version '6c9f8d7b54' has no entry in specs" in output


def test_an_environment_file_outside_the_project(cluster: FakeCluster, app: Path, tmp_path: Path) -> None:
    """Before the fix, `--env PATH` went to pytest as two words: a path outside the project
    was taken for a test path and the gate died with a usage error (exit 2)."""
    outside = tmp_path / "etc" / "production.yaml"
    outside.parent.mkdir()
    outside.write_text(production_environment())
    code, output = shiftgate(
        ["shiftgate", "gate", "preflight", "--env", outside.as_posix(), "--candidate", "2.5.0"],
        app, cluster, tmp_path,
    )  # fmt: skip
    assert code == 1, output  # the gate ran and failed closed, like with --env production
