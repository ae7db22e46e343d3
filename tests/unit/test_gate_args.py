"""The arguments `shiftgate gate` refuses before pytest starts, read as pytest reads them."""

from __future__ import annotations

import pytest
from _pytest.config import _prepareconfig

from shiftgate.run.gate import GATE_PLUGINS
from shiftgate.run.gate_args import (
    REFUSED,
    VALUE_OPTIONS,
    refused_addopts,
    refused_arguments,
    settings_of,
)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--co"], "'--co'"),
        (["--collect-only"], "'--collect-only'"),
        (["-k", "index"], "'-k index'"),
        (["-kindex"], "'-kindex'"),
        (["--keyword=x"], "'--keyword=x'"),  # no such option: a typo pytest rejects anyway
        (["-m", "critical"], "'-m critical'"),
        (["--deselect", "checks/x.py::t"], "'--deselect checks/x.py::t'"),
        (["--deselect=checks/x.py::t"], "'--deselect=checks/x.py::t'"),
        (["--lf"], "'--lf'"),
        (["--ff"], "'--ff'"),
        (["--sw"], "'--sw'"),
        (["-x"], "'-x'"),
        (["-vx"], "'-vx'"),
        (["--maxfail", "1"], "'--maxfail 1'"),
        (["--maxfail=1"], "'--maxfail=1'"),
        (["checks/database/test_indexes.py"], "'checks/database/test_indexes.py'"),
        (["-v", "checks/x.py::test_y"], "'checks/x.py::test_y'"),
        (["--", "checks/x.py"], "'checks/x.py'"),
        (["-p", "no:shiftgate.pytest_plugin"], "'-p no:shiftgate.pytest_plugin'"),
        (["-pno:shiftgate.pytest_plugin"], "'-pno:shiftgate.pytest_plugin'"),
        (["-p", "some_plugin"], "'-p some_plugin'"),
        (["--version"], "'--version'"),
        (["--help"], "'--help'"),
        (["--setup-plan"], "'--setup-plan'"),
        (["--fixtures"], "'--fixtures'"),
        (["--pdb"], "'--pdb'"),
        (["--gate", "shift"], "'--gate shift'"),
        (["--junitxml", "elsewhere.xml"], "'--junitxml elsewhere.xml'"),
        (["--clean-alluredir"], "'--clean-alluredir'"),
        (["--allure-epics", "x"], "'--allure-epics x'"),
        (["-o", "python_functions=check_*"], "'-o python_functions=check_*'"),
        (["--override-ini=addopts=-k x"], "'-o"),
        (["-c", "other.ini"], "'-c other.ini'"),
        (["--rootdir", "/tmp"], "'--rootdir /tmp'"),
        (["--tx", "ssh=host"], "'--tx ssh=host'"),
    ],
)
def test_refused(args: list[str], named: str) -> None:
    found = refused_arguments(args)
    if args == ["--keyword=x"]:
        assert found == []  # not an option of pytest: it fails there with exit 4 (exit code 2)
        return
    if args == ["--override-ini=addopts=-k x"]:
        assert found and "changes what is collected" in found[0]
        return
    assert found, args
    assert any(named in item for item in found), found


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-v"],
        ["-vv", "-s", "-q", "-rA", "-l"],
        ["--tb", "short"],
        ["--tb=line"],
        ["-n", "2"],
        ["-n2"],
        ["-p", "no:cacheprovider"],
        ["--set", "slo.error_ratio_max=0.02", "--set=run.id=abc"],
        ["--candidate", "2.5.0"],
        ["--env", "sandbox"],
        ["-W", "error"],
        ["-o", "log_cli=true"],
        ["--durations", "5"],
        ["--runxfail"],  # makes xfail markers no-ops: stricter, not looser
        ["--color=yes", "--code-highlight", "no"],
    ],
)
def test_allowed(args: list[str]) -> None:
    assert refused_arguments(args) == []


def test_value_of_an_option_is_not_a_path() -> None:
    # `--set k=v` and `-W error`: the next word is the option's value, not a node id.
    assert refused_arguments(["--set", "versions.candidate=2.5.0", "-W", "ignore"]) == []


def test_pytest_addopts_is_read_the_same_way() -> None:
    assert refused_addopts(None) == []
    assert refused_addopts("-p no:cacheprovider --color=yes") == []
    [found] = refused_addopts("-k index")
    assert found == "'-k index' in PYTEST_ADDOPTS (selects checks)"
    assert "cannot be read" in refused_addopts("-k 'unterminated")[0]


def test_settings_of_keep_the_plugins_order() -> None:
    args = ["-v", "--set", "a.b=1", "--candidate", "2.5.0", "--set=c.d=2"]
    assert settings_of(args) == ["versions.candidate=2.5.0", "a.b=1", "c.d=2"]


def _gate_parser_actions() -> list[tuple[list[str], bool]]:
    """Every option of a gate's pytest (its plugins, no cacheprovider): names, takes a value."""
    config = _prepareconfig([
        "-p", "no:cacheprovider", "--disable-plugin-autoload",
        *(arg for plugin in GATE_PLUGINS for arg in ("-p", plugin)),
        "-p", "shiftgate.pytest_plugin",
    ])
    try:
        actions = config._parser.optparser._actions  # type: ignore[union-attr]
        return [(list(a.option_strings), a.nargs != 0) for a in actions if a.option_strings]
    finally:
        config._ensure_unconfigure()


def test_value_options_match_pytests_own_parser() -> None:
    """The hand table is checked against pytest: an option pytest (or a plugin) adds or
    changes cannot turn its value into a "path" or a path into its value unnoticed."""
    for names, takes_value in _gate_parser_actions():
        for name in names:
            assert (name in VALUE_OPTIONS) is takes_value, name


def test_refused_options_exist_in_pytest_or_are_known_extras() -> None:
    known = {name for names, _ in _gate_parser_actions() for name in names}
    # cacheprovider's are off in a gate run, looponfail is xdist's (older versions).
    extras = {"--lf", "--last-failed", "--lfnf", "--last-failed-no-failures", "--ff",
              "--failed-first", "--nf", "--new-first", "--sw", "--stepwise", "--sw-skip",
              "--stepwise-skip", "--sw-reset", "--stepwise-reset", "--cache-show", "-f",
              "--looponfail", "--distload"}
    assert set(REFUSED) - known <= extras
