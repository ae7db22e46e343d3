"""The environment file as typed, validated settings.

An environment file (``environments/<name>.yaml``) describes one target: the service, the
stable and candidate versions with their pool sizing, the database, Prometheus, where colors
run (platform) and how traffic is split (router), the SLOs and the analysis rules.

Every field has a default where one makes sense, and its description says why. Loading,
precedence and error reporting live in ``shiftgate.config.loader``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from shiftgate.config import safety
from shiftgate.config.argo import ArgoRolloutPlatform
from shiftgate.errors import ConfigError

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")
ENV_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
PROMETHEUS_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
"""A Prometheus label name (the data model's rule); ``__`` names are reserved."""
KUBERNETES_LABEL_KEY = re.compile(
    r"^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
"""A Kubernetes label key: an optional DNS prefix and a name of at most 63 characters."""
OPT_OUT = "none"

# Strings shiftgate sends on, parsed at load (shiftgate.config.safety): no setting becomes a
# command. A refusal is a validation error, so it names the file and key (exit 2).
ReadOnlySql = Annotated[str, AfterValidator(safety.read_only_select)]
HaproxyName = Annotated[str, AfterValidator(safety.haproxy_name)]
SocketPath = Annotated[str, AfterValidator(safety.socket_path)]
PromQL = Annotated[str, AfterValidator(safety.promql)]
PromQLTemplate = Annotated[str, AfterValidator(lambda text: safety.promql(text, template=True))]
Selector = Annotated[str, AfterValidator(safety.selector)]
MetricName = Annotated[str, AfterValidator(safety.metric_name)]
LabelValue = Annotated[str, AfterValidator(safety.label_value)]


def other_color(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently fall back to a default. Numbers are
    finite: ``.inf`` or ``nan`` (from a file, ``${VAR}``, ``SHIFTGATE_*`` or ``--set``) would
    make a threshold that nothing breaches, or that every comparison fails silently."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


def prometheus_label(value: str, what: str = "label name") -> str:
    if not PROMETHEUS_LABEL.match(value) or value.startswith("__"):
        raise ValueError(f"{value!r} is not a Prometheus {what} ([a-zA-Z_][a-zA-Z0-9_]*, no leading __)")
    return value


LabelName = Annotated[str, AfterValidator(prometheus_label)]


def per_color_selector(value: str) -> str:
    """A selector template with ``$color``: without it both colors' failures would be one."""
    if "$color" not in value:
        raise ValueError(f"{value!r} must hold $color: the failures of which color?")
    safety.selector(value.replace("$color", "blue"))
    return value


PerColorSelector = Annotated[str, AfterValidator(per_color_selector)]


def per_color_name(value: str) -> str:
    """A name template holding ``{color}`` and no other field: without it both colors would
    be one object, and the checks would read the live color as the candidate."""
    try:
        blue, green = value.format(color="blue"), value.format(color="green")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"{value!r} may hold only the field {{color}} ({exc})") from None
    if blue == green:
        raise ValueError(f"{value!r} must hold {{color}}: both colors would be the same object")
    return value


def distinct_per_color(values: dict[Color, str]) -> dict[Color, str]:
    if len(values) == len(COLORS) and len(set(values.values())) < len(values):
        raise ValueError(f"both colors name the same object {next(iter(values.values()))!r}")
    return values


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

    _distinct_urls = field_validator("color_urls")(distinct_per_color)

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
    sql: ReadOnlySql = Field(description="One SELECT, with %(name)s placeholders.")
    params: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Representative parameter sets (a frequent and a rare value at least).",
    )
    max_cost: float | None = Field(None, gt=0, description="Upper bound of the planner's cost.")


class VersionSpec(Strict):
    """What one version needs of the database. The critical checks judge the candidate's
    ``required_indexes`` and ``critical_queries``: a version declaring neither fails them
    (nothing judged is no pass). A version that truly needs none says so with ``none`` and a
    ``reason``, which the report shows as an explicit opt-out."""

    pool: PoolSizing
    declared_indexes: list[IndexRequirement] | Literal["none"] = Field(
        default_factory=list, alias="required_indexes",
        description="Indexes the version's queries need; 'none' (with a reason) opts out.",
    )
    declared_queries: list[CriticalQuery] | Literal["none"] = Field(
        default_factory=list, alias="critical_queries",
        description="Queries on the hot path whose query plans must use an index; 'none' opts out.",
    )
    reason: str | None = Field(
        None, min_length=1, description="Why the version opts out of required_indexes or critical_queries."
    )

    @model_validator(mode="after")
    def _opt_out_has_reason(self) -> VersionSpec:
        opted = self.indexes_opted_out or self.queries_opted_out
        if opted and not (self.reason or "").strip():
            raise ValueError("required_indexes/critical_queries: none needs a reason: why nothing is judged")
        if self.reason is not None and not opted:
            raise ValueError(
                "reason is only for an opt-out (required_indexes: none or critical_queries: none)"
            )
        return self

    @property
    def required_indexes(self) -> list[IndexRequirement]:
        return [] if isinstance(self.declared_indexes, str) else list(self.declared_indexes)

    @property
    def critical_queries(self) -> list[CriticalQuery]:
        return [] if isinstance(self.declared_queries, str) else list(self.declared_queries)

    @property
    def indexes_opted_out(self) -> bool:
        return self.declared_indexes == OPT_OUT

    @property
    def queries_opted_out(self) -> bool:
        return self.declared_queries == OPT_OUT


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
    large_table_rows: int = Field(
        100_000,
        ge=0,
        description="Tables with at least this many estimated rows must never be read by a "
        "sequential scan on a hot path; smaller ones may be (the planner is right to).",
    )
    other_clients_lookback_s: float = Field(
        3600, ge=60, le=7 * 86400,
        description="Other clients (jobs, exporters, admins) count at their peak over this "
        "look-back, not as connected at the moment of the check: a job connected 20 s of every "
        "30 s is counted every time.",
    )
    other_clients_query: str | None = Field(
        "sum(pg_stat_activity_count) - (sum(recommendation_db_pool_size) or vector(0))",
        description="PromQL of the connections that are not the service's pools, one value per "
        "time (postgres_exporter's pg_stat_activity_count minus the pools' open connections); "
        "its peak over the look-back is taken. None: pg_stat_activity is sampled instead.",
    )
    other_clients_samples: int = Field(
        10, ge=2, le=120, description="Without a query: snapshots of pg_stat_activity taken..."
    )
    other_clients_sample_interval_s: float = Field(
        1.0, gt=0, le=60, description="...this far apart; their peak is the other clients' count."
    )
    _dsn: SecretStr | None = PrivateAttr(None)
    _missing: ConfigError | None = PrivateAttr(None)

    def dsn(self) -> str:
        """The resolved DSN; set by the loader from ``dsn_env``."""
        if self._dsn is None:
            if self._missing is not None:
                raise self._missing
            raise RuntimeError(f"DSN of {self.dsn_env} was not resolved by the loader")
        return self._dsn.get_secret_value()

    def set_dsn(self, value: str) -> None:
        self._dsn = SecretStr(value)

    def set_missing(self, error: ConfigError) -> None:
        """Loaded for a command that needs no database: asking for the DSN raises ``error``
        (naming the file and ``database.dsn_env``), as loading would have."""
        self._missing = error


class OperatorRules(Strict):
    """Where the team's PrometheusRule objects live, when the Prometheus Operator loads them."""

    namespace: str
    label_selector: str | None = Field(None, description="e.g. release=prometheus; None: all.")


class PrometheusConfig(Strict):
    url: str = Field(description="Prometheus base URL, e.g. http://prometheus:9090.")
    scrape_interval_s: float = Field(15, gt=0, description="Scrape interval of the service.")
    timeout_s: float = Field(5, gt=0, description="Timeout of every HTTP API call.")
    retries: int = Field(3, ge=1, description="Attempts per call before the check fails.")
    rule_files: list[str] = Field(
        default_factory=list, description="The team's rule files on disk (globs allowed)."
    )
    alertmanager_url: str | None = Field(None, description="Alertmanager, to check routes.")
    operator_rules: OperatorRules | None = Field(
        None, description="Also read PrometheusRule objects (Prometheus Operator) from the cluster."
    )


class PoolAlertSpec(Strict):
    """A connection pool whose utilization must be alerted on, and the metrics that show it."""

    name: str = Field(description="What the pool is, in words: 'service pool', 'database'.")
    per_color: bool = Field(
        True, description="Each color has its own series (label monitoring.color_label)."
    )
    alert: LabelValue | None = Field(
        None, description="The alert's name; None: any alert reading the metrics."
    )
    in_use: list[MetricName] = Field(default_factory=list, description="Metrics: connections in use.")
    capacity: list[MetricName] = Field(default_factory=list, description="Metrics: the pool's maximum.")
    reserved: list[MetricName] = Field(
        default_factory=list, description="Metrics subtracted from capacity: not usable by the app."
    )
    utilization: list[MetricName] = Field(
        default_factory=list, description="Metrics already holding in_use / usable (0-1)."
    )

    @model_validator(mode="after")
    def _readable(self) -> PoolAlertSpec:
        if not self.utilization and not (self.in_use and self.capacity):
            raise ValueError(f"pool {self.name!r} needs utilization, or in_use and capacity metrics")
        return self


def _default_pools() -> list[PoolAlertSpec]:
    return [
        PoolAlertSpec(
            name="service pool",
            in_use=["recommendation_db_pool_in_use"],
            capacity=["recommendation_db_pool_max"],
            utilization=["recommendation_db_pool_utilization"],
        ),
        PoolAlertSpec(
            name="database connections",
            per_color=False,
            in_use=["pg_stat_activity_count"],
            capacity=["pg_settings_max_connections"],
            reserved=["pg_settings_superuser_reserved_connections"],
        ),
    ]


class MonitoringConfig(Strict):
    """What the monitoring checks demand of the team's alerts and deployment monitoring."""

    pools: list[PoolAlertSpec] = Field(
        default_factory=_default_pools,
        description="Pools the service opens: its own pool per color and the database's slots.",
    )
    pool_alert_threshold_max: float = Field(
        0.8, gt=0, le=1, description="A pool alert firing only above this utilization is too lax."
    )
    alert_for_max_s: float = Field(
        300, ge=0, description="An alert whose `for` is longer pages too late to act on."
    )
    required_labels: list[LabelName] = Field(
        default_factory=lambda: ["severity"], description="Labels every alert carries (routing)."
    )
    required_annotations: list[LabelName] = Field(
        default_factory=lambda: ["runbook_url"], description="Annotations every alert carries."
    )
    color_label: LabelName = Field("color", description="Label telling the colors' series apart.")
    requests_rate_query: Selector = Field(
        "color:recommendation_requests:rate30s",
        description="Requests/s per color: colors above 0 receive traffic (the live color).",
    )
    error_ratio_query: Selector = Field(
        "color:recommendation_errors:ratio_rate30s", description="Error ratio per color (0-1)."
    )
    latency_p95_query: Selector = Field(
        "color:recommendation_latency_seconds:p95_30s", description="Latency p95 per color."
    )
    pool_utilization_query: Selector = Field(
        "color:recommendation_db_pool_utilization:max",
        description="Pool connections in use / max per color (0-1), judged during analysis.",
    )
    latency_unit_s: float = Field(
        1.0, gt=0, description="Seconds per unit of the latency series (0.001 for milliseconds)."
    )


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

    _per_color = field_validator("deployment")(per_color_name)


Platform = Annotated[
    SandboxPlatform | KubernetesPlatform | ArgoRolloutPlatform, Field(discriminator="kind")
]


class HaproxyRouter(Strict):
    kind: Literal["haproxy"]
    admin_socket: SocketPath = Field(description="Path of HAProxy's admin socket.")
    backend: HaproxyName = Field(
        "bk_router", description="Backend whose servers carry color weights (HAProxy's alphabet)."
    )


class GatewayApiRouter(Strict):
    kind: Literal["gateway-api"]
    namespace: str
    route: str = Field(description="HTTPRoute name.")
    backends: dict[Color, str] = Field(description="Service name of each color.")

    _distinct = field_validator("backends")(distinct_per_color)


class IstioRouter(Strict):
    kind: Literal["istio"]
    namespace: str
    virtual_service: str
    subsets: dict[Color, str] = Field(description="DestinationRule subset of each color.")

    _distinct = field_validator("subsets")(distinct_per_color)


class ServiceSelectorRouter(Strict):
    kind: Literal["service-selector"]
    namespace: str
    service: str
    selector_key: str = Field("color", description="Pod label that selects the color.")

    @field_validator("selector_key")
    @classmethod
    def _label_key(cls, value: str) -> str:
        if not KUBERNETES_LABEL_KEY.match(value) or len(value) > 317:
            raise ValueError(f"{value!r} is not a Kubernetes label key")
        return value
    skip_partial_shift: bool = Field(
        False, description="Plans skip 50 % steps instead of refusing them (no weights here)."
    )


Router = Annotated[
    HaproxyRouter | GatewayApiRouter | IstioRouter | ServiceSelectorRouter,
    Field(discriminator="kind"),
]


class SloConfig(Strict):
    """The runbook's rollback criteria: error rate > 5 % or latency > 300 ms, judged as
    proportions of the candidate's requests counted since the shift (docs/analysis-method.md)."""

    error_ratio_max: float = Field(0.05, ge=0, le=1)
    latency_p95_max_ms: float = Field(300, gt=0)
    requests_counter: str = Field(
        'recommendation_requests_total{route="/recommendations"}',
        description="Requests counter (a selector) with a status label; read raw, per series.",
    )
    error_status: str = Field("5..", description="Status label values (regex) that are errors.")
    latency_histogram: str = Field(
        'recommendation_request_duration_seconds_bucket{route="/recommendations"}',
        description="Latency histogram's buckets (a selector, seconds); it needs a bucket at "
        "latency_p95_max_ms (checked by checks/monitoring/test_latency_buckets.py).",
    )
    version_label: str = Field("version", description="Label naming the version of a series.")
    router_failures: list[PerColorSelector] = Field(
        default_factory=list,
        description="Counters (selectors, $color for the color) of requests the router answered "
        "with a 5xx of its own or could not deliver to a color: they never reach the service's "
        "counters, and count as the candidate's requests and errors. HAProxy: "
        'haproxy_server_connection_errors_total{proxy="bk_router",server=~"$color-.*"}; '
        "Istio/Envoy: istio_requests_total with response_flags such as UF, UH, URX.",
    )


class AnalysisConfig(Strict):
    interval_s: float = Field(10, gt=0, description="One measurement (a look) every interval.")
    alpha: float = Field(
        0.01, gt=0, lt=0.5, description="Error rates of the SLO decision: a candidate exactly at "
        "the threshold is rolled back, and one at bad_multiple x the threshold passes, each with "
        "probability at most alpha over the whole window (docs/analysis-method.md).",
    )
    bad_multiple: float = Field(
        2.0, gt=1, description="A passing window must rule out this multiple of the threshold "
        "(10 % errors for a 5 % limit); too few requests to do so fail as inconclusive.",
    )
    latency_warmup_s: float = Field(
        10, ge=0, description="Slow requests count from this long after the window starts: a "
        "cold cache or pool is slow for seconds after a shift (errors always count).",
    )
    recent_s: float = Field(
        5, ge=0, description="The counts of the last this-many seconds are judged too (a "
        "rollback only), so a fault that begins mid-window is not diluted by the clean "
        "requests before it; 0: only the counts since the shift (docs/analysis-method.md).",
    )
    recent_alpha_share: float = Field(
        0.5, gt=0, lt=1, description="Share of alpha the recent counts spend; the counts since "
        "the shift keep the rest, so the false-rollback rate stays at most alpha.",
    )
    window_s: float = Field(120, gt=0, description="How long a shift is observed.")
    failure_limit: int = Field(2, ge=1, description="Failed measurements that end the window.")
    min_samples: int = Field(5, ge=1, description="Fewer measurements than this fail.")
    no_data_grace_s: float = Field(
        10, ge=0, description="Measurements with only 'no data' before the candidate's first "
        "complete one neither fail nor count this long: rate windows need two scrapes after a shift.",
    )
    pool_utilization_max: float = Field(
        0.9, gt=0, le=1, description="The candidate's pool in use / max above this fails a measurement."
    )
    compare_alpha: float = Field(
        0.05, gt=0, lt=1, description="Mann-Whitney p below this: the candidate is slower, not noise."
    )
    compare_effect_max: float = Field(
        0.5, ge=0, le=1, description="Rank-biserial effect above this (with p < alpha) fails: "
        "0.5 is the candidate slower in 75 % of sample pairs; smaller shifts are tolerated.",
    )
    compare_ratio_min: float = Field(
        1.2, ge=1, description="Candidate's median p95 / stable's at or below this passes however "
        "significant: a few ms slower, well inside the SLO, is no reason to roll back.",
    )
    compare_slowdown_min_ms: float = Field(
        20, ge=0, description="...and so is a difference of medians at or below this: at 5 ms, "
        "twice as slow is still far inside a 300 ms SLO (seen in the sandbox: 9 vs 5 ms).",
    )

    @model_validator(mode="after")
    def _fits(self) -> AnalysisConfig:
        if self.window_s < self.interval_s:
            raise ValueError(f"window_s ({self.window_s}) < interval_s ({self.interval_s})")
        return self


class LoadConfig(Strict):
    """The post-deploy load test: a traffic profile against one color's own URL."""

    profile: str = Field(description="Traffic profile file (loadtests/profiles/*.yaml).")
    target: Literal["idle", "live", "blue", "green"] = Field(
        "idle", description="Which color is loaded: idle (the candidate before any traffic)."
    )
    workers: int = Field(
        0, ge=0, description="Locust worker processes; 0 runs in-process (one core)."
    )
    rate_tolerance: float = Field(
        0.95, gt=0, le=1, description="Achieved / target rate below this: not a real load."
    )
    pool_waiting_query: PromQLTemplate = Field(
        'max(recommendation_db_pool_waiting{color="$color"})',
        description="PromQL of requests waiting for a pool connection ($color: the target).",
    )
    pool_waiting_max: float = Field(
        0, ge=0, description="Most requests that may wait for a connection during the run."
    )
    pool_warmup_s: float = Field(
        3, ge=0,
        description="Seconds after the profile's ramp in which pool waiting is not judged yet: "
        "the pool opens its connections as the users ramp up, and catches up just after.",
    )
    pool_waiting_samples: int = Field(
        2, ge=1, le=10,
        description="Consecutive samples above pool_waiting_max that fail the run (1: any "
        "sample). A pool too small for the load keeps requests waiting; one scrape catching a "
        "momentary queue on a busy machine does not.",
    )
    db_connections_query: PromQL = Field(
        "sum(pg_stat_activity_count) / (max(pg_settings_max_connections)"
        " - max(pg_settings_superuser_reserved_connections))",
        description="PromQL of the database's connections / usable ones (postgres exporter).",
    )
    db_connections_ratio_max: float = Field(
        0.9, gt=0, le=1, description="Connections / usable above this during the run fails."
    )


class RolloutConfig(Strict):
    """What a healthy rollout of the candidate looks like (the post-deploy gate)."""

    timeout_s: float = Field(120, gt=0, description="A deploy not complete by then failed.")
    log_error_patterns: list[str] = Field(
        default_factory=lambda: [r"\bERROR\b", r"\bCRITICAL\b", r"Traceback", r"too many clients"],
        description="Regular expressions; a log line since the deploy matching one fails.",
    )
    cpu_cores_max: float = Field(1.0, gt=0, description="CPU of one replica (kubectl top).")
    memory_mb_max: float = Field(512, gt=0, description="Resident memory of one replica.")


class StateConfig(Strict):
    """Where the runner keeps a run's journal, its pointer and its lock. The platform's kind
    decides: ``kubernetes`` keeps them in the cluster (a Lease and a ConfigMap in the
    platform's namespace, so CI jobs on different machines share one run); the sandbox keeps
    local files under ``reports/runs``."""

    lease_s: int = Field(
        30, ge=2, le=600,
        description="Kubernetes: the run Lease's duration. The holder renews it every third of "
        "that; a runner that died holding it is taken over once it expired.",
    )


class RunContext(Strict):
    """Facts of the run in progress, set by the runner on each gate it runs (``--set run.*``).

    Empty when an engineer runs a check alone: checks then find the candidate's color as
    the color running the candidate version, else the idle one."""

    id: str | None = Field(None, description="Run id (reports/runs/<id>/).")
    candidate_color: Color | None = Field(None, description="Color the candidate was deployed to.")
    deployed_at: float | None = Field(None, description="Unix time the deploy began.")
    shifted_at: float | None = Field(
        None, description="Unix time the last traffic shift was done: the SLO analysis counts "
        "only requests after it (unset: after its own first look).",
    )


@dataclass(frozen=True)
class Override:
    """A setting an override changed (``SHIFTGATE_*`` variable or ``--set``): the journal's
    ``run_started`` and the report's environment carry these, so a gate that passed under a
    loosened threshold says so."""

    key: str
    before: Any
    """The file's value, else the default; None where there was none."""
    after: Any
    origin: str
    """``environment variable SHIFTGATE_…`` or ``command line --set key=value``."""

    @property
    def source(self) -> str:
        for prefix in ("environment variable ", "command line "):
            if self.origin.startswith(prefix):
                return self.origin[len(prefix):]
        return self.origin

    def describe(self) -> str:
        return f"`{self.key}` {_shown(self.before)} → {_shown(self.after)}, from `{self.source}`"

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "before": self.before, "after": self.after,
                "source": self.source, "text": self.describe()}


def _shown(value: Any) -> str:
    return "(unset)" if value is None else str(value)


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
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    load: LoadConfig
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    run: RunContext = Field(default_factory=RunContext)
    state: StateConfig = Field(default_factory=StateConfig)
    _source: str = PrivateAttr("environment file")
    _overrides: list[Override] = PrivateAttr(default_factory=list)

    @property
    def overrides(self) -> list[Override]:
        """Settings changed by ``SHIFTGATE_*`` variables or ``--set`` (set by the loader)."""
        return list(self._overrides)

    def set_overrides(self, overrides: list[Override]) -> None:
        self._overrides = list(overrides)

    @property
    def source(self) -> str:
        """The file it was loaded from: configuration errors found later name it."""
        return self._source

    def set_source(self, path: str) -> None:
        self._source = path
