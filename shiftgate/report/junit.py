"""A gate's JUnit XML, summed up for the journal and the terminal: counts and what failed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class GateSummary:
    tests: int = 0
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    """``check: first line of its message`` for every failed check."""

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
            summary.failed += 1
            first = (problem.get("message") or problem.text or "").strip().splitlines()
            summary.failures.append(f"{case.get('name')}: {first[0][:200] if first else ''}")
        elif case.find("skipped") is not None:
            summary.skipped += 1
        else:
            summary.passed += 1
    return summary
