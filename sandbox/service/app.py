"""The sandbox's sample recommendation service: the application the runbook releases.

One module on purpose: the sandbox starts it as
``uvicorn app:app --app-dir sandbox/service`` once per replica and color, configured only by
environment variables (see ``Settings.from_env``). Each version in ``sandbox/versions.yaml``
maps to a query mode and pool size, which is how the sandbox reproduces the incident:
2.4.3 reads per-user rows by primary key; 2.5.x reads the large ``recommendations`` table by
``user_segment`` (a full scan without the runbook's index) with a bigger pool; 2.5.1 also
fails a share of requests some time after start, to drill the automatic rollback.

Metric names are a contract with ``sandbox/prometheus/rules`` and shiftgate's checks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

ROUTE = "/recommendations"
READY_TIMEOUT_S = 1.0
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5)
INT4_MAX = 2**31 - 1
Number = TypeVar("Number", int, float)
# One line per server-side error, with a UTC timestamp: what the rollout check scans
# (`kubectl logs` in a cluster, the replica's log file in the sandbox).
logging.basicConfig(
    format="%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s",
    datefmt="%Y-%m-%dT%H:%M:%S",
    level=logging.INFO,
)
logging.Formatter.converter = time.gmtime
log = logging.getLogger("recommendation")

PER_USER_SQL = (
    "SELECT item_id, score FROM user_recommendations WHERE user_id = %s ORDER BY score DESC LIMIT 20"
)
SEGMENT_OF_USER_SQL = "SELECT user_segment FROM users WHERE user_id = %s"
# The incident's query: without an index on recommendations(user_segment) it reads 2M rows.
SEGMENT_SQL = (
    "SELECT item_id, score FROM recommendations WHERE user_segment = %s ORDER BY score DESC LIMIT 20"
)


def _env(name: str, default: str, choices: tuple[str, ...] = ()) -> str:
    value = os.environ.get(name, default)
    if choices and value not in choices:
        raise ValueError(f"Invalid {name} {value!r}: expected one of {', '.join(choices)}")
    return value


def _env_number(name: str, default: Number, low: Number, high: Number | None = None) -> Number:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = type(default)(raw)
    except ValueError:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ValueError(f"Invalid {name} {raw!r}: expected {kind}") from None
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"Invalid {name} {raw!r}: expected a value {bounds}")
    return value


@dataclass(frozen=True)
class Settings:
    """What one replica is; read once at import so a bad variable stops uvicorn at start."""

    color: str
    version: str
    replica: str
    database_url: str
    pool_min_size: int
    pool_max_size: int
    pool_timeout_s: float
    query_mode: str
    fail_ratio: float
    fail_after_s: float

    @classmethod
    def from_env(cls) -> Settings:
        color = _env("SERVICE_COLOR", "blue", ("blue", "green"))
        pool_min = _env_number("POOL_MIN_SIZE", 2, 0)
        pool_max = _env_number("POOL_MAX_SIZE", 10, max(pool_min, 1))
        return cls(
            color=color,
            version=_env("SERVICE_VERSION", "0.0.0"),
            replica=_env("SERVICE_REPLICA", f"{color}-1"),
            # Empty means libpq defaults (PG* variables), as with psql.
            database_url=_env("DATABASE_URL", ""),
            pool_min_size=pool_min,
            pool_max_size=pool_max,
            pool_timeout_s=_env_number("POOL_TIMEOUT_S", 5.0, 0.001),
            query_mode=_env("QUERY_MODE", "per_user", ("per_user", "segment")),
            fail_ratio=_env_number("FAIL_RATIO", 0.0, 0.0, 1.0),
            fail_after_s=_env_number("FAIL_AFTER_S", 0.0, 0.0),
        )


class PoolCollector(Collector):
    """Pool gauges read from ``get_stats()`` at scrape time, so they are never stale."""

    def __init__(self, service: Service) -> None:
        self._service = service

    def _families(self) -> list[GaugeMetricFamily]:
        labels = ["color", "version"]
        return [
            GaugeMetricFamily(f"recommendation_db_pool_{name}", doc, labels=labels)
            for name, doc in (
                ("max", "Configured maximum connections of this process's pool."),
                ("size", "Connections open or opening in the pool."),
                ("in_use", "Connections lent to requests."),
                ("waiting", "Requests waiting for a connection."),
                ("utilization", "in_use / max."),
            )
        ]

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        pool = self._service.pool
        if pool is None:  # Not started yet: no numbers rather than made-up zeros.
            return []
        stats = pool.get_stats()
        size = stats.get("pool_size", 0)
        in_use = size - stats.get("pool_available", 0)
        maximum = stats.get("pool_max", pool.max_size)
        values = (maximum, size, in_use, stats.get("requests_waiting", 0), in_use / maximum)
        families = self._families()
        for family, value in zip(families, values, strict=True):
            family.add_metric([self._service.settings.color, self._service.settings.version], value)
        return families


class Service:
    """One replica: settings, its connection pool, its metrics and its request handlers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: AsyncConnectionPool | None = None
        self.started = time.monotonic()
        # Seeded by replica: the injected fault is reproducible run to run, not a security RNG.
        self._rng = random.Random(settings.replica)
        # A private registry: one process, one replica, no metrics leaking between test apps.
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        labels = ["color", "version", "route", "status"]
        self._requests = Counter(
            "recommendation_requests",
            "Requests to /recommendations by HTTP status.",
            labels,
            registry=self.registry,
        )
        self._duration = Histogram(
            "recommendation_request_duration_seconds",
            "Time to answer /recommendations.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        Gauge(
            "recommendation_build_info",
            "Version and replica of this process (always 1).",
            ["color", "version", "replica"],
            registry=self.registry,
        ).labels(settings.color, settings.version, settings.replica).set(1)
        self.registry.register(PoolCollector(self))

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        s = self.settings
        # pg_stat_activity tells the pools of colors and replicas apart by this name.
        name = f"recommendation-{s.replica}"  # replica names carry the color: blue-1
        self.pool = AsyncConnectionPool(
            s.database_url,
            min_size=s.pool_min_size,
            max_size=s.pool_max_size,
            timeout=s.pool_timeout_s,
            open=False,
            name=name,
            # A restart of the database (max_connections needs one) leaves broken
            # connections in the pool: check each one before handing it out.
            check=AsyncConnectionPool.check_connection,
            # autocommit: one round trip per query, no idle-in-transaction between them.
            kwargs={
                "application_name": name,
                "autocommit": True,
                "connect_timeout": 5,
            },
        )
        # wait=False: the process serves /healthz even with the database down; /readyz tells.
        await self.pool.open(wait=False)
        # A replica that starts says so: the log check fails a replica with no line since
        # the deploy (a silent replica proves nothing), as a real service's startup line.
        log.info("started replica %s, version %s, pool max_size %d", s.replica,
                 s.version, s.pool_max_size)
        try:
            yield
        finally:
            await self.pool.close(timeout=5)

    async def recommendations(self, request: Request) -> Response:
        start = time.perf_counter()
        response = await self._recommend(request.query_params.get("user_id"))
        labels = (self.settings.color, self.settings.version, ROUTE, str(response.status_code))
        self._requests.labels(*labels).inc()
        self._duration.labels(*labels).observe(time.perf_counter() - start)
        return response

    async def _recommend(self, raw_user_id: str | None) -> Response:
        s = self.settings
        try:
            user_id = int(raw_user_id or "")
        except ValueError:
            user_id = -1
        if not 0 <= user_id <= INT4_MAX:
            return JSONResponse({"error": "user_id must be a non-negative integer"}, 400)
        if (
            s.fail_ratio > 0
            and time.monotonic() - self.started >= s.fail_after_s
            and self._rng.random() < s.fail_ratio
        ):
            log.error("request failed: internal error (injected by FAIL_RATIO)")
            return JSONResponse({"error": "internal error (injected by FAIL_RATIO)"}, 500)
        assert self.pool is not None  # Set by lifespan before uvicorn serves requests.
        body: dict[str, Any] = {"user_id": user_id}
        try:
            async with self.pool.connection() as conn:
                if s.query_mode == "segment":
                    cur = await conn.execute(SEGMENT_OF_USER_SQL, (user_id,))
                    row = await cur.fetchone()
                    if row is None:
                        return JSONResponse({"error": f"unknown user {user_id}"}, 404)
                    body["segment"] = row[0]
                    cur = await conn.execute(SEGMENT_SQL, (row[0],))
                    rows = await cur.fetchall()
                else:
                    cur = await conn.execute(PER_USER_SQL, (user_id,))
                    rows = await cur.fetchall()
                    if not rows:  # Every seeded user has per-user rows: none means no user.
                        return JSONResponse({"error": f"unknown user {user_id}"}, 404)
        except PoolTimeout:
            log.error("request failed: no database connection available in time")
            return JSONResponse({"error": "no database connection available in time"}, 503)
        except psycopg.Error as exc:
            log.error("request failed: database error: %s", type(exc).__name__)
            return JSONResponse({"error": f"database error: {type(exc).__name__}"}, 503)
        body.update(
            version=s.version,
            color=s.color,
            items=[{"item_id": item, "score": round(score, 4)} for item, score in rows],
        )
        return JSONResponse(body)

    async def healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": self.settings.version})

    async def readyz(self, request: Request) -> Response:
        assert self.pool is not None
        try:
            # The outer bound covers a stuck SELECT 1; the pool's own timeout fires first.
            async with asyncio.timeout(READY_TIMEOUT_S + 0.5):
                async with self.pool.connection(timeout=READY_TIMEOUT_S) as conn:
                    await conn.execute("SELECT 1")
        except (TimeoutError, psycopg.Error) as exc:
            # libpq messages name host and port, never the password.
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            return JSONResponse({"ready": False, "reason": reason}, 503)
        return JSONResponse({"ready": True, "version": self.settings.version})

    async def metrics(self, request: Request) -> Response:
        # Text format 0.0.4: what every Prometheus release reads, 2.x included.
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)


def create_app(settings: Settings) -> Starlette:
    service = Service(settings)
    return Starlette(
        routes=[
            Route(ROUTE, service.recommendations),
            Route("/healthz", service.healthz),
            Route("/readyz", service.readyz),
            Route("/metrics", service.metrics),
        ],
        lifespan=service.lifespan,
    )


app = create_app(Settings.from_env())
