"""Allure conventions of every check: the one place that decides what a reviewer reads.

- **title**: the first line of the check's docstring (reads like the checklist item);
- **description**: the docstrings plus a link to the runbook section of the check's area,
  their ``{environment.slo.error_ratio_max:.0%}`` placeholders filled from the check's
  fixtures when it runs, as allure-pytest fills titles (:func:`fill`),
  ``docs/runbook-recommendation-blue-green.md#<anchor>`` under ``$SHIFTGATE_RUNBOOK_BASE_URL``
  (CI sets it to the repository's blob URL; locally the file in the checkout);
- **parameters**: environment, colors, stable and candidate versions, run id — all
  ``excluded`` from Allure's history id so history follows a check across releases — and,
  once the check judged, the measured value and the threshold;
- **steps**: one per probe call (``shiftgate.steps`` backed by ``allure.step``);
- **failure messages** start with a fault tag (``[product regression]``,
  ``[infrastructure fault]``, ``[configuration error]``) that ``categories.json`` matches:
  Allure categories only see a failure's message and trace, so the tag is how the verdict's
  fault reaches them. Unhandled ``SourceUnavailable`` / ``ConfigError`` are matched by name.
- **not judged** (``Verdict.not_judged``: the window stopped early on another criterion):
  the message starts with ``[not judged]`` and names that criterion; the result is written
  with Allure's status ``unknown`` (``shiftgate.report.redacted``) and sorted into its own
  category, never among the product regressions. For pytest it is a failure (fail closed).
- **labels** ``shiftgate_session`` (one pytest session: one gate run) and ``shiftgate_run``
  (the runner's run id): ``shiftgate report`` builds one report per run from them.
- **session end**: ``environment.properties``, ``categories.json``, the session's own facts
  (``shiftgate-session-<id>.json``: gate, run, versions, overrides, exit status: what a run's
  report shows as metadata, since ``environment.properties`` holds only the latest session),
  and a redaction pass over every text file the session wrote (docs/architecture.md rule 6: a
  secret that slipped into an exception text or a third-party attachment is still masked).

Labels (epic = gate, feature = area, story = checklist item, severity) are set by the pytest
plugin from markers. Like ``shiftgate.report.evidence`` this module uses allure-python-commons, not
pytest (docs/architecture.md rule 8): outside an Allure run its calls do nothing.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import allure

from shiftgate.config.models import Environment, other_color
from shiftgate.config.paths import project_root, reports_dir, runs_dir
from shiftgate.redact import redact
from shiftgate.report.redacted import write_redacted
from shiftgate.verdict import Fault, Verdict

RUNBOOK = "docs/runbook-recommendation-blue-green.md"
RUNBOOK_BASE_ENV = "SHIFTGATE_RUNBOOK_BASE_URL"
# area (folder under checks/) → (anchor in the runbook, section name as a reader sees it)
RUNBOOK_SECTIONS: dict[str, tuple[str, str]] = {
    "database": ("database", "Pre-Deployment Checklist › Database"),
    "monitoring": ("monitoring", "Pre-Deployment Checklist › Monitoring"),
    "load": ("load-testing", "Pre-Deployment Checklist › Load Testing"),
    "rollout": ("deployment-procedure", "Deployment Procedure"),
    "slo": ("rollback-procedure", "Rollback Procedure (error rate > 5 %, latency > 300 ms)"),
}
FAULT_TAGS: dict[Fault, str] = {
    "product": "[product regression]",
    "infrastructure": "[infrastructure fault]",
    "configuration": "[configuration error]",
}
NOT_JUDGED_TAG = "[not judged]"
NOT_JUDGED_STATUS = "unknown"  # Allure's status of a check that was not judged
SESSION_LABEL = "shiftgate_session"  # which gate run (pytest session) a result belongs to
RUN_LABEL = "shiftgate_run"  # which run of the runner (environment.run.id); absent: ad hoc
SESSION_FILE = "shiftgate-session-{session}.json"
_ANY = r"[\s\S]*"  # Allure 2 matches the whole message (Java), Allure 3 searches it (JS)
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Infrastructure faults (a source unreachable)",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": rf"{_ANY}(\[infrastructure fault\]|SourceUnavailable){_ANY}",
    },
    {
        "name": "Configuration errors",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": rf"{_ANY}(\[configuration error\]|ConfigError){_ANY}",
    },
    {
        "name": "Product regressions (an SLO or checklist item failed)",
        "matchedStatuses": ["failed"],
        "messageRegex": rf"{_ANY}\[product regression\]{_ANY}",
    },
    {
        "name": "Not judged (the window stopped early on another criterion)",
        "matchedStatuses": [NOT_JUDGED_STATUS, "failed"],
        "messageRegex": rf"{_ANY}\[not judged\]{_ANY}",
    },
]
# allure's public API, typed here once: some of it ships without annotations.
_description: Callable[[str], object] = allure.description
_dynamic_description: Callable[[str], None] = allure.dynamic.description
_link: Callable[..., object] = allure.link
_label: Callable[[str, str], None] = allure.dynamic.label
_TEXT_SUFFIXES = (".json", ".txt", ".csv", ".sql", ".yaml", ".yml", ".html", ".properties", ".log")
_VALUE_MAX = 200
_JOURNAL_LINES = 15


# -- per check, at collection -------------------------------------------------------------
def title(func: Callable[..., Any]) -> str | None:
    """The docstring's first line (None without one: Allure keeps the test's name)."""
    doc = (func.__doc__ or "").strip()
    return doc.splitlines()[0].strip() if doc else None


def runbook_url(area: str | None) -> str:
    anchor = RUNBOOK_SECTIONS[area][0] if area in RUNBOOK_SECTIONS else ""
    base = os.environ.get(RUNBOOK_BASE_ENV) or project_root().as_uri()
    return f"{base.rstrip('/')}/{RUNBOOK}" + (f"#{anchor}" if anchor else "")


def description(func: Callable[..., Any], module_doc: str | None, area: str | None) -> str:
    section = RUNBOOK_SECTIONS.get(area or "", ("", "the runbook"))[1]
    parts = [(func.__doc__ or "").strip(), (module_doc or "").strip()]
    link = f"Runbook: [{section}]({runbook_url(area)}) (`{RUNBOOK}`)"
    return "\n\n".join([*(p for p in parts if p), link])


def fill(text: str, values: Mapping[str, Any]) -> str:
    """``str.format`` with the check's fixtures, placeholder by placeholder, as allure-pytest
    formats titles: one it cannot fill (no such fixture, attribute or format) stays as
    written, and the others are filled all the same."""
    formatter = string.Formatter()
    try:
        parsed = list(formatter.parse(text))
    except ValueError:  # a lone brace: not a template
        return text
    out: list[str] = []
    for literal, field, spec, conversion in parsed:
        out.append(literal)
        if field is None:
            continue
        written = "{" + field + (f"!{conversion}" if conversion else "") + (
            f":{spec}" if spec else "") + "}"
        try:
            value, _ = formatter.get_field(field, (), values)
            if conversion:
                value = formatter.convert_field(value, conversion)
            out.append(formatter.format_field(value, spec or ""))
        except Exception:  # a docstring is prose: never fail a check on it
            out.append(written)
    return "".join(out)


def describe(
    func: Callable[..., Any], module_doc: str | None, area: str | None, values: Mapping[str, Any]
) -> None:
    """While the check runs: its description with the fixtures' values filled in."""
    _dynamic_description(fill(description(func, module_doc, area), values))


