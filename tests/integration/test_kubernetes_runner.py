"""The runner end to end with the real Kubernetes adapters against the fake API server.

``tests/unit/test_runner.py`` drives the runner's state machine with fakes; here the same
plan (plans/blue-green.yaml) acts through the real ``KubernetesPlatform`` and the real
routers (HTTPRoute, VirtualService, Service selector) over real HTTP with the official
client, with deploy/rbac.yaml's Role enforced. Gates are injected (``gate_runner``): each
one also records what the API held while it ran, so the tests see the traffic mid-run.
After each run the tests read the journal file, the objects in the API (Deployments,
ReplicaSet revisions, route weights) and the weights the router itself reads back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from shiftgate.cli import run as runner_cli
from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.config.models import GatewayApiRouter as GatewayApiRouterConfig
from shiftgate.config.models import IstioRouter as IstioRouterConfig
from shiftgate.config.models import KubernetesPlatform as KubernetesPlatformConfig
from shiftgate.config.models import ServiceSelectorRouter as ServiceSelectorRouterConfig
from shiftgate.errors import ConfigError, ExitCode, ShiftgateError, SourceUnavailable, UsageError
from shiftgate.platforms.kubernetes import KubernetesPlatform, pool_env
from shiftgate.routers.base import Router, Weights
from shiftgate.routers.gateway_api import GatewayApiRouter
from shiftgate.routers.istio import IstioRouter
from shiftgate.routers.service_selector import ServiceSelectorRouter
from shiftgate.run.journal import Event, parse_journal, runs_dir
from shiftgate.run.plan import load_plan
from shiftgate.run.runner import Runner, RunnerContext
from shiftgate.run.store import RunStore, store_for
from tests.k8s_fake import FakeCluster
from tests.k8s_fake.cluster import role_rules
from tests.k8s_fake.controller import REVISION
from tests.k8s_fake.fixtures import *  # noqa: F403  (the fake cluster fixtures)
from tests.k8s_fake.server import serve

ENV_FILE = "environments/production.example.yaml"
ENVIRON = {"SHIFTGATE_DATABASE_DSN": "postgresql://u:p@127.0.0.1:1/db"}
NS = "recommendation"
ROUTE_GROUP = "gateway.networking.k8s.io"
VERSION_LABEL = "app.kubernetes.io/version"
STABLE, CANDIDATE = "2.4.3", "2.5.0"
ISTIO = (
    "router={kind: istio, namespace: recommendation, virtual_service: recommendation, "
    "subsets: {blue: blue, green: green}}"
)


def selector(skip_partial_shift: bool) -> str:
    return (
        "router={kind: service-selector, namespace: recommendation, "
        f"service: recommendation-live, skip_partial_shift: {str(skip_partial_shift).lower()}}}"
    )


ROUTERS = {"gateway-api": (), "istio": (ISTIO,)}


# -- building the runner ----------------------------------------------------------------------
def environment(*overrides: str) -> Environment:
    return load_environment(
        ENV_FILE, environ=ENVIRON, overrides=[f"versions.candidate={CANDIDATE}", *overrides]
    )


def router_of(env: Environment, api: client.ApiClient) -> Router:
    config = env.router
    if isinstance(config, GatewayApiRouterConfig):
        return GatewayApiRouter(config, api_client=api)
    if isinstance(config, IstioRouterConfig):
        return IstioRouter(config, api_client=api)
    assert isinstance(config, ServiceSelectorRouterConfig)
    return ServiceSelectorRouter(config, api_client=api)


def platform_of(env: Environment, api: client.ApiClient) -> KubernetesPlatform:
    assert isinstance(env.platform, KubernetesPlatformConfig)
    return KubernetesPlatform(
        env.platform, api_client=api, version_env=pool_env(env.versions.specs), poll_s=0.005
    )


class Gates:
    """Gate exit codes by gate name (default 0); each call records the traffic the API held."""

    def __init__(self, observe: Callable[[], object], **codes: int) -> None:
        self.observe = observe
        self.codes = codes
        self.ran: list[tuple[str, object]] = []

    def __call__(self, gate: str, args: Sequence[str], log: Path) -> int:
        self.ran.append((gate, self.observe()))
        return self.codes.get(gate.replace("-", "_"), 0)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.ran]


def make_runner(
    api: client.ApiClient, reports: Path, gates: Gates, *overrides: str
) -> tuple[Runner, KubernetesPlatform, Router]:
    env = environment(*overrides)
    platform, router = platform_of(env, api), router_of(env, api)
    # As the CLI does for a Kubernetes platform: the run's record and lock in the cluster.
    _STORES[reports] = store_for(env, reports, api_client=api)
    ctx = RunnerContext(
        env_name="production",
        environment=env,
        plan=load_plan("blue-green"),
        platform=platform,
        router=router,
        reports=reports,
        gate_runner=gates,
        store=_STORES[reports],
    )
    return Runner(ctx), platform, router


# -- reading the world ------------------------------------------------------------------------
_STORES: dict[Path, RunStore] = {}
_CLUSTER: list[FakeCluster] = []


@pytest.fixture(autouse=True)
def _the_cluster(fake_cluster: FakeCluster) -> None:
    _CLUSTER[:] = [fake_cluster]


class ClusterPointer:
    """The run pointer where the runner keeps it, read from the fake's state (no API call)."""

    def data(self) -> dict[str, str]:
        found = _CLUSTER[0].fake.get("ConfigMap", NS, "shiftgate-recommendation-production")
        return dict((found or {}).get("data") or {})

    def current(self) -> str | None:
        return self.data().get("current")

    def last(self) -> str | None:
        return self.data().get("last")


