"""Which pytest arguments a gate run refuses: the verdict must cover the whole gate.

``shiftgate gate NAME`` passes extra arguments to pytest (``-v``, ``--tb=short``, ``-n 2``).
Arguments that select, deselect or only collect checks, stop the run early, or change what
pytest collects would turn "the gate passed" into "a subset passed" (issue 13): they are
refused with exit code 2 naming them, before pytest starts. Engineers keep plain
``pytest checks/...`` for subsets. ``PYTEST_ADDOPTS`` is read the same way: it reaches the
pytest of a gate as surely as the command line does.

The pytest plugin refuses the same options again from pytest's own parsed values (it sees ini
``addopts`` too); this early check exists because some of them (``--version``, ``--help``)
end pytest before any plugin is configured, and to name the argument as it was typed.

Tokens are read the way pytest's argparse reads them (abbreviations are off in pytest):
``--opt``, ``--opt=value``, ``--opt value`` for options that take a value, and clusters of
short flags (``-xv``, ``-kexpr``). A word that is no option's value is a path or node id.
``tests/unit/test_gate_args.py`` checks :data:`VALUE_OPTIONS` against pytest's real parser.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence

REFUSED: dict[str, str] = {
    # selects or deselects checks
    "-k": "selects checks", "-m": "selects checks", "--deselect": "deselects checks",
    "--ignore": "deselects checks", "--ignore-glob": "deselects checks",
    "--lf": "selects checks", "--last-failed": "selects checks",
    "--lfnf": "selects checks", "--last-failed-no-failures": "selects checks",
    "--ff": "reorders by the cache", "--failed-first": "reorders by the cache",
    "--nf": "reorders by the cache", "--new-first": "reorders by the cache",
    "--sw": "stops early", "--stepwise": "stops early", "--sw-skip": "stops early",
    "--stepwise-skip": "stops early", "--sw-reset": "stops early", "--stepwise-reset": "stops early",
    "--pyargs": "changes what is collected",
    "--allure-severities": "selects checks", "--allure-epics": "selects checks",
    "--allure-features": "selects checks", "--allure-stories": "selects checks",
    "--allure-ids": "selects checks", "--allure-label": "selects checks",
    "--inversion": "selects checks",
    "--gate": "names another gate",
    # stops the run early
    "-x": "stops at the first failure", "--exitfirst": "stops at the first failure",
    "--maxfail": "stops early",
    "-f": "loops instead of judging", "--looponfail": "loops instead of judging",
    # runs no check at all
    "--co": "only collects", "--collect-only": "only collects", "--collectonly": "only collects",
    "--setup-only": "runs no check", "--setuponly": "runs no check",
    "--setup-plan": "runs no check", "--setupplan": "runs no check",
    "--fixtures": "runs no check", "--funcargs": "runs no check",
    "--fixtures-per-test": "runs no check", "--markers": "runs no check",
    "--cache-show": "runs no check", "--version": "runs no check", "-V": "runs no check",
    "--help": "runs no check", "-h": "runs no check",
    # waits for a person at a terminal
    "--pdb": "waits for a person", "--trace": "waits for a person", "--pdbcls": "waits for a person",
    # changes which plugins, conftests or configuration decide the run
    "-p": "loads or blocks a plugin", "-c": "replaces the configuration",
    "--config-file": "replaces the configuration", "--rootdir": "replaces the configuration",
    "--confcutdir": "hides conftests", "--noconftest": "hides conftests",
    # where the run happens and where its evidence goes
    "--tx": "runs elsewhere", "--px": "runs elsewhere", "-d": "runs elsewhere",
    "--distload": "runs elsewhere", "--rsyncdir": "runs elsewhere",
    "--rsyncignore": "runs elsewhere",
    "--junitxml": "moves the gate's evidence", "--junit-xml": "moves the gate's evidence",
    "--alluredir": "moves the gate's evidence", "--clean-alluredir": "deletes other evidence",
}
"""Option → why a gate refuses it."""

REFUSED_INI = {
    "addopts", "python_files", "python_classes", "python_functions", "testpaths",
    "norecursedirs", "collect_imported_tests", "required_plugins", "junit_suite_name",
}
"""Ini keys a ``-o``/``--override-ini`` may not set in a gate: they change what is collected."""

VALUE_OPTIONS = frozenset({
    "-W", "-c", "-k", "-m", "-n", "-o", "-p", "-r",
    "--allure-epics", "--allure-features", "--allure-ids", "--allure-label",
    "--allure-link-pattern", "--allure-severities", "--allure-stories", "--alluredir",
    "--assert", "--basetemp", "--cache-show", "--candidate", "--capture", "--code-highlight",
    "--color", "--confcutdir", "--config-file", "--debug", "--deselect", "--dist",
    "--doctest-glob", "--doctest-report", "--durations", "--durations-min", "--env", "--gate",
    "--ignore", "--ignore-glob", "--import-mode", "--inversion", "--junit-prefix",
    "--junit-xml", "--junitprefix", "--junitxml", "--last-failed-no-failures", "--lfnf",
    "--log-auto-indent", "--log-cli-date-format", "--log-cli-format", "--log-cli-level",
    "--log-date-format", "--log-disable", "--log-file", "--log-file-date-format",
    "--log-file-format", "--log-file-level", "--log-file-mode", "--log-format", "--log-level",
    "--max-warnings", "--max-worker-restart", "--maxfail", "--maxprocesses", "--maxschedchunk",
    "--numprocesses", "--override-ini", "--pastebin", "--pdbcls", "--px", "--pythonwarnings",
    "--report-chars", "--rootdir", "--rsyncdir", "--rsyncignore", "--set", "--show-capture",
    "--tb", "--testrunuid", "--tx", "--verbosity",
})
"""pytest options of a gate run that take a value (the next word, or after ``=``)."""

_SHORT_VALUE = {option[1] for option in VALUE_OPTIONS if len(option) == 2}


def refused_arguments(args: Sequence[str], origin: str = "") -> list[str]:
    """Each refused argument as ``'token' (why)``; an empty list when the run covers the gate."""
    found: list[str] = []
    words = iter(args)
    for word in words:
        if word == "--":  # everything after it is a path
            found += [_name(rest, "a path or node id: selects checks", origin) for rest in words]
            break
        if word.startswith("--"):
            option, has_value, value = word.partition("=")
            if option in VALUE_OPTIONS and not has_value:
                value = next(words, "")
            found += _judge(option, value, word, origin)
        elif word.startswith("-") and len(word) > 1:
            found += _short_cluster(word, words, origin)
        else:
            found.append(_name(word, "a path or node id: selects checks", origin))
    return found


def refused_addopts(addopts: str | None) -> list[str]:
    """The same check for ``PYTEST_ADDOPTS`` (pytest prepends it to the command line)."""
    if not addopts:
        return []
    try:
        words = shlex.split(addopts)
    except ValueError:
        return [f"PYTEST_ADDOPTS={addopts!r} (cannot be read as arguments)"]
    return refused_arguments(words, origin="PYTEST_ADDOPTS")


def settings_of(args: Sequence[str]) -> list[str]:
    """The ``--set KEY=VALUE`` and ``--candidate V`` of gate arguments, as loader overrides,
    in the plugin's order (``--candidate`` first, so an explicit ``--set`` wins)."""
    candidate: list[str] = []
    settings: list[str] = []
    words = iter(args)
    for word in words:
        option, has_value, value = word.partition("=")
        if option in ("--set", "--candidate"):
            value = value if has_value else next(words, "")
            if option == "--set":
                settings.append(value)
            else:
                candidate = [f"versions.candidate={value}"]
    return candidate + settings


def _short_cluster(word: str, words: Iterable[str], origin: str) -> list[str]:
    found: list[str] = []
    for index, flag in enumerate(word[1:], start=1):
        option = f"-{flag}"
        if flag in _SHORT_VALUE:
            value = word[index + 1:] or next(iter(words), "")
            return found + _judge(option, value, word, origin)
        found += _judge(option, "", word, origin)
    return found


def _judge(option: str, value: str, word: str, origin: str) -> list[str]:
    if option in REFUSED:
        if option == "-p" and value == "no:cacheprovider":
            return []  # what a gate run sets anyway
        shown = word if value in word or not value else f"{word} {value}"
        return [_name(shown, REFUSED[option], origin)]
    if option in ("-o", "--override-ini"):
        key = value.split("=", 1)[0].strip()
        if key in REFUSED_INI:
            return [_name(f"{option} {value}", "changes what is collected", origin)]
    return []


def _name(token: str, why: str, origin: str) -> str:
    where = f" in {origin}" if origin else ""
    return f"{token!r}{where} ({why})"
