"""Load an environment file into ``shiftgate.config.models.Environment``.

Precedence, highest first (written down once, like pytest-timeout's):

1. command line: ``--set key.path=value`` (and shorthands such as ``--candidate``);
2. environment variables ``SHIFTGATE_<SECTION>__<KEY>=value`` (double underscore between
   levels, e.g. ``SHIFTGATE_SLO__ERROR_RATIO_MAX=0.02``);
3. the environment file, where ``${VAR}`` in a string is replaced by that variable
   (``${VAR:-default}``: the default when VAR is unset or empty);
4. the defaults in ``shiftgate.config.models``.

Variables come from the process environment, over the optional ``env_file`` the environment
file names (``NAME=value`` lines, e.g. the ports and DSN a local sandbox wrote when it
started): a tool that starts services says where they are without anyone exporting them,
and a variable set in the process still wins.

Every error names where the bad value came from (file and key, or the variable, or the
command-line flag) and is raised as ``ConfigError``, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shiftgate.config import bounds
from shiftgate.config.files import describe, read_mapping
from shiftgate.config.models import Environment, Override
from shiftgate.config.paths import environment_file, project_root
from shiftgate.config.secrets import referenced_variables as _referenced_variables
from shiftgate.config.secrets import register_secrets
from shiftgate.errors import ConfigError

OVERRIDE_PREFIX = "SHIFTGATE_"
ENV_FILE_KEY = "env_file"
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_VARIABLE_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_UNION_TAGS = {"sandbox", "kubernetes", "haproxy", "gateway-api", "istio", "service-selector"}

Key = tuple[str, ...]


def load_environment(
    name_or_path: str,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Sequence[str] = (),
    needs_database: bool = True,
) -> Environment:
    """Read, interpolate, override and validate one environment file.

    ``environ`` replaces the process environment and the ``env_file`` (tests pass exactly
    the variables they mean). ``needs_database=False`` is for commands that never touch the
    database (``status``, ``rollback``, ``resume``): the variable ``database.dsn_env`` names
    may then be unset, and asking for the DSN later is the same configuration error."""
    path = environment_file(name_or_path)
    source = str(path)
    raw = _read_yaml(path)
    referenced = _referenced_variables(raw)
    # A loading instruction, not a setting: it names where more variables are.
    env_file = raw.pop(ENV_FILE_KEY, None)
    env_vars = _default_environ(env_file, source) if environ is None else dict(environ)
    data = _interpolate(raw, env_vars, source, ())
    sources: dict[Key, str] = {}
    for key, value, origin in _env_overrides(env_vars):
        _set(data, key, value, origin)
        sources[key] = origin
    for key, value, origin in _cli_overrides(overrides):
        _set(data, key, value, origin)
        sources[key] = origin
    register_secrets(data, env_vars, referenced)  # before validating: its errors quote values
    try:
        environment = Environment.model_validate(data)
    except ValidationError as exc:
        raise _config_error(exc, source, sources) from None
    _check_bounds(environment, source, sources)
    environment.set_source(source)
    environment.set_overrides(_overrides_applied(raw, env_vars, source, environment, sources))
    dsn = env_vars.get(environment.database.dsn_env)
    missing = ConfigError(
        source,
        "database.dsn_env",
        f"environment variable {environment.database.dsn_env} is not set"
        + _hint(environment.database.dsn_env),
    )
    if dsn:
        environment.database.set_dsn(dsn)
    elif needs_database:
        raise missing
    else:
        environment.database.set_missing(missing)
    return environment


def _default_environ(env_file: Any, source: str) -> dict[str, str]:
    """The process environment over the variables of ``env_file`` (when it names one)."""
    process = dict(os.environ)
    if env_file is None:
        return process
    if not isinstance(env_file, str) or not env_file.strip():
        raise ConfigError(source, ENV_FILE_KEY, "must be the path of a file of NAME=value lines")
    path = Path(_interpolate(env_file, process, source, (ENV_FILE_KEY,)))
    path = path if path.is_absolute() else project_root() / path
    return {**read_variables(path), **process}


def read_variables(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (blank lines and ``#`` comments skipped, values taken as they
    are: no quotes, no expansion); none when the file does not exist (yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read the variables file: {exc}") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _VARIABLE_LINE.match(line)
        if match is None:
            raise ConfigError(str(path), f"line {number}", "expected NAME=value")
        variables[match.group(1)] = match.group(2)
    return variables


def available_environments(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.yaml"))


def _read_yaml(path: Path) -> dict[str, Any]:
    known = ", ".join(available_environments(path.parent)) or "none"
    return read_mapping(
        path, missing=f"no such environment file (known: {known})", shape="a mapping of sections"
    )


def _interpolate(value: Any, env: Mapping[str, str], source: str, key: Key) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, env, source, (*key, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, env, source, (*key, str(i))) for i, v in enumerate(value)]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if default is not None and not env.get(name):
                return default
            if name not in env:
                raise ConfigError(
                    source, ".".join(key), f"environment variable {name} is not set" + _hint(name)
                )
            return env[name]

        return _INTERPOLATION.sub(replace, value)
    return value


def _hint(variable: str) -> str:
    if variable.startswith("SHIFTGATE_SANDBOX_"):
        return " (the sandbox sets it: run `shiftgate sandbox up` first)"
    return ""


def _env_overrides(env: Mapping[str, str]) -> Iterable[tuple[Key, Any, str]]:
    for name in sorted(env):
        if name.startswith(OVERRIDE_PREFIX) and "__" in name:
            parts = name[len(OVERRIDE_PREFIX) :].lower().split("__")
            origin = f"environment variable {name}"
            if not all(parts):
                raise ConfigError(origin, None, "empty key between '__' separators")
            yield tuple(parts), _parse_scalar(env[name], origin), origin


def _cli_overrides(overrides: Sequence[str]) -> Iterable[tuple[Key, Any, str]]:
    for item in overrides:
        origin = f"command line --set {item}"
        key_text, sep, value = item.partition("=")
        if not sep or not key_text.strip():
            raise ConfigError(origin, None, "expected key.path=value")
        yield tuple(key_text.strip().split(".")), _parse_scalar(value, origin), origin


def _parse_scalar(text: str, origin: str) -> Any:
    try:
        return yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        raise ConfigError(origin, None, f"cannot parse value {text!r}") from None


def _set(data: dict[str, Any], key: Key, value: Any, origin: str) -> None:
    node: Any = data
    for i, part in enumerate(key[:-1]):
        child = node.get(part) if isinstance(node, dict) else None
        if child is None:
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            raise ConfigError(origin, ".".join(key[: i + 1]), "is not a section")
        node = child
    node[key[-1]] = value


def _config_error(exc: ValidationError, file_source: str, sources: Mapping[Key, str]) -> ConfigError:
    lines: list[tuple[str, str, str]] = []
    errors = exc.errors()
    # A value that fits neither member of a union (a list of queries, or `none`): the list's
    # own error says what is wrong; "should be 'none'" is noise.
    specific = [e for e in errors if not any(_is_literal_tag(part) for part in e["loc"])]
    for error in specific or errors:
        key = _clean_loc(error["loc"])
        origin = _origin_of(key, file_source, sources)
        if origin == file_source:
            # A whole-section rule (versions: candidate not in specs) broken by an override
            # of one of its keys: that override is where the bad value came from.
            inside = [src for k, src in sources.items() if k[: len(key)] == key and key]
            origin = inside[-1] if inside else file_source
        lines.append((origin, ".".join(key) or "(top level)", describe(error)))
    origin, key_text, problem = lines[0]
    if len(lines) > 1:
        rest = "; ".join(f"{o}: {k}: {p}" for o, k, p in lines[1:])
        problem = f"{problem} (also: {rest})"
    return ConfigError(origin, key_text, problem + _over_file(origin, file_source))


def _origin_of(key: Key, file_source: str, sources: Mapping[Key, str]) -> str:
    """Where the value at ``key`` came from: the override that set it (or a section above
    it), else the file."""
    for depth in range(len(key), 0, -1):
        if key[:depth] in sources:
            return sources[key[:depth]]
    return file_source


def _check_bounds(environment: Environment, file_source: str, sources: Mapping[Key, str]) -> None:
    """Bounds across settings (``shiftgate.config.bounds``), named by key and origin."""
    found = bounds.problems(environment)
    if not found:
        return
    lines = [(_origin_of(key, file_source, sources), ".".join(key), problem) for key, problem in found]
    origin, key_text, problem = lines[0]
    if len(lines) > 1:
        problem += " (also: " + "; ".join(f"{o}: {k}: {p}" for o, k, p in lines[1:]) + ")"
    raise ConfigError(origin, key_text, problem + _over_file(origin, file_source))


def _over_file(origin: str, file_source: str) -> str:
    """An override's error also names the file it overrides: file and key, whatever the source."""
    return "" if origin == file_source else f" (overriding {file_source})"


