"""Building the Kubernetes client and calling it with a timeout and errors that say what to fix.

Every call goes through ``KubeReads`` (reads; what read views hold) or ``KubeCalls`` (adds
writes; what the runner's adapters hold): it passes ``_request_timeout`` and reads the raw JSON
(``_preload_content=False``), so adapters handle built-in and custom objects as the same plain
dicts the API serves (camelCase, as in the manifests) instead of the client's models.

Error rules, one place for the platform, the routers and the PrometheusRule reader:
- 403: the error names the verb, resource and namespace missing from deploy/rbac.yaml's Role;
- unreachable or timed out: ``SourceUnavailable`` on reads (the check fails closed), the
  adapter's error on writes (the runner stops, it never journals an unknown outcome as done);
- 404 on a read returns None where the caller asked for it (a color that runs nothing).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from shiftgate.config.models import Environment
from shiftgate.errors import ConfigError, ShiftgateError, SourceUnavailable

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)
"""(connect, read) seconds of every API call: a hung API server fails a check, not the run."""

ErrorFactory = Callable[[str], ShiftgateError]
Json = dict[str, Any]


def make_api_client(context: str | None = None, in_cluster: bool = False) -> client.ApiClient:
    """The pod's ServiceAccount when ``in_cluster`` (or when no kubeconfig exists in a pod),
    otherwise the kubeconfig (``$KUBECONFIG`` or ~/.kube/config) at ``context``."""
    try:
        if in_cluster:
            return _in_cluster()
        try:
            api: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
                # $KUBECONFIG read now, not when the kubernetes package was imported.
                config_file=os.environ.get("KUBECONFIG") or None,
                context=context,
                persist_config=False,
            )
            return api
        except ConfigException:
            # A Job in the cluster has no kubeconfig, only its mounted ServiceAccount token.
            if os.environ.get("KUBERNETES_SERVICE_HOST") and context is None:
                return _in_cluster()
            raise
    except ConfigException as exc:
        key = "platform.in_cluster" if in_cluster else "platform.context"
        raise ConfigError("kubernetes client configuration", key, str(exc)) from None


def api_client_for(environment: Environment) -> client.ApiClient:
    """The client at the Kubernetes platform's context (the default context otherwise)."""
    platform = environment.platform
    if platform.kind == "kubernetes":
        return make_api_client(platform.context, platform.in_cluster)
    return make_api_client()


def _in_cluster() -> client.ApiClient:
    configuration = client.Configuration()
    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    return client.ApiClient(configuration)


class Conflict(ShiftgateError):
    """409: someone changed the object since it was read (optimistic concurrency)."""


@dataclass(frozen=True)
class Resource:
    """A resource as RBAC names it: ``plural`` (with ``/subresource``) and API group."""

    plural: str
    group: str = ""

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def forbidden_message(verb: str, resource: Resource, namespace: str, detail: str) -> str:
    return (
        f"forbidden: the runner's ServiceAccount may not {verb} {resource} in namespace "
        f"{namespace} — add it to deploy/rbac.yaml's Role (API server: {detail})"
    )


def _status_message(exc: ApiException) -> str:
    body = exc.body.decode() if isinstance(exc.body, bytes) else exc.body
    try:
        return str(json.loads(body or "")["message"])
    except (TypeError, ValueError, KeyError):
        return f"{exc.status} {exc.reason}".strip()


