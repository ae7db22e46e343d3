"""``python -m tests.k8s_fake.run_driver ARGS``: the real ``shiftgate`` CLI on another "machine".

The command is shiftgate's own (``shiftgate.cli.main``: its environment, its adapters over
``$KUBECONFIG``, its run store in the cluster); only the gates are replaced, since they
would need a database and Prometheus: each passes at once, and the gate named by
``SHIFTGATE_FAKE_PARK_GATE`` never returns (the process sleeps inside it, holding the run
Lease, until the test kills it).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from shiftgate.cli.main import main
from shiftgate.errors import ExitCode
from shiftgate.run import runner
from shiftgate.run.gate import GateResult

PARK_ENV = "SHIFTGATE_FAKE_PARK_GATE"


def fake_run_gate(name: str, *, extra_args: Any = (), reports_dir: Path | None = None,
                  **_: Any) -> GateResult:
    if name == os.environ.get(PARK_ENV):
        print(f"parked in gate {name}", flush=True)
        while True:
            time.sleep(60)
    folder = reports_dir or Path("reports")
    return GateResult(
        gate=name, exit_code=ExitCode.OK, pytest_status=0, command=("fake", name),
        junit_path=folder / "junit" / f"{name}.xml", allure_dir=folder / "allure-results",
        timed_out=False, time_limit_s=None,
    )


if __name__ == "__main__":
    runner.run_gate = fake_run_gate  # type: ignore[assignment]
    sys.exit(main(sys.argv[1:]))
