"""Typed facts the Prometheus-side probes return: samples and series of the HTTP API, rule
files as read from disk, and a promtool run. Plain data, usable by analysis without a
Prometheus, a promtool binary or a file system; unit tests build them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    """One instant-vector element."""

    labels: dict[str, str]
    value: float
    timestamp: float


@dataclass(frozen=True)
class Series:
    """One range-vector element: (timestamp, value) points in time order."""

    labels: dict[str, str]
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class RuleFile:
    """One of the team's rule files: where it is (promtool reads it there) and what it says."""

    path: Path
    text: str


@dataclass
class PromtoolRun:
    command: list[str]
    returncode: int
    output: str
    files: dict[str, str] = field(default_factory=dict)  # file name -> YAML text
    failed: list[str] = field(default_factory=list)  # test files that did not succeed
    stdout: str = ""

    @property
    def passed(self) -> bool:
        return self.returncode == 0