def pointer(reports: Path) -> ClusterPointer:
    return ClusterPointer()


def journal(reports: Path) -> list[Event]:
    """The events of the current run (else the last one), from its journal.jsonl."""
    run_id = pointer(reports).current() or pointer(reports).last()
    assert run_id, "no run was created"
    path = runs_dir(reports) / run_id / "journal.jsonl"
    assert path.is_file()
    events = [json.loads(line) for line in path.read_text().splitlines()]
    held = parse_journal(pointer(reports).data()[f"run.{run_id}.jsonl"]).events
    assert events == held  # this machine's copy is the cluster's record

    return events


def kinds(events: list[Event]) -> list[str]:
    return [e["event"] for e in events]


def one(events: list[Event], event: str, **fields: object) -> Event:
    found = [e for e in events if e["event"] == event and all(e.get(k) == v for k, v in fields.items())]
    assert len(found) == 1, (event, fields, kinds(events))
    return found[0]


def deployment(cluster: FakeCluster, color: str) -> dict[str, Any]:
    dep = cluster.fake.get("Deployment", NS, f"recommendation-{color}")
    assert dep is not None
    return dep


def template_of(cluster: FakeCluster, color: str) -> tuple[str, str]:
    """(version label, image) of a color's pod template."""
    template = deployment(cluster, color)["spec"]["template"]
    return template["metadata"]["labels"][VERSION_LABEL], template["spec"]["containers"][0]["image"]


def revisions(cluster: FakeCluster, color: str) -> dict[str, int]:
    """Template version → revision of the ReplicaSets owned by a color's Deployment."""
    uid = deployment(cluster, color)["metadata"]["uid"]
    return {
        rs["spec"]["template"]["metadata"]["labels"][VERSION_LABEL]: int(
            rs["metadata"]["annotations"][REVISION]
        )
        for rs in cluster.fake.list("ReplicaSet", NS)
        if any(ref.get("uid") == uid for ref in rs["metadata"].get("ownerReferences", []))
    }


def route_weights(cluster: FakeCluster) -> list[tuple[str, int]]:
    route = cluster.fake.get("HTTPRoute", NS, "recommendation")
    assert route is not None
    return [(r["name"], r["weight"]) for r in route["spec"]["rules"][0]["backendRefs"]]


def vs_weights(cluster: FakeCluster) -> list[tuple[str, int]]:
    vs = cluster.fake.get("VirtualService", NS, "recommendation")
    assert vs is not None
    return [(d["destination"]["subset"], d["weight"]) for d in vs["spec"]["http"][0]["route"]]


def live_selector(cluster: FakeCluster) -> str:
    service = cluster.fake.get("Service", NS, "recommendation-live")
    assert service is not None
    return str(service["spec"]["selector"]["color"])


def api_weights(cluster: FakeCluster, router: str) -> dict[str, int]:
    """The weights as stored in the router's object: color → weight."""
    if router == "istio":
        return dict(vs_weights(cluster))
    return {name.removeprefix("recommendation-"): w for name, w in route_weights(cluster)}


def writes(cluster: FakeCluster) -> list[tuple[str, str, str]]:
    return [r for r in cluster.fake.requests if r[0] != "GET"]


UNTOUCHED: Weights = {"blue": 0, "green": 100}
HALF: Weights = {"blue": 50, "green": 50}
PROMOTED: Weights = {"blue": 100, "green": 0}


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    return tmp_path / "reports"