class KubeReads:
    """Reads one namespace's API with a timeout; maps failures onto shiftgate's errors.

    Read views hold only this: it has no method that changes the cluster."""

    def __init__(
        self,
        api_client: client.ApiClient,
        namespace: str,
        error: ErrorFactory,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        self.api_client = api_client
        self.namespace = namespace
        self.error = error
        self.timeout = timeout

    @property
    def server(self) -> str:
        return f"Kubernetes API {self.api_client.configuration.host}"

    def read(self, verb: str, resource: Resource, fn: Callable[..., Any], *args: Any, **kw: Any) -> Json:
        found = self._call(verb, resource, fn, args, kw, reading=True, missing_ok=False)
        assert found is not None
        return found

    def read_optional(
        self, verb: str, resource: Resource, fn: Callable[..., Any], *args: Any, **kw: Any
    ) -> Json | None:
        """Like ``read``; None when the object (or the API serving it) does not exist."""
        return self._call(verb, resource, fn, args, kw, reading=True, missing_ok=True)

    def read_text(self, verb: str, resource: Resource, fn: Callable[..., Any], *args: Any, **kw: Any) -> str:
        raw = self._raw(verb, resource, fn, args, kw, reading=True, missing_ok=False)
        return raw.decode(errors="replace") if raw is not None else ""

    def _call(
        self,
        verb: str,
        resource: Resource,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kw: dict[str, Any],
        *,
        reading: bool,
        missing_ok: bool,
    ) -> Json | None:
        raw = self._raw(verb, resource, fn, args, kw, reading=reading, missing_ok=missing_ok)
        if raw is None:
            return None
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise self.error(f"{verb} {resource}: the API answered {type(data).__name__}, not an object")
        return data

    def _raw(
        self,
        verb: str,
        resource: Resource,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kw: dict[str, Any],
        *,
        reading: bool,
        missing_ok: bool,
    ) -> bytes | None:
        what = f"{verb} {resource} in namespace {self.namespace}"
        try:
            response = fn(*args, _request_timeout=self.timeout, _preload_content=False, **kw)
            return bytes(response.data)
        except ApiException as exc:
            message = _status_message(exc)
            if exc.status == 404 and missing_ok:
                return None
            if exc.status == 409 and not reading:
                raise Conflict(f"{what}: {message}") from None
            if exc.status == 403:
                raise self.error(forbidden_message(verb, resource, self.namespace, message)) from None
            if exc.status == 401:
                raise self.error(
                    f"unauthorized: the API server rejected the credentials ({message})"
                ) from None
            if reading and (exc.status or 0) >= 500:
                raise SourceUnavailable(self.server, f"{what}: {message}") from None
            raise self.error(f"{what} failed: {message}") from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # Unreachable, refused or timed out (urllib3 wraps socket errors in its own).
            if reading:
                raise SourceUnavailable(self.server, f"{what}: {exc}") from None
            raise self.error(
                f"{what}: {self.server} unreachable ({exc}); the change may not have been made"
            ) from None



class KubeCalls(KubeReads):
    """Reads and writes: held by the platform and router adapters the runner holds."""

    def write(self, verb: str, resource: Resource, fn: Callable[..., Any], *args: Any, **kw: Any) -> Json:
        found = self._call(verb, resource, fn, args, kw, reading=False, missing_ok=False)
        assert found is not None
        return found

    def modify_custom(
        self, resource: Resource, version: str, name: str, change: Callable[[Json], None], attempts: int = 3
    ) -> Json:
        """Read a custom object, ``change`` it in place, replace it with the read resourceVersion.

        A replace (not a merge patch) because routes hold lists a merge would overwrite whole;
        the resourceVersion makes a concurrent edit a 409, retried on a fresh read."""
        api = client.CustomObjectsApi(self.api_client)
        plural = resource.plural
        for _ in range(attempts):
            obj = self.read(
                "get",
                resource,
                api.get_namespaced_custom_object,
                resource.group,
                version,
                self.namespace,
                plural,
                name,
            )
            change(obj)
            try:
                return self.write(
                    "update",
                    resource,
                    api.replace_namespaced_custom_object,
                    resource.group,
                    version,
                    self.namespace,
                    plural,
                    name,
                    obj,
                )
            except Conflict:
                continue
        raise self.error(
            f"{resource} {name} in namespace {self.namespace} kept changing; gave up after {attempts} tries"
        )
