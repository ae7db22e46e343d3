"""Seconds to bring the sandbox up from nothing and from a warm data directory.

    .venv/bin/python benchmarks/sandbox_up.py [--runs N]

Uses its own state folder (.sandbox-bench/), so a sandbox in use is not disturbed; the
folder is removed at the end. "Cold" includes initdb and seeding 2M segment rows.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path

from shiftgate.config.paths import project_root
from shiftgate.sandbox import manager


def timed_up(folder: Path) -> tuple[float, dict[str, float]]:
    began = time.monotonic()
    steps = manager.up(folder)
    return time.monotonic() - began, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="warm starts to measure")
    args = parser.parse_args()
    folder = project_root() / ".sandbox-bench"
    manager.down(folder)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        cold, steps = timed_up(folder)
        manager.down(folder)
        warm = []
        for _ in range(args.runs):
            seconds, _ = timed_up(folder)
            warm.append(seconds)
            manager.down(folder)
    finally:
        manager.down(folder)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"cold up (initdb + seed + start): {cold:6.2f} s   "
          f"(seed {steps.get('seed', 0):.2f} s, replicas {steps.get('replicas', 0):.2f} s)")
    print(f"warm up (reused data directory): {statistics.median(warm):6.2f} s median of {len(warm)} "
          f"(min {min(warm):.2f}, max {max(warm):.2f})")


if __name__ == "__main__":
    main()
