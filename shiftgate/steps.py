"""Named steps around probe calls, for the report: a no-op unless a reporter installs one.

Probes call ``with step("PostgreSQL: settings"):`` around each query they send. The engine
stays free of pytest and of any report format (docs/architecture.md rule 8): by default a step does
nothing; the pytest plugin installs an Allure-backed implementation for a gate run, so each
probe call shows as one step of its check. Titles are redacted: they may carry a query.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from shiftgate.redact import redact

StepFactory = Callable[[str], AbstractContextManager[object]]

# One hook per process, set once by the reporter at start-up (never per test): a list, so
# installing and removing need no ``global`` statement.
_FACTORY: list[StepFactory] = []

_TITLE_MAX = 300


def install(factory: StepFactory | None) -> None:
    """Use ``factory(title)`` for every step from now on; ``None`` restores the no-op."""
    _FACTORY.clear()
    if factory is not None:
        _FACTORY.append(factory)


@contextlib.contextmanager
def step(title: str) -> Iterator[None]:
    """One probe call, shown as a step of the running check when a reporter is installed."""
    if not _FACTORY:
        yield
        return
    text = redact(" ".join(title.split()))
    if len(text) > _TITLE_MAX:
        text = text[: _TITLE_MAX - 1] + "…"
    with _FACTORY[0](text):
        yield
