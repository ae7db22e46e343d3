"""A fake Kubernetes cluster for tests: a stateful API server over real HTTP plus a controller.

The official ``kubernetes`` client (and ``kubectl``) talk to it exactly as to a cluster, so
shiftgate's platform, routers and PrometheusRule reader run unchanged against it. It is
seeded with this repository's ``deploy/`` manifests (both colors' Deployments, Services,
HTTPRoute, VirtualService, HPA, PrometheusRule, RBAC) in namespace ``recommendation``, and
the controller simulator brings both colors to a complete rollout before the test starts.

Use it from any test module (the fixtures are a pytest plugin)::

    from tests.k8s_fake.fixtures import *  # noqa: F403   (in the test module or a conftest.py;
                                              # or pytest_plugins = ["tests.k8s_fake.fixtures"]
                                              # in the root conftest.py)

    def test_deploy(fake_cluster):
        api = fake_cluster.api_client()                     # kubernetes.client.ApiClient
        platform = KubernetesPlatform(fake_cluster.platform_config(), api_client=api)
        platform.deploy("blue", "2.5.0")
        assert platform.wait_rollout("blue", 30).complete

``fake_cluster.kubeconfig`` is a kubeconfig file (context ``fake``) for code that builds its
own client (``KUBECONFIG=... shiftgate ...``); ``fake_cluster.fake`` is the server state
(``allow(rules)`` / ``revoke(verb, plural, group)`` for RBAC, ``logs``, ``metrics``,
``mutators`` for admission webhooks, ``delay_s``); ``fake_cluster.controller.behavior
["recommendation-blue"] = "stuck"`` makes a rollout hit ProgressDeadlineExceeded;
``fake_cluster.stop()`` makes the API unreachable. The real kubectl works against it too
(``kubectl --kubeconfig=fake_cluster.kubeconfig rollout status|undo …``, ``get``, ``apply
--server-side --validate=false``: no OpenAPI schema is served), and
tests/integration/test_kubernetes_kubectl.py holds the fake to kubectl's reading of it.
"""

from __future__ import annotations

from tests.k8s_fake.cluster import FakeCluster, start_fake_cluster
from tests.k8s_fake.controller import ControllerSimulator
from tests.k8s_fake.server import FakeApiServer

__all__ = ["ControllerSimulator", "FakeApiServer", "FakeCluster", "start_fake_cluster"]
