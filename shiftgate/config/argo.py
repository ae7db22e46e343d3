"""``platform.kind: argo-rollout``: the colors of an Argo Rollout (blue-green), as roles.

A Rollout has no blue and green Deployments: it has one ReplicaSet per revision and two
Services whose selectors Argo points at them (``rollouts-pod-template-hash``). So the colors
are the Services' roles, as ci/argo/ labels the pods: **blue** = the active Service (what
users reach), **green** = the preview Service (the candidate before promotion). Checks read
the pods, logs and resources behind a role (``shiftgate.probes.argo_rollout``); Argo, not
shiftgate's runner, deploys and promotes, so no writing platform exists for this kind.

Kept out of ``models.py`` (it imports this module; this one imports nothing of it, so the same
``extra="forbid"`` rule is restated here).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ArgoRolloutPlatform(BaseModel):
    """Unknown keys are errors, as in every section of the environment file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    kind: Literal["argo-rollout"]
    namespace: str
    context: str | None = Field(None, description="kubeconfig context; None: current one.")
    in_cluster: bool = Field(False, description="Use the pod's service account.")
    rollout: str = Field("recommendation", description="The Rollout's name.")
    active_service: str = Field(
        "recommendation-active", description="strategy.blueGreen.activeService: the blue role."
    )
    preview_service: str = Field(
        "recommendation-preview", description="strategy.blueGreen.previewService: the green role."
    )
