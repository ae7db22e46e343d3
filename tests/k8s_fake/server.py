"""A stateful fake Kubernetes API server over real HTTP: store, patches, RBAC, discovery.

Serves what shiftgate and kubectl (``apply --server-side``, ``rollout status|undo|history``,
``get``) use: discovery with short names, get / list (label and field selectors) / watch /
create / replace / delete, the four patch types (JSON patch, merge patch, strategic merge as a
merge patch, server-side apply as a field-owning merge), ``dryRun``, ``pods/log``,
``metrics.k8s.io`` and server-side tables for Deployments. When ``rules`` is set, requests are
authorized against them like RBAC does (a Role's rules), answering 403 with the real API
server's message. tests/integration/test_kubernetes_kubectl.py holds it to the real kubectl.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.k8s_fake import tables, watch

Obj = dict[str, Any]
Key = tuple[str, str, str, str]  # group, plural, namespace, name


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


KINDS = [
    Kind("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",)),
    Kind("", "v1", "pods", "Pod", short_names=("po",)),
    Kind("", "v1", "services", "Service", short_names=("svc",)),
    Kind("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    Kind("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Kind("", "v1", "secrets", "Secret"),
    Kind("apps", "v1", "deployments", "Deployment", short_names=("deploy",)),
    Kind("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",)),
    Kind("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",)),
    Kind("batch", "v1", "jobs", "Job"),
    Kind("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",)),
    Kind("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Kind("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Kind("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"),
    Kind("networking.istio.io", "v1beta1", "virtualservices", "VirtualService", short_names=("vs",)),
    Kind("networking.istio.io", "v1beta1", "destinationrules", "DestinationRule", short_names=("dr",)),
    Kind("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule", short_names=("promrule",)),
    # What ci/argo/ and ci/flagger/ create (their CRDs installed), stored as given.
    Kind("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor"),
    Kind("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", short_names=("netpol",)),
    Kind("argoproj.io", "v1alpha1", "rollouts", "Rollout", short_names=("ro",)),
    Kind("argoproj.io", "v1alpha1", "analysistemplates", "AnalysisTemplate"),
    Kind("flagger.app", "v1beta1", "canaries", "Canary"),
    Kind("metrics.k8s.io", "v1beta1", "pods", "PodMetrics"),
    # the runner's lock (its record is a ConfigMap): replaced with resourceVersion, 409 otherwise
    Kind("coordination.k8s.io", "v1", "leases", "Lease"),
]
BY_PLURAL = {(k.group, k.plural): k for k in KINDS}
BY_KIND = {k.kind: k for k in KINDS if k.group != "metrics.k8s.io"}
VERB_OF = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass(frozen=True)
class Watch:
    """What ``handle`` answers to an authorized ``?watch=true``: the handler streams it."""

    kind: Kind
    namespace: str
    query: dict[str, str]


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Obj, ops: list[Obj]) -> Obj:
    result = copy.deepcopy(target)
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node: Any = result
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(last) if isinstance(node, list) and last != "-" else last
        if op["op"] in ("replace", "add"):
            if isinstance(node, list) and key == "-":
                node.append(op["value"])
            else:
                node[key] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            del node[key]
        elif op["op"] == "test" and node.get(key) != op["value"]:
            raise ApiError(422, "Invalid", f"test operation failed at {op['path']}")
    return result


REPLICAS_FIELD = {"f:spec": {"f:replicas": {}}}


def owns_replicas(entry: Obj) -> bool:
    return "f:replicas" in entry.get("fieldsV1", {}).get("f:spec", {})


def take_replicas(fields: list[Obj], owner: Obj) -> None:
    """``owner`` changed the value: it becomes the field's only owner."""
    for entry in fields:
        if entry is not owner and owns_replicas(entry):
            entry["fieldsV1"]["f:spec"].pop("f:replicas")
    owner.setdefault("fieldsV1", {}).setdefault("f:spec", {})["f:replicas"] = {}


def apply_replicas_ownership(merged: Obj, payload: Obj, manager: str, before: Any) -> None:
    """Server-side apply's rule for ``spec.replicas``, the one field shiftgate hands over:
    an applier that sets it owns it; one that stops setting it gives it up, and a field with
    no owner left is reset to its default (1) — the autoscaler's count is lost. (The real
    API server tracks every field; the fake tracks this one, where the danger is.)"""
    fields = merged["metadata"].setdefault("managedFields", [])
    mine = next(f for f in fields if f.get("manager") == manager)
    if "replicas" in payload.get("spec", {}):
        if payload["spec"]["replicas"] != before:
            take_replicas(fields, mine)  # a forced apply of a new value takes the field
        else:
            mine.setdefault("fieldsV1", {}).setdefault("f:spec", {})["f:replicas"] = {}  # shared
    elif owns_replicas(mine):
        mine["fieldsV1"]["f:spec"].pop("f:replicas")
        if not any(owns_replicas(entry) for entry in fields):
            merged["spec"]["replicas"] = 1


