"""Allure results written redacted (docs/architecture.md rule 6), as allure-pytest writes them.

Apart from ``shiftgate.report.redacted``: that one is on the path of every ``shiftgate gate``
process (its output streams through it) and must not import Allure's libraries.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import allure_commons
import attr
from allure_commons.logger import AllureFileLogger

from shiftgate.redact import redact_data
from shiftgate.report.redacted import write_redacted

StatusOf = Callable[[dict[str, Any]], "str | None"]
"""A result's Allure status when it is not the one pytest gave (None: keep it)."""


class RedactingAllureLogger(AllureFileLogger):
    """allure-pytest's file logger, redacting every result, container and attachment as it
    writes it: a pytest killed mid-gate leaves no secret in ``allure-results``. ``status_of``
    (set by :func:`install_allure_redaction`) may give a result a status pytest has no word
    for (``unknown``: a check that was not judged)."""

    status_of: StatusOf | None = None

    def _report_item(self, item: Any, *, result: bool = False) -> None:
        data = redact_data(attr.asdict(item, filter=lambda _, v: v or v is False))
        if result and self.status_of is not None:
            data["status"] = self.status_of(data) or data.get("status")
        filename = item.file_pattern.format(prefix=uuid.uuid4())
        write_redacted(Path(self._report_dir) / filename, json.dumps(data, ensure_ascii=False))

    @allure_commons.hookimpl
    def report_result(self, result: Any) -> None:
        self._report_item(result, result=True)

    @allure_commons.hookimpl
    def report_container(self, container: Any) -> None:
        self._report_item(container)

    @allure_commons.hookimpl
    def report_globals(self, globals_item: Any) -> None:
        self._report_item(globals_item)

    @allure_commons.hookimpl
    def report_attached_file(self, source: str, file_name: str) -> None:
        write_redacted(Path(self._report_dir) / file_name, Path(source).read_bytes())

    @allure_commons.hookimpl
    def report_attached_data(self, body: str | bytes, file_name: str) -> None:
        write_redacted(Path(self._report_dir) / file_name, body)


def install_allure_redaction(status_of: StatusOf | None = None) -> bool:
    """Make allure-pytest's file logger the redacting one. Call it once allure-pytest is
    configured (``pytest_sessionstart``); True when a logger was changed.

    The same object is kept (only its class changes, and it is registered again so pluggy
    binds the new methods): allure-pytest's own clean-up finds it by name at the end."""
    manager = allure_commons.plugin_manager
    changed = False
    for plugin in list(manager.get_plugins()):
        if type(plugin) is AllureFileLogger:
            manager.unregister(plugin)
            plugin.__class__ = RedactingAllureLogger
            plugin.status_of = status_of  # type: ignore[attr-defined]  # its class changed above
            manager.register(plugin)
            changed = True
    return changed
