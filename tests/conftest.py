"""Integration and end-to-end fixtures: one real sandbox per test session, in its own folder.

The folder (``.sandbox-test/`` by default, ``SHIFTGATE_TEST_SANDBOX_DIR`` to move it) is not
the user's ``.sandbox/``, so running the tests never disturbs a sandbox someone is using;
its warm data directory is reused across runs, and everything is stopped at the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager
from shiftgate.sandbox.state import STATE_DIR_ENV


@pytest.fixture(scope="session")
def sandbox_dir() -> Iterator[Path]:
    folder = Path(os.environ.get("SHIFTGATE_TEST_SANDBOX_DIR", project_root() / ".sandbox-test"))
    previous = os.environ.get(STATE_DIR_ENV)
    os.environ[STATE_DIR_ENV] = str(folder)  # subprocesses (the CLI) use it too
    yield folder
    manager.down(folder)
    if previous is None:
        os.environ.pop(STATE_DIR_ENV, None)
    else:
        os.environ[STATE_DIR_ENV] = previous


@pytest.fixture(scope="session")
def sandbox(sandbox_dir: Path) -> dict[str, Any]:
    """The sandbox up, in the incident state; returns ``status()``."""
    manager.up(sandbox_dir)
    manager.reset(sandbox_dir)
    return manager.status(sandbox_dir)
