"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, and a real lineage service.

The service is ``lineage-audit serve`` in a subprocess on a free port and a fresh SQLite file, holding
the events the pipeline run emitted for two jobs, ``customers`` and ``orders`` (one service per test
module: a module may post more events without changing what another module sees, or serve other events
with ``serve_events``, as the pipeline view's tests serve every job's). The tests read
the UI through its DOM contract (``data-testid`` and ``data-*`` attributes, see lineage_audit/web).

Chromium missing: the tests skip. The UI not built: they fail, saying how to build it.
Screenshots go to ``$LINEAGE_AUDIT_SCREENSHOTS`` when set (``make screenshots``), else to a temporary
directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lineage_audit.config import PROJECT_ROOT
from tests.web.events import two_job_events
from tests.web.live_service import LiveService, serve_events
from tests.web.ui import open_page

CHROMIUM = Path("/usr/bin/chromium")
UI_INDEX = PROJECT_ROOT / "lineage_audit" / "web" / "dist" / "index.html"


@pytest.fixture(scope="session")
def ui_built(browser) -> None:
    """Asked after the browser, so that a machine without Chromium skips rather than fails."""
    if not UI_INDEX.is_file():
        pytest.fail(f"the web UI is not built ({UI_INDEX.relative_to(PROJECT_ROOT)} is missing): run `make ui`")


@pytest.fixture(scope="module")
def service(ui_built, pipeline_events, tmp_path_factory) -> LiveService:
    """A live service (UI at ``service.url``) holding the events of the customers and orders jobs."""
    yield from serve_events(tmp_path_factory, two_job_events(pipeline_events))


@pytest.fixture(scope="module")
def post(service):
    """Post more events to the module's service: ``post(events)``."""
    return service.post


# -- the browser ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=15_000)  # a shared 2-core machine: generous, never a timing assert
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, service):
    """A fresh page on the module's service; the test fails if the page opens a dialog or has an uncaught
    script error."""
    with open_page(browser, service.url) as page:
        yield page


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    chosen = os.environ.get("LINEAGE_AUDIT_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def screenshot(screenshot_dir):
    """``screenshot(page, "overview")`` saves ``overview.png`` of the viewport (``full_page=True``: the whole
    page)."""
    def save(page, name: str, full_page: bool = False) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path
    return save
