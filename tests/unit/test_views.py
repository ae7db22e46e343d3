"""The read views checks receive, and the registries: a view of every registered kind has no
way to write, an unknown kind is a configuration error naming file and key, and the sandbox
never loads the Kubernetes client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError
from shiftgate.platforms import registry as platforms
from shiftgate.probes import views
from shiftgate.routers import registry as routers

WRITES = ("deploy", "undo", "set_weights")
SANDBOX_ENV = {
    "SHIFTGATE_SANDBOX_DSN": "postgresql://probe:s3cret@127.0.0.1:5999/recommendations",
    "SHIFTGATE_SANDBOX_ROUTER_URL": "http://127.0.0.1:8000",
    "SHIFTGATE_SANDBOX_BLUE_URL": "http://127.0.0.1:8001",
    "SHIFTGATE_SANDBOX_GREEN_URL": "http://127.0.0.1:8002",
    "SHIFTGATE_SANDBOX_PROMETHEUS_URL": "http://127.0.0.1:9090",
    "SHIFTGATE_SANDBOX_HAPROXY_SOCKET": "/tmp/admin.sock",
}
PLATFORMS: dict[str, dict[str, Any]] = {
    "sandbox": {"kind": "sandbox"},
    "kubernetes": {"kind": "kubernetes", "namespace": "recommendation"},
}
ROUTERS: dict[str, dict[str, Any]] = {
    "haproxy": {"kind": "haproxy", "admin_socket": "/tmp/admin.sock"},
    "gateway-api": {
        "kind": "gateway-api", "namespace": "recommendation", "route": "recommendation",
        "backends": {"blue": "recommendation-blue", "green": "recommendation-green"},
    },
    "istio": {
        "kind": "istio", "namespace": "recommendation", "virtual_service": "recommendation",
        "subsets": {"blue": "blue", "green": "green"},
    },
    "service-selector": {
        "kind": "service-selector", "namespace": "recommendation", "service": "recommendation",
    },
}


@pytest.fixture
def kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubeconfig whose API is never called: building views and adapters reads nothing."""
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "unit",
        "clusters": [{"name": "unit", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "unit", "user": {"token": "unit"}}],
        "contexts": [{"name": "unit", "context": {"cluster": "unit", "user": "unit"}}],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("KUBECONFIG", str(path))


def environment(tmp_path: Path, platform: str = "sandbox", router: str = "haproxy") -> Environment:
    data = yaml.safe_load((project_root() / "environments" / "sandbox.yaml").read_text(encoding="utf-8"))
    data.update(platform=PLATFORMS[platform], router=ROUTERS[router])
    path = tmp_path / f"{platform}-{router}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_environment(str(path), environ=SANDBOX_ENV)


def test_every_kind_the_config_accepts_is_registered_on_both_sides() -> None:
    # Read-only kinds (an Argo Rollout) have a view and, on purpose, no writer.
    assert set(views.PLATFORM_VIEWS) == set(platforms.PLATFORMS) | set(platforms.READ_ONLY)
    assert set(platforms.PLATFORMS) == set(PLATFORMS)
    assert not set(platforms.PLATFORMS) & set(platforms.READ_ONLY)
    assert set(views.ROUTER_VIEWS) == set(routers.ROUTERS) == set(ROUTERS)


def test_the_runner_refuses_a_read_only_platform_naming_the_key(tmp_path: Path) -> None:
    env = environment(tmp_path)
    env.platform = env.platform.model_copy(update={"kind": "argo-rollout"})
    with pytest.raises(ConfigError, match=r"platform\.kind.*read-only"):
        platforms.platform_for(env)


@pytest.mark.parametrize("kind", sorted(PLATFORMS))
def test_platform_view_of_every_kind_has_no_write(kind: str, tmp_path: Path, kubeconfig: None) -> None:
    env = environment(tmp_path, platform=kind)
    view = views.platform_view(env)  # what checks/conftest.py's `platform` fixture returns
    assert view.name == kind
    assert [name for name in WRITES if hasattr(view, name)] == []
    # The runner's adapter of the same kind does write: the test can tell the two apart.
    adapter = platforms.platform_for(env)
    assert all(hasattr(adapter, name) for name in ("deploy", "undo"))


@pytest.mark.parametrize("kind", sorted(ROUTERS))
def test_router_view_of_every_kind_has_no_write(kind: str, tmp_path: Path, kubeconfig: None) -> None:
    env = environment(tmp_path, router=kind)
    view = views.router_view(env)  # what checks/conftest.py's `router` fixture returns
    assert view.name == kind
    assert [name for name in WRITES if hasattr(view, name)] == []
    assert hasattr(routers.router_for(env), "set_weights")


def test_kubernetes_views_hold_no_write_calls(tmp_path: Path, kubeconfig: None) -> None:
    for kind in ("gateway-api", "istio", "service-selector"):
        view: Any = views.router_view(environment(tmp_path, platform="kubernetes", router=kind))
        assert not hasattr(view.calls, "write") and not hasattr(view.calls, "modify_custom")
    platform: Any = views.platform_view(environment(tmp_path, platform="kubernetes"))
    assert not hasattr(platform.calls, "write")


@pytest.mark.parametrize(
    ("registry", "build", "key"),
    [
        (views.PLATFORM_VIEWS, views.platform_view, "platform.kind"),
        (platforms.PLATFORMS, platforms.platform_for, "platform.kind"),
        (views.ROUTER_VIEWS, views.router_view, "router.kind"),
        (routers.ROUTERS, routers.router_for, "router.kind"),
    ],
)
def test_unregistered_kind_is_a_config_error_naming_file_and_key(
    registry: dict[str, str], build: Any, key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(tmp_path)
    kind = env.platform.kind if key == "platform.kind" else env.router.kind
    monkeypatch.delitem(registry, kind)
    with pytest.raises(ConfigError) as caught:
        build(env)
    assert str(caught.value).startswith(f"{env.source}: {key}: unknown kind {kind!r}; known: ")
    assert env.source == str(tmp_path / "sandbox-haproxy.yaml")


def test_unknown_kind_in_the_file_is_refused_at_load(tmp_path: Path) -> None:
    data = yaml.safe_load((project_root() / "environments" / "sandbox.yaml").read_text(encoding="utf-8"))
    data["platform"] = {"kind": "nomad"}
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}: platform: .*nomad"):
        load_environment(str(path), environ=SANDBOX_ENV)


def test_the_sandbox_never_loads_the_kubernetes_client(tmp_path: Path) -> None:
    script = f"""
import sys
from shiftgate.config.loader import load_environment
from shiftgate.platforms.registry import platform_for
from shiftgate.probes.views import platform_view, router_view
from shiftgate.routers.registry import router_for
env = load_environment("sandbox", environ={SANDBOX_ENV!r})
for build in (platform_view, router_view, platform_for, router_for):
    build(env)
loaded = sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes."))
assert not loaded, loaded
"""
    environ = {"PYTHONPATH": str(project_root()), "SHIFTGATE_SANDBOX_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=project_root(),
        env={**environ, "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert result.returncode == 0, result.stderr
