"""The runner's commands as a pipeline calls them: ``status``, ``rollback`` and ``resume``
without the database's DSN, ``rollback`` with nothing to roll back, and ``run --dry-run``
checking everything before the first action without reaching the router."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from shiftgate.cli.main import main
from shiftgate.config.loader import load_environment
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError, ExitCode
from tests.runner_fakes import world as fake
from tests.unit.test_config import ENV

NO_DSN = {k: v for k, v in ENV.items() if k != "SHIFTGATE_SANDBOX_DSN"}


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The file world, for commands run in this process, with no DSN in the environment."""
    for registry, kind, target in fake.entries():
        monkeypatch.setitem(registry, kind, target)
    monkeypatch.setattr("shiftgate.run.runner.run_gate", fake.run_gate)
    monkeypatch.delenv("SHIFTGATE_SANDBOX_DSN", raising=False)
    for name, value in {**NO_DSN, "SHIFTGATE_SANDBOX_DIR": str(tmp_path / "sandbox"),
                        "SHIFTGATE_REPORTS_DIR": str(tmp_path / "reports"),
                        fake.WORLD_ENV: str(tmp_path / "world")}.items():
        monkeypatch.setenv(name, value)
    yield fake.new_world(tmp_path / "world")


def test_without_the_dsn_the_environment_loads_for_commands_that_need_no_database() -> None:
    environment = load_environment("sandbox", environ=NO_DSN, needs_database=False)
    assert environment.router.kind == "haproxy"
    with pytest.raises(ConfigError) as caught:
        environment.database.dsn()  # the same error, when something does ask for it
    assert caught.value.source.endswith("sandbox.yaml") and caught.value.key == "database.dsn_env"
    with pytest.raises(ConfigError, match="SHIFTGATE_SANDBOX_DSN is not set"):
        load_environment("sandbox", environ=NO_DSN)  # the default: gates, run, remediate


def test_status_and_rollback_need_no_dsn(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--json"]) == ExitCode.OK
    assert '"live": "green"' in capsys.readouterr().out
    assert main(["rollback", "--plain"]) == ExitCode.OK
    assert "nothing to roll back: all traffic on green" in capsys.readouterr().out


def test_run_still_needs_the_dsn(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--candidate", "2.5.0", "--plain"]) == ExitCode.USAGE
    assert "sandbox.yaml: database.dsn_env: environment variable SHIFTGATE_SANDBOX_DSN" in (
        capsys.readouterr().err.replace("\n", "")
    )
    assert fake.read("router.json", files) == {"blue": 0, "green": 100}


def test_rollback_of_a_split_nobody_knows_exits_4(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.write("router.json", {"blue": 40, "green": 60}, files)
    assert main(["rollback", "--plain"]) == ExitCode.ROLLBACK_FAILED
    assert "set the router's weights by hand" in capsys.readouterr().err.replace("\n", " ")
    assert fake.read("router.json", files) == {"blue": 40, "green": 60}


def test_resume_checks_the_dsn_before_it_runs_a_gate(
    files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHIFTGATE_SANDBOX_DSN", ENV["SHIFTGATE_SANDBOX_DSN"])
    assert main(["stage", "preflight", "--candidate", "2.5.0", "--plain"]) == ExitCode.OK
    monkeypatch.delenv("SHIFTGATE_SANDBOX_DSN")
    assert main(["resume", "--plain"]) == ExitCode.USAGE
    assert "database.dsn_env" in capsys.readouterr().err
    assert fake.read("router.json", files) == {"blue": 0, "green": 100}  # nothing moved


class Unreachable:
    """A router that must not be asked: a dry run only reads its configuration."""

    name = "unreachable"
    supports_partial = True

    @classmethod
    def from_environment(cls, environment: object) -> Unreachable:
        raise AssertionError("a dry run reached the router")


class CannotSplit(Unreachable):
    supports_partial = False


def dry_run(monkeypatch: pytest.MonkeyPatch, router: type, *args: str) -> int:
    monkeypatch.setenv("SHIFTGATE_SANDBOX_DSN", ENV["SHIFTGATE_SANDBOX_DSN"])
    from shiftgate.probes.views import ROUTER_VIEWS
    from shiftgate.routers.registry import ROUTERS

    target = f"{__name__}:{router.__name__}"
    monkeypatch.setitem(ROUTERS, "haproxy", target)
    monkeypatch.setitem(ROUTER_VIEWS, "haproxy", target)
    return main(["run", "--candidate", "2.5.0", "--dry-run", "--plain", *args])


def test_dry_run_checks_without_reaching_the_router(
    files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dry_run(monkeypatch, Unreachable) == ExitCode.OK
    out = capsys.readouterr().out
    assert "post-deploy: gate post-deploy" in out and "the router was not asked" in out


def test_dry_run_refuses_a_step_the_router_cannot_take(
    files: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dry_run(monkeypatch, CannotSplit) == ExitCode.USAGE
    err = capsys.readouterr().err.replace("\n", "")
    assert "plans/blue-green.yaml: stages.1.action" in err and "cannot split traffic" in err


def test_dry_run_refuses_a_gate_that_does_not_exist(
    files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = yaml.safe_load((project_root() / "plans" / "blue-green.yaml").read_text())
    plan["stages"][2]["gate"] = "no-such-gate"
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert dry_run(monkeypatch, Unreachable, str(path)) == ExitCode.USAGE
    assert "no-such-gate" in capsys.readouterr().err


def test_dry_run_refuses_a_plan_that_never_promotes(
    files: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = yaml.safe_load((project_root() / "plans" / "blue-green.yaml").read_text())
    plan["stages"][2]["action"] = "none"
    path = tmp_path / "no-promote.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert dry_run(monkeypatch, Unreachable, str(path)) == ExitCode.USAGE
    err = capsys.readouterr().err.replace("\n", "")
    assert str(path) in err and "promote exactly once" in err
