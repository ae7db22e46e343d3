"""Reading the project's YAML files (environments, gates, plans, load profiles) the same way:
every problem is one ``ConfigError`` naming the file and the key (or line) at fault.

A key written twice in one mapping is refused: YAML's loaders keep the last one silently, so
a second ``failure_limit:`` further down a file would switch off what a reviewer read above.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shiftgate.errors import ConfigError


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key written twice in the same mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        # Only the keys written in this mapping: a merge key (<<: *anchor) brings keys that
        # the mapping may override, which is what merging is for.
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                first = seen[key].start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"duplicate key {key!r} (first written on line {first})", key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """YAML as ``yaml.safe_load`` reads it, except that a duplicate key is an error."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def read_mapping(path: Path, *, missing: str, shape: str = "a mapping") -> dict[str, Any]:
    """The file's top-level mapping; ``missing`` says what to do when the file is absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), None, missing) from None
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc.strerror}") from None
    try:
        data = load_yaml(text)
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
