"""The system clock the analysis window runs on: Unix time, and a real sleep."""

from __future__ import annotations

import time

from shiftgate.probes.clock import SystemClock


def test_system_clock_reads_unix_time_and_sleeps() -> None:
    clock = SystemClock()
    before = time.time()
    start = clock.now()
    clock.sleep(0.05)
    assert before <= start and clock.now() - start >= 0.05