def collection_marks(
    func: Callable[..., Any], module_doc: str | None, area: str | None
) -> list[object]:
    """Title (set on the function, as ``@allure.title`` does) and the marks to add to the item:
    allure-pytest reads description and links from marks when the test starts."""
    text = title(func)
    if text and not hasattr(func, "__allure_display_name__"):  # an explicit @allure.title wins
        func.__allure_display_name__ = text  # type: ignore[attr-defined]
    section = RUNBOOK_SECTIONS.get(area or "", ("", "runbook"))[1]
    return [
        _description(description(func, module_doc, area)),
        _link(runbook_url(area), name=f"runbook: {section}"),
    ]


# -- per check, while it runs --------------------------------------------------------------
def parameters(environment: Environment) -> dict[str, str]:
    versions, run = environment.versions, environment.run
    candidate_color = run.candidate_color
    colors = (
        f"candidate on {candidate_color}, stable on {other_color(candidate_color)}"
        if candidate_color else "candidate on the idle color (no run in progress)"
    )
    return {
        "environment": environment.name,
        "colors": colors,
        "stable version": versions.stable,
        "candidate version": versions.candidate,
        "run id": run.id or "none (ad hoc)",
    }


def start_check(environment: Environment | None, session: str) -> None:
    """At the start of each check: the session and run labels, the parameters, the journal
    excerpt."""
    _label(SESSION_LABEL, session)
    if environment is None:
        return
    if environment.run.id:
        _label(RUN_LABEL, environment.run.id)
    for name, value in parameters(environment).items():
        allure.dynamic.parameter(name, _Shown(value), excluded=True)
    excerpt = journal_excerpt(environment.run.id)
    if excerpt:
        allure.attach(excerpt, name=f"journal excerpt (run {environment.run.id})",
                      attachment_type=allure.attachment_type.TEXT)


def journal_excerpt(run_id: str | None, lines: int = _JOURNAL_LINES) -> str | None:
    if not run_id:
        return None
    path = runs_dir(reports_dir()) / run_id / "journal.jsonl"
    if not path.is_file():
        return None
    return redact("\n".join(path.read_text(encoding="utf-8").splitlines()[-lines:]))


def record_verdict(verdict: Verdict) -> None:
    """Measured value and threshold as parameters: on the check's page, and in the summary.

    A verdict without a single measured figure (an index missing) shows what was seen."""
    measured = verdict.measured if verdict.measured is not None else verdict.reason
    for name, value in (("measured", measured), ("threshold", verdict.threshold)):
        if value is not None:
            allure.dynamic.parameter(name, _Shown(short(value)), excluded=True)