# -- 1. the plan end to end -------------------------------------------------------------------
@pytest.mark.parametrize("router_kind", sorted(ROUTERS))
def test_all_gates_pass_deploy_shift_promote(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path, router_kind: str
) -> None:
    gates = Gates(lambda: api_weights(fake_cluster, router_kind))
    runner, platform, router = make_runner(kube_api_client, reports, gates, *ROUTERS[router_kind])

    assert runner.run(CANDIDATE) == ExitCode.OK

    # What the traffic was while each gate ran: the shift gate judged a 50/50 split.
    assert gates.ran == [
        ("preflight", UNTOUCHED),
        ("post-deploy", UNTOUCHED),
        ("shift", HALF),
        ("promoted", PROMOTED),
    ]
    events = journal(reports)
    assert kinds(events)[0] == "run_started" and kinds(events)[-1] == "run_finished"
    started = events[0]
    assert (started["candidate_color"], started["stable_color"], started["stable"]) == (
        "blue",
        "green",
        STABLE,
    )
    assert started["weights"] == UNTOUCHED
    assert one(events, "action_done", action="deploy")["versions"] == {"blue": CANDIDATE, "green": STABLE}
    assert one(events, "action_done", action="shift")["weights_after"] == HALF
    assert one(events, "action_done", action="promote")["weights_after"] == PROMOTED
    assert [e["stage"] for e in events if e["event"] == "stage_done"] == [
        "preflight",
        "post-deploy",
        "shift",
        "promoted",
    ]
    assert "gate_failed" not in kinds(events) and "rollback_started" not in kinds(events)
    assert events[-1]["outcome"] == "promoted" and events[-1]["warm_until"] > started["ts"]
    assert pointer(reports).current() is None

    # The API: blue runs the candidate (new ReplicaSet, revision 2), green (warm) the stable.
    assert template_of(fake_cluster, "blue") == (CANDIDATE, f"ghcr.io/example/recommendation:{CANDIDATE}")
    assert template_of(fake_cluster, "green") == (STABLE, f"ghcr.io/example/recommendation:{STABLE}")
    assert revisions(fake_cluster, "blue") == {STABLE: 1, CANDIDATE: 2}
    assert revisions(fake_cluster, "green") == {STABLE: 1}
    env = {
        v["name"]: v.get("value")
        for v in deployment(fake_cluster, "blue")["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env["SERVICE_VERSION"] == CANDIDATE and env["POOL_MAX_SIZE"] == "25"  # the 2.5.0 spec's pool
    assert api_weights(fake_cluster, router_kind) == PROMOTED
    assert router.weights() == PROMOTED
    assert platform.wait_rollout("blue", 5).complete
    assert platform.versions() == {"blue": CANDIDATE, "green": STABLE}


@pytest.mark.parametrize("router_kind", sorted(ROUTERS))
def test_shift_gate_failing_rolls_back_and_undoes(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path, router_kind: str
) -> None:
    gates = Gates(lambda: api_weights(fake_cluster, router_kind), shift=1)
    runner, platform, router = make_runner(kube_api_client, reports, gates, *ROUTERS[router_kind])

    assert runner.run(CANDIDATE) == ExitCode.FAILED

    assert gates.ran == [("preflight", UNTOUCHED), ("post-deploy", UNTOUCHED), ("shift", HALF)]
    events = journal(reports)
    order = kinds(events)
    assert one(events, "gate_failed", stage="shift")["exit_code"] == 1
    assert "action_started" not in [e["event"] for e in events if e.get("action") == "promote"]
    assert (
        order.index("gate_failed")
        < order.index("rollback_started")
        < order.index("traffic_restored")
        < order.index("undo_done")
        < order.index("rollback_done")
        < order.index("run_finished")
    )
    assert one(events, "rollback_started")["weights_before"] == HALF
    assert one(events, "traffic_restored")["weights_after"] == UNTOUCHED
    undo = one(events, "undo_done")
    assert undo["color"] == "blue" and undo["complete"] is True
    assert undo["versions"] == {"blue": STABLE, "green": STABLE}
    assert events[-1]["outcome"] == "rolled_back" and "gate shift failed" in events[-1]["reason"]
    assert pointer(reports).current() is None

    # kubectl rollout undo: the stable template is back, its ReplicaSet re-stamped revision 3.
    assert template_of(fake_cluster, "blue") == (STABLE, f"ghcr.io/example/recommendation:{STABLE}")
    assert revisions(fake_cluster, "blue") == {STABLE: 3, CANDIDATE: 2}
    assert deployment(fake_cluster, "blue")["metadata"]["annotations"][REVISION] == "3"
    assert revisions(fake_cluster, "green") == {STABLE: 1}
    assert api_weights(fake_cluster, router_kind) == UNTOUCHED
    assert router.weights() == UNTOUCHED
    assert platform.versions() == {"blue": STABLE, "green": STABLE}
    assert platform.rollout_status("blue").complete


# -- 2. the Service-selector router -----------------------------------------------------------
def test_selector_router_refuses_a_partial_plan_before_anything_changes(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path
) -> None:
    gates = Gates(lambda: live_selector(fake_cluster))
    runner, platform, _ = make_runner(kube_api_client, reports, gates, selector(False))

    refused = r"router kind service-selector .*cannot split traffic.*post-deploy"
    with pytest.raises(ConfigError, match=refused) as caught:
        runner.run(CANDIDATE)
    assert caught.value.key == "stages.1.action"  # checked before any step: file and key

    assert gates.ran == [] and writes(fake_cluster) == []
    assert not runs_dir(reports).exists() or not list(runs_dir(reports).glob("*/journal.jsonl"))
    assert pointer(reports).current() is None
    assert live_selector(fake_cluster) == "green"
    assert platform.versions() == {"blue": STABLE, "green": STABLE}
    assert revisions(fake_cluster, "blue") == {STABLE: 1}


def test_selector_router_skips_the_partial_shift_and_promote_switches(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path
) -> None:
    gates = Gates(lambda: live_selector(fake_cluster))
    runner, platform, router = make_runner(kube_api_client, reports, gates, selector(True))

    assert runner.run(CANDIDATE) == ExitCode.OK

    assert gates.ran == [
        ("preflight", "green"),
        ("post-deploy", "green"),
        ("shift", "green"),
        ("promoted", "blue"),
    ]
    events = journal(reports)
    skipped = one(events, "action_skipped", stage="post-deploy")
    assert skipped["action"] == "shift" and "service-selector" in skipped["reason"]
    assert [e["stage"] for e in events if e["event"] == "action_started"] == ["preflight", "shift"]
    assert one(events, "action_done", action="promote")["weights_after"] == PROMOTED
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == "promoted"
    assert live_selector(fake_cluster) == "blue"
    assert router.weights() == PROMOTED
    assert platform.versions() == {"blue": CANDIDATE, "green": STABLE}


# -- 3. error paths ---------------------------------------------------------------------------
def test_api_unreachable_at_the_start_acts_on_nothing(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path
) -> None:
    gates = Gates(lambda: None)
    runner, _, _ = make_runner(kube_api_client, reports, gates)
    fake_cluster.stop()

    with pytest.raises(SourceUnavailable, match="Kubernetes API"):
        runner.run(CANDIDATE)

    assert gates.ran == []
    assert pointer(reports).current() is None and pointer(reports).last() is None
    assert not list(runs_dir(reports).glob("*/journal.jsonl"))
    assert writes(fake_cluster) == []
    # The API back (same state, new server): nothing was changed.
    httpd, url = serve(fake_cluster.fake)
    try:
        configuration = client.Configuration()
        configuration.host = url
        with client.ApiClient(configuration) as api:
            _, platform, router = make_runner(api, reports, gates)
            assert platform.versions() == {"blue": STABLE, "green": STABLE}
            assert router.weights() == UNTOUCHED
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert revisions(fake_cluster, "blue") == {STABLE: 1}
    assert route_weights(fake_cluster) == [("recommendation-blue", 0), ("recommendation-green", 100)]


class ForbidFirstRouteWrite:
    """RBAC that refuses the first update of the HTTPRoute (the shift) and allows the next."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.fake = cluster.fake
        self.updates = 0

    def __call__(self) -> None:
        method, path, _ = self.fake.requests[-1]
        if method == "PUT" and "/httproutes/" in path:
            self.updates += 1
            if self.updates == 1:
                self.fake.revoke("update", "httproutes", ROUTE_GROUP)
            else:
                self.fake.allow(role_rules())


def test_forbidden_shift_rolls_back(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path
) -> None:
    forbid = ForbidFirstRouteWrite(fake_cluster)
    fake_cluster.fake.before_request.append(forbid)
    gates = Gates(lambda: api_weights(fake_cluster, "gateway-api"))
    runner, platform, router = make_runner(kube_api_client, reports, gates)

    assert runner.run(CANDIDATE) == ExitCode.FAILED

    assert forbid.updates == 2  # the refused shift, then the rollback's write
    assert gates.names == ["preflight", "post-deploy"]
    events = journal(reports)
    failed = one(events, "action_failed", stage="post-deploy")
    assert "forbidden" in failed["error"] and "update httproutes.gateway.networking.k8s.io" in failed["error"]
    assert "deploy/rbac.yaml" in failed["error"]
    assert "action_done" not in [e["event"] for e in events if e.get("action") == "shift"]
    assert one(events, "traffic_restored")["weights_after"] == UNTOUCHED
    assert one(events, "undo_done")["versions"] == {"blue": STABLE, "green": STABLE}
    assert events[-1]["outcome"] == "rolled_back" and "action shift failed" in events[-1]["reason"]
    assert route_weights(fake_cluster) == [("recommendation-blue", 0), ("recommendation-green", 100)]
    assert router.weights() == UNTOUCHED
    assert revisions(fake_cluster, "blue") == {STABLE: 3, CANDIDATE: 2}
    assert platform.versions() == {"blue": STABLE, "green": STABLE}


@pytest.fixture
def cli_env(fake_kubeconfig: Path, reports: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What ``shiftgate status`` needs: the DSN variable, $KUBECONFIG, the test's reports."""
    monkeypatch.setenv("SHIFTGATE_DATABASE_DSN", ENVIRON["SHIFTGATE_DATABASE_DSN"])
    monkeypatch.setattr(runner_cli, "reports_dir", lambda: reports)
    yield


def test_forbidden_rollback_leaves_an_unfinished_run_that_status_shows(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path, cli_env: None
) -> None:
    fake_cluster.fake.revoke("update", "httproutes", ROUTE_GROUP)
    gates = Gates(lambda: None)
    runner, platform, router = make_runner(kube_api_client, reports, gates)
    # A refusal is retried for rollback_retry_s (30 s in the plan): 2 s show the same here.
    runner.ctx.plan = runner.ctx.plan.model_copy(update={"rollback_retry_s": 2.0})

    with pytest.raises(ShiftgateError, match=r"ROLLBACK FAILED, traffic may still reach blue.*forbidden"):
        runner.run(CANDIDATE)

    events = journal(reports)
    assert kinds(events)[-3:] == ["action_failed", "rollback_started", "rollback_failed"]
    assert "run_finished" not in kinds(events)
    run_id = pointer(reports).current()
    assert run_id == events[0]["run"]
    status = runner_cli.status_dict(ENV_FILE, [])
    assert status["run"]["id"] == run_id and status["run"]["last_event"] == "rollback_failed"
    assert status["run"]["outcome"] is None and status["run"]["completed_stages"] == ["preflight"]
    assert status["weights"] == UNTOUCHED and status["live"] == "green"  # the shift never landed
    assert status["colors"] == {"blue": {"version": CANDIDATE}, "green": {"version": STABLE}}
    # A new release is refused until the run is ended.
    with pytest.raises(UsageError, match=r"unfinished.*shiftgate rollback"):
        make_runner(kube_api_client, reports, gates)[0].run(CANDIDATE)

    # The permission restored, `shiftgate rollback` ends the run safely.
    fake_cluster.fake.allow(role_rules())
    assert make_runner(kube_api_client, reports, gates)[0].rollback() == ExitCode.FAILED
    assert journal(reports)[-1]["outcome"] == "rolled_back"
    assert pointer(reports).current() is None
    assert router.weights() == UNTOUCHED
    assert platform.versions() == {"blue": STABLE, "green": STABLE}
    assert runner_cli.status_dict(ENV_FILE, [])["run"] is None


def test_progress_deadline_exceeded_blocks_before_traffic_moves(
    fake_cluster: FakeCluster, kube_api_client: client.ApiClient, reports: Path
) -> None:
    fake_cluster.controller.behavior["recommendation-blue"] = "stuck"
    gates = Gates(lambda: api_weights(fake_cluster, "gateway-api"))
    runner, platform, router = make_runner(kube_api_client, reports, gates)

    assert runner.run(CANDIDATE) == ExitCode.FAILED

    assert gates.names == ["preflight"]
    events = journal(reports)
    failed = one(events, "action_failed", stage="preflight")
    assert failed["action"] == "deploy" and "exceeded its progress deadline" in failed["error"]
    assert not any(e.get("moves_traffic") for e in events)
    assert events[-1]["event"] == "run_finished" and events[-1]["outcome"] == "blocked"
    assert "rollback_started" not in kinds(events)
    assert pointer(reports).current() is None
    assert not [r for r in writes(fake_cluster) if "/httproutes/" in r[1]]
    assert route_weights(fake_cluster) == [("recommendation-blue", 0), ("recommendation-green", 100)]
    assert router.weights() == UNTOUCHED
    assert platform.rollout_status("blue").failed
    assert platform.versions()["green"] == STABLE
