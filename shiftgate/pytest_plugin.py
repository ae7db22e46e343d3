"""pytest wiring for ``checks/``: options, fixtures, gate selection, fail-closed rule, labels.

The only engine module that imports pytest (docs/architecture.md rule 8). Like pytest-testinfra's
plugin, it turns options into fixtures and leaves the logic to the engine: environments come
from ``shiftgate.config.loader``, gate files from ``shiftgate.config.gates``.

- ``--env NAME`` (default ``$SHIFTGATE_ENV``, else ``sandbox``), ``--set key.path=value``
  (repeatable) and ``--candidate VERSION`` feed the session fixture ``environment``.
- ``--gate NAME`` runs the checks of ``gates/NAME.yaml``, all of them and only them. Inside
  a gate run (docs/architecture.md rule 1):
  - options that select, deselect or only collect checks, stop early or name paths are a
    usage error (the verdict covers the whole gate; plain pytest is for subsets);
  - a skipped check fails (unless the gate marks it optional); xfail and xpass fail with
    their reason, optional or not;
  - every entry of the gate file must yield at least one check that ran, or the gate fails
    naming the entry (a renamed test does not silently drop out); a gate that collects no
    check fails with exit status 1.
  Outside a gate run, skips stay skips.
- An unreachable source (``SourceUnavailable``) is a failed check whatever its markers.
- A bad environment or gate file is a ``pytest.UsageError``: exit status 4, one line, no
  traceback; ``shiftgate gate`` maps that to exit code 2.

State lives in ``config.stash`` and ``item.stash``, never in module globals.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

import allure
import pytest
from allure_commons.types import LabelType, Severity

from shiftgate import steps
from shiftgate.config.gates import (
    GateDefinition,
    entries_covering,
    load_gate,
    match_item,
    required_in,
)
from shiftgate.config.loader import load_environment
from shiftgate.config.models import Environment
from shiftgate.config.paths import project_root
from shiftgate.errors import ConfigError, SourceUnavailable
from shiftgate.redact import redact
from shiftgate.report import allure as conventions
from shiftgate.report.allure_redaction import install_allure_redaction
from shiftgate.report.evidence import attach_evidence
from shiftgate.report.junit import redact_junit
from shiftgate.run.gate_args import REFUSED_INI
from shiftgate.run.group import on_parent_death_kill_group
from shiftgate.verdict import Fault, Verdict

DEFAULT_ENV = "sandbox"
AD_HOC_EPIC = "ad hoc"
# allure's public decorator factory, typed here once: allure ships without annotations.
_allure_label: Callable[..., object] = allure.label


@dataclass
class _State:
    env_name: str
    overrides: list[str]
    gate: GateDefinition | None = None
    environment: Environment | None = None
    fail_closed_notes: list[str] = field(default_factory=list)
    ran: set[int] = field(default_factory=set)  # gate entries that yielded a check that ran
    session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # Allure: which run
    started: float = field(default_factory=time.time)


_STATE = pytest.StashKey[_State]()
_GATE = pytest.StashKey[GateDefinition]()  # the gate file, as read before the conftests
_OPTIONAL = pytest.StashKey[bool]()  # set on items a gate selected: may this check skip?
_FAULT = pytest.StashKey[Fault | None]()  # why a check failed, for Allure categories
_DESCRIPTION = pytest.StashKey[str]()  # the Allure description before fixtures fill it in
_SESSION_KEY = "shiftgate_session"  # xdist workerinput: the controller's session id
# Options that run part of a gate, by their dest in pytest's namespace (and the flag shown).
_PARTIAL_OPTIONS = {
    "keyword": "-k", "markexpr": "-m", "deselect": "--deselect", "ignore": "--ignore",
    "ignore_glob": "--ignore-glob", "lf": "--lf", "failedfirst": "--ff", "newfirst": "--nf",
    "stepwise": "--sw", "stepwise_skip": "--sw-skip", "collectonly": "--collect-only",
    "setuponly": "--setup-only", "setupplan": "--setup-plan", "showfixtures": "--fixtures",
    "show_fixtures_per_test": "--fixtures-per-test", "markers": "--markers",
    "maxfail": "--maxfail/-x", "usepdb": "--pdb", "trace": "--trace", "pyargs": "--pyargs",
    "noconftest": "--noconftest", "looponfail": "--looponfail",
    "rsyncdir": "--rsyncdir", "inversion": "--inversion",
    "allure_severities": "--allure-severities", "allure_epics": "--allure-epics",
    "allure_features": "--allure-features", "allure_stories": "--allure-stories",
    "allure_ids": "--allure-ids", "allure_labels": "--allure-label",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shiftgate", "shiftgate deployment gates")
    group.addoption(
        "--env",
        dest="shiftgate_env",
        default=None,
        metavar="NAME",
        help=f"environment file (environments/NAME.yaml or a path); "
        f"default: $SHIFTGATE_ENV, else {DEFAULT_ENV}",
    )
    group.addoption(
        "--gate", dest="shiftgate_gate", default=None, metavar="NAME",
        help="run the checks of gates/NAME.yaml only; skipped checks fail the gate",
    )
    group.addoption(
        "--set", dest="shiftgate_set", action="append", default=[], metavar="KEY.PATH=VALUE",
        help="override one environment setting (repeatable; beats the file and SHIFTGATE_* vars)",
    )
    group.addoption(
        "--candidate", dest="shiftgate_candidate", default=None, metavar="VERSION",
        help="shorthand for --set versions.candidate=VERSION",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """A gate run starts from its own checks' folders, not from ``testpaths``.

    pytest loads the conftests of its initial paths before any ``pytest_configure``; with no
    path given those are ``testpaths`` (a repository's test suite, its fixtures and hooks) —
    code the gate does not run, paid for by every gate's start-up. The gate file's paths
    replace them here; a gate file that does not load is left to ``pytest_configure``, which
    reports it."""
    namespace = early_config.known_args_namespace
    gate_name = getattr(namespace, "shiftgate_gate", None)
    if not gate_name or namespace.file_or_dir:
        return  # not a gate, or paths named (which pytest_configure refuses)
    try:
        gate = load_gate(gate_name)
    except ConfigError:
        return
    early_config.stash[_GATE] = gate  # read once: pytest_configure takes it from here
    root = project_root()
    namespace.file_or_dir = [str(root / check.path) for check in gate.checks]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "critical: a check whose failure is critical (Allure)")
    config.addinivalue_line(
        "markers", "checklist(item): the runbook checklist item a check proves (Allure story)"
    )
    candidate = config.getoption("shiftgate_candidate")
    # --set comes after the shorthand so an explicit --set versions.candidate wins.
    overrides = [f"versions.candidate={candidate}"] if candidate else []
    overrides += config.getoption("shiftgate_set")
    env_name = config.getoption("shiftgate_env") or os.environ.get("SHIFTGATE_ENV") or DEFAULT_ENV
    state = _State(env_name=env_name, overrides=overrides)
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get(_SESSION_KEY):
        state.session = str(workerinput[_SESSION_KEY])  # xdist: one gate run, one session
    config.stash[_STATE] = state
    if _allure_dir(config):
        steps.install(conventions.allure_step)  # a report step per probe call

    gate_name = config.getoption("shiftgate_gate")
    if not gate_name:
        return
    worker = hasattr(config, "workerinput")  # an xdist worker: its controller checked all this
    if not worker:
        on_parent_death_kill_group()  # no orphan keeps measuring once its runner is gone
        _refuse_partial_runs(config, gate_name)
    try:
        state.gate = config.stash.get(_GATE, None) or load_gate(gate_name)
    except ConfigError as err:
        raise pytest.UsageError(redact(str(err))) from None
    # A bad config must stop a gate before any check runs, even if no check uses it.
    _environment(config)
    # A check file that cannot be collected is a failed check of the gate (exit 1),
    # not an interrupted session.
    config.option.continue_on_collection_errors = True
    # The gate file says what to collect, on xdist's workers too (they get the invocation's
    # arguments, which name no path: the controller refused any).
    root = project_root()
    config.args[:] = [str(root / check.path) for check in state.gate.checks]
    if not worker:
        config.pluginmanager.register(_EntryTracker(config, state), "shiftgate-gate-entries")


class _EntryTracker:
    """Which entries of the gate file yielded a check that ran: every one must.

    A report hook, so it works on the xdist controller too, which collects nothing itself
    but sees every report."""

    def __init__(self, config: pytest.Config, state: _State) -> None:
        self.config = config
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ran = report.when == "call" or (report.when == "setup" and not report.passed)
        if ran and self.state.gate is not None:
            path, sep, rest = report.nodeid.partition("::")
            item_id = _relative(self.config.rootpath / path) + sep + rest
            self.state.ran.update(entries_covering(self.state.gate, item_id))


def _refuse_partial_runs(config: pytest.Config, gate: str) -> None:
    """The verdict covers the whole gate: options that run part of it are a usage error.

    Read from pytest's own parsed options, so ini ``addopts`` and ``PYTEST_ADDOPTS`` are seen
    as surely as the command line."""
    refused = [flag for dest, flag in _PARTIAL_OPTIONS.items()
               if getattr(config.option, dest, None)]
    # junit_suite_name: `shiftgate gate` sets it to the gate's name (and refuses another).
    refused += [f"-o {value}" for value in config.getoption("override_ini") or ()
                if value.split("=", 1)[0].strip() in REFUSED_INI - {"junit_suite_name"}]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        refused += [f"path {arg}" for arg in config.args]
    if refused:
        raise pytest.UsageError(
            f"gate {gate} runs whole: refused {', '.join(refused)} (they select, deselect, "
            "only collect or stop early); run plain `pytest checks/...` for a subset"
        )


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: object) -> None:
    """xdist's controller, per worker: the workers label their results with its session."""
    state = node.config.stash[_STATE]  # type: ignore[attr-defined]
    node.workerinput[_SESSION_KEY] = state.session  # type: ignore[attr-defined]


def pytest_report_header(config: pytest.Config) -> str:
    state = config.stash[_STATE]
    gate = f"gate {state.gate.name}" if state.gate else "no gate (skips stay skips)"
    return f"shiftgate: env {state.env_name}, {gate}"


@pytest.fixture(scope="session")
def environment(pytestconfig: pytest.Config) -> Environment:
    """The validated environment of ``--env``, with ``--set``/``--candidate`` applied."""
    return _environment(pytestconfig)


Expect = Callable[[Verdict], None]


@pytest.fixture
def expect(request: pytest.FixtureRequest) -> Expect:
    """``expect(verdict)``: attach the verdict's evidence to Allure, then assert it."""

    def check(verdict: Verdict) -> None:
        __tracebackhide__ = True
        status = verdict.status
        request.node.stash[_FAULT] = verdict.fault if status == "failed" else None
        attach_evidence(verdict)
        conventions.record_verdict(verdict)
        if status != "passed":
            # Not judged fails too (fail closed: a gate never passes on a check it did not
            # judge), tagged so that reports show it as not judged, not as a fault of its own.
            pytest.fail(conventions.failure_message(verdict), pytrace=False)

    return check


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[_STATE]
    if state.gate is not None:
        selected: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for item in items:
            match = match_item(state.gate, _item_id(item))
            if match.selected:
                item.stash[_OPTIONAL] = match.optional
                selected.append(item)
            else:
                deselected.append(item)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = selected
    for item in items:
        if state.gate is not None or _area(item) is not None:
            _add_allure_labels(item, state.gate)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[_STATE]
    if _allure_dir(item.config) and (state.gate is not None or _area(item) is not None):
        conventions.start_check(state.environment, state.session)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # Fixtures are set up now: fill the description's placeholders as allure-pytest
    # fills the title's (``{environment.slo.error_ratio_max:.0%}``).
    state = item.config.stash[_STATE]
    func = getattr(item, "obj", None)
    if _allure_dir(item.config) and callable(func) and (
        state.gate is not None or _area(item) is not None
    ):
        module_doc = getattr(getattr(item, "module", None), "__doc__", None)
        conventions.describe(func, module_doc, _area(item), getattr(item, "funcargs", {}))


def pytest_collection_finish(session: pytest.Session) -> None:
    if any("environment" in getattr(item, "fixturenames", ()) for item in session.items):
        # Plain `pytest checks/...` runs: fail with a usage error now rather than
        # erroring every check that asks for the environment.
        _environment(session.config)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Plain wrapper on purpose: it runs outside pytest's skipping wrapper (registered first),
    # so xfail is already a skip here, and inside Allure's listener (registered at configure
    # time), so Allure records the rewritten outcome; JUnit reads it at logreport time.
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(SourceUnavailable):
        # An unreachable source is a failed check with its reason, not a traceback, and
        # whatever its markers: an xfail must not turn "database down" into "as expected".
        item.stash[_FAULT] = "infrastructure"
        report.outcome = "failed"
        report.longrepr = redact(f"{item.name}: {call.excinfo.value} (the check fails closed)")
        if hasattr(report, "wasxfail"):
            del report.wasxfail  # else reporters count it as xfailed and the run passes
        return report
    state = item.config.stash[_STATE]
    if state.gate is None:
        return report
    if hasattr(report, "wasxfail") and report.passed:
        # xpass: a check marked as expected to fail passed; inside a gate a marker never
        # decides the verdict, so it fails, optional or not.
        report.outcome = "failed"
        report.longrepr = _marker_message(state.gate.name, "xpass", report.wasxfail)
        del report.wasxfail
        return report
    if hasattr(report, "wasxfail") and report.skipped:
        report.outcome = "failed"  # xfail: the check failed; a marker does not excuse it
        report.longrepr = _marker_message(state.gate.name, "xfail", report.wasxfail)
        del report.wasxfail
        return report
    if not report.skipped or item.stash.get(_OPTIONAL, False):
        return report
    report.outcome = "failed"
    report.longrepr = _fail_closed_message(state.gate.name, _skip_reason(report))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    # A module-level skip (importorskip, allow_module_level) leaves no item to rewrite:
    # fail the file's collection instead when it holds a required check of the gate.
    report = yield
    state = collector.config.stash[_STATE]
    if state.gate is None or not report.skipped or not isinstance(collector, pytest.File):
        return report
    if required_in(state.gate, _relative(collector.path)):
        report.outcome = "failed"
        report.longrepr = _fail_closed_message(state.gate.name, _skip_reason(report))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[_STATE]
    results = _allure_dir(session.config)
    if results:
        gate = state.gate.name if state.gate else None
        conventions.finish_session(Path(results), state.environment, gate, state.started)
    # Exit status 5 is pytest's own "zero tests selected"; also right under xdist, whose
    # controller collects nothing itself.
    if state.gate is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        listed = len(state.gate.checks)
        why = (
            f"none of the {listed} listed in gates/{state.gate.name}.yaml was selected"
            if listed
            else f"gates/{state.gate.name}.yaml lists none yet"
        )
        state.fail_closed_notes.append(
            f"gate {state.gate.name} collected no checks: {why}; a gate fails closed"
        )
    if (
        state.gate is not None
        and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
        and not hasattr(session.config, "workerinput")
    ):
        _fail_silent_entries(session, state, state.gate)
    if results and not hasattr(session.config, "workerinput"):
        # The exit status is final now: a run's report shows each gate's real verdict.
        conventions.write_session(
            Path(results), state.session, state.environment,
            state.gate.name if state.gate else None, state.started, int(session.exitstatus),
            state.fail_closed_notes,
        )


def _fail_silent_entries(session: pytest.Session, state: _State, gate: GateDefinition) -> None:
    """Each entry of the gate file without a check that ran fails the gate, by name.

    Reported as a failed check of its own, so JUnit, the terminal and the runner's summary
    all show which entry fell silent, not only the exit status."""
    for index, check in enumerate(gate.checks):
        if index in state.ran:
            continue
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        key = f"checks.{index}.path"
        message = (
            f"gate {gate.name}: {check.path} ({key} in gates/{gate.name}.yaml) yielded no check "
            "that ran — a test renamed or removed, or its file failed to collect; a gate fails "
            "closed"
        )
        state.fail_closed_notes.append(message)
        location = (f"gates/{gate.name}.yaml", None, key)
        nodeid = f"gates/{gate.name}.yaml::{key}"
        for report in (
            pytest.TestReport(nodeid, location, {}, "failed", message, "call"),
            pytest.TestReport(nodeid, location, {}, "passed", None, "teardown"),
        ):
            session.config.hook.pytest_runtest_logreport(report=report)


def pytest_sessionstart(session: pytest.Session) -> None:
    # rule 6: results and attachments are masked as they are written; a not-judged check is
    # written with Allure's status "unknown" (pytest has no word for it).
    install_allure_redaction(conventions.result_status)


def pytest_unconfigure(config: pytest.Config) -> None:
    steps.install(None)
    xml = getattr(config.option, "xmlpath", None)  # pytest's --junitxml, written by now
    if xml:
        redact_junit(Path(xml))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for note in terminalreporter.config.stash[_STATE].fail_closed_notes:
        terminalreporter.write_line(note, red=True, bold=True)


def _environment(config: pytest.Config) -> Environment:
    state = config.stash[_STATE]
    if state.environment is None:
        try:
            state.environment = load_environment(state.env_name, overrides=state.overrides)
        except ConfigError as err:
            raise pytest.UsageError(redact(str(err))) from None
    return state.environment


def _allure_dir(config: pytest.Config) -> str | None:
    value = config.getoption("allure_report_dir", None)  # allure-pytest's --alluredir
    return str(value) if value else None


def _relative(path: Path) -> str:
    """A path as gate files spell it: relative to the project root, with slashes."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(project_root()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _item_id(item: pytest.Item) -> str:
    _, sep, rest = item.nodeid.partition("::")
    return _relative(item.path) + sep + rest


def _area(item: pytest.Item) -> str | None:
    """The folder under ``checks/`` (database, monitoring, load, rollout, slo)."""
    parts = _relative(item.path).split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "checks" else None


def _add_allure_labels(item: pytest.Item, gate: GateDefinition | None) -> None:
    labels = [(LabelType.EPIC, gate.name if gate else AD_HOC_EPIC)]
    area = _area(item)
    if area:
        labels.append((LabelType.FEATURE, area))
    checklist = item.get_closest_marker("checklist")
    if checklist and checklist.args:
        labels.append((LabelType.STORY, str(checklist.args[0])))
    if item.get_closest_marker("critical"):
        labels.append((LabelType.SEVERITY, Severity.CRITICAL))
    marks = [_allure_label(label_type, value) for label_type, value in labels]
    func = getattr(item, "obj", None)
    if callable(func):  # title, description and runbook link
        module_doc = getattr(getattr(item, "module", None), "__doc__", None)
        marks += conventions.collection_marks(func, module_doc, area)
    for mark in marks:
        # Without allure-pytest active, allure's decorators are no-op functions, not marks.
        if isinstance(mark, pytest.MarkDecorator):
            item.add_marker(mark)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail or 'no reason given'}"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _marker_message(gate: str, kind: str, reason: str) -> str:
    return (
        f"{kind} inside gate '{gate}': {reason or 'no reason given'} — inside a gate an "
        "expected failure is a failure; remove the xfail marker, or fix the check"
    )


def _fail_closed_message(gate: str, reason: str) -> str:
    return (
        f"skipped inside gate '{gate}': {reason} — a gate fails closed; "
        f"mark the check optional in gates/{gate}.yaml if that is intended"
    )