_MISSING = object()


def _value_at(data: Any, key: Key) -> Any:
    for part in key:
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _overrides_applied(
    raw: dict[str, Any],
    env_vars: Mapping[str, str],
    file_source: str,
    environment: Environment,
    sources: Mapping[Key, str],
) -> list[Override]:
    """Every override that changed a setting: its key, the value it replaced (the file's,
    else the default), the value now and where it came from. ``run.*`` is left out: it is the
    runner's context of the gate, journaled by the runner itself, not a setting of the gate."""
    changed = [key for key in sources if key and key[0] != "run"]
    if not changed:
        return []
    try:
        base = Environment.model_validate(_interpolate(raw, env_vars, file_source, ()))
        before_data: Any = base.model_dump(mode="json", by_alias=True)
    except (ValidationError, ConfigError):
        # The file alone is not valid (an override completes it): compare with its text.
        before_data = _interpolate(raw, env_vars, file_source, ())
    after_data = environment.model_dump(mode="json", by_alias=True)
    found: list[Override] = []
    for key in changed:
        before, after = _value_at(before_data, key), _value_at(after_data, key)
        if before == after:
            continue
        found.append(Override(
            key=".".join(key),
            before=None if before is _MISSING else before,
            after=None if after is _MISSING else after,
            origin=sources[key],
        ))
    return found


def _clean_loc(loc: tuple[int | str, ...]) -> Key:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, str) and part in _UNION_TAGS and i > 0 and loc[i - 1] in {"platform", "router"}:
            continue
        if isinstance(part, str) and _is_union_member(part):
            continue  # pydantic names the union member it tried ("list[CriticalQuery]"): no key
        parts.append(str(part))
    return tuple(parts)


def _is_union_member(part: str) -> bool:
    return "[" in part and part.endswith("]")


def _is_literal_tag(part: int | str) -> bool:
    return isinstance(part, str) and part.startswith("literal[")
