"""The system clock the analysis window measures on (``shiftgate.analysis.window.Clock``).

Analysis reads no clock of its own: a check passes this one in, unit tests a fake.
"""

from __future__ import annotations

import time


class SystemClock:
    def now(self) -> float:
        """Unix time."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
