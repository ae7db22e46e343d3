"""A Deployment controller simulator for the fake API: ReplicaSets, revisions, pods, status.

It runs one ``step()`` before every API request (deterministic: no background thread), the
way kube-controller-manager would have moved on between two polls of ``kubectl rollout
status``:

- a Deployment whose pod template has no ReplicaSet gets one, named ``<deployment>-<hash>``,
  labelled ``pod-template-hash``, owned by the Deployment, with the next
  ``deployment.kubernetes.io/revision``; a template that matches an older ReplicaSet (a
  rollback) re-stamps that one with the next revision, as the real controller does;
- each step one old pod goes away if more than the desired count run, then one more new
  pod becomes ready (maxSurge 1, maxUnavailable 0), and the status
  (observedGeneration, replicas, updated / ready / available, conditions) follows;
- ``behavior[name] = "stuck"`` keeps the new pods unready; after ``deadline_steps`` the
  Progressing condition turns False with reason ProgressDeadlineExceeded.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from tests.k8s_fake.server import FakeApiServer, Obj, take_replicas

REVISION = "deployment.kubernetes.io/revision"


def template_hash(template: Obj) -> str:
    """The pod template's hash as of its typed value: the hash label and a null
    ``creationTimestamp`` (how the API serves every template) do not count."""
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    if clean.get("metadata", {}).get("creationTimestamp", 0) is None:
        del clean["metadata"]["creationTimestamp"]
    return hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:10]


def revision(obj: Obj) -> int:
    return int(obj["metadata"].get("annotations", {}).get(REVISION, "0"))


class ControllerSimulator:
    def __init__(self, fake: FakeApiServer, deadline_steps: int = 5) -> None:
        self.fake = fake
        self.behavior: dict[str, str] = {}  # deployment name → "progress" | "stuck"
        self.hpa_desired: dict[str, int] = {}  # HPA name → the count its metrics ask for
        self.deadline_steps = deadline_steps
        self._stuck_steps: dict[str, int] = {}
        self.enabled = True
        fake.before_request.append(self.step)

    def settle(self, steps: int = 50) -> None:
        for _ in range(steps):
            self.step()

    def step(self) -> None:
        if not self.enabled:
            return
        with self.fake.lock:
            before = {key: json.dumps(obj, sort_keys=True) for key, obj in self.fake.objects.items()}
            self._autoscale()
            for dep in [o for k, o in list(self.fake.objects.items()) if k[:2] == ("apps", "deployments")]:
                self._reconcile(dep)
            for key, obj in self.fake.objects.items():  # in-place writes get a resourceVersion
                if key in before and json.dumps(obj, sort_keys=True) != before[key]:
                    self.fake.touch(obj)

    def _autoscale(self) -> None:
        """The HPA controller: keeps each target's ``spec.replicas`` within [min, max] (at
        ``hpa_desired[name]`` when a test sets a load), writing through the scale subresource,
        which makes kube-controller-manager the owner of the field."""
        for hpa in [o for k, o in list(self.fake.objects.items()) if k[1] == "horizontalpodautoscalers"]:
            target = hpa["spec"].get("scaleTargetRef", {})
            dep = self.fake.get("Deployment", hpa["metadata"]["namespace"], target.get("name", ""))
            if dep is None or target.get("kind") != "Deployment":
                continue
            current = int(dep["spec"].get("replicas", 1))
            wanted = self.hpa_desired.get(hpa["metadata"]["name"], current)
            wanted = max(int(hpa["spec"].get("minReplicas", 1)), min(int(hpa["spec"]["maxReplicas"]), wanted))
            if wanted != current:
                dep["spec"]["replicas"] = wanted
                dep["metadata"]["generation"] = dep["metadata"].get("generation", 1) + 1
                fields = dep["metadata"].setdefault("managedFields", [])
                entry = next((f for f in fields if f.get("manager") == "kube-controller-manager"), None)
                if entry is None:
                    entry = {
                        "manager": "kube-controller-manager",
                        "operation": "Update",
                        "subresource": "scale",
                    }
                    fields.append(entry)
                take_replicas(fields, entry)
                hpa.setdefault("status", {}).update(currentReplicas=current, desiredReplicas=wanted)

    def owned(self, dep: Obj) -> list[Obj]:
        ns = dep["metadata"]["namespace"]
        return [
            rs
            for rs in self.fake.list("ReplicaSet", ns)
            if any(
                ref.get("uid") == dep["metadata"]["uid"] for ref in rs["metadata"].get("ownerReferences", [])
            )
        ]

    def _reconcile(self, dep: Obj) -> None:
        meta, spec = dep["metadata"], dep["spec"]
        name = meta["name"]
        sets = self.owned(dep)
        top = max((revision(rs) for rs in sets), default=0)
        digest = template_hash(spec["template"])
        new = next((rs for rs in sets if rs["metadata"]["labels"].get("pod-template-hash") == digest), None)
        if new is None:
            new = self._replica_set(dep, digest, top + 1)
            sets.append(new)
        elif revision(new) < top:
            new["metadata"]["annotations"][REVISION] = str(top + 1)  # rollback re-stamps
        meta.setdefault("annotations", {})[REVISION] = new["metadata"]["annotations"][REVISION]
        if spec.get("paused"):
            return
        desired = int(spec.get("replicas", 1))
        stuck = self.behavior.get(name) == "stuck"
        status = dep.setdefault("status", {})
        if status.get("observedGeneration") != meta["generation"]:
            status["observedGeneration"] = meta["generation"]
            self._stuck_steps[name] = 0
        # One step of a rolling update at maxSurge 1, maxUnavailable 0: the old sets shrink
        # only by what runs above the desired count, then the new set grows by one (so the
        # last step leaves an old replica "pending termination", as kubectl shows).
        drain = 0 if stuck else max(0, sum(rs["spec"].get("replicas", 0) for rs in sets) - desired)
        new_status = new.setdefault("status", {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0})
        new["spec"]["replicas"] = (
            min(desired, new["spec"].get("replicas", 0) + 1)
            if not stuck
            else max(1, new["spec"].get("replicas", 0))
        )
        ready = new["spec"]["replicas"] if not stuck else 0
        new_status.update(replicas=new["spec"]["replicas"], readyReplicas=ready, availableReplicas=ready)
        for old in sets:
            if old is new:
                continue
            take = min(drain, old["spec"].get("replicas", 0))
            keep, drain = old["spec"].get("replicas", 0) - take, drain - take
            old["spec"]["replicas"] = keep
            old["status"] = {"replicas": keep, "readyReplicas": keep, "availableReplicas": keep}
        total = sum(rs["spec"]["replicas"] for rs in sets)
        available = sum(rs["status"].get("availableReplicas", 0) for rs in sets)
        status.update(
            replicas=total,
            updatedReplicas=new["spec"]["replicas"],
            readyReplicas=available,
            availableReplicas=available,
            unavailableReplicas=max(0, total - available),
        )
        complete = new["spec"]["replicas"] == desired and total == desired and available == desired
        if stuck:
            self._stuck_steps[name] = self._stuck_steps.get(name, 0) + 1
        progressing: dict[str, Any] = {
            "type": "Progressing",
            "status": "True",
            "reason": "ReplicaSetUpdated",
            "message": f'ReplicaSet "{new["metadata"]["name"]}" is progressing.',
        }
        if complete:
            progressing.update(
                reason="NewReplicaSetAvailable",
                message=f'ReplicaSet "{new["metadata"]["name"]}" has successfully progressed.',
            )
        elif stuck and self._stuck_steps[name] >= self.deadline_steps:
            progressing.update(
                status="False",
                reason="ProgressDeadlineExceeded",
                message=f'ReplicaSet "{new["metadata"]["name"]}" has timed out progressing.',
            )
        status["conditions"] = [
            {
                "type": "Available",
                "status": "True" if available >= desired - 1 else "False",
                "reason": "MinimumReplicasAvailable",
            },
            progressing,
        ]
        for rs in sets:
            self._pods(rs, ready=not (stuck and rs is new))

    def _replica_set(self, dep: Obj, digest: str, rev: int) -> Obj:
        template = copy.deepcopy(dep["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = digest
        selector = copy.deepcopy(dep["spec"]["selector"])
        selector.setdefault("matchLabels", {})["pod-template-hash"] = digest
        rs = {
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{dep['metadata']['name']}-{digest}",
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {REVISION: str(rev)},
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "controller": True,
                        "name": dep["metadata"]["name"],
                        "uid": dep["metadata"]["uid"],
                    }
                ],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
            "status": {"replicas": 0},
        }
        return self.fake.put(rs, dep["metadata"]["namespace"])

    def _pods(self, rs: Obj, ready: bool) -> None:
        ns, rs_name = rs["metadata"]["namespace"], rs["metadata"]["name"]
        want = rs["spec"]["replicas"]
        for pod in self.fake.list(
            "Pod", ns, f"pod-template-hash={rs['metadata']['labels']['pod-template-hash']}"
        ):
            if int(pod["metadata"]["name"].rsplit("-", 1)[1]) >= want:
                self.fake.delete("Pod", ns, pod["metadata"]["name"])
        for i in range(want):
            name = f"{rs_name}-{i}"
            existing = self.fake.get("Pod", ns, name)
            phase = {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            }
            if existing is None:
                self.fake.put(
                    {
                        "kind": "Pod",
                        "metadata": {
                            "name": name,
                            "labels": dict(rs["spec"]["template"]["metadata"]["labels"]),
                        },
                        "spec": copy.deepcopy(rs["spec"]["template"].get("spec", {})),
                        "status": phase,
                    },
                    ns,
                )
            elif existing.get("status") != phase:
                existing["status"] = phase
