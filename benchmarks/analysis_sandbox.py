"""The shift gate's SLO checks against the real sandbox, repeated: 2.5.1 at 50 % of the
users' traffic with 2 % errors (within the 5 % limit: must pass) and with 12 % (above twice
the limit: must fail), N runs each.

    .venv/bin/python benchmarks/analysis_sandbox.py --runs 5

Uses its own sandbox folder (removed at the end). Each run deploys 2.5.1 to blue with
``--fail-ratio R --fail-after 0``, warms it as the plan's load test would, shifts 50 %, runs
``checks/slo/test_shift_analysis.py`` with a 45 s window and reads the error check's verdict
and the window's stop time from the output. Prints pass/fail counts and decision times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import time

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager
from shiftgate.sandbox.remediate import remediate
from tests.checkrun import outcome
from tests.integration.test_slo_checks import run_checks, shift

FOLDER = project_root() / ".sandbox-bench-analysis"
STOPPED = re.compile(r"stopped early after (\d+\.\d) s")


def one(fail_ratio: float) -> tuple[str, float, str]:
    """(error check outcome, seconds to the decision, first line of its reason)."""
    manager.reset(FOLDER)
    remediate(index=True, connections=True, folder=FOLDER, candidate="2.5.1")
    shift(FOLDER, "2.5.1", warm=True, fail_ratio=fail_ratio, fail_after_s=0)
    result, _ = run_checks("2.5.1", 45)
    stopped = STOPPED.search(result.stdout)
    decided = float(stopped.group(1)) if stopped else 45.0
    reason = next((line.strip() for line in result.stdout.splitlines()
                   if "roll back:" in line or "inconclusive:" in line or "ruled out" in line), "")
    return outcome(result, "test_error_rate"), decided, reason[:160]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ["SHIFTGATE_SANDBOX_DIR"] = str(FOLDER)
    os.environ["SHIFTGATE_TEST_SANDBOX_DIR"] = str(FOLDER)
    manager.up(FOLDER)
    rows: dict[float, list[tuple[str, float, str]]] = {0.02: [], 0.12: []}
    started = time.monotonic()
    try:
        for i in range(args.runs):
            for ratio in rows:
                rows[ratio].append(one(ratio))
                print(f"run {i + 1} at {ratio:.0%}: {rows[ratio][-1]}", flush=True)
    finally:
        manager.set_traffic(True, FOLDER)
        manager.down(FOLDER)
        shutil.rmtree(FOLDER, ignore_errors=True)
    print(f"\n{'errors':>7} {'expected':>9} {'passed':>7} {'failed':>7} {'median s':>9} {'max s':>6}")
    for ratio, results in rows.items():
        passed = sum(r[0] == "PASSED" for r in results)
        times = [r[1] for r in results]
        print(f"{ratio:7.0%} {'pass' if ratio < 0.05 else 'fail':>9} {passed:7d} "
              f"{len(results) - passed:7d} {statistics.median(times):9.1f} {max(times):6.1f}")
    print(f"({time.monotonic() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
