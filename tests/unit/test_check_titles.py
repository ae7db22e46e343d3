"""Check titles show the thresholds as configured, not as once written: the real SLO check
files run in a temporary project (pytester) with ``--set`` thresholds and ``--alluredir``,
over windows of fake measurements, and the Allure results carry the configured values."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.unit.test_pytest_plugin import project, run  # noqa: F401 - the shared fixture

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]
CHECK_FILES = [
    "checks/slo/test_promoted_analysis.py", "checks/slo/test_shift_analysis.py",
    "checks/load/test_load_profile.py", "checks/monitoring/test_deployment_monitoring.py",
    "checks/monitoring/test_pool_alerts.py",
]
# The SLO windows without Prometheus: every measurement healthy, on a fake clock.
FAKE_WINDOWS = '''\
import pytest

from shiftgate.analysis import slo
from shiftgate.analysis.counts import Counts
from shiftgate.analysis.window import observe


class Clock:
    t = 0.0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


def window(environment, compare):
    target = slo.slo_target(environment, "blue", compare=compare)
    values = {slo.LATENCY: 0.01, slo.POOL: 0.1, slo.STABLE_LATENCY: 0.01}
    looks = []

    def measure():  # 200 healthy requests a look, counted since the first
        looks.append(1)
        n = 200 * (len(looks) - 1)
        return slo.measurement(target, values, Counts(requests=n, errors=0, timed=n, slow=0))

    result = observe(measure, environment.analysis, Clock(), stop=slo.sequential_stop(target))
    return slo.SloWindow(target, result)


@pytest.fixture(scope="module")
def shift_window(environment):
    return window(environment, True)


@pytest.fixture(scope="module")
def promoted_window(environment):
    return window(environment, False)
'''


def names(folder: Path) -> dict[str, str]:
    results = [json.loads(p.read_text()) for p in folder.glob("*-result.json")]
    return {r["fullName"]: r["name"] for r in results}


def test_slo_titles_show_the_configured_thresholds(project: pytest.Pytester) -> None:  # noqa: F811
    slo_dir = project.path / "checks" / "slo"
    slo_dir.mkdir(parents=True)
    for name in ("test_promoted_analysis.py", "test_shift_analysis.py"):
        shutil.copy(ROOT / "checks" / "slo" / name, slo_dir / name)
    (slo_dir / "conftest.py").write_text(FAKE_WINDOWS)
    result = run(
        project, "checks/slo", "--alluredir", "allure", "-p", "allure_pytest",
        "--set", "slo.error_ratio_max=0.02", "--set", "slo.latency_p95_max_ms=250",
        "--set", "analysis.window_s=4", "--set", "analysis.interval_s=1",
        "--set", "analysis.min_samples=3",
    )
    result.assert_outcomes(passed=7)
    titles = names(project.path / "allure")
    assert titles["checks.slo.test_promoted_analysis#test_error_rate"] == (
        "Finalize Deployment: error rate ≤ 2% with all traffic."
    )
    assert titles["checks.slo.test_promoted_analysis#test_latency_p95"] == (
        "Finalize Deployment: p95 latency ≤ 250 ms with all traffic."
    )
    assert titles["checks.slo.test_shift_analysis#test_error_rate"] == (
        "Evaluate Performance: error rate ≤ 2% (else roll back)."
    )
    assert titles["checks.slo.test_shift_analysis#test_latency_p95"] == (
        "Evaluate Performance: p95 latency ≤ 250 ms (else roll back)."
    )
    assert not any("{" in title for title in titles.values()), titles


@pytest.mark.parametrize("path", CHECK_FILES)
def test_no_configurable_threshold_is_written_into_a_check(path: str) -> None:
    """A number next to ≤ or % in a check's words goes stale once configuration changes:
    titles take it from the environment (``{environment.…}``), descriptions name the key."""
    text = (ROOT / path).read_text(encoding="utf-8")
    # {environment.…:.0%} placeholders are filled from configuration: not a literal
    docstrings = [re.sub(r"\{[^}]*\}", "", d) for d in re.findall(r'"""(.*?)"""', text, flags=re.DOTALL)]
    stale = [d for d in docstrings if re.search(r"[≤<>]=? ?[0-9]|[0-9] ?%|[0-9] ?ms\b", d)]
    assert not stale, stale
