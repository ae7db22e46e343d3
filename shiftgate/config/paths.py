"""Where the project's files live: gates/, environments/, sandbox/, reports/.

The project root is the checkout that holds the ``shiftgate`` package (shiftgate runs from
its own tree), unless ``SHIFTGATE_ROOT`` names another one.
"""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    override = os.environ.get("SHIFTGATE_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


def reports_dir() -> Path:
    """``SHIFTGATE_REPORTS_DIR`` (tests keep their runs apart), else ``<project>/reports``."""
    override = os.environ.get("SHIFTGATE_REPORTS_DIR")
    return Path(override).resolve() if override else project_root() / "reports"


def runs_dir(reports: Path) -> Path:
    """Where run journals and the run pointer and lock live: ``<reports>/runs``."""
    return reports / "runs"


def environment_file(name_or_path: str) -> Path:
    """``sandbox`` → ``environments/sandbox.yaml``; a path (with a suffix or a slash) as given."""
    if name_or_path.endswith((".yaml", ".yml")) or os.sep in name_or_path:
        return Path(name_or_path)
    return project_root() / "environments" / f"{name_or_path}.yaml"
