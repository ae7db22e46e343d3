"""Where the files live: the team's project (checks/, gates/, plans/, environments/, reports/)
and shiftgate's own source tree (the sandbox's data).

The project is the team's repository, never the installed package: ``SHIFTGATE_ROOT`` (which
``shiftgate --project DIR`` sets for the command and every process it starts), else the
working directory. A team that installs shiftgate runs it from its own repository. The
sandbox is shiftgate's own demonstration: its data (``sandbox/``) is read from the source
tree the package runs from.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT_ENV = "SHIFTGATE_ROOT"


def project_root() -> Path:
    """The team's repository: ``$SHIFTGATE_ROOT``, else the working directory."""
    override = os.environ.get(ROOT_ENV)
    return Path(override).resolve() if override else Path.cwd().resolve()


def source_root() -> Path:
    """shiftgate's own checkout (the folder above the package): the sandbox's files and the
    import path of the sandbox's processes. Never the place of a team's checks or gates."""
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
