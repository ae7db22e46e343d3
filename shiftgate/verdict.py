"""A check's verdict and the evidence it carries (docs/architecture.md rule 5).

The engine's analysis functions return a ``Verdict``; the pytest plugin's ``expect``
fixture attaches its evidence to the Allure report and asserts it, with a message that names
the check, the measured value, the threshold and the source. Everything that leaves the
process goes through ``shiftgate.redact``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from shiftgate.redact import redact

Fault = Literal["product", "infrastructure", "configuration"]
"""Why a check failed: the release or the world is wrong (product), a source could not be
read (infrastructure), or the environment file is (configuration)."""

AttachmentKind = Literal["text", "json", "sql", "yaml", "csv", "png", "html"]


@dataclass(frozen=True)
class Attachment:
    name: str
    body: str | bytes
    kind: AttachmentKind = "text"


@dataclass
class Verdict:
    check: str
    """The checklist item in words: 'max_connections sufficient for both colors'."""
    passed: bool
    reason: str
    """One line a person can act on: what was seen, and what to do about it."""
    measured: Any = None
    threshold: Any = None
    source: str | None = None
    """Where the facts came from: host, port, server version, query window."""
    fault: Fault = "product"
    details: list[str] = field(default_factory=list)
    """Extra lines of the assertion message: the arithmetic, the fix."""
    attachments: list[Attachment] = field(default_factory=list)

    def attach_text(self, name: str, body: str, kind: AttachmentKind = "text") -> None:
        self.attachments.append(Attachment(name, body, kind))

    def attach_json(self, name: str, data: Any) -> None:
        self.attachments.append(Attachment(name, json.dumps(data, indent=2, default=str), "json"))

    def message(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        lines = [f"{self.check}: {verdict}: {self.reason}"]
        if self.measured is not None:
            lines.append(f"  measured:  {self.measured}")
        if self.threshold is not None:
            lines.append(f"  threshold: {self.threshold}")
        if self.source:
            lines.append(f"  source:    {self.source}")
        lines.extend(f"  {line}" for line in self.details)
        return redact("\n".join(lines))

    @classmethod
    def unavailable(cls, check: str, source: str, problem: str) -> Verdict:
        """Fail closed: a source that cannot be read fails the check, with the reason."""
        return cls(
            check=check,
            passed=False,
            reason=f"cannot read {source}: {problem}",
            source=source,
            fault="infrastructure",
        )
