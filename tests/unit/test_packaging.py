"""An installed shiftgate serves the team's repository: the pytest plugin through its
``pytest11`` entry point, registered once whoever else names it, and checks, gates, plans
and environments read from the working directory or ``--project DIR``, never from where the
package lives.

"Installed" is a distribution's metadata on the import path (a ``dist-info`` folder with the
entry point, as pip writes it): what pytest and ``importlib.metadata`` read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from shiftgate.config.paths import project_root, source_root

PLUGIN = "shiftgate.pytest_plugin"
DSN = {"SHIFTGATE_DATABASE_DSN": "postgresql://u:p@127.0.0.1:1/db"}
COUNT_REGISTRATIONS = """
def test_count(request):
    import shiftgate.pytest_plugin as plugin
    names = [n for n, p in request.config.pluginmanager.list_name_plugin() if p is plugin]
    print("REGISTERED", names)
"""


def installed(tmp_path: Path, entry_name: str = PLUGIN) -> Path:
    """A site folder holding a distribution whose pytest11 entry point is ``entry_name``."""
    info = tmp_path / "site" / "shiftgate_probe-0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shiftgate-probe\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text(f"[pytest11]\n{entry_name} = {PLUGIN}\n")
    return info.parent


def run(args: list[str], cwd: Path, *paths: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("SHIFTGATE_ROOT", "PYTEST_ADDOPTS")}
    environ.update(PYTHONPATH=os.pathsep.join(str(p) for p in (source_root(), *paths)), **env)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=120, check=False)


def test_the_entry_point_is_named_as_its_module() -> None:
    project = tomllib.loads((source_root() / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {PLUGIN: PLUGIN}


@pytest.mark.parametrize("extra", [[], ["--disable-plugin-autoload", "-p", PLUGIN]],
                         ids=["auto-loaded", "named like a gate run"])
def test_entry_point_and_conftest_register_the_plugin_once(tmp_path: Path, extra: list[str]) -> None:
    site = installed(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "conftest.py").write_text(f"pytest_plugins = [{PLUGIN!r}]\n")  # as this repository's
    (repo / "test_count.py").write_text(COUNT_REGISTRATIONS)
    done = run(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *extra, "test_count.py"], repo, site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"REGISTERED ['{PLUGIN}']" in done.stdout


def test_under_another_name_a_conftest_would_register_it_twice(tmp_path: Path) -> None:
    """Why the name matters: pytest refuses the second registration and stops."""
    site = installed(tmp_path, entry_name="shiftgate")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "conftest.py").write_text(f"pytest_plugins = [{PLUGIN!r}]\n")
    (repo / "test_count.py").write_text(COUNT_REGISTRATIONS)
    done = run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_count.py"], repo, site)
    assert done.returncode != 0 and "already registered" in done.stdout + done.stderr


def test_a_team_repository_needs_no_conftest(tmp_path: Path) -> None:
    site = installed(tmp_path)
    repo = tmp_path / "team"
    repo.mkdir()
    done = run(["-m", "pytest", "--help"], repo, site)
    assert done.returncode == 0 and "--gate" in done.stdout  # the plugin's options are there


def team_repository(folder: Path, *, check_passes: bool) -> Path:
    for sub in ("gates", "checks", "environments"):
        (folder / sub).mkdir(parents=True)
    (folder / "environments" / "team.yaml").write_text(
        (source_root() / "environments" / "production.example.yaml").read_text()
    )
    (folder / "gates" / "smoke.yaml").write_text(
        "name: smoke\npurpose: the team's own gate\nchecks:\n  - path: checks/test_smoke.py\n"
    )
    verdict = "production" if check_passes else "not-production"
    (folder / "checks" / "test_smoke.py").write_text(
        f"def test_the_teams_environment(environment):\n    assert environment.name == {verdict!r}\n"
    )
    return folder


@pytest.mark.parametrize("check_passes,code", [(True, 0), (False, 1)])
def test_a_gate_runs_the_team_repositorys_checks(tmp_path: Path, check_passes: bool, code: int) -> None:
    """From anywhere, ``--project DIR`` names the repository; the team's gate, check and
    environment are used (a failing check of theirs fails it) and its reports land there."""
    team = team_repository(tmp_path / "team", check_passes=check_passes)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = run(["-m", "shiftgate.cli", "--project", str(team), "gate", "smoke", "--env", "team"],
               elsewhere, **DSN)
    assert done.returncode == code, done.stdout + done.stderr
    assert "checks/test_smoke.py" in done.stdout
    assert (team / "reports" / "junit" / "smoke.xml").is_file()
    assert not (elsewhere / "reports").exists()


def test_the_working_directory_is_the_project(tmp_path: Path) -> None:
    team = team_repository(tmp_path / "team", check_passes=True)
    done = run(["-m", "shiftgate.cli", "gate", "smoke", "--env", "team"], team, **DSN)
    assert done.returncode == 0, done.stdout + done.stderr
    script = "from shiftgate.config.paths import project_root; print(project_root())"
    assert run(["-c", script], team).stdout.strip() == str(team.resolve())
    assert run(["-c", script], tmp_path, SHIFTGATE_ROOT=str(team)).stdout.strip() == str(team.resolve())


def test_nothing_is_read_from_where_the_package_lives(tmp_path: Path) -> None:
    """An empty folder has no environments: exit 2 naming the file there, even though
    shiftgate's own tree (where the package is) holds one of that name."""
    assert (source_root() / "environments" / "production.example.yaml").is_file()
    done = run(["-m", "shiftgate.cli", "config", "--env", "production.example"], tmp_path, **DSN)
    assert done.returncode == 2
    assert str(tmp_path.resolve() / "environments" / "production.example.yaml") in done.stderr + done.stdout


def test_project_must_be_a_folder(tmp_path: Path) -> None:
    done = run(["-m", "shiftgate.cli", "--project", str(tmp_path / "missing"), "status"], tmp_path)
    assert done.returncode == 2 and "no such folder" in done.stderr + done.stdout


def test_the_tests_run_from_the_repository() -> None:
    """This suite's own paths: run from the checkout, the project is the checkout."""
    assert project_root() == source_root()
