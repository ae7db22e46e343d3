"""A gate's JUnit XML, summed up for the journal and the terminal: counts and what failed.

A check that was not judged (its window stopped early on another criterion) is a
``<failure>`` in the XML, as pytest wrote it — fail closed for any reader of JUnit — with a
message that starts with ``[not judged]``; here it is counted apart (``not_judged``), not
among the failed checks: the gate failed on the criterion that stopped the window.

The failure lines go into the journal and onto the terminal, so they are redacted here;
:func:`redact_junit` rewrites the XML itself redacted (pytest writes it at the session's end,
outside shiftgate's hands)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

from shiftgate.redact import redact
from shiftgate.report.allure import is_not_judged
from shiftgate.report.redacted import redact_file


@dataclass
class GateSummary:
    tests: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    """``check: first line of its message`` for every failed check."""
    not_judged: list[str] = field(default_factory=list)
    """``check: first line of its message`` for every check that was not judged."""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def summarize(path: Path) -> GateSummary:
    summary = GateSummary()
    try:
        root = ET.parse(path).getroot()  # noqa: S314
    except (OSError, ET.ParseError):
        return summary  # no report: the gate's exit code alone decides
    for case in root.iter("testcase"):
        summary.tests += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is not None:
            first = (problem.get("message") or problem.text or "").strip().splitlines()
            line = f"{case.get('name')}: {redact(first[0]) if first else ''}"
            if first and is_not_judged(first[0]):
                summary.not_judged.append(line[:300])
                continue
            summary.failed += 1
            summary.failures.append(line[:300])
        elif case.find("skipped") is not None:
            summary.skipped += 1
        else:
            summary.passed += 1
    return summary


def redact_junit(path: Path) -> bool:
    """The JUnit XML masked in place (values and patterns); True when it held a secret."""
    return redact_file(path)
