"""Helpers the analysis modules share: query evidence on verdicts, and one verdict of many.

A check about several things (every required index, every critical query) fails when any of
them fails and carries every part's evidence, so one run shows all there is to fix. A check
with nothing to judge fails (rule 1: nothing judged is no pass) and names what to declare,
unless the configuration opted out explicitly with a reason: that passes and says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shiftgate.probes.postgres_facts import QueryRecord
from shiftgate.verdict import Verdict


def attach_records(verdict: Verdict, records: Mapping[str, QueryRecord]) -> None:
    """The SQL a probe ran (as SQL) and the rows it returned (as JSON), one pair per query."""
    for name, record in records.items():
        if not record.sql:
            continue
        verdict.attach_text(f"{name}: SQL", record.sql, "sql")
        verdict.attach_json(f"{name}: rows", {"params": record.params, "rows": record.rows})


OPTED_OUT = "explicit opt-out"
"""How a verdict that judged nothing by declaration begins its reason (and its measured value)."""


def all_of(
    check: str,
    parts: Sequence[Verdict],
    *,
    empty_reason: str,
    declare: str,
    opt_out: str | None = None,
) -> Verdict:
    """Passes only if every part passes; the message lists each part's verdict.

    No parts: fails with ``empty_reason`` and ``declare`` (what to write to have something
    judged), a configuration fault; passes only with ``opt_out``, the configured reason why
    nothing needs judging, and the verdict says it is an opt-out."""
    if not parts:
        if opt_out is not None:
            return Verdict(
                check=check, passed=True, reason=f"{OPTED_OUT}: {empty_reason}; reason given: {opt_out}",
                measured=f"{OPTED_OUT}: nothing judged", threshold="declared in the environment file",
                details=[f"{OPTED_OUT} — reason: {opt_out}", f"to judge it instead: {declare}"],
            )
        return Verdict(
            check=check, passed=False, reason=f"{empty_reason}: nothing to judge, so nothing passes",
            fault="configuration", details=[f"fix: {declare}"],
        )
    if len(parts) == 1:
        only = parts[0]
        only.check = check
        return only
    failed = [p for p in parts if not p.passed]
    reason = (
        f"all {len(parts)} passed" if not failed
        else f"{len(failed)} of {len(parts)} failed: " + "; ".join(p.reason for p in failed)
    )
    details: list[str] = []
    for part in parts:
        details.append(f"{'ok' if part.passed else 'FAILED'}: {part.check}: {part.reason}")
        details.extend(f"  {line}" for line in part.details)
    merged = Verdict(
        check=check,
        passed=not failed,
        reason=reason,
        source=next((p.source for p in parts if p.source), None),
        fault=failed[0].fault if failed else "product",
        details=details,
    )
    for part in parts:
        merged.attachments.extend(part.attachments)
    return merged
