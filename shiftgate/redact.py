"""Redaction of secrets in anything shiftgate prints or reports (docs/architecture.md rule 6).

DSNs carry passwords in two shapes: ``scheme://user:password@host`` and libpq's
``password=...``; tokens show up as ``Authorization: Bearer ...``. All become ``***``.
"""

from __future__ import annotations

import re

_PATTERNS = (
    (re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+(?P<tail>@)", re.I), r"\g<head>***\g<tail>"),
    (re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|[^\s&]+)", re.I), r"\g<head>***"),
    (re.compile(r"(?P<head>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<head>***"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
