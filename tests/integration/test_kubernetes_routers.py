"""The Kubernetes routers (HTTPRoute, VirtualService, Service selector) against the fake API."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from shiftgate.errors import SourceUnavailable, UsageError
from shiftgate.routers.base import RouterError
from shiftgate.routers.gateway_api import GatewayApiRouter
from shiftgate.routers.istio import IstioRouter
from shiftgate.routers.service_selector import ServiceSelectorRouter
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)
from tests.k8s_fake.server import Kind

Api = client.ApiClient


def _routers(cluster: FakeCluster, api: Api) -> list[Any]:
    return [
        GatewayApiRouter(cluster.gateway_config(), api_client=api),
        IstioRouter(cluster.istio_config(), api_client=api),
    ]


def test_weighted_routers_shift_and_read_back(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    for router in _routers(fake_cluster, kube_api_client):
        assert router.weights() == {"blue": 0, "green": 100}, router.name
        assert router.set_weights({"blue": 50, "green": 50}) == {"blue": 50, "green": 50}
        assert router.set_weights({"blue": 100, "green": 0}) == {"blue": 100, "green": 0}
        assert router.weights() == {"blue": 100, "green": 0}
    route = fake_cluster.fake.objects[
        ("gateway.networking.k8s.io", "httproutes", "recommendation", "recommendation")
    ]
    refs = route["spec"]["rules"][0]["backendRefs"]
    assert [(r["name"], r["weight"], r["port"]) for r in refs] == [
        ("recommendation-blue", 100, 8080),
        ("recommendation-green", 0, 8080),
    ]
    assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gateway-system"}]  # untouched


def test_gateway_weights_are_relative_and_default_to_one(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    route = fake_cluster.fake.objects[
        ("gateway.networking.k8s.io", "httproutes", "recommendation", "recommendation")
    ]
    route["spec"]["rules"][0]["backendRefs"] = [
        {"name": "recommendation-blue"},
        {"name": "recommendation-green"},
    ]
    assert GatewayApiRouter(fake_cluster.gateway_config(), api_client=kube_api_client).weights() == {
        "blue": 50,
        "green": 50,
    }


def test_a_missing_color_backend_is_added(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    route = fake_cluster.fake.objects[
        ("gateway.networking.k8s.io", "httproutes", "recommendation", "recommendation")
    ]
    route["spec"]["rules"][0]["backendRefs"] = [{"name": "recommendation-green", "port": 8080}]
    router = GatewayApiRouter(fake_cluster.gateway_config(), api_client=kube_api_client)
    assert router.weights() == {"blue": 0, "green": 100}
    assert router.set_weights({"blue": 50, "green": 50}) == {"blue": 50, "green": 50}


def test_a_shift_the_cluster_did_not_keep_fails(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    def reset_weights(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:  # a webhook that rewrites
        if kind.plural == "httproutes":
            for ref in obj["spec"]["rules"][0]["backendRefs"]:
                ref["weight"] = 100 if ref["name"].endswith("green") else 0
        if kind.plural == "virtualservices":
            for dest in obj["spec"]["http"][0]["route"]:
                dest["weight"] = 100 if dest["destination"]["subset"] == "green" else 0
        return obj

    fake_cluster.fake.mutators.append(reset_weights)
    for router in _routers(fake_cluster, kube_api_client):
        with pytest.raises(RouterError, match=r"holds .* after writing .*did not accept"):
            router.set_weights({"blue": 50, "green": 50})


def test_gateway_not_accepting_the_route_fails_the_shift(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    def gateway_rejects(kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        if kind.plural == "httproutes":
            obj["status"] = {
                "parents": [
                    {
                        "parentRef": {"name": "public"},
                        "conditions": [
                            {
                                "type": "ResolvedRefs",
                                "status": "False",
                                "reason": "BackendNotFound",
                                "message": "service recommendation-blue not found",
                                "observedGeneration": 99,
                            },
                        ],
                    }
                ]
            }
        return obj

    fake_cluster.fake.mutators.append(gateway_rejects)
    router = GatewayApiRouter(fake_cluster.gateway_config(), api_client=kube_api_client)
    with pytest.raises(RouterError, match=r"Gateway public reports ResolvedRefs=False .*BackendNotFound"):
        router.set_weights({"blue": 50, "green": 50})


def test_a_concurrent_edit_is_retried_on_a_fresh_read(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    conflicts = iter([True])

    def bump_once() -> None:  # another writer changes the route between our read and write
        key = ("gateway.networking.k8s.io", "httproutes", "recommendation", "recommendation")
        if (
            fake_cluster.fake.requests
            and fake_cluster.fake.requests[-1][0] == "PUT"
            and next(conflicts, False)
        ):
            fake_cluster.fake.put(fake_cluster.fake.objects[key], "recommendation")

    fake_cluster.fake.before_request.append(bump_once)
    router = GatewayApiRouter(fake_cluster.gateway_config(), api_client=kube_api_client)
    assert router.set_weights({"blue": 50, "green": 50}) == {"blue": 50, "green": 50}
    assert [r[0] for r in fake_cluster.fake.requests].count("PUT") == 2


def test_service_selector_switches_colors(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    router = ServiceSelectorRouter(fake_cluster.selector_config(), api_client=kube_api_client)
    assert router.weights() == {"blue": 0, "green": 100}
    assert router.set_weights({"blue": 100, "green": 0}) == {"blue": 100, "green": 0}
    service = fake_cluster.fake.get("Service", "recommendation", "recommendation-live")
    assert service is not None
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "recommendation", "color": "blue"}


def test_service_selector_refuses_a_partial_shift_naming_the_router(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    router = ServiceSelectorRouter(
        fake_cluster.selector_config(skip_partial_shift=True), api_client=kube_api_client
    )
    assert router.supports_partial is False and router.skip_partial_shift is True
    with pytest.raises(UsageError, match=r"router service-selector cannot split traffic .*skip_partial"):
        router.set_weights({"blue": 50, "green": 50})
    assert router.weights() == {"blue": 0, "green": 100}


def test_service_selecting_neither_color_fails(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    service = fake_cluster.fake.get("Service", "recommendation", "recommendation-live")
    assert service is not None
    service["spec"]["selector"]["color"] = "purple"
    with pytest.raises(RouterError, match=r"selects color='purple', neither blue nor green"):
        ServiceSelectorRouter(fake_cluster.selector_config(), api_client=kube_api_client).weights()


@pytest.mark.parametrize(
    ("make", "verb", "plural", "group", "named"),
    [
        (
            lambda c, a: GatewayApiRouter(c.gateway_config(), api_client=a),
            "update",
            "httproutes",
            "gateway.networking.k8s.io",
            "update httproutes.gateway.networking.k8s.io",
        ),
        (
            lambda c, a: IstioRouter(c.istio_config(), api_client=a),
            "update",
            "virtualservices",
            "networking.istio.io",
            "update virtualservices.networking.istio.io",
        ),
        (
            lambda c, a: ServiceSelectorRouter(c.selector_config(), api_client=a),
            "patch",
            "services",
            "",
            "patch services",
        ),
    ],
)
def test_forbidden_shift_names_the_missing_permission(
    fake_cluster: FakeCluster,
    kube_api_client: Api,
    make: Any,
    verb: str,
    plural: str,
    group: str,
    named: str,
) -> None:
    fake_cluster.fake.revoke(verb, plural, group)
    router = make(fake_cluster, kube_api_client)
    with pytest.raises(RouterError, match=f"may not {named} in namespace recommendation .*deploy/rbac.yaml"):
        router.set_weights({"blue": 100, "green": 0})
    assert router.weights() == {"blue": 0, "green": 100}


def test_unreachable_api_fails_reads_closed_and_shifts_loudly(
    fake_cluster: FakeCluster, kube_api_client: Api
) -> None:
    routers = [
        *_routers(fake_cluster, kube_api_client),
        ServiceSelectorRouter(fake_cluster.selector_config(), api_client=kube_api_client),
    ]
    fake_cluster.stop()
    for router in routers:
        with pytest.raises(SourceUnavailable):
            router.weights()
        with pytest.raises((SourceUnavailable, RouterError)):
            router.set_weights({"blue": 100, "green": 0})


def test_a_route_without_the_colors_fails(fake_cluster: FakeCluster, kube_api_client: Api) -> None:
    route = fake_cluster.fake.objects[
        ("gateway.networking.k8s.io", "httproutes", "recommendation", "recommendation")
    ]
    route["spec"]["rules"][0]["backendRefs"] = [{"name": "something-else"}]
    with pytest.raises(RouterError, match=r"has no rule with a backendRef"):
        GatewayApiRouter(fake_cluster.gateway_config(), api_client=kube_api_client).weights()
