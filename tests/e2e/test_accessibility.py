"""Accessibility of every page the journeys reach, measured by axe-core in real Chromium.

axe-core is pinned by npm in tests/axe (package-lock.json) and injected into each page
with Playwright. Each person of the demo (coordinator, partner, mentor, administrator and
someone signed out) walks the site from the home page, following its links, one page per
route; each page is checked at 1280 px and at 390 px, in English and in Polish, against
WCAG 2.1 A/AA and the target-size rule: no critical and no serious violation. At 1280 px
no page may be wider than the window. A missing axe-core is a failure, never a skip.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from proposals.urls import PATHS
from tests.e2e.journey import exactly

AXE = Path(__file__).resolve().parent.parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (1280, 390)
# Addresses that are not pages: downloads, event streams, and leaving the site.
NOT_PAGES = {
    "signout",
    "budget_workbook",
    "export_download",
    "section_events",
    "notification_events",
    "section_live",
    "proposal_calendar",
    "calendar_feed",
    "annex_download",
}
PEOPLE = ["anna@demo.engage", "ola@demo.engage", "marta@demo.engage", "admin@demo.engage"]


def _patterns() -> list[tuple[str, re.Pattern[str]]]:
    compiled = []
    for name, path in PATHS.items():
        regex = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(path))
        compiled.append((name, re.compile(f"^{regex}$")))
    return compiled


ROUTES = _patterns()


def route_of(path: str) -> str | None:
    return next((name for name, regex in ROUTES if regex.match(path)), None)


def axe(page: Page) -> list[dict]:  # type: ignore[type-arg]
    """The critical and serious violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP stays as it is.
        page.evaluate(AXE.read_text() + "\n;void 0")
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: tags},
                rules: {"target-size": {enabled: true}},
                resultTypes: ["violations"],
            });
            return r.violations
                .filter(v => v.impact === "critical" || v.impact === "serious")
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }""",
        TAGS,
    )
    return list(result)


def check_page(page: Page, label: str, problems: list[str]) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(50)
        for violation in axe(page):
            problems.append(f"{label} @{width}px: {violation}")
        if width == 1280:
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > 1280:
                problems.append(f"{label} @1280px: the page is {scroll} px wide")


def walk(page: Page, base: str, label: str, problems: list[str]) -> set[str]:
    """Follow the site's links from the home page, checking one page per route."""
    seen_routes: set[str] = set()
    queue = [base + "/"]
    visited: set[str] = set()
    while queue:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        name = route_of(urlsplit(url).path)
        if name is None or name in NOT_PAGES or name in seen_routes:
            continue
        response = page.goto(url)
        assert response is not None
        if response.status >= 500:
            problems.append(f"{label}: {url} answered {response.status}")
            continue
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        seen_routes.add(name)
        check_page(page, f"{label} {name} ({urlsplit(url).path})", problems)
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            parts = urlsplit(href)
            if href.startswith(base) and not parts.path.startswith("/static"):
                queue.append(base + parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen_routes


def sign_in(page: Page, base: str, email: str, locale: str) -> None:
    page.goto(base + "/signin")
    page.get_by_label(re.compile("e-?mail", re.I)).fill(email)
    page.locator("input[type=password]").fill("engage-demo")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("header form button[type=submit]").first).to_be_attached()
    if page.locator("html").get_attribute("lang") != locale:
        page.locator("select[name=locale]").select_option(locale)
        expect(page.locator("html")).to_have_attribute("lang", locale)


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "pl"])
def test_every_page_passes_axe(demo, new_page, locale: str) -> None:
    assert AXE.exists(), "axe-core is missing: run `npm install --prefix tests/axe`"
    problems: list[str] = []
    visited: set[str] = set()

    stranger = new_page(locale="pl-PL" if locale == "pl" else "en-GB")
    stranger.goto(demo.url + "/")
    if stranger.locator("html").get_attribute("lang") != locale:
        stranger.locator("select[name=locale]").select_option(locale)
        expect(stranger.locator("html")).to_have_attribute("lang", locale)
    for name in ("signin", "signup", "forgot_password"):
        stranger.goto(demo.url + PATHS[name])
        check_page(stranger, f"signed out {name}", problems)
        visited.add(name)

    for email in PEOPLE:
        page = new_page()
        sign_in(page, demo.url, email, locale)
        visited |= walk(page, demo.url, email, problems)

    # The pages of the journeys are all reached.
    for name in ("home", "proposal", "sections", "section", "budget", "budget_history"):
        assert name in visited, f"{name} was not reached"
    for name in ("call", "final", "reviews", "review_queue", "ideas", "organisation"):
        assert name in visited, f"{name} was not reached"
    assert problems == [], "\n".join(problems)


@pytest.mark.browser
def test_budget_check_and_call_pages_fit_1280(demo, new_page) -> None:
    """Polish labels are the longest: the budget, check and call pages fit 1280 px."""
    anna = new_page()
    sign_in(anna, demo.url, "anna@demo.engage", "pl")
    anna.set_viewport_size({"width": 1280, "height": 900})
    anna.get_by_role("link", name=exactly("Wnioski")).first.click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    proposal = anna.url
    pages = [proposal + "/budget", proposal + "/final", proposal + "/budget/history"]
    anna.goto(proposal)
    pages.append(anna.locator("a[href^='/calls/']").first.get_attribute("href") or "")
    for url in pages:
        anna.goto(url if url.startswith("http") else demo.url + url)
        width = anna.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{url} is {width} px wide"
        # Nor does a table hide columns in a scroller: each fits its column of text.
        wide = anna.evaluate(
            "[...document.querySelectorAll('.table-scroll')]"
            ".filter(b => b.scrollWidth > b.clientWidth).map(b => b.getAttribute('aria-label'))"
        )
        assert wide == [], f"{url}: these tables scroll at 1280 px: {wide}"
