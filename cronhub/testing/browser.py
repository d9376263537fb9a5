"""Headless Debian Chromium (driven by Playwright) for the admin's browser tests (marker
``browser``), and where their screenshots go.

Screenshots are test artefacts: ``test-artifacts/screenshots/`` (ignored by git), or the
folder ``CRONHUB_SCREENSHOTS_DIR`` names. No browser is ever downloaded: the tests are
skipped, with the reason, when /usr/bin/chromium is missing (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000
ROOT = Path(__file__).resolve().parents[2]

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)",
)


def screenshots_dir() -> Path:
    folder = Path(os.environ.get("CRONHUB_SCREENSHOTS_DIR") or ROOT / "test-artifacts" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def chromium_context(monkeypatch, *, locale: str = "en-US") -> Iterator:
    """A browser context (open pages with ``new_page()``); it closes before the live server
    stops, so the server's request threads end (and release their connections) first."""
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM
    # calls are still plain synchronous code, so Django's async guard must stand down.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=locale)
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            browser.close()
            # The test's ORM calls ran inside Playwright's greenlet, whose connection
            # Django does not see as this thread's: close it, or the test database
            # cannot be dropped on PostgreSQL.
            connections.close_all()


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base_url}/admin/")
