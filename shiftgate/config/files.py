"""Reading the project's YAML files (environments, gates, plans, load profiles) the same way:
every problem is one ``ConfigError`` naming the file and the key (or line) at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shiftgate.errors import ConfigError


def read_mapping(path: Path, *, missing: str, shape: str = "a mapping") -> dict[str, Any]:
    """The file's top-level mapping; ``missing`` says what to do when the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, missing) from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), where, f"invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), None, f"the file must hold {shape}")
    return data


def describe(error: Any) -> str:
    """One pydantic error in words; inputs are shown unless they are whole sections."""
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing required key"
    message = str(error.get("msg", "invalid value"))
    if "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return message


def first_error(exc: ValidationError, source: str) -> ConfigError:
    """The first validation error as a ConfigError naming its dotted key."""
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"]) or None
    return ConfigError(source, key, describe(error))
