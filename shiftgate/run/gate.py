"""Run one gate as a pytest subprocess and map its outcome onto the exit-code contract.

Why a subprocess and not ``pytest.main()`` in-process: checks import the project's modules
and pytest caches imports, conftests and plugin state per process; a fresh interpreter per
gate keeps one gate's state out of the next, matches what CI and engineers run by hand, and
keeps this module free of pytest (docs/architecture.md rule 8).

The parent does no validation of its own on the way to pytest: it refuses arguments that
would make a subset the gate (``shiftgate.run.gate_args``), checks that the gate and
environment files exist, and starts pytest, which validates both in its first steps. Only
when pytest ends with a usage error does the parent load them itself, to end with exit code 2
and the file and key named exactly as it always did; a valid configuration is read once.

The child runs in its own process group under a time limit and dies with its runner
(``shiftgate.run.group``). A gate past its limit fails (exit code 1, "timed out after N s").

Start-up is paid by every gate of every CI stage, so the subprocess loads only the plugins a
gate uses: plugin auto-loading is off (``--disable-plugin-autoload``, pytest 8.4) and
:data:`GATE_PLUGINS` are named with ``-p``, shiftgate's own among them (so a team's
repository needs no ``conftest.py``; one that names it too changes nothing). Packages that
merely happen to be installed (Locust's and anyio's pytest plugins, for instance) stay out of
a gate run.

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

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from shiftgate.config.gate_paths import gate_file_exists
from shiftgate.config.paths import project_root
from shiftgate.config.paths import reports_dir as default_reports_dir
from shiftgate.errors import ExitCode, ShiftgateError, UsageError
from shiftgate.run.gate_args import refused_addopts, refused_arguments, settings_of
from shiftgate.run.group import Finished, run_in_group

GATE_PLUGINS = (
    "shiftgate.pytest_plugin",  # the gate itself: a team's repository needs no conftest.py
    "allure_pytest.plugin",  # --alluredir: the report's results
    "xdist.plugin",  # -n, should a gate be run in parallel (costs a few ms when unused)
)
"""The third-party pytest plugins of a gate run, loaded explicitly (auto-loading is off)."""
DEFAULT_ENV = "sandbox"  # as the plugin: --env, else $SHIFTGATE_ENV, else this
FALLBACK_TIME_LIMIT_S = 3600.0
"""The limit when the parent cannot work one out (its configuration no longer loads)."""

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
_PYTEST_USAGE_ERROR = 4


class GateResult(NamedTuple):  # not a dataclass: on every gate's start-up path
    """The outcome of one gate run."""

    gate: str
    exit_code: ExitCode
    pytest_status: int
    command: tuple[str, ...]
    junit_path: Path
    allure_dir: Path
    timed_out: bool = False
    time_limit_s: float | None = None

    @property
    def passed(self) -> bool:
        return self.exit_code is ExitCode.OK

    @property
    def message(self) -> str | None:
        """Why the gate failed when its checks could not say so themselves."""
        if self.timed_out:
            return (
                f"gate {self.gate} timed out after {self.time_limit_s:g} s: its processes were "
                "killed and the gate fails"
            )
        return None


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
        # One word: a path outside the project as a separate word would be taken by pytest
        # for a test path, rooting the run there without the project's conftest.
        command += [f"--env={env}"]
    # Options with a value are one word each: pytest decides its rootdir and test paths
    # before every plugin's options are known, and takes a detached value for a test path.
    command += [
        f"--alluredir={allure_dir}",
        f"--junitxml={junit_path}",
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
    timeout_s: float | None = None,
    log: Path | None = None,
    watch: Callable[[], None] | None = None,
) -> GateResult:
    """Run gate ``name`` and return its result; the caller exits with ``result.exit_code``.

    ``timeout_s`` (a plan's stage) beats the gate file's ``timeout_s``, which beats the
    environment's default (``shiftgate.config.gates.time_limit``). ``log``: the gate's output
    goes to that file instead of the terminal. ``watch`` is called about every 0.1 s while the
    gate runs, in this thread (the runner reads the analysis log with it, to move traffic back
    as soon as the analysis has decided). ``runner`` replaces the process handling
    (tests): no time limit, no process group, and its status is mapped as it is.

    Raises ``UsageError`` (exit code 2) for arguments that would run part of the gate,
    ``ConfigError`` (exit code 2) for a missing or invalid gate or environment file, and
    ``ShiftgateError`` (exit code 3) when the reports folder is not writable.
    """
    refused = refused_arguments(extra_args) + refused_addopts(os.environ.get("PYTEST_ADDOPTS"))
    if refused:
        raise UsageError(
            f"gate {name} runs whole: refused {', '.join(refused)}; "
            "run plain `pytest checks/...` for a subset"
        )
    env_name = env or os.environ.get("SHIFTGATE_ENV") or DEFAULT_ENV
    settings = settings_of(extra_args)
    if not gate_file_exists(name):
        _validate(name, env_name, settings)  # the exact error, file and key named
    reports = default_reports_dir() if reports_dir is None else reports_dir
    allure_dir = reports / "allure-results"
    junit_path = reports / "junit" / f"{name}.xml"
    for folder in (allure_dir, junit_path.parent):
        _ensure_writable(folder)
    command = build_command(
        name, env=env, extra_args=extra_args, allure_dir=allure_dir, junit_path=junit_path
    )
    timed_out, limit = False, None
    if runner is not None:
        status = runner(command, project_root())
    else:
        def default_limit() -> float:
            return _time_limit(name, env_name, settings)

        finished = _run(
            command, default_limit if timeout_s is None else timeout_s, log, reports, watch
        )
        status, timed_out, limit = finished.status, finished.timed_out, finished.limit_s
        if status == _PYTEST_USAGE_ERROR:
            _validate(name, env_name, settings)  # the same message as before pytest ran it
    return GateResult(
        gate=name,
        exit_code=ExitCode.FAILED if timed_out else map_exit_status(status),
        pytest_status=status,
        command=tuple(command),
        junit_path=junit_path,
        allure_dir=allure_dir,
        timed_out=timed_out,
        time_limit_s=limit,
    )


def _run(
    command: Sequence[str],
    limit_s: float | Callable[[], float],
    log: Path | None,
    reports: Path,
    watch: Callable[[], None] | None,
) -> Finished:
    # The checks' output streams as it happens, to the terminal (and CI logs) or to the log
    # file, line by line through the redaction (rule 6): a gate killed half-way leaves no
    # secret in either.
    from shiftgate.report.redacted import RedactingWriter  # not on the start-up path of a check

    writer = RedactingWriter(log if log is not None else sys.stdout)
    try:
        # The checks write a run's analysis log under the same reports folder as the results.
        env = {**os.environ, "SHIFTGATE_REPORTS_DIR": str(reports)}
        finished = run_in_group(
            command, cwd=project_root(), limit_s=limit_s, env=env, lines=writer.write_lines,
            watch=watch,
        )
        if finished.timed_out:
            writer.write_lines([f"\nshiftgate: timed out after {finished.limit_s:g} s; group killed\n"])
    finally:
        writer.close()
    return finished


def _validate(name: str, env_name: str, settings: Sequence[str]) -> None:
    """Load the gate and the environment as the gate's pytest does; raises ConfigError."""
    from shiftgate.config.gates import load_gate
    from shiftgate.config.loader import load_environment

    load_gate(name)
    load_environment(env_name, overrides=settings)


def _time_limit(name: str, env_name: str, settings: Sequence[str]) -> float:
    # Asked for only once the gate has run a while (run_in_group): pydantic is paid then.
    from shiftgate.config.gates import load_gate, time_limit
    from shiftgate.config.loader import load_environment

    try:
        return time_limit(load_gate(name), load_environment(env_name, overrides=settings))
    except ShiftgateError:
        return FALLBACK_TIME_LIMIT_S


def _ensure_writable(folder: Path) -> None:
    # Checked up front: pytest would only warn about an unwritable --junitxml at the very
    # end, after the checks ran, and allure-pytest would crash mid-run.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".shiftgate-write-test.{os.getpid()}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        probe.unlink()
    except OSError as exc:
        raise ShiftgateError(
            f"reports folder {folder} is not writable ({exc.strerror or exc}); "
            "fix its permissions or point the reports elsewhere"
        ) from None
