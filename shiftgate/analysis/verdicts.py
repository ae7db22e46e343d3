"""Helpers the analysis modules share: query evidence on verdicts, and one verdict of many.

A check about several things (every required index, every critical query) fails when any of
them fails and carries every part's evidence, so one run shows all there is to fix.
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


def all_of(check: str, parts: Sequence[Verdict], *, empty_reason: str) -> Verdict:
    """Passes only if every part passes; the message lists each part's verdict."""
    if not parts:
        return Verdict(check=check, passed=True, reason=empty_reason)
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
