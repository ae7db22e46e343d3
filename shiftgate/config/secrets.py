"""Every secret an environment brings, registered for redaction by value (``shiftgate.redact``).

Called by the loader once the file is interpolated and the overrides applied, before
validation (a validation error may quote a value). What counts as a secret:

- the DSN, from the variable ``database.dsn_env`` names (its password; host and database
  stay readable);
- every ``${VAR}`` the file references whose name says PASSWORD, TOKEN, SECRET, KEY or DSN,
  and ``PGPASSWORD`` (libpq reads it behind the DSN's back);
- credentials in any URL of the settings: ``https://user:password@…``, ``?token=…``;
- kubeconfig credentials (token, password, client key, auth-provider tokens) when a
  Kubernetes platform or router is configured, and the pod's service-account token in a
  cluster.

Registration only adds values to mask; it never fails a load.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from shiftgate.redact import SECRET_NAME, register_secret

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_ALWAYS_SECRET = ("PGPASSWORD",)
_KUBE_KINDS = {"kubernetes", "gateway-api", "istio", "service-selector"}
_KUBE_USER_SECRETS = ("token", "password", "client-key-data")
SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def referenced_variables(raw: Any) -> set[str]:
    """The names of the ``${VAR}`` references in an environment file, as read."""
    return {name for text in _strings(raw) for name in _REFERENCE.findall(text)}


def register_secrets(data: Mapping[str, Any], env: Mapping[str, str], referenced: set[str]) -> None:
    for name in sorted(referenced | set(_ALWAYS_SECRET)):
        if env.get(name):
            register_variable(name, env[name])
    database = data.get("database")
    dsn_env = database.get("dsn_env") if isinstance(database, dict) else None
    if isinstance(dsn_env, str) and env.get(dsn_env):
        register_dsn(env[dsn_env])
    for text in _strings(data):
        if "://" in text:
            register_url(text)
    if _uses_kubernetes(data):
        register_kubernetes_credentials(env)


def register_url(url: str) -> None:
    """The credentials a URL or URL-shaped DSN carries: its password, and query values whose
    parameter name says secret (``?token=…``, ``?password=…``)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return
    if not parts.scheme or not parts.netloc:
        return
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        _user, sep, password = userinfo.partition(":")
        if sep:
            register_secret(password)
            register_secret(unquote(password))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if SECRET_NAME.search(name):
            register_secret(value)  # parse_qsl decoded it; the encoded form is derived


_KEYWORD_PASSWORD = re.compile(r"\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.I)


def register_dsn(dsn: str) -> None:
    """A PostgreSQL DSN, in URL or ``key=value`` form: its password (and sslpassword)."""
    register_url(dsn)
    for match in _KEYWORD_PASSWORD.finditer(dsn):
        value = match.group(1)
        if value.startswith("'"):
            value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        register_secret(value)


def register_variable(name: str, value: str) -> None:
    """A variable the configuration read: secret by name, and any credential in a URL."""
    if SECRET_NAME.search(name):
        if "://" in value or _KEYWORD_PASSWORD.search(value):
            register_dsn(value)  # host and database stay readable; the credentials are masked
        else:
            register_secret(value)  # a token, a password: the whole value
    elif "://" in value:
        register_url(value)


def register_kubernetes_credentials(env: Mapping[str, str]) -> None:
    """The credentials of every user in the kubeconfig the client would read, and the pod's
    service-account token."""
    with contextlib.suppress(OSError):
        register_secret(SERVICE_ACCOUNT_TOKEN.read_text(encoding="utf-8").strip())
    for path in _kubeconfig_paths(env):
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        users = document.get("users") if isinstance(document, dict) else None
        for entry in users if isinstance(users, list) else []:
            user = entry.get("user") if isinstance(entry, dict) else None
            if not isinstance(user, dict):
                continue
            for key in _KUBE_USER_SECRETS:
                if isinstance(user.get(key), str):
                    register_secret(user[key])
            provider = user.get("auth-provider")
            config = provider.get("config") if isinstance(provider, dict) else None
            if isinstance(config, dict):
                for key, value in config.items():
                    if isinstance(value, str) and re.search(r"token|secret", str(key), re.I):
                        register_secret(value)


def _kubeconfig_paths(env: Mapping[str, str]) -> list[Path]:
    listed = env.get("KUBECONFIG") or os.environ.get("KUBECONFIG")
    if listed:
        return [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
    return [Path("~/.kube/config").expanduser()]


def _uses_kubernetes(data: Mapping[str, Any]) -> bool:
    for section in ("platform", "router"):
        value = data.get(section)
        if isinstance(value, dict) and value.get("kind") in _KUBE_KINDS:
            return True
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
