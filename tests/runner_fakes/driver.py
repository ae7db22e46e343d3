"""``python -m tests.runner_fakes.driver ARGS``: the ``shiftgate`` CLI with the file world.

With ``SHIFTGATE_FAKE_PARK_AT=N`` the process stops for good right after the journal's line N
is written (it touches ``parked`` in the world and sleeps): the test then SIGKILLs it, so
every kill lands exactly on a journal boundary, not wherever a poll happened to notice.
"""

from __future__ import annotations

import os
import sys
import time

from shiftgate.cli.main import main
from shiftgate.run.journal import Journal
from tests.runner_fakes.world import install, world

PARK_ENV = "SHIFTGATE_FAKE_PARK_AT"


def _park_at(line: int) -> None:
    append = Journal.append

    def append_then_park(self: Journal, event: str, **fields: object) -> dict[str, object]:
        entry = append(self, event, **fields)
        if len(self.path.read_bytes().splitlines()) >= line:
            (world() / "parked").write_text(f"{os.getpid()} {event}\n")
            while True:
                time.sleep(60)
        return entry

    Journal.append = append_then_park  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    if os.environ.get(PARK_ENV):
        _park_at(int(os.environ[PARK_ENV]))
    sys.exit(main(sys.argv[1:]))
