"""Running check files as a pytest subprocess against the sandbox, as engineers and gates
do, and reading one check's outcome from the ``-rA`` summary."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from shiftgate.config.paths import project_root


def pytest_checks(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``pytest ARGS --env sandbox -rA`` in the project; ``env`` is added to os.environ."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--env", "sandbox", "-p", "no:cacheprovider", "-rA"],
        capture_output=True, text=True, cwd=project_root(), check=False, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def outcome(result: subprocess.CompletedProcess[str], check: str) -> str:
    """PASSED / FAILED / ERROR / SKIPPED of ``check`` in the summary."""
    for line in result.stdout.splitlines():
        if line.startswith(("PASSED", "FAILED", "ERROR", "SKIPPED")) and f"::{check}" in line:
            return line.split()[0]
    raise AssertionError(f"{check} not reported:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
