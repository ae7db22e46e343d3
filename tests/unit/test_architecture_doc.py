"""docs/architecture.md stays true to the tree, and the code cites only it and its rules.

- every path the page writes in backticks exists (a ``<placeholder>`` path is a file the
  reader creates, so it is not looked up);
- no file outside ``docs/`` points at the design notes that lived outside the repository;
- every house-rule citation in the code names one of the page's ten rules.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
RULES = range(1, 11)

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FILE_SUFFIX = re.compile(r"\.(py|ya?ml|md|toml|sql|sh|json|cfg|txt)$")
# The retired references, spelt as patterns so this file does not match itself.
OUTSIDE_REFERENCES = re.compile(r"DESIGN\.md|STYLE\.md|\.\./shared")
RULE_CITATION = re.compile(r"\brule (\d+)", re.IGNORECASE)


def doc_paths() -> list[str]:
    """Backticked paths of the page's prose (code blocks are pictures, not references)."""
    prose = FENCE.sub("", DOC.read_text(encoding="utf-8"))
    paths = []
    for span in INLINE_CODE.findall(prose):
        if any(c.isspace() for c in span) or "://" in span or "<" in span:
            continue
        if "/" in span or FILE_SUFFIX.search(span):
            paths.append(span)
    return paths


@cache
def repository_files() -> tuple[Path, ...]:
    """Tracked and new (not ignored) files of the checkout, outside docs/."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"not a git checkout, cannot list the repository's files: {exc}")
    names = [n for n in listing.split("\0") if n and not n.startswith("docs/")]
    return tuple(ROOT / n for n in names if (ROOT / n).is_file())


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def test_the_page_names_paths_at_all() -> None:
    # Guards the parser: a page whose paths it stopped finding would pass the next test.
    assert len(doc_paths()) >= 30, doc_paths()


def test_every_backticked_path_exists() -> None:
    missing = []
    for path in doc_paths():
        if "*" in path:
            if not list(ROOT.glob(path)):
                missing.append(path)
            continue
        target = ROOT / path
        if not (target.is_dir() if path.endswith("/") else target.exists()):
            missing.append(path)
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"


def test_nothing_points_outside_the_repository_for_the_design() -> None:
    found = []
    for path in repository_files():
        for number, line in enumerate(read(path).splitlines(), 1):
            if OUTSIDE_REFERENCES.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "point these at docs/architecture.md instead:\n" + "\n".join(found)


def test_rule_citations_name_one_of_the_ten_rules() -> None:
    wrong = []
    for path in repository_files():
        for number, line in enumerate(read(path).splitlines(), 1):
            for match in RULE_CITATION.finditer(line):
                if int(match.group(1)) not in RULES:
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not wrong, "docs/architecture.md has rules 1 to 10 only:\n" + "\n".join(wrong)
