"""One image: every manifest and pipeline runs the image the Dockerfile builds, the same way.

No Docker engine runs here, so the image is checked statically: the Dockerfile's entrypoint,
user and the files it copies, against every container in deploy/ and ci/ that runs shiftgate
(same reference, tagged with the package version; entrypoint `shiftgate`, or `locust` for
the distributed load-test Jobs; the Dockerfile's non-root uid), and the workflow that pushes it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.paths import project_root

ROOT = project_root()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = "ghcr.io/example/shiftgate"
REFERENCE = f"{IMAGE}:{VERSION}"
DOCKERFILE = (ROOT / "Dockerfile").read_text()
FILES = sorted(
    p for folder in ("deploy", "ci") for p in (ROOT / folder).rglob("*")
    if p.suffix in (".yaml", ".yml") and p.parent.name != "rules"
)


def _pod_specs(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if isinstance(node.get("containers"), list):
            yield node
        for value in node.values():
            yield from _pod_specs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pod_specs(value)


def _shiftgate_containers() -> list[tuple[Path, dict[str, Any], dict[str, Any]]]:
    found = []
    for path in FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            for spec in _pod_specs(doc):
                found += [(path, spec, c) for c in spec["containers"] if "shiftgate" in str(c.get("image"))]
    return found


def test_dockerfile_entrypoint_user_and_contents() -> None:
    assert 'ENTRYPOINT ["shiftgate"]' in DOCKERFILE
    assert re.search(r"^USER 10001:10001$", DOCKERFILE, re.M)
    copied = set(re.findall(r"^COPY (?:--from=\S+ )?(\S+)", DOCKERFILE, re.M))
    for needed in ("checks/", "gates/", "plans/", "environments/", "loadtests/", "conftest.py", "/promtool"):
        assert needed in copied, needed
    assert "SHIFTGATE_ROOT=/app" in DOCKERFILE  # the project's files, not site-packages
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["shiftgate"] == "shiftgate.cli.main:main"


def test_every_copied_path_exists() -> None:
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE, re.M):
        for part in source.split():
            assert (ROOT / part).exists(), part


@pytest.mark.parametrize(
    "path", [p for p in FILES if "flagger" not in p.parts], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_containers_run_the_one_image_and_its_entrypoint(path: Path) -> None:
    for where, spec, container in _shiftgate_containers():
        if where != path:
            continue
        assert container["image"] == REFERENCE, where
        expected = ["locust"] if "locust" in where.parts else ["shiftgate"]
        assert container.get("command") == expected, where
        user = (spec.get("securityContext") or {}).get("runAsUser")
        assert user == 10001, where


def test_flagger_runs_the_one_image() -> None:
    images = {c["image"] for p, _, c in _shiftgate_containers() if "flagger" in p.parts}
    assert images == {REFERENCE}
    # Flagger's loadtester only lends its static binary (an init container): no shell image
    # of its own serves the webhooks, and the hooks run as the read-only identity.
    doc = next(yaml.safe_load_all((ROOT / "ci" / "flagger" / "canary-webhook.yaml").read_text()))
    spec = doc["spec"]["template"]["spec"]
    assert [c["image"] for c in spec["containers"]] == [REFERENCE]
    assert spec["serviceAccountName"] == "shiftgate-gate"


def test_the_image_is_used_and_nothing_installs_shiftgate_from_a_registry() -> None:
    assert len(_shiftgate_containers()) >= 4  # gate Job, Argo template, Locust master + workers
    for path in FILES:
        assert "pip install shiftgate" not in path.read_text(), path


def test_the_workflow_pushes_that_reference() -> None:
    workflow = yaml.safe_load((ROOT / "ci" / "github" / "image.yml").read_text())
    assert workflow["env"]["IMAGE"] == IMAGE
    steps = workflow["jobs"]["image"]["steps"]
    push = next(s for s in steps if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert push["with"]["push"] is True
    assert "${{ env.IMAGE }}:${{ steps.version.outputs.version }}" in push["with"]["tags"]


def test_pod_security_restricted_everywhere() -> None:
    """drop ALL, RuntimeDefault seccomp, non-root, no privilege escalation, read-only root with
    an emptyDir at /tmp — in every pod of deploy/ and ci/ (the Flagger hook runner too)."""
    for path in FILES:
        for doc in yaml.safe_load_all(path.read_text()):
            for spec in _pod_specs(doc):
                pod = spec.get("securityContext") or {}
                assert pod.get("runAsNonRoot") is True, path
                assert pod.get("seccompProfile") == {"type": "RuntimeDefault"}, path
                tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
                for container in spec["containers"]:
                    ctx = container.get("securityContext") or {}
                    assert ctx.get("allowPrivilegeEscalation") is False, path
                    assert ctx.get("readOnlyRootFilesystem") is True, path
                    assert ctx.get("capabilities") == {"drop": ["ALL"]}, path
                    mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
                    assert mounts.get("/tmp") in tmp_volumes, f"{path}: no emptyDir at /tmp"
