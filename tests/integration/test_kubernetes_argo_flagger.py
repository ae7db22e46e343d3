"""ci/argo/ and ci/flagger/ against the upstream CRDs, and the gates they run, statically.

The field names and types below are transcribed from the upstream Go types the CRDs are
generated from (a field unknown upstream, or of another type, is silently dropped or
rejected by the API server, so the integration would do nothing, or not apply):

- Argo Rollouts, argoproj/argo-rollouts ``pkg/apis/rollouts/v1alpha1/analysis_types.go``
  (AnalysisTemplateSpec, Metric, MetricProvider.job = JobMetric{metadata, spec}, Argument,
  ValueFrom) and ``types.go`` (RolloutSpec, BlueGreenStrategy, RolloutAnalysis,
  AnalysisRunArgument, ArgumentValueFrom, FieldRef, PodTemplateMetadata), release v1.7 and
  later (count / failureLimit are IntOrString; abortScaleDownDelaySeconds exists); argument
  resolution from ``utils/analysis/factory.go`` (BuildArgumentsForRolloutAnalysisRun,
  extractValueFromRollout), ported in ``tests.k8s_fake.argo``.
- Flagger, fluxcd/flagger ``pkg/apis/flagger/v1beta1/canary.go`` (CanarySpec, CanaryAnalysis,
  CanaryWebhook, HookType), release v1.x (Canary ``flagger.app/v1beta1``, ``analysis``), and
  the load tester's ``pkg/loadtester/task_shell.go`` (type ``cmd`` runs ``sh -c``).

Kubernetes' own embedded types (the Job spec, pod templates, selectors) are checked by
kubectl and the Pod Security tests (test_kubernetes_image.py, test_kubernetes_manifests.py).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from shiftgate.cli.main import _parser
from shiftgate.config.paths import project_root
from tests.k8s_fake.argo import argo_field_value

ROOT = project_root()
ARGO, FLAGGER = ROOT / "ci" / "argo", ROOT / "ci" / "flagger"
OPAQUE = dict  # an embedded Kubernetes type, checked elsewhere
INT_OR_STRING = (int, str)

# --- Argo Rollouts (analysis_types.go, types.go) --------------------------------------------
ARGO_ARGUMENT = {
    "name": str,
    "value": str,
    "valueFrom": {"secretKeyRef": {"name": str, "key": str}, "fieldRef": {"fieldPath": str}},
}
ARGO_METRIC = {
    "name": str,
    "interval": str,
    "initialDelay": str,
    "count": INT_OR_STRING,
    "successCondition": str,
    "failureCondition": str,
    "failureLimit": INT_OR_STRING,
    "inconclusiveLimit": INT_OR_STRING,
    "consecutiveErrorLimit": INT_OR_STRING,
    "provider": {"job": {"metadata": OPAQUE, "spec": OPAQUE}, "prometheus": OPAQUE, "web": OPAQUE},
}
ANALYSIS_TEMPLATE = {
    "apiVersion": str,
    "kind": str,
    "metadata": OPAQUE,
    "spec": {
        "metrics": [ARGO_METRIC],
        "args": [ARGO_ARGUMENT],
        "dryRun": [{"metricName": str}],
        "measurementRetention": [{"metricName": str, "limit": int}],
    },
}
ROLLOUT_ANALYSIS = {
    "templates": [{"templateName": str, "clusterScope": bool}],
    "args": [
        {
            "name": str,
            "value": str,
            "valueFrom": {"podTemplateHashValue": str, "fieldRef": {"fieldPath": str}},
        }
    ],
    "dryRun": [{"metricName": str}],
    "measurementRetention": [{"metricName": str, "limit": int}],
    "analysisRunMetadata": OPAQUE,
}
POD_TEMPLATE_METADATA = {"labels": {str: str}, "annotations": {str: str}}
BLUE_GREEN = {
    "activeService": str,
    "previewService": str,
    "previewReplicaCount": int,
    "autoPromotionEnabled": bool,
    "autoPromotionSeconds": int,
    "maxUnavailable": INT_OR_STRING,
    "scaleDownDelaySeconds": int,
    "scaleDownDelayRevisionLimit": int,
    "prePromotionAnalysis": ROLLOUT_ANALYSIS,
    "antiAffinity": OPAQUE,
    "postPromotionAnalysis": ROLLOUT_ANALYSIS,
    "previewMetadata": POD_TEMPLATE_METADATA,
    "activeMetadata": POD_TEMPLATE_METADATA,
    "abortScaleDownDelaySeconds": int,
}
ROLLOUT = {
    "apiVersion": str,
    "kind": str,
    "metadata": OPAQUE,
    "spec": {
        "replicas": int,
        "selector": OPAQUE,
        "template": OPAQUE,
        "workloadRef": OPAQUE,
        "minReadySeconds": int,
        "revisionHistoryLimit": int,
        "paused": bool,
        "progressDeadlineSeconds": int,
        "progressDeadlineAbort": bool,
        "restartAt": str,
        "strategy": {"blueGreen": BLUE_GREEN, "canary": OPAQUE},
        "analysis": OPAQUE,
        "rollbackWindow": OPAQUE,
    },
}
# --- Flagger (canary.go) --------------------------------------------------------------------
HOOK_TYPES = {
    "rollout", "pre-rollout", "post-rollout", "confirm-rollout", "confirm-promotion",
    "confirm-traffic-increase", "event", "rollback",
}  # fmt: skip
CANARY = {
    "apiVersion": str,
    "kind": str,
    "metadata": OPAQUE,
    "spec": {
        "provider": str,
        "metricsServer": str,
        "targetRef": {"apiVersion": str, "kind": str, "name": str},
        "autoscalerRef": OPAQUE,
        "ingressRef": OPAQUE,
        "service": {"name": str, "port": int, "portName": str, "targetPort": INT_OR_STRING,
                    "portDiscovery": bool, "timeout": str, "gateways": [str], "hosts": [str]},
        "analysis": {
            "interval": str,
            "iterations": int,
            "maxWeight": int,
            "stepWeight": int,
            "stepWeights": [int],
            "stepWeightPromotion": int,
            "threshold": int,
            "metrics": [OPAQUE],
            "alerts": [OPAQUE],
            "match": [OPAQUE],
            "webhooks": [{"type": str, "name": str, "url": str, "muteAlert": bool, "timeout": str,
                          "retries": int, "metadata": {str: str}}],
        },
        "progressDeadlineSeconds": int,
        "skipAnalysis": bool,
        "revertOnDeletion": bool,
        "suspend": bool,
    },
}  # fmt: skip


def conforms(value: Any, schema: Any, where: str = "") -> list[str]:
    """Every field of ``value`` known to ``schema`` and of its type; the problems found."""
    if schema is OPAQUE:
        return [] if isinstance(value, dict) else [f"{where}: expected an object"]
    if isinstance(schema, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list"]
        return [p for i, item in enumerate(value) for p in conforms(item, schema[0], f"{where}[{i}]")]
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        if list(schema) == [str]:  # map[string]string
            return [f"{where}.{k}: expected a string" for k, v in value.items() if not isinstance(v, str)]
        problems = [f"{where}.{k}: unknown upstream" for k in value if k not in schema]
        for key, item in value.items():
            if key in schema:
                problems += conforms(item, schema[key], f"{where}.{key}")
        return problems
    types = schema if isinstance(schema, tuple) else (schema,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    return [] if ok else [f"{where}: {value!r} is not {'/'.join(t.__name__ for t in types)}"]


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _of_kind(path: Path, kind: str) -> list[dict[str, Any]]:
    return [d for d in _docs(path) if d["kind"] == kind]


TEMPLATES = {t["metadata"]["name"]: t for t in _of_kind(ARGO / "analysis-template.yaml", "AnalysisTemplate")}
ROLLOUT_DOC = _of_kind(ARGO / "rollout.yaml", "Rollout")[0]
CANARY_DOC = _of_kind(FLAGGER / "canary-webhook.yaml", "Canary")[0]


def _job_args(metric: dict[str, Any]) -> list[str]:
    container = metric["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["shiftgate"]
    return [str(a) for a in container["args"]]


def _gate_checks(name: str) -> list[str]:
    gate = yaml.safe_load((ROOT / "gates" / f"{name}.yaml").read_text())
    return [c["path"] for c in gate["checks"]]


@pytest.mark.parametrize(
    ("doc", "schema"),
    [*((t, ANALYSIS_TEMPLATE) for t in TEMPLATES.values()), (ROLLOUT_DOC, ROLLOUT), (CANARY_DOC, CANARY)],
    ids=[*TEMPLATES, "Rollout", "Canary"],
)
def test_fields_and_types_are_upstreams(doc: dict[str, Any], schema: dict[str, Any]) -> None:
    assert conforms(doc, schema) == []
    assert doc["apiVersion"] == ("flagger.app/v1beta1" if doc["kind"] == "Canary" else "argoproj.io/v1alpha1")


def test_the_checker_rejects_what_upstream_does_not_know() -> None:
    bad = yaml.safe_load(yaml.safe_dump(CANARY_DOC))
    bad["spec"]["analysis"]["threshhold"] = 1
    bad["spec"]["analysis"]["webhooks"][0]["timeout"] = 300
    assert conforms(bad, CANARY) == [
        ".spec.analysis.threshhold: unknown upstream",
        ".spec.analysis.webhooks[0].timeout: 300 is not str",
    ]


def test_the_candidate_is_the_pod_templates_version_label() -> None:
    labels = ROLLOUT_DOC["spec"]["template"]["metadata"]["labels"]
    assert labels["version"] == labels["app.kubernetes.io/version"]  # the two never differ
    blue_green = ROLLOUT_DOC["spec"]["strategy"]["blueGreen"]
    for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
        (arg,) = blue_green[key]["args"]
        assert "podTemplateHashValue" not in arg["valueFrom"]  # a ReplicaSet hash is no version
        assert argo_field_value(ROLLOUT_DOC, arg["valueFrom"]["fieldRef"]["fieldPath"]) == labels["version"]
    # Why not the dotted key: Argo's resolver cannot reach it (it splits on the dots).
    with pytest.raises(ValueError, match="invalid path"):
        argo_field_value(ROLLOUT_DOC, "spec.template.metadata.labels.app.kubernetes.io/version")


def test_gates_without_user_traffic_before_promotion_and_slo_after() -> None:
    blue_green = ROLLOUT_DOC["spec"]["strategy"]["blueGreen"]
    roles = {blue_green["activeMetadata"]["labels"]["color"]: "active",
             blue_green["previewMetadata"]["labels"]["color"]: "preview"}  # fmt: skip
    assert roles == {"blue": "active", "green": "preview"}
    seen: dict[str, list[str]] = {}
    for key in ("prePromotionAnalysis", "postPromotionAnalysis"):
        for ref in blue_green[key]["templates"]:
            template = TEMPLATES[ref["templateName"]]
            assert [a["name"] for a in template["spec"]["args"]] == ["candidate"]
            for metric in template["spec"]["metrics"]:
                assert (metric["count"], metric["failureLimit"]) == (1, 0)  # no re-run into a pass
                job = metric["provider"]["job"]["spec"]
                assert job["backoffLimit"] == 0
                args = _parser().parse_args(_job_args(metric))
                assert args.candidate == "{{args.candidate}}"
                assert job["activeDeadlineSeconds"] > float(args.timeout)
                sets = dict(s.split("=", 1) for s in args.overrides or [])
                seen.setdefault(key, []).append(args.name)
                if key == "prePromotionAnalysis":
                    assert not any(c.startswith("checks/slo") for c in _gate_checks(args.name))
                    if "load.target" in sets:  # load goes to the preview Service, as green
                        assert sets["load.target"] == sets["run.candidate_color"] == "green"
                        host = f"http://{blue_green['previewService']}.recommendation.svc.cluster.local:"
                        assert sets["service.color_urls.green"].startswith(host)
                else:
                    assert sets["run.candidate_color"] == "blue"  # the active pods
                    assert all(c.startswith("checks/slo") for c in _gate_checks(args.name))
    assert seen == {"prePromotionAnalysis": ["preflight", "pre-promotion"],
                    "postPromotionAnalysis": ["promoted"]}  # fmt: skip


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"(\d+)([smh])", duration).groups()  # type: ignore[union-attr]
    return float(value) * {"s": 1, "m": 60, "h": 3600}[unit]


def test_flagger_webhooks_preflight_then_slo_longer_than_their_gates() -> None:
    spec = CANARY_DOC["spec"]
    assert spec["analysis"]["threshold"] == 1  # the first failed webhook rolls back
    hooks = {h["type"]: h for h in spec["analysis"]["webhooks"]}
    assert set(hooks) <= HOOK_TYPES and set(hooks) == {"pre-rollout", "rollout"}
    runner = next(d for d in _of_kind(FLAGGER / "canary-webhook.yaml", "Deployment"))
    runner_timeout = next(a for a in runner["spec"]["template"]["spec"]["containers"][0]["command"]
                          if a.startswith("-timeout="))  # fmt: skip
    for kind, gate in (("pre-rollout", "preflight"), ("rollout", "shift")):
        hook = hooks[kind]
        assert hook["metadata"]["type"] == "cmd"  # never bash
        words = shlex.split(hook["metadata"]["cmd"])
        assert words[0] == "shiftgate"
        args = _parser().parse_args(words[1:])
        assert args.name == gate
        assert _seconds(hook["timeout"]) > float(args.timeout)
        assert _seconds(runner_timeout.split("=", 1)[1]) > _seconds(hook["timeout"])
        assert hook["url"].startswith(f"http://{runner['metadata']['name']}.recommendation/")
    assert any(c.startswith("checks/slo") for c in _gate_checks("shift"))


def test_flagger_targets_a_deployment_of_deploy_and_only_flagger_reaches_the_hooks() -> None:
    target = CANARY_DOC["spec"]["targetRef"]
    workloads = {
        (d["kind"], d["metadata"]["name"])
        for p in (ROOT / "deploy").rglob("*.yaml")
        if p.parent.name != "rules"
        for d in _docs(p)
    }
    assert (target["kind"], target["name"]) in workloads
    (policy,) = _of_kind(FLAGGER / "canary-webhook.yaml", "NetworkPolicy")
    runner = _of_kind(FLAGGER / "canary-webhook.yaml", "Deployment")[0]
    assert policy["spec"]["podSelector"]["matchLabels"] == runner["spec"]["selector"]["matchLabels"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    (source,) = rule["from"]
    assert source["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "flagger"}
    assert "namespaceSelector" in source  # Flagger's namespace only, not every namespace's flagger
