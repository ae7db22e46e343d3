"""Connection capacity: can PostgreSQL hold both colors' pools at the peak of a shift?

During a blue-green shift both colors run and both pools are open: the live color with the
stable version, the idle color with the candidate. The peak demand is, for each color, max
replicas x processes per replica x pool max size of the version it runs, plus the other
clients (exporters, jobs, admins: anything that is not the service's pools or shiftgate
itself) at their peak over ``database.other_clients_lookback_s`` (from Prometheus, or from
snapshots of pg_stat_activity; the window is in the evidence) and no fewer than connected
now, plus the configured headroom. It must fit in the slots ordinary roles can
take: max_connections minus the reserved ones. The failure message spells the arithmetic out
term by term and names the max_connections value that would pass, so the fix is one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from shiftgate.analysis.verdicts import attach_records
from shiftgate.config.models import DatabaseConfig, Environment, PoolSizing
from shiftgate.probes.postgres_facts import Activity, ActivityGroup, OtherClientsReading, ServerSettings
from shiftgate.verdict import Verdict

CAPACITY_CHECK = "max_connections sufficient for both colors"
IN_USE_CHECK = "connection pool usage below the limit before deploying"


@dataclass(frozen=True)
class OthersPeak:
    """Other clients' connections at their peak over a look-back window: the max of a
    Prometheus range query, or of several pg_stat_activity snapshots."""

    connections: int | None
    """None: the window held no value (fail closed)."""
    window: str
    """In words: what was read, over which times, at which step."""
    points: int
    evidence: dict[str, object]


@dataclass(frozen=True)
class Term:
    label: str
    connections: int


@dataclass(frozen=True)
class PeakDemand:
    """The arithmetic of the capacity check: the terms of the demand against the usable slots."""

    settings: ServerSettings
    terms: list[Term]
    others: list[ActivityGroup]

    @property
    def demand(self) -> int:
        return sum(t.connections for t in self.terms)

    @property
    def usable(self) -> int:
        return self.settings.usable

    @property
    def required_max_connections(self) -> int:
        """The smallest max_connections under which the demand fits."""
        return self.demand + self.settings.reserved


def usable_formula(settings: ServerSettings) -> str:
    text = (
        f"max_connections {settings.max_connections} − superuser_reserved_connections "
        f"{settings.superuser_reserved_connections}"
    )
    if settings.reserved_connections is not None:
        text += f" − reserved_connections {settings.reserved_connections}"
    return f"{text} = {settings.usable}"


def is_other_client(group: ActivityGroup, service: str, config: DatabaseConfig) -> bool:
    """Neither the service's pools (``<service>-<color>-<n>``) nor shiftgate's own probe."""
    return not group.application_name.startswith(f"{service}-") and (
        group.application_name != config.application_name
    )


def _pool_term(role: str, pool: PoolSizing) -> Term:
    return Term(
        f"{role}: {pool.max_replicas} max replicas × {pool.processes_per_replica} processes/replica "
        f"× pool max_size {pool.max_size}",
        pool.peak_connections,
    )


def peak_demand(
    settings: ServerSettings, activity: Activity, env: Environment, peak: OthersPeak | None = None
) -> PeakDemand:
    versions = env.versions
    others = [g for g in activity.groups if is_other_client(g, env.service.name, env.database)]
    named = ", ".join(f"{g.application_name or '(no name)'} {g.connections}" for g in others)
    now = sum(g.connections for g in others)
    others_term = Term(f"other clients now ({named or 'none'})", now)
    if peak is not None and peak.connections is not None:
        others_term = Term(
            f"other clients at their peak {peak.connections} over {peak.window}"
            f" (now: {named or 'none'})", max(peak.connections, now),
        )
    terms = [
        _pool_term(f"live color, stable {versions.stable}",
                   versions.stable_spec.pool),
        _pool_term(f"idle color, candidate {versions.candidate}",
                   versions.candidate_spec.pool),
        others_term,
        Term("headroom (database.headroom_connections)", env.database.headroom_connections),
    ]
    return PeakDemand(settings=settings, terms=terms, others=others)


def required_max_connections(
    settings: ServerSettings, activity: Activity, env: Environment, peak: OthersPeak | None = None
) -> int:
    """What the capacity check asks for; the sandbox's remediation raises the server to it
    (with ``peak``, the other clients' peak over the look-back, as the check counts them)."""
    return peak_demand(settings, activity, env, peak).required_max_connections


def connection_capacity(
    settings: ServerSettings, activity: Activity, env: Environment, others: OthersPeak | None = None
) -> Verdict:
    """``others``: the other clients' peak over the look-back; without it (a unit of
    arithmetic, the sandbox's remediation) only the clients connected now count."""
    if others is not None and others.connections is None:
        verdict = Verdict(
            check=CAPACITY_CHECK, passed=False,
            reason=f"no value of the other clients' connections over {others.window}: their peak "
                   "is unknown, so the demand is unknown",
            fault="infrastructure", threshold="the other clients' peak over the look-back",
            details=["fix: check that postgres_exporter is scraped (pg_stat_activity_count), or "
                     "set database.other_clients_query: null to sample pg_stat_activity"],
        )
        verdict.attach_json("other clients over the look-back", others.evidence)
        return verdict
    peak = peak_demand(settings, activity, env, others)
    fits = peak.demand <= peak.usable
    required = peak.required_max_connections
    if fits:
        reason = f"peak demand {peak.demand} ≤ usable {peak.usable} ({peak.usable - peak.demand} spare)"
    else:
        reason = (
            f"peak demand {peak.demand} > usable {peak.usable}: "
            f"raise max_connections from {settings.max_connections} to at least {required}"
        )
    details = [f"usable = {usable_formula(settings)}", "demand at the peak of the shift ="]
    details += [f"  {'+ ' if i else '  '}{t.connections:>4}  {t.label}" for i, t in enumerate(peak.terms)]
    details.append(f"  = {peak.demand:>4}")
    details.append(f"max_connections that would pass: {required}")
    if not fits:
        details.append(f"fix: ALTER SYSTEM SET max_connections = {required}; then restart PostgreSQL")
    verdict = Verdict(
        check=CAPACITY_CHECK, passed=fits, reason=reason, measured=f"demand {peak.demand}",
        threshold=f"usable {peak.usable}", details=details,
    )
    verdict.attach_json("arithmetic", {
        "usable": peak.usable, "usable_formula": usable_formula(settings), "demand": peak.demand,
        "terms": [{"label": t.label, "connections": t.connections} for t in peak.terms],
        "required_max_connections": required,
    })
    if others is not None:
        verdict.details.append(f"other clients: peak {others.connections} over {others.window} "
                               f"({others.points} values)")
        verdict.attach_json("other clients over the look-back", others.evidence)
    attach_records(verdict, {"settings": settings.record, "activity": activity.record})
    return verdict


def peak_from_series(values: list[float], window: str, evidence: dict[str, object]) -> OthersPeak:
    """The peak of the values read over the window; NaN and negative values are no data."""
    valid = [v for v in values if v == v and v >= 0]
    return OthersPeak(
        connections=round(max(valid)) if valid else None, window=window, points=len(valid),
        evidence={**evidence, "peak": max(valid) if valid else None},
    )


def peak_of_snapshots(snapshots: list[Activity], env: Environment, window: str) -> OthersPeak:
    """The other clients' peak over several pg_stat_activity snapshots."""
    counts = [
        sum(g.connections for g in a.groups if is_other_client(g, env.service.name, env.database))
        for a in snapshots
    ]
    return peak_from_series([float(c) for c in counts], window,
                            {"source": "pg_stat_activity snapshots", "window": window, "counts": counts})


def connections_in_use(settings: ServerSettings, activity: Activity, config: DatabaseConfig) -> Verdict:
    """The runbook's "database connection pool usage" signal: in use now / usable."""
    usable = settings.usable
    in_use = activity.total
    limit = config.in_use_ratio_max
    ratio = in_use / usable if usable > 0 else float("inf")
    passed = ratio <= limit
    reason = (
        f"{in_use} of {usable} usable connections in use ({ratio:.0%})"
        + ("" if passed else f": above {limit:.0%}; find who holds them before deploying")
    )
    top = ", ".join(f"{g.application_name or '(no name)'} {g.connections}" for g in activity.groups[:8])
    verdict = Verdict(
        check=IN_USE_CHECK, passed=passed, reason=reason, measured=f"{ratio:.3f}",
        threshold=f"≤ {limit} (database.in_use_ratio_max)",
        details=[f"usable = {usable_formula(settings)}",
                 f"client backends by application_name: {top or 'none'}"],
    )
    attach_records(verdict, {"settings": settings.record, "activity": activity.record})
    return verdict


def others_peak(reading: OtherClientsReading, env: Environment) -> OthersPeak:
    """The other clients' peak from what was read over the look-back."""
    if reading.snapshots is not None:
        return peak_of_snapshots(reading.snapshots, env, reading.window)
    return peak_from_series(reading.values or [], reading.window, reading.evidence)
