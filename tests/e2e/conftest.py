"""Journeys in a real headless Chromium against a real ``engage serve``.

Each journey starts the server on an empty SQLite database, as JOURNEYS.md
says. Chromium is Debian's (/usr/bin/chromium): when it is missing the
journeys fail, they never skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support import Server

CHROMIUM = os.environ.get("ENGAGE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path / "serve")
    yield srv
    srv.stop()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Server]:
    """``engage demo``: the demo consortium, for the journeys J3 to J6."""
    srv = Server(tmp_path / "demo", command="demo")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the journeys and is missing at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _is_bug(kind: str, text: str) -> bool:
    # A 4xx answer to a form (e.g. 422 for a wrong password) is expected; Chromium logs it.
    expected = text.startswith("Failed to load resource: the server responded with a status of 4")
    return kind == "error" and not expected


@pytest.fixture
def new_page(browser: Browser) -> Iterator:  # type: ignore[type-arg]
    """Pages in fresh browser contexts (a fresh set of cookies each), closed at the end."""
    contexts = []
    errors: list[str] = []

    def make(locale: str = "en-GB") -> Page:
        context = browser.new_context(locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # A CSP violation or a script error is a bug the user would hit.
        page.on("console", lambda m: errors.append(m.text) if _is_bug(m.type, m.text) else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"browser console errors: {errors}"