def tagged(fault: Fault, message: str) -> str:
    """A failure message that Allure's categories can sort by fault."""
    return f"{FAULT_TAGS[fault]} {message}"


def failure_message(verdict: Verdict) -> str:
    """The message of a verdict that did not pass: tagged by its fault, or as not judged
    (then the fault does not apply: nothing was judged to be at fault)."""
    if verdict.status == "not judged":
        return f"{NOT_JUDGED_TAG} {verdict.message()}"
    return tagged(verdict.fault, verdict.message())


def is_not_judged(message: str) -> bool:
    """A failure message written for a not-judged verdict (pytest may prefix 'Failed: ')."""
    return message.lstrip().removeprefix("Failed: ").startswith(NOT_JUDGED_TAG)


def result_status(result: Mapping[str, Any]) -> str | None:
    """The Allure status a result file carries when it is not pytest's: ``unknown`` for a
    check that was not judged (pytest only knows passed, failed, skipped)."""
    message = str((result.get("statusDetails") or {}).get("message") or "")
    if result.get("status") in ("failed", "broken") and is_not_judged(message):
        return NOT_JUDGED_STATUS
    return None


def short(value: object) -> str:
    text = redact(" ".join(str(value).split()))
    return text if len(text) <= _VALUE_MAX else text[: _VALUE_MAX - 1] + "…"


class _Shown:
    """A parameter value shown as is: allure-pytest quotes plain strings ('2.5.0')."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def allure_step(text: str) -> AbstractContextManager[object]:
    """The ``shiftgate.steps`` implementation installed for Allure runs."""
    step: AbstractContextManager[object] = allure.step(text)
    return step


# -- per session, at the end ---------------------------------------------------------------
def finish_session(
    results: Path, environment: Environment | None, gate: str | None, started: float
) -> None:
    results.mkdir(parents=True, exist_ok=True)
    (results / "categories.json").write_text(json.dumps(CATEGORIES, indent=2), encoding="utf-8")
    (results / "environment.properties").write_text(
        properties(environment_facts(environment, gate)), encoding="utf-8"
    )
    redact_files(results, since=started)


def write_session(
    results: Path, session: str, environment: Environment | None, gate: str | None,
    started: float, exit_status: int, notes: list[str],
) -> Path:
    """The session's own record, once its exit status is final: a run's report takes its
    metadata and each gate's verdict from it (a gate can fail without any failed check: an
    entry that yielded no check, a file that did not collect)."""
    record = {
        "session": session,
        "gate": gate,
        "run_id": environment.run.id if environment is not None else None,
        "started": started,
        "finished": time.time(),
        "exit_status": exit_status,
        "notes": notes,
        "facts": environment_facts(environment, gate),
    }
    path = results / SESSION_FILE.format(session=session)
    write_redacted(path, json.dumps(record, indent=2, ensure_ascii=False))
    return path


def properties(facts: Mapping[str, str]) -> str:
    """``environment.properties`` text: Allure's metadata."""
    return "".join(f"{key}={_escape(value)}\n" for key, value in facts.items())


def environment_facts(environment: Environment | None, gate: str | None) -> dict[str, str]:
    facts = {"gate": gate or "none (ad hoc run)", "git.commit": git_commit()}
    if environment is not None:
        facts |= {
            "environment": environment.name,
            "service": environment.service.name,
            "version.stable": environment.versions.stable,
            "version.candidate": environment.versions.candidate,
            "run.id": environment.run.id or "none",
        }
        # Every setting changed from the file shows with its source: the reviewer sees what
        # this gate was judged against.
        for o in environment.overrides:
            facts[f"override.{o.key}"] = f"{o.before} → {o.after}, from {o.source}"
    return facts


def git_commit() -> str:
    for variable in ("GITHUB_SHA", "CI_COMMIT_SHA"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True,
            timeout=5, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return done.stdout.strip() or "unknown"


def redact_files(folder: Path, since: float) -> None:
    for path in _written_since(folder, since):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # a PNG or an unreadable file: nothing textual to mask
        masked = _redact_json(text) if path.suffix == ".json" else redact(text)
        if masked != text:
            path.write_text(masked, encoding="utf-8")


def _redact_json(text: str) -> str:
    # Value by value: a pattern run over JSON text could swallow a closing quote.
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return redact(text)
    masked = json.dumps(_redact_values(data), ensure_ascii=False)
    return text if json.loads(masked) == data else masked


def _redact_values(data: Any) -> Any:
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, list):
        return [_redact_values(value) for value in data]
    if isinstance(data, dict):
        return {key: _redact_values(value) for key, value in data.items()}
    return data


def _written_since(folder: Path, since: float) -> Iterator[Path]:
    for path in folder.iterdir():
        if path.is_file() and path.suffix in _TEXT_SUFFIXES and path.stat().st_mtime >= since - 1:
            yield path


def _escape(value: str) -> str:
    # .properties: backslashes and line breaks would end or bend the value.
    return redact(value).replace("\\", "\\\\").replace("\n", " ")
