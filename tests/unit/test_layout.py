"""The layout's rules that import-linter cannot see: checks are not a package of the engine,
so this test reads their imports. A check reaches the world only through read views and
probes (rule 9): no write side, no runner, no sandbox, no command line."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ("shiftgate.platforms", "shiftgate.routers", "shiftgate.run", "shiftgate.sandbox", "shiftgate.cli")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_checks_import_no_write_side() -> None:
    files = sorted((ROOT / "checks").rglob("*.py"))
    assert len(files) >= 10
    bad = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in files
        for name in _imports(path)
        if name.startswith(WRITERS)
    }
    assert not bad, f"checks must read through views and probes only: {sorted(bad)}"


def test_the_scanner_sees_a_write_import(tmp_path: Path) -> None:
    bad = tmp_path / "test_bad.py"
    bad.write_text("from shiftgate.routers.registry import router_for\n")
    assert any(name.startswith(WRITERS) for name in _imports(bad))


def test_few_modules_sit_directly_in_the_package() -> None:
    top = sorted(p.name for p in (ROOT / "shiftgate").glob("*.py"))
    assert top == [
        "__init__.py", "errors.py", "ports.py", "pytest_plugin.py", "redact.py", "steps.py", "verdict.py",
    ]
