"""Files written redacted (docs/architecture.md rule 6): reports, logs, Allure results.

Redaction happens *as a file is written* (:func:`write_redacted`, :func:`pipe_redacted`), so a
process killed before any end-of-session sweep leaves no secret in clear; :func:`redact_file`
and :func:`redact_tree` are the sweep, the last net over what other libraries wrote. What is
masked is ``shiftgate.redact``'s: registered values, then patterns.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import allure_commons
import attr
from allure_commons.logger import AllureFileLogger

from shiftgate.redact import redact, redact_bytes, redact_data


def write_redacted(path: Path, body: str | bytes, *, mode: int = 0o644) -> None:
    """Write ``body`` redacted, atomically (temporary file, then rename): a reader or a kill
    never finds the secret in clear, nor half a file."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    raw = redact_bytes(raw, json_text=path.suffix == ".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def redact_file(path: Path) -> bool:
    """Rewrite a file redacted when it holds a secret; True when it did."""
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    masked = redact_bytes(raw, json_text=path.suffix == ".json")
    if masked == raw:
        return False
    write_redacted(path, masked, mode=path.stat().st_mode & 0o777)
    return True


def redact_tree(folder: Path, *, since: float | None = None) -> list[Path]:
    """The sweep: every file under ``folder`` (modified at or after ``since``) redacted."""
    changed = []
    for path in _files(folder):
        if since is not None and path.stat().st_mtime < since - 1:
            continue
        if redact_file(path):
            changed.append(path)
    return changed


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for root, _dirs, names in os.walk(folder):
        for name in names:
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


class RedactingWriter:
    """A text sink (a file, or a stream such as the terminal) written line by line, each line
    redacted (a secret never spans a line break): a subprocess's output arrives masked."""

    def __init__(self, sink: Path | TextIO) -> None:
        if isinstance(sink, Path):
            sink.parent.mkdir(parents=True, exist_ok=True)
            self._handle: TextIO = sink.open("w", encoding="utf-8")
            self._owned = True
        else:
            self._handle, self._owned = sink, False

    def write_lines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self._handle.write(redact(line))
            self._handle.flush()

    def close(self) -> None:
        if self._owned:
            self._handle.close()


def pipe_redacted(command: Sequence[str], cwd: Path, sink: Path | TextIO) -> int:
    """Run ``command`` with its output (stdout and stderr) redacted into ``sink`` (a log file,
    or ``sys.stdout``); returns its exit status. A gate's log never holds a secret, even when
    the gate is killed half-way."""
    writer = RedactingWriter(sink)
    try:
        with subprocess.Popen(
            list(command), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, encoding="utf-8", errors="replace",
        ) as proc:
            assert proc.stdout is not None
            writer.write_lines(proc.stdout)
            return proc.wait()
    finally:
        writer.close()


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
