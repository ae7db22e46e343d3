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

Status = Literal["passed", "failed", "not judged"]
"""What a verdict claims. "not judged": the check's window stopped early on another criterion
(see ``Verdict.not_judged``), so nothing was measured to pass or fail *this* check on."""

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
    not_judged: str | None = None
    """Set by analysis when this check was not judged because its analysis window stopped
    early on *another* criterion: that criterion and why, in words (the window's
    ``stop_reason``: "stopped early after 12.0 s of 60 s: error_ratio above its limit: …").
    Such a verdict never passes, whatever ``passed`` says (rule 1, fail closed), and it is
    reported as "not judged", not as a failure of its own: ``fault`` is then ignored."""

    @property
    def status(self) -> Status:
        if self.not_judged is not None:
            return "not judged"
        return "passed" if self.passed else "failed"

    def attach_text(self, name: str, body: str, kind: AttachmentKind = "text") -> None:
        self.attachments.append(Attachment(name, body, kind))

    def attach_json(self, name: str, data: Any) -> None:
        self.attachments.append(Attachment(name, json.dumps(data, indent=2, default=str), "json"))

    def message(self) -> str:
        verdict = {"passed": "passed", "failed": "FAILED", "not judged": "NOT JUDGED"}[self.status]
        lines = [f"{self.check}: {verdict}: {self.reason}"]
        if self.not_judged is not None:
            lines.append(f"  not judged: the window stopped early on another criterion: {self.not_judged}")
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
