"""Run one gate as a pytest subprocess and map its outcome onto the exit-code contract.

Why a subprocess and not ``pytest.main()`` in-process: checks import the project's modules
and pytest caches imports, conftests and plugin state per process; a fresh interpreter per
gate keeps one gate's state out of the next, matches what CI and engineers run by hand, and
keeps this module free of pytest (docs/architecture.md rule 8).

Start-up is paid by every gate of every CI stage, so the subprocess loads only the plugins a
gate uses: plugin auto-loading is off (``--disable-plugin-autoload``, pytest 8.4) and
:data:`GATE_PLUGINS` are named with ``-p``; shiftgate's own plugin comes from the root
``conftest.py``. Packages that merely happen to be installed (Locust's and anyio's pytest
plugins, for instance) stay out of a gate run.

pytest's exit statuses, mapped (docs/architecture.md rule 7):

====  ===============================  =========================================
 0    all checks passed                0 OK
 1    a check failed (or a skip         1 FAILED
      inside the gate, fail-closed)
 2    interrupted (Ctrl-C, signal)     3 INTERNAL: the verdict is unknown
 3    pytest internal error            3 INTERNAL
 4    usage error (bad config, gate     2 USAGE
      file, option)
 5    no tests collected               1 FAILED: fail closed (the plugin already
                                         turns this into 1 inside a gate)
else  killed by a signal, unknown      3 INTERNAL
====  ===============================  =========================================
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from shiftgate.config.gates import load_gate
from shiftgate.config.paths import project_root
from shiftgate.config.paths import reports_dir as default_reports_dir
from shiftgate.errors import ExitCode, ShiftgateError

GATE_PLUGINS = (
    "allure_pytest.plugin",  # --alluredir: the report's results
    "xdist.plugin",  # -n, should a gate be run in parallel (costs a few ms when unused)
)
"""The third-party pytest plugins of a gate run, loaded explicitly (auto-loading is off)."""

Runner = Callable[[Sequence[str], Path], int]
"""Runs a command in a folder, output to the terminal, and returns its exit status."""

_PYTEST_TO_CONTRACT: dict[int, ExitCode] = {
    0: ExitCode.OK,
    1: ExitCode.FAILED,
    2: ExitCode.INTERNAL,
    3: ExitCode.INTERNAL,
    4: ExitCode.USAGE,
    5: ExitCode.FAILED,
}


@dataclass(frozen=True)
class GateResult:
    """The outcome of one gate run."""

    gate: str
    exit_code: ExitCode
    pytest_status: int
    command: tuple[str, ...]
    junit_path: Path
    allure_dir: Path

    @property
    def passed(self) -> bool:
        return self.exit_code is ExitCode.OK


def map_exit_status(status: int) -> ExitCode:
    """pytest's exit status → shiftgate's exit code; anything unknown is shiftgate's fault."""
    return _PYTEST_TO_CONTRACT.get(status, ExitCode.INTERNAL)


def build_command(
    name: str,
    *,
    env: str | None,
    extra_args: Sequence[str],
    allure_dir: Path,
    junit_path: Path,
) -> list[str]:
    command = [
        sys.executable, "-m", "pytest",
        "-p", "no:cacheprovider",  # gate runs leave no .pytest_cache state behind
        "--disable-plugin-autoload",
    ]
    for plugin in GATE_PLUGINS:
        command += ["-p", plugin]
    command += ["--gate", name]
    if env is not None:
        # Without --env the plugin applies its own default ($SHIFTGATE_ENV, else sandbox).
        command += ["--env", env]
    command += [
        "--alluredir", str(allure_dir),
        "--junitxml", str(junit_path),
        "-o", f"junit_suite_name={name}",
        *extra_args,
    ]
    return command


def run_gate(
    name: str,
    *,
    env: str | None = None,
    extra_args: Sequence[str] = (),
    reports_dir: Path | None = None,
    runner: Runner | None = None,
) -> GateResult:
    """Run gate ``name`` and return its result; the caller exits with ``result.exit_code``.

    Raises ``ConfigError`` (exit code 2) for a missing or invalid gate file, before pytest
    starts, and ``ShiftgateError`` (exit code 3) when the reports folder is not writable.
    """
    load_gate(name)  # fail with file and key before spending a pytest start-up on it
    reports = default_reports_dir() if reports_dir is None else reports_dir
    allure_dir = reports / "allure-results"
    junit_path = reports / "junit" / f"{name}.xml"
    for folder in (allure_dir, junit_path.parent):
        _ensure_writable(folder)
    command = build_command(
        name, env=env, extra_args=extra_args, allure_dir=allure_dir, junit_path=junit_path
    )
    status = (runner or _run_streaming)(command, project_root())
    return GateResult(
        gate=name,
        exit_code=map_exit_status(status),
        pytest_status=status,
        command=tuple(command),
        junit_path=junit_path,
        allure_dir=allure_dir,
    )


def _ensure_writable(folder: Path) -> None:
    # Checked up front: pytest would only warn about an unwritable --junitxml at the very
    # end, after the checks ran, and allure-pytest would crash mid-run.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ShiftgateError(
            f"reports folder {folder} is not writable ({exc.strerror or exc}); "
            "fix its permissions or point the reports elsewhere"
        ) from None


def _run_streaming(command: Sequence[str], cwd: Path) -> int:
    # The checks' output streams to the terminal (and to CI logs) as it happens, line by line
    # through the redaction (rule 6).
    from shiftgate.report.redacted import pipe_redacted  # not on the start-up path of a check

    return pipe_redacted(command, cwd, sys.stdout)
