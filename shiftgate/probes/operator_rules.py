"""The team's PrometheusRule objects (Prometheus Operator), read as rule-file groups.

``prometheus_rule_groups`` returns ``spec.groups`` of every PrometheusRule in a namespace as
plain dicts, the same shape as the ``groups`` of a Prometheus rule file, so the monitoring
checks treat rules from files and from the cluster alike. It is a probe: every failure is a
``SourceUnavailable`` (the check fails closed with the reason), including a missing CRD and
a Role without ``list prometheusrules.monitoring.coreos.com``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

from shiftgate.config.models import OperatorRules
from shiftgate.errors import SourceUnavailable
from shiftgate.probes.kube import DEFAULT_TIMEOUT, KubeReads, Resource, make_api_client

GROUP, VERSION, PLURAL = "monitoring.coreos.com", "v1", "prometheusrules"
PROMETHEUS_RULES = Resource(PLURAL, GROUP)


def read_prometheus_rules(
    namespace: str,
    api_client: client.ApiClient | None = None,
    *,
    label_selector: str | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> dict[str, list[dict[str, Any]]]:
    """``{"<namespace>/<name>": spec.groups}`` of each PrometheusRule, in name order."""
    api = api_client or make_api_client()
    calls = KubeReads(api, namespace, lambda problem: SourceUnavailable("PrometheusRule", problem), timeout)
    custom = client.CustomObjectsApi(api)
    kw = {"label_selector": label_selector} if label_selector else {}
    found = calls.read_optional(
        "list",
        PROMETHEUS_RULES,
        custom.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        **kw,
    )
    if found is None:
        raise SourceUnavailable(
            "PrometheusRule",
            f"{PLURAL}.{GROUP}/{VERSION} is not served: is the Prometheus Operator installed?",
        )
    rules = {}
    for item in sorted(found.get("items", []), key=lambda o: o["metadata"]["name"]):
        groups = item.get("spec", {}).get("groups") or []
        rules[f"{namespace}/{item['metadata']['name']}"] = [dict(g) for g in groups]
    return rules


def prometheus_rule_groups(
    namespace: str,
    api_client: client.ApiClient | None = None,
    *,
    label_selector: str | None = None,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT,
) -> list[dict[str, Any]]:
    """All groups of all PrometheusRules in ``namespace``, as one rule file's ``groups``."""
    rules = read_prometheus_rules(namespace, api_client, label_selector=label_selector, timeout=timeout)
    return [group for groups in rules.values() for group in groups]


def write_rule_file(
    config: OperatorRules, folder: Path, context: str | None = None, in_cluster: bool = False
) -> Path:
    """The cluster's PrometheusRule groups as one rule file, for promtool and the checks."""
    groups = prometheus_rule_groups(
        config.namespace, make_api_client(context, in_cluster), label_selector=config.label_selector
    )
    path = folder / f"prometheusrules-{config.namespace}.yml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
    return path
