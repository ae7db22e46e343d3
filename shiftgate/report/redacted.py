"""Files written redacted (docs/architecture.md rule 6): reports, logs, Allure results.

Redaction happens *as a file is written* (:func:`write_redacted`, :func:`pipe_redacted`), so a
process killed before any end-of-session sweep leaves no secret in clear; :func:`redact_file`
and :func:`redact_tree` are the sweep, the last net over what other libraries wrote. What is
masked is ``shiftgate.redact``'s: registered values, then patterns.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

from shiftgate.redact import redact, redact_bytes


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
