"""The environment file as typed, validated settings.

An environment file (``environments/<name>.yaml``) describes one target: the service, the
stable and candidate versions with their pool sizing, the database, Prometheus, where colors
run (platform) and how traffic is split (router), the SLOs and the analysis rules.

Every field has a default where one makes sense, and its description says why. Loading,
precedence and error reporting live in ``shiftgate.config_loader``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")
ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"


def other_color(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class HealthPaths(Strict):
    liveness: str = Field("/healthz", description="Answers 200 while the process runs.")
    readiness: str = Field("/readyz", description="Answers 200 once the pool reached the DB.")


class ServiceConfig(Strict):
    name: str = Field(description="Service name, used in labels, locks and journals.")
    url: str = Field(description="The service as users reach it: through the router.")
    color_urls: dict[Color, str] = Field(
        description="Each color's own URL, bypassing the router (load tests hit the idle one)."
    )
    routes: list[str] = Field(
        default_factory=lambda: ["/recommendations"],
        description="Routes whose SLOs are gated.",
    )
    health: HealthPaths = Field(default_factory=HealthPaths)
    metrics_path: str = Field("/metrics", description="Where each replica exposes metrics.")

    @model_validator(mode="after")
    def _both_colors(self) -> ServiceConfig:
        missing = [c for c in COLORS if c not in self.color_urls]
        if missing:
            raise ValueError(f"color_urls needs both colors; missing {', '.join(missing)}")
        return self


class PoolSizing(Strict):
    """How many database connections one version can open at most."""

    max_size: int = Field(ge=1, description="psycopg_pool max_size of one process.")
    min_size: int = Field(1, ge=0, description="Connections opened at start by one process.")
    processes_per_replica: int = Field(1, ge=1, description="Worker processes in one replica.")
    replicas: int = Field(ge=1, description="Replicas a color runs normally.")
    max_replicas: int = Field(
        ge=1, description="Replicas the autoscaler may reach: the peak the database must hold."
    )

    @model_validator(mode="after")
    def _ordered(self) -> PoolSizing:
        if self.max_replicas < self.replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) < replicas ({self.replicas})")
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) > max_size ({self.max_size})")
        return self

    @property
    def peak_connections(self) -> int:
        """Connections of one color at its peak: max replicas x processes x pool max size."""
        return self.max_replicas * self.processes_per_replica * self.max_size


class IndexRequirement(Strict):
    """An index a version's queries need, identified by its leading columns."""

    table: str
    columns: list[str] = Field(min_length=1, description="Leading columns, in order.")
    schema_name: str = Field("public", alias="schema")


class CriticalQuery(Strict):
    """A query a version runs on the hot path; its plan must use an index."""

    name: str
    sql: str = Field(description="Query text with %(name)s placeholders.")
    params: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Representative parameter sets (a frequent and a rare value at least).",
    )
    max_cost: float | None = Field(None, gt=0, description="Upper bound of the planner's cost.")


class VersionSpec(Strict):
    pool: PoolSizing
    required_indexes: list[IndexRequirement] = Field(default_factory=list)
    critical_queries: list[CriticalQuery] = Field(default_factory=list)


class Versions(Strict):
    stable: str = Field(description="Version on the live color now.")
    candidate: str = Field(description="Version to release onto the idle color.")
    specs: dict[str, VersionSpec] = Field(description="What each known version needs.")

    @model_validator(mode="after")
    def _known(self) -> Versions:
        for role in ("stable", "candidate"):
            version = getattr(self, role)
            if version not in self.specs:
                known = ", ".join(sorted(self.specs)) or "none"
                raise ValueError(f"{role} version {version!r} has no entry in specs (known: {known})")
        return self

    @property
    def stable_spec(self) -> VersionSpec:
        return self.specs[self.stable]

    @property
    def candidate_spec(self) -> VersionSpec:
        return self.specs[self.candidate]


