"""Per-color PromQL selectors: the configured selector with the color's matcher added.

Its own module, apart from the SLO analysis: checks that only build a selector (the
latency-bucket check of the preflight gate) then import no statistics library.
"""

from __future__ import annotations

import re

from shiftgate.config.safety import matcher
from shiftgate.errors import ConfigError

_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*$", re.DOTALL)


def color_selector(query: str, label: str, color: str, key: str, **more: str) -> str:
    """``metric{a="b"}`` → ``metric{color="blue", a="b"}``; anything but a selector is a
    configuration error (naming ``key``): a label cannot be spliced into an expression.
    Values are quoted as PromQL reads them, so none can end its matcher."""
    match = _SELECTOR.match(query)
    if match is None:
        raise ConfigError(
            "environment", key, f"{query!r} is not a metric selector; use a per-color recording rule"
        )
    name, matchers = match.group(1), (match.group(2) or "").strip()
    labels = [matcher(label, color), *(matcher(k, v) for k, v in more.items())]
    inner = ", ".join(labels) + (f", {matchers}" if matchers else "")
    return f"{name}{{{inner}}}"
