"""The sandbox's variables file: what it writes is what the loader reads, and it is private."""

from __future__ import annotations

import stat
from pathlib import Path

from shiftgate.config.loader import read_variables
from shiftgate.sandbox import state as st


def test_save_writes_the_variables_the_sandbox_environment_reads(tmp_path: Path) -> None:
    state = st.new_state(tmp_path / "pgdata")
    st.save(tmp_path, state)
    path = st.variables_file(tmp_path)
    assert read_variables(path) == st.exported_environ(tmp_path)
    assert read_variables(path)["SHIFTGATE_SANDBOX_DSN"] == state.probe_dsn
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the probe's password
