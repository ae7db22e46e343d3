"""The HTML report in a real browser: a reviewer sees the preflight gate's checks and, for the
failed index check, its threshold, measured value and attachments.

Runs the real preflight gate against the sandbox in its incident state and `shiftgate report`
(both through the CLI, writing to the project's ``reports/`` as ``make demo`` does), serves
``reports/html`` on a free loopback port and drives Debian's headless Chromium with
Playwright (``executable_path``; Playwright's own browser download is never used). Leaves
``reports/screenshots/preflight-index.png`` (the check's overview: verdict, threshold,
measured) and ``preflight-index-attachments.png`` (its evidence opened).
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shiftgate.config.paths import project_root, reports_dir

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a closed network and a root user (see the machine notes): no sandbox, no GPU, no
# background connections that would only be refused.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INDEX_CHECK = "Every index the candidate needs exists"
TIMEOUT_MS = 20_000


def _need(condition: bool, reason: str) -> None:
    # In CI the browser test must run: a missing browser is a failure there, a skip elsewhere.
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI runs the browser test: `make system` installs it)")
        pytest.skip(reason)


def _shiftgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shiftgate.cli", *args], cwd=project_root(),
        capture_output=True, text=True, timeout=300, check=False,
    )


@pytest.fixture(scope="module")
def html_report(sandbox: dict[str, Any]) -> Path:
    _need(CHROMIUM.exists(), f"{CHROMIUM} missing: apt-get install chromium")
    gate = _shiftgate("gate", "preflight", "--env", "sandbox", "--candidate", "2.5.0", "-q")
    assert gate.returncode == 1, gate.stdout[-3000:] + gate.stderr[-2000:]
    report = _shiftgate("report")
    assert report.returncode == 0, report.stdout + report.stderr
    html = reports_dir() / "html"
    assert (html / "index.html").is_file()
    summary = (reports_dir() / "summary.md").read_text(encoding="utf-8")
    assert "## Gate `preflight`: ❌ blocked" in summary
    assert INDEX_CHECK in summary
    return html


@pytest.fixture(scope="module")
def served(html_report: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet: no request log
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_report))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        tab = browser.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(served)
        tab.wait_for_load_state("networkidle")
        yield tab
        browser.close()


def test_preflight_checks_listed(page: Any) -> None:
    page.get_by_text(INDEX_CHECK).first.wait_for()
    body = page.inner_text("body")
    assert "preflight" in body
    for check in (
        "max_connections holds both colors' pools at their peak",
        INDEX_CHECK,
        "Every critical query of the candidate reads large tables through an index",
    ):
        assert check in body, f"{check!r} not listed in the report"
    # environment.properties reached the report's metadata
    assert "version.candidate" in body and "2.5.0" in body


def test_failed_index_check_shows_its_evidence(page: Any) -> None:
    screenshots = reports_dir() / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.get_by_text(INDEX_CHECK).first.click()
    page.get_by_text("Parameters").first.wait_for()
    body = page.inner_text("body")
    assert "Failed" in body
    assert "Category: Product regressions" in body
    assert "threshold" in body and "an index leading with (user_segment)" in body
    assert "measured" in body and "no usable index leading with (user_segment)" in body
    assert "runbook: Pre-Deployment Checklist › Database" in body
    page.screenshot(path=str(screenshots / "preflight-index.png"))

    page.get_by_text("Attachments", exact=False).first.click()
    page.get_by_text("verdict", exact=True).first.click()  # open the verdict attachment
    page.get_by_text("threshold: an index leading with (user_segment)").first.wait_for()
    body = page.inner_text("body")
    assert ": SQL" in body and ": rows" in body, "the SQL and rows attachments are listed"
    page.screenshot(path=str(screenshots / "preflight-index-attachments.png"))
