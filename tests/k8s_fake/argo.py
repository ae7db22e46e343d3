"""What the Argo Rollouts controller does with a blue-green Rollout's analysis, for tests.

It resolves the analysis arguments from the Rollout object as Argo's
``BuildArgumentsForRolloutAnalysisRun`` does (argoproj/argo-rollouts
utils/analysis/factory.go: ``fieldRef`` paths outside ``metadata`` go through
``extractValueFromRollout``, which splits the path on dots and brackets), substitutes
``{{args.NAME}}`` in the template's metrics, and returns each Job metric's container argv:
exactly what the Job would run.
"""

from __future__ import annotations

import json
import re
from typing import Any

Obj = dict[str, Any]


def argo_field_value(rollout: Obj, path: str) -> str:
    """``extractValueFromRollout``: a label key with dots cannot be named."""
    node: Any = rollout
    for section in filter(None, re.split(r"[.\[\]]+", path)):
        if isinstance(node, list):
            node = node[int(section)]
        elif isinstance(node, dict):
            node = node.get(section)
        else:
            raise ValueError(f"invalid path {path} in rollout")
    if node is None or isinstance(node, dict | list):
        raise ValueError(f"invalid path {path} in rollout")
    return str(node)


def analysis_args(rollout: Obj, analysis: Obj) -> dict[str, str]:
    """The values of a Rollout's ``prePromotionAnalysis`` / ``postPromotionAnalysis`` args
    (``value`` or ``valueFrom.fieldRef``; a pod template hash is refused: no hash here)."""
    values = {}
    for arg in analysis.get("args", []):
        source = arg.get("valueFrom")
        if source is None:
            values[arg["name"]] = str(arg.get("value", ""))
        elif "fieldRef" in source:
            values[arg["name"]] = argo_field_value(rollout, source["fieldRef"]["fieldPath"])
        else:
            raise ValueError(f"argument {arg['name']}: only value and fieldRef are resolved here")
    return values


def job_commands(template: Obj, args: dict[str, str]) -> dict[str, list[str]]:
    """Each Job metric's container command + args, ``{{args.NAME}}`` resolved, by metric."""
    declared = {a["name"] for a in template["spec"].get("args", [])}
    missing = declared - set(args)
    if missing:
        raise ValueError(f"arguments without a value: {sorted(missing)}")
    text = json.dumps(template["spec"]["metrics"])
    for name, value in args.items():
        text = re.sub(r"\{\{\s*args\." + re.escape(name) + r"\s*\}\}", value, text)
    commands = {}
    for metric in json.loads(text):
        container = metric["provider"]["job"]["spec"]["template"]["spec"]["containers"][0]
        commands[metric["name"]] = [*container.get("command", []), *container.get("args", [])]
    return commands
