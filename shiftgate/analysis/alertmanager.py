"""Whether Alertmanager routes an alert's severity to a receiver that notifies someone.

Read from Alertmanager's /api/v2/status (its loaded configuration, ``config.original``).
A route handles a severity when its matchers accept the alert's labels (``match``,
``match_re`` and ``matchers``); the receiver it ends at must have at least one notifier
(a receiver with no ``*_configs`` is the usual "null" sink and pages nobody).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from shiftgate.analysis.alert_rules import AlertRule
from shiftgate.verdict import Verdict

_MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


def route_receiver(route: Mapping[str, Any], labels: Mapping[str, str], parent: str = "") -> str:
    """The receiver Alertmanager picks for ``labels`` (first matching child, depth first)."""
    receiver = str(route.get("receiver") or parent)
    for child in route.get("routes") or []:
        if _matches(child, labels):
            return route_receiver(child, labels, receiver)
    return receiver


def routes_for_severity(status: Mapping[str, Any], alerts: Sequence[AlertRule]) -> Verdict:
    source = "alertmanager /api/v2/status"
    try:
        config = yaml.safe_load(str(status.get("config", {}).get("original", ""))) or {}
    except yaml.YAMLError as exc:
        return Verdict.unavailable("pool alerts routed", source, f"config is not YAML: {exc}")
    notifiers = {
        str(r.get("name")): any(k.endswith("_configs") and v for k, v in r.items())
        for r in config.get("receivers") or []
    }
    good: list[str] = []
    bad: list[str] = []
    if not alerts:
        bad.append("no pool alert to route")
    for alert in alerts:
        labels = {"alertname": alert.name, **alert.labels}
        receiver = route_receiver(config.get("route") or {}, labels)
        line = f"{alert.name} (severity={alert.labels.get('severity', '-')}) -> receiver {receiver!r}"
        (good if notifiers.get(receiver) else bad).append(
            line if notifiers.get(receiver) else f"{line}, which notifies nobody"
        )
    verdict = Verdict(
        check="pool alerts routed", passed=not bad, source=source,
        reason="; ".join(bad) if bad else "every pool alert reaches a notifier", details=[*bad, *good],
    )
    verdict.attach_json("alertmanager route", config.get("route") or {})
    return verdict


def _matches(route: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for name, value in (route.get("match") or {}).items():
        if labels.get(str(name), "") != str(value):
            return False
    for name, pattern in (route.get("match_re") or {}).items():
        if re.fullmatch(str(pattern), labels.get(str(name), "")) is None:
            return False
    for text in route.get("matchers") or []:
        found = _MATCHER.match(str(text))
        if found is None:
            return False
        name, op, value = found.groups()
        actual = labels.get(name, "")
        ok = {
            "=": actual == value,
            "!=": actual != value,
            "=~": re.fullmatch(value, actual) is not None,
            "!~": re.fullmatch(value, actual) is None,
        }[op]
        if not ok:
            return False
    return True
