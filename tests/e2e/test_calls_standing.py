"""Calls by standing, in Chromium: the list shows open and expected calls by default, a
closed call's page says it is closed, and "Start a proposal" is not offered there."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from proposals.calls.loader import parse_profile, shipped_files
from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in

SHIPPED = [parse_profile(p.read_text(encoding="utf-8")) for p in shipped_files()]
CURRENT = sorted(p.id for p in SHIPPED if p.status != "closed")
CLOSED = sorted(p.id for p in SHIPPED if p.status == "closed")


def shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    links = page.locator("#results article h2 a")
    return sorted(
        href.rsplit("/", 1)[1]
        for href in links.evaluate_all("a => a.map(e => e.getAttribute('href'))")
    )


@pytest.mark.browser
def test_calls_by_standing(demo, new_page) -> None:
    assert len(CURRENT) >= 8 and CLOSED == ["acf-poland-national", "nordic-ngo-baltic-sea"]
    page = new_page()
    sign_in(page, demo.url, "anna@demo.engage")
    page.get_by_role("link", name=exactly("Calls")).first.click()
    expect(page.get_by_role("heading", name=exactly("Funding calls"))).to_be_visible()

    # 1. By default only open and expected calls, each with its standing.
    expect(page.locator("#results article")).to_have_count(len(CURRENT))
    assert shown(page) == CURRENT
    badges = page.locator("#results .standing")
    for badge in badges.evaluate_all("b => b.map(e => e.textContent.trim())"):
        assert badge in ("Open", "Expected")
    expect(page.get_by_label(exactly("Closed"))).not_to_be_checked()

    # 2. Ticking "Closed" (htmx, no reload) adds the closed calls.
    page.get_by_label(exactly("Closed")).check()
    expect(page.locator("#results article")).to_have_count(len(CURRENT) + len(CLOSED))
    expect(page).to_have_url(re.compile(r"standing=closed"))
    closed_card = page.locator(
        "#results article", has=page.locator('a[href="/calls/acf-poland-national"]')
    )
    expect(closed_card.locator(".standing")).to_have_text("Closed")

    # 3. The closed call's page says so, and offers no start.
    closed_card.get_by_role("link").click()
    expect(page.locator("#call-standing")).to_have_text("Closed")
    expect(page.locator("#call-closed")).to_contain_text(
        "This call closed on 30 April 2024 and takes no new applications."
    )
    expect(page.get_by_role("link", name=exactly("Start a proposal"))).to_have_count(0)
    expect(page.get_by_role("link", name=exactly("Post an idea for this call"))).to_have_count(0)

    # 4. Its successor is offered, and starting from it opens the form with it chosen.
    page.get_by_role("link", name=exactly("See the calls that are open or expected")).click()
    assert shown(page) == CURRENT
    page.locator('#results a[href="/calls/eea-csf-poland"]').click()
    expect(page.locator("#call-standing")).to_have_text("Expected")
    page.get_by_role("link", name=exactly("Start a proposal")).click()
    call = page.get_by_label(re.compile(r"^Funding call"))
    expect(call).to_have_value("eea-csf-poland")
    options = call.locator("option").evaluate_all("o => o.map(e => e.value)")
    assert "acf-poland-national" not in options and "nordic-ngo-baltic-sea" not in options
