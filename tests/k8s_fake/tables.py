"""Server-side printing for ``kubectl get``: the Table the real API server returns.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the server's
columns; without a Table it can show only NAME and AGE. The fake prints Deployments (what a
release engineer reads: READY, UP-TO-DATE, AVAILABLE, and with ``-o wide`` the images)
with the cells of Kubernetes' ``printDeployment``; other kinds get kubectl's fallback.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

DEPLOYMENT_COLUMNS = [
    ("Name", "name", 0),
    ("Ready", "", 0),
    ("Up-to-date", "", 0),
    ("Available", "", 0),
    ("Age", "", 0),
    ("Containers", "", 1),
    ("Images", "", 1),
    ("Selector", "", 1),
]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def human_duration(seconds: float) -> str:
    """apimachinery's ``duration.HumanDuration`` (the AGE column), up to days."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes, hours = s // 60, s // 3600
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{hours // 24}d{hours % 24}h" if hours < 192 and hours % 24 else f"{hours // 24}d"


def _age(obj: Obj) -> str:
    stamp = obj["metadata"].get("creationTimestamp")
    if not stamp:
        return "<unknown>"
    created = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return human_duration(time.time() - created.timestamp())


def _deployment_row(dep: Obj) -> dict[str, Any]:
    spec, status = dep.get("spec", {}), dep.get("status", {})
    containers = spec.get("template", {}).get("spec", {}).get("containers", [])
    labels = spec.get("selector", {}).get("matchLabels", {})
    cells = [
        dep["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        _age(dep),
        ",".join(c.get("name", "") for c in containers),
        ",".join(c.get("image", "") for c in containers),
        ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
    ]
    meta = {k: v for k, v in dep["metadata"].items() if k != "managedFields"}
    return {
        "cells": cells,
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta},
    }


def as_table(kind: str, payload: Obj) -> Obj | None:
    """The Table of a get (one object) or list response, or None when the fake prints no
    columns for ``kind`` (kubectl then falls back to the plain object, NAME and AGE)."""
    if kind != "Deployment":
        return None
    items = payload.get("items", [payload])
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": payload.get("metadata", {}).get("resourceVersion", "")},
        "columnDefinitions": [
            {
                "name": name,
                "type": "integer" if name in ("Up-to-date", "Available") else "string",
                "format": fmt,
                "description": "",
                "priority": priority,
            }
            for name, fmt, priority in DEPLOYMENT_COLUMNS
        ],
        "rows": [_deployment_row(obj) for obj in items],
    }
