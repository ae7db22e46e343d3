"""The pipeline files of ci/ are valid YAML and call only commands and options the CLI has.

Every ``shiftgate …`` invocation is found in the fields that hold commands (GitHub ``run``,
GitLab ``script``/``before_script``/``after_script``, Kubernetes ``command``+``args``,
Flagger ``cmd``) and parsed by the CLI's own argparse parser: a renamed command or option
fails this test, not a release.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.cli.main import _parser
from shiftgate.config.paths import project_root

CI = project_root() / "ci"
FILES = sorted(p for p in CI.rglob("*") if p.suffix in (".yml", ".yaml"))
SCRIPT_KEYS = {"run", "script", "before_script", "after_script", "cmd"}
_SHELL_END = re.compile(r"\s(?:&&|\|\||;|\||>>?|2>)\s|$")
# GitHub/GitLab/Argo expressions a shell would expand: stand-ins of the right shape.
_EXPRESSIONS = re.compile(r"\$\{\{[^}]*\}\}|\{\{[^}]*\}\}|\"?\$\{?[A-Z_]+\}?\"?")


def _documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def _walk(node: Any, key: str | None = None) -> Iterator[str]:
    """Every shiftgate command line in a document."""
    if isinstance(node, dict):
        command = node.get("command")
        if isinstance(command, list) and command and command[0] == "shiftgate":
            yield shlex.join([*command, *map(str, node.get("args", []))])
        for sub_key, value in node.items():
            yield from _walk(value, str(sub_key))
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, key)
    elif isinstance(node, str) and key in SCRIPT_KEYS:
        for line in node.splitlines():
            for match in re.finditer(r"(?:^|[\s;&|(])(shiftgate\s[^\n]*)", line):
                yield match.group(1)


def _invocations() -> list[tuple[str, str]]:
    found = []
    for path in FILES:
        for doc in _documents(path):
            found += [(path.relative_to(CI).as_posix(), line) for line in _walk(doc)]
    return found


def _argv(line: str) -> list[str]:
    command = _SHELL_END.split(line, maxsplit=1)[0]  # up to the first shell operator
    command = _EXPRESSIONS.sub("VALUE", command)
    return shlex.split(command)[1:]


class _Refused(Exception):
    pass


def _strict_parser() -> argparse.ArgumentParser:
    parser = _parser()

    def refuse(message: str) -> None:
        raise _Refused(message)

    stack = [parser]
    while stack:  # every subparser raises instead of exiting
        current = stack.pop()
        current.error = refuse  # type: ignore[method-assign,assignment]
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += list(action.choices.values())
    return parser


def test_ci_holds_the_pipelines() -> None:
    names = {p.relative_to(CI).as_posix() for p in FILES}
    assert {"github/release.yml", "gitlab/.gitlab-ci.yml", "argo/analysis-template.yaml",
            "flagger/canary-webhook.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(CI).as_posix())
def test_valid_yaml(path: Path) -> None:
    assert _documents(path), f"{path} holds no YAML document"


def test_every_pipeline_runs_shiftgate() -> None:
    files = {name for name, _ in _invocations()}
    assert {"github/release.yml", "gitlab/.gitlab-ci.yml", "argo/analysis-template.yaml",
            "flagger/canary-webhook.yaml"} <= files


def _check(argv: list[str]) -> None:
    """Parse as ``shiftgate`` would; raise ``_Refused`` where it would refuse."""
    args, extra = _strict_parser().parse_known_args(argv)
    if getattr(args, "handler", None) is None:
        raise _Refused("no command")
    if extra and not getattr(args, "passthrough", False):  # only `gate` passes extras to pytest
        raise _Refused(f"unrecognized arguments: {' '.join(extra)}")


@pytest.mark.parametrize("where,line", _invocations(), ids=lambda v: str(v)[:60])
def test_invocation_parses(where: str, line: str) -> None:
    try:
        _check(_argv(line))
    except _Refused as exc:
        pytest.fail(f"{where}: `{line}`: {exc}")


@pytest.mark.parametrize("line", [
    "shiftgate stages preflight --candidate 1",          # a renamed command
    "shiftgate rollback --env production --plane",       # a misspelt option
    "shiftgate stage preflight --env production",        # a required option missing
    "shiftgate sandbox upp",                              # a renamed sub-subcommand
])
def test_a_wrong_invocation_fails(line: str) -> None:
    with pytest.raises(_Refused):
        _check(_argv(line))