def field_matches(obj: Obj, selector: str) -> bool:
    """The field selectors every kind supports (``metadata.name``, ``metadata.namespace``):
    ``kubectl rollout status`` lists and watches its one Deployment by ``metadata.name``."""
    meta = obj.get("metadata", {})
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        field, value = term.split("!=" if negate else "=", 1)
        value = value.lstrip("=")
        if field not in ("metadata.name", "metadata.namespace"):
            raise ApiError(
                400,
                "BadRequest",
                f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"',
            )
        if (meta.get(field.split(".", 1)[1], "") == value) == negate:
            return False
    return True


def normalize_pod_template(obj: Obj) -> None:
    """A pod template as the real API server returns it after its typed round trip:
    ``metadata.creationTimestamp: null`` (kubectl rollout undo sends it back that way), so the
    template a rollback restores equals its ReplicaSet's and no new ReplicaSet is made."""
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        meta = template.get("metadata")
        template["metadata"] = meta if isinstance(meta, dict) else {}
        template["metadata"]["creationTimestamp"] = None


def matches(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k) == v:
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k) != v:
                return False
        elif term not in labels:
            return False
    return True


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


class FakeApiServer:
    """The state behind the HTTP server; tests read and change it directly too."""

    user = "system:serviceaccount:recommendation:shiftgate"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.objects: dict[Key, Obj] = {}
        self.rules: list[Obj] | None = None  # None: everything allowed
        self.logs: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self.metrics: dict[tuple[str, str], dict[str, str]] = {}
        self.metrics_available = True
        self.unserved_groups: set[str] = set()  # API groups whose CRDs are not installed
        self.delay_s = 0.0
        self.before_request: list[Callable[[], None]] = []
        self.mutators: list[Callable[[Kind, Obj], Obj]] = []  # admission webhooks
        self.requests: list[tuple[str, str, str]] = []  # (method, path, content type)
        self.closed = False  # set when the server stops: open watches end
        self._rv = itertools.count(1)

    # -- state -------------------------------------------------------------------------
    def get(self, kind: str, namespace: str, name: str) -> Obj | None:
        k = BY_KIND[kind]
        return self.objects.get((k.group, k.plural, namespace if k.namespaced else "", name))

    def list(self, kind: str, namespace: str, selector: str = "") -> list[Obj]:
        k = BY_KIND[kind]
        return [
            o
            for (g, p, ns, _), o in sorted(self.objects.items())
            if (g, p) == (k.group, k.plural)
            and ns == namespace
            and matches(o["metadata"].get("labels") or {}, selector)
        ]

    def put(self, obj: Obj, namespace: str | None = None) -> Obj:
        """Store ``obj`` as the API would after a create or update (status kept as given)."""
        k = BY_KIND[obj["kind"]]
        meta = obj.setdefault("metadata", {})
        if k.namespaced:
            meta["namespace"] = meta.get("namespace") or namespace or "default"
        key = (k.group, k.plural, meta.get("namespace", "") if k.namespaced else "", meta["name"])
        old = self.objects.get(key)
        meta.setdefault("uid", old["metadata"]["uid"] if old else str(uuid.uuid4()))
        meta.setdefault(
            "creationTimestamp", old["metadata"]["creationTimestamp"] if old else rfc3339(time.time())
        )
        if obj["kind"] == "Deployment":
            obj.setdefault("spec", {}).setdefault("replicas", 1)  # the API server's default
        if obj["kind"] in ("Deployment", "ReplicaSet", "Job"):
            normalize_pod_template(obj)
        generation = old["metadata"].get("generation", 1) if old else 1
        if old and old.get("spec") != obj.get("spec"):
            generation += 1
        meta["generation"] = generation
        meta["resourceVersion"] = str(next(self._rv))
        obj["apiVersion"] = k.api_version
        self.objects[key] = obj
        return obj

    def touch(self, obj: Obj) -> None:
        """A write the controller made in place: a new resourceVersion, as every write gets
        (a watch sees the change by it)."""
        obj["metadata"]["resourceVersion"] = str(next(self._rv))

    def current_version(self) -> str:
        return str(next(self._rv))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        k = BY_KIND[kind]
        self.objects.pop((k.group, k.plural, namespace, name), None)

    def allow(self, rules: list[Obj]) -> None:
        self.rules = copy.deepcopy(rules)

    def revoke(self, verb: str, plural: str, group: str = "") -> None:
        """Take one verb on one resource away from every rule (the 'missing permission')."""
        assert self.rules is not None, "load a Role with allow() first"
        for rule in self.rules:
            if group in rule.get("apiGroups", []) and plural in rule.get("resources", []):
                rule["verbs"] = [v for v in rule.get("verbs", []) if v != verb]

    def authorized(self, verb: str, group: str, resource: str, name: str = "") -> bool:
        """RBAC's rule match; a rule with ``resourceNames`` covers only requests naming one of
        them (never list or create, which name no object)."""
        if self.rules is None:
            return True
        return any(
            group in r.get("apiGroups", [])
            and resource in r.get("resources", [])
            and (verb in r.get("verbs", []) or "*" in r.get("verbs", []))
            and (not r.get("resourceNames") or name in r["resourceNames"])
            for r in self.rules
        )

    # -- requests ----------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], ctype: str, body: bytes
    ) -> tuple[int, Any]:
        for hook in self.before_request:
            hook()
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["api"]:
            group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
        elif parts[:1] == ["apis"]:
            group, version, rest = (
                (parts[1] if len(parts) > 1 else ""),
                (parts[2] if len(parts) > 2 else ""),
                parts[3:],
            )
        elif parts == ["version"]:
            return 200, {"major": "1", "minor": "30", "gitVersion": "v1.30.0-fake"}
        else:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        if not version or not rest:
            return 200, self.discovery(parts[0], group, version)
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], (rest[1] if len(rest) > 1 else ""), (rest[2] if len(rest) > 2 else "")
        kind = BY_PLURAL.get((group, plural))
        if (
            kind is None
            or group in self.unserved_groups
            or (group == "metrics.k8s.io" and not self.metrics_available)
        ):
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        verb = VERB_OF[method] if name or method != "GET" else "list"
        if method == "GET" and query.get("watch") in ("true", "1"):
            verb = "watch"
        if not self.authorized(verb, group, f"{plural}/{sub}" if sub else plural, name):
            what = f"{plural}.{group}" if group else plural
            target = f'{what} "{name}"' if name else what
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            res = f'resource "{plural}/{sub}"' if sub else f'resource "{plural}"'
            raise ApiError(
                403,
                "Forbidden",
                f'{target} is forbidden: User "{self.user}" cannot {verb} '
                f'{res} in API group "{group}" {scope}',
            )
        if verb == "watch":
            return 200, Watch(kind, namespace, query)
        with self.lock:
            return self._dispatch(method, kind, namespace, name, sub, query, ctype, body)

    def _dispatch(
        self,
        method: str,
        kind: Kind,
        ns: str,
        name: str,
        sub: str,
        query: dict[str, str],
        ctype: str,
        body: bytes,
    ) -> tuple[int, Any]:
        key = (kind.group, kind.plural, ns, name)
        if kind.group == "metrics.k8s.io":
            return 200, self._pod_metrics(ns, query.get("labelSelector", ""))
        if method == "GET" and not name:
            items = self.select(kind, ns, query)
            return 200, {
                "kind": f"{kind.kind}List",
                "apiVersion": kind.api_version,
                "metadata": {"resourceVersion": str(next(self._rv))},
                "items": items,
            }
        current = self.objects.get(key)
        if method == "GET" and sub == "log":
            return self._log(ns, name, query)
        if method == "GET":
            if current is None:
                raise ApiError(404, "NotFound", f'{kind.plural}.{kind.group} "{name}" not found')
            return 200, current
        if method == "DELETE":
            if current is None:
                raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
            if "dryRun" not in query:
                del self.objects[key]
            return 200, current
        payload = json.loads(body) if body else None
        if method == "POST":
            if self.objects.get((kind.group, kind.plural, ns, payload["metadata"]["name"])):
                raise ApiError(
                    409, "AlreadyExists", f'{kind.plural} "{payload["metadata"]["name"]}" already exists'
                )
            new = payload
        elif method == "PUT":
            if current is None:
                raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
            rv = payload.get("metadata", {}).get("resourceVersion")
            if rv and rv != current["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {kind.plural} "{name}": '
                    "the object has been modified; please apply your changes to the latest version",
                )
            new = payload
        else:
            new = self._patch(kind, name, current, ctype, payload, query)
        new = copy.deepcopy(new)
        new["kind"] = kind.kind
        new.setdefault("metadata", {})["name"] = new["metadata"].get("name") or name
        for mutate in self.mutators:
            new = mutate(kind, new)
        if "dryRun" in query:
            return 200, new
        if current is not None and "status" in current and method != "PUT":
            new.setdefault("status", current["status"])
        return (201 if current is None else 200), self.put(new, ns)

    def select(self, kind: Kind, ns: str, query: dict[str, str]) -> builtins.list[Obj]:
        """The objects a list (or watch) of ``kind`` in ``ns`` returns, by both selectors."""
        return [
            o
            for (g, p, n, _), o in sorted(self.objects.items())
            if (g, p) == (kind.group, kind.plural)
            and (n == ns or not ns)
            and matches(o["metadata"].get("labels") or {}, query.get("labelSelector", ""))
            and field_matches(o, query.get("fieldSelector", ""))
        ]

    def _patch(
        self, kind: Kind, name: str, current: Obj | None, ctype: str, payload: Any, query: dict[str, str]
    ) -> Obj:
        if ctype.startswith("application/apply-patch"):
            if not query.get("fieldManager"):
                raise ApiError(
                    400, "BadRequest", "PatchOptions.meta.k8s.io is invalid: fieldManager: Required value"
                )
            base = copy.deepcopy(current) if current else {}
            merged = merge_patch(base, payload)
            fields = merged["metadata"].setdefault("managedFields", [])
            if not any(f.get("manager") == query["fieldManager"] for f in fields):
                fields.append({"manager": query["fieldManager"], "operation": "Apply"})
            if kind.kind == "Deployment":
                before = (current or {}).get("spec", {}).get("replicas")
                apply_replicas_ownership(merged, payload, query["fieldManager"], before)
            return merged
        if current is None:
            raise ApiError(404, "NotFound", f'{kind.plural} "{name}" not found')
        if ctype.startswith("application/json-patch"):
            return json_patch(current, payload)
        if ctype.startswith("application/strategic-merge-patch") and kind.group not in (
            "",
            "apps",
            "autoscaling",
            "batch",
            "policy",
            "rbac.authorization.k8s.io",
        ):
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml "
                f"(got {ctype})",
            )
        return merge_patch(current, payload)

    def _log(self, ns: str, name: str, query: dict[str, str]) -> tuple[int, Any]:
        if (ns, name) not in self.logs and self.objects.get(("", "pods", ns, name)) is None:
            raise ApiError(404, "NotFound", f'pods "{name}" not found')
        since = time.time() - float(query["sinceSeconds"]) if "sinceSeconds" in query else 0.0
        stamps = query.get("timestamps") == "true"
        lines = [
            f"{rfc3339(ts)} {text}" if stamps else text
            for ts, text in self.logs.get((ns, name), [])
            if ts >= since
        ]
        return 200, "".join(f"{line}\n" for line in lines)

    def _pod_metrics(self, ns: str, selector: str) -> Obj:
        items = []
        for pod in self.list("Pod", ns, selector):
            use = self.metrics.get((ns, pod["metadata"]["name"]))
            if use:
                items.append(
                    {
                        "metadata": {"name": pod["metadata"]["name"], "namespace": ns},
                        "timestamp": rfc3339(time.time()),
                        "window": "15s",
                        "containers": [{"name": "recommendation", "usage": use}],
                    }
                )
        return {
            "kind": "PodMetricsList",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": items,
        }

    def discovery(self, root: str, group: str, version: str) -> Obj:
        if root == "api" and not version:
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if root == "apis" and not group:
            groups = sorted({(k.group, k.version) for k in KINDS if k.group})
            return {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [
                    {
                        "name": g,
                        "versions": [{"groupVersion": f"{g}/{v}", "version": v}],
                        "preferredVersion": {"groupVersion": f"{g}/{v}", "version": v},
                    }
                    for g, v in groups
                ],
            }
        resources = [
            {
                "name": k.plural,
                "singularName": k.kind.lower(),
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
                **({"shortNames": list(k.short_names)} if k.short_names else {}),
            }
            for k in KINDS
            if k.group == group and (k.version == version or not version)
        ]
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": resources,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _serve(self) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ctype = self.headers.get("Content-Type", "")
        self.fake.requests.append((self.command, url.path, ctype))
        if self.fake.delay_s:
            time.sleep(self.fake.delay_s)
        try:
            code, payload = self.fake.handle(self.command, url.path, query, ctype, body)
            if isinstance(payload, Watch):
                self._watch(payload)
                return
            if (
                code == 200
                and isinstance(payload, dict)
                and tables.wants_table(self.headers.get("Accept", ""))
            ):
                payload = (
                    tables.as_table(str(payload.get("kind", "")).removesuffix("List"), payload) or payload
                )
        except ApiError as exc:
            code, payload = (
                exc.code,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": exc.message,
                    "reason": exc.reason,
                    "code": exc.code,
                },
            )
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _watch(self, request: Watch) -> None:
        """Stream the watch's events in chunks until it ends or the client goes."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        watch.stream(self.fake, request.kind, request.namespace, request.query, chunk)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def serve(fake: FakeApiServer) -> tuple[ThreadingHTTPServer, str]:
    """Start serving ``fake`` on a free loopback port in a daemon thread; returns (server, url)."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, args=(0.05,), name="fake-kube-api", daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