class DatabaseConfig(Strict):
    dsn_env: str = Field(
        pattern=ENV_NAME_PATTERN,
        description="Name of the environment variable holding the DSN; never the DSN itself.",
    )
    connect_timeout_s: int = Field(5, ge=1, description="Probes give up connecting after this.")
    statement_timeout_ms: int = Field(5000, ge=1, description="No probe query may run longer.")
    lock_timeout_ms: int = Field(1000, ge=1, description="Probes never wait on production locks.")
    application_name: str = Field("shiftgate", description="How probes show in pg_stat_activity.")
    headroom_connections: int = Field(
        5, ge=0, description="Connections kept free at peak for admins, migrations, failover."
    )
    in_use_ratio_max: float = Field(
        0.8, gt=0, le=1, description="Connections in use / usable above this blocks a deploy."
    )
    stats_max_age_s: int = Field(
        86400, ge=1, description="Table statistics older than this are stale for plan checks."
    )
    _dsn: SecretStr | None = PrivateAttr(None)

    def dsn(self) -> str:
        """The resolved DSN; set by the loader from ``dsn_env``."""
        if self._dsn is None:
            raise RuntimeError(f"DSN of {self.dsn_env} was not resolved by the loader")
        return self._dsn.get_secret_value()

    def set_dsn(self, value: str) -> None:
        self._dsn = SecretStr(value)


class PrometheusConfig(Strict):
    url: str = Field(description="Prometheus base URL, e.g. http://prometheus:9090.")
    scrape_interval_s: float = Field(15, gt=0, description="Scrape interval of the service.")
    timeout_s: float = Field(5, gt=0, description="Timeout of every HTTP API call.")
    retries: int = Field(3, ge=1, description="Attempts per call before the check fails.")
    rule_files: list[str] = Field(
        default_factory=list, description="The team's rule files on disk (globs allowed)."
    )
    alertmanager_url: str | None = Field(None, description="Alertmanager, to check routes.")


class SandboxPlatform(Strict):
    """Colors run as processes of the embedded sandbox (state in ``.sandbox/``)."""

    kind: Literal["sandbox"]


class KubernetesPlatform(Strict):
    kind: Literal["kubernetes"]
    namespace: str
    context: str | None = Field(None, description="kubeconfig context; None: current one.")
    in_cluster: bool = Field(False, description="Use the pod's service account.")
    deployment: str = Field(
        "recommendation-{color}", description="Deployment name of each color ({color})."
    )
    manifests: str = Field("deploy", description="Folder of the colors' manifests.")
    rollout_timeout_s: int = Field(300, ge=1)


Platform = Annotated[SandboxPlatform | KubernetesPlatform, Field(discriminator="kind")]


class HaproxyRouter(Strict):
    kind: Literal["haproxy"]
    admin_socket: str = Field(description="Path of HAProxy's admin socket.")
    backend: str = Field("bk_router", description="Backend whose servers carry color weights.")


class GatewayApiRouter(Strict):
    kind: Literal["gateway-api"]
    namespace: str
    route: str = Field(description="HTTPRoute name.")
    backends: dict[Color, str] = Field(description="Service name of each color.")


class IstioRouter(Strict):
    kind: Literal["istio"]
    namespace: str
    virtual_service: str
    subsets: dict[Color, str] = Field(description="DestinationRule subset of each color.")


class ServiceSelectorRouter(Strict):
    kind: Literal["service-selector"]
    namespace: str
    service: str
    selector_key: str = Field("color", description="Pod label that selects the color.")
    skip_partial_shift: bool = Field(
        False, description="Plans skip 50 % steps instead of refusing them (no weights here)."
    )


Router = Annotated[
    HaproxyRouter | GatewayApiRouter | IstioRouter | ServiceSelectorRouter,
    Field(discriminator="kind"),
]


class SloConfig(Strict):
    """The runbook's rollback criteria: error rate > 5 % or latency > 300 ms."""

    error_ratio_max: float = Field(0.05, ge=0, le=1)
    latency_p95_max_ms: float = Field(300, gt=0)


class AnalysisConfig(Strict):
    interval_s: float = Field(10, gt=0, description="One measurement every interval.")
    window_s: float = Field(120, gt=0, description="How long a shift is observed.")
    failure_limit: int = Field(2, ge=1, description="Failed measurements that end the window.")
    min_samples: int = Field(5, ge=1, description="Fewer measurements than this fail.")

    @model_validator(mode="after")
    def _fits(self) -> AnalysisConfig:
        if self.window_s < self.interval_s:
            raise ValueError(f"window_s ({self.window_s}) < interval_s ({self.interval_s})")
        return self


class LoadConfig(Strict):
    profile: str = Field(description="Traffic profile file (loadtests/profiles/*.yaml).")


class Environment(Strict):
    name: str
    service: ServiceConfig
    versions: Versions
    database: DatabaseConfig
    prometheus: PrometheusConfig
    platform: Platform
    router: Router
    slo: SloConfig = Field(default_factory=SloConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    load: LoadConfig
