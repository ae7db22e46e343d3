"""Redaction of secrets in anything shiftgate prints or writes (docs/architecture.md rule 6).

Two nets, in this order:

1. **By value.** Every secret shiftgate loads (the DSN's password, a ``${VAR}`` whose name says
   PASSWORD, TOKEN, SECRET, KEY or DSN, credentials in a URL's user part or query string,
   kubeconfig credentials) is registered once, process-wide, by the config loader
   (:func:`register_secret`), and every occurrence of it becomes ``***``, whatever text
   surrounds it: an exception message, a third-party log line, a JUnit attribute.
2. **By pattern**, for secrets shiftgate never loaded (a DSN in an exception of another
   process, a token in a copied header): ``scheme://user:password@`` (a password holding
   ``@`` included), libpq's ``password=`` / ``sslpassword=``, ``PGPASSWORD=``, ``token=`` /
   ``token:``, JSON ``"password": "…"``, kubeconfig's ``client-key-data``, bearer tokens.

Pure (the analysis layer reaches it through ``shiftgate.verdict``): finding secrets in URLs
and DSNs is ``shiftgate.config.secrets``, writing files redacted is
``shiftgate.report.redacted``.
"""

from __future__ import annotations

import json
import re
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values are not registered: masking every ``abc`` would garble the output. The
patterns still mask them where they appear as a password."""

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|DSN|CREDENTIAL", re.I)
"""A variable or query parameter whose name matches holds a secret."""

# Names of secrets, not one:
_SECRET_KEYS = (
    r"password|passwd|pwd|sslpassword|pgpassword|token|access[_-]?token|refresh[_-]?token"  # noqa: S105
    r"|id[_-]?token|secret|client[_-]?secret|api[_-]?key|access[_-]?key|secret[_-]?key"
    r"|private[_-]?key|client-key-data|auth[_-]?token"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host — greedy to the last '@' of the URL: a password holding
    # an unencoded '@' is masked whole (the host may be masked with it: the safe side).
    (re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^\s'\"]*(?P<tail>@)", re.I),
     rf"\g<head>{MASK}\g<tail>"),
    # JSON: "password": "…" (escaped quotes inside the value included)
    (re.compile(rf'(?P<head>"[\w.-]*?(?:{_SECRET_KEYS})"\s*:\s*)"(?:[^"\\]|\\.)*"', re.I),
     rf'\g<head>"{MASK}"'),
    # key=value, key: value, ?token=…, PGPASSWORD=…, client-key-data: …
    (re.compile(
        rf"(?P<head>(?<![\w-])(?:[\w.]*?[_.])?(?:{_SECRET_KEYS})\s*[=:]\s*)"
        r"(?:'[^']*'|\"(?:[^\"\\]|\\.)*\"|[^\s&,;'\"]+)", re.I),
     rf"\g<head>{MASK}"),
    (re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I), rf"\g<head>{MASK}"),
    (re.compile(r"(?P<head>\bAuthorization\s*:\s*\w+\s+)\S+", re.I), rf"\g<head>{MASK}"),
)

_secrets: set[str] = set()


# -- the registry -----------------------------------------------------------------------------
def register_secret(value: str | None) -> None:
    """Mask ``value`` from now on, in this process (its URL-encoded forms too)."""
    if not value:
        return
    for form in {value, _percent_encoded(value)}:
        if len(form) >= MIN_SECRET_LENGTH:
            _secrets.add(form)


def _percent_encoded(value: str) -> str:
    # How the value reads inside a URL (RFC 3986 unreserved characters stay as they are).
    return "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-._~") else "".join(f"%{b:02X}" for b in ch.encode())
        for ch in value
    )


def registered() -> frozenset[str]:
    return frozenset(_secrets)


def forget_secrets() -> None:
    """Tests only: start from an empty registry."""
    _secrets.clear()


# -- masking ----------------------------------------------------------------------------------
def redact(text: str) -> str:
    """Registered values first (longest first: a secret containing another is masked whole),
    then the patterns."""
    for value in sorted(_secrets, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(data: Any) -> Any:
    """Every string in a JSON-like structure, keys included."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, list | tuple):
        return [redact_data(value) for value in data]
    if isinstance(data, dict):
        return {redact(str(key)): redact_data(value) for key, value in data.items()}
    return data


def redact_json_text(text: str) -> str:
    """JSON value by value (a pattern run over JSON text could swallow a closing quote);
    text that is not JSON is redacted as text."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return redact(text)
    masked = redact_data(data)
    return text if masked == data else json.dumps(masked, ensure_ascii=False)


def redact_bytes(body: bytes, *, json_text: bool = False) -> bytes:
    """UTF-8 text redacted; anything else (a PNG) as it is."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    masked = redact_json_text(text) if json_text else redact(text)
    return body if masked == text else masked.encode("utf-8")
