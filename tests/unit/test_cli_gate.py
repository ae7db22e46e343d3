"""`shiftgate gate` as a pipeline runs it: a real process on a tiny real project.

Refusals and configuration errors end with exit code 2 and one line naming what is wrong,
never a traceback; messages are printed as they are, never read as rich markup; the parent
process imports no validation library on its way to pytest (start-up is paid per CI stage).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shiftgate.cli.output import error
from shiftgate.errors import ExitCode
from tests.unit.test_gate_run import project, root  # noqa: F401 - the shared fixtures


def shiftgate(*args: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *python_flags, "-m", "shiftgate.cli", *args],
        capture_output=True, text=True, check=False, env=os.environ.copy(), timeout=120,
    )


def test_collect_only_is_refused_before_pytest_starts(project: Path) -> None:  # noqa: F811
    """Passed before issue 13: `shiftgate gate NAME --co` exited 0 with no check run."""
    done = shiftgate("gate", "ok", "--env", "demo", "--co")
    assert done.returncode == ExitCode.USAGE
    assert "shiftgate: gate ok runs whole: refused '--co' (only collects)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "reports" / "junit").exists()  # pytest never ran


def test_bad_environment_names_the_file_once_pytest_refused_it(project: Path) -> None:  # noqa: F811
    done = shiftgate("gate", "ok", "--env", "missing")
    assert done.returncode == ExitCode.USAGE
    assert "shiftgate: " in done.stderr and "missing.yaml: no such environment file" in done.stderr
    assert "Traceback" not in done.stderr


def test_message_with_brackets_is_printed_verbatim(project: Path) -> None:  # noqa: F811
    """Before issue 12 a message holding `[/recommendations]` raised rich's MarkupError while
    the error was being printed: a traceback instead of the message."""
    done = shiftgate("gate", "ok", "--env", "demo", "--set", "slo.error_ratio_max=[/recommendations]")
    assert done.returncode == ExitCode.USAGE
    assert "slo.error_ratio_max=[/recommendations]" in done.stderr
    assert "MarkupError" not in done.stderr and "Traceback" not in done.stderr


def test_timeout_option_fails_the_gate_with_its_reason(project: Path) -> None:  # noqa: F811
    (project / "checks" / "slo" / "test_sleep.py").write_text(
        "import time\n\ndef test_sleeps(environment):\n    time.sleep(1000)\n"
    )
    (project / "gates" / "sleepy.yaml").write_text(
        "name: sleepy\npurpose: p\nchecks:\n  - path: checks/slo/test_sleep.py\n"
    )
    done = shiftgate("gate", "sleepy", "--env", "demo", "--timeout", "2")
    assert done.returncode == ExitCode.FAILED
    assert "shiftgate: gate sleepy timed out after 2 s: its processes were killed" in done.stderr


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_timeout_option_must_be_positive(project: Path, value: str) -> None:  # noqa: F811
    done = shiftgate("gate", "ok", "--env", "demo", "--timeout", value)
    assert done.returncode == ExitCode.USAGE


def test_the_gate_command_imports_no_validation_on_its_way_to_pytest(project: Path) -> None:  # noqa: F811
    # -X importtime covers only the parent process (the child is a fresh interpreter).
    done = shiftgate("gate", "ok", "--env", "demo", python_flags=("-X", "importtime"))
    assert done.returncode == ExitCode.OK, done.stderr
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    heavy = {"pydantic", "yaml", "rich", "shiftgate.cli.run", "shiftgate.run.runner", "psycopg"}
    assert not heavy & imported


def test_error_prints_markup_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    error("query [/recommendations] failed: [bold]not bold[/bold] [/]")
    assert capsys.readouterr().err.strip() == (
        "shiftgate: query [/recommendations] failed: [bold]not bold[/bold] [/]"
    )
