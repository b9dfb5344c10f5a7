"""J7. Where each person starts (demo): Ola's and Marta's home, and their calendar feeds.

In Chromium: the home page lists Ola's sections and Marta's consortia with their
due dates and the call's deadline; each creates their private calendar address,
and the feed it serves (fetched without cookies, as a calendar program would)
parses with ``icalendar`` and holds the same dates.
"""

from __future__ import annotations

from datetime import date

import httpx2 as httpx
import pytest
from icalendar import Calendar
from playwright.sync_api import Page, expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in


def _feed_days(page: Page) -> set[date]:
    page.get_by_role("link", name=exactly("Your calendar")).first.click()
    page.get_by_role("button", name=exactly("Create my calendar address")).click()
    address = page.get_by_label("Your private calendar address").input_value()
    answer = httpx.get(address, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    days = set()
    for event in Calendar.from_ical(answer.content).walk("VEVENT"):
        value = event.decoded("DTSTART")
        days.add(value.date() if hasattr(value, "date") else value)
    return days


def _shown_days(page: Page, table: str) -> set[date]:
    stamps = page.locator(f"{table} time").evaluate_all("els => els.map(e => e.dateTime)")
    return {date.fromisoformat(s[:10]) for s in stamps}


@pytest.mark.browser
def test_j7_home_and_calendar_for_ola_and_marta(demo, new_page) -> None:
    ola, marta = new_page(), new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    sign_in(marta, demo.url, "marta@demo.engage")

    # Ola: her two sections with their due dates, her proposal with the call's deadline.
    ola.goto(demo.url + "/")
    sections = ola.get_by_role("region", name="Your sections")
    expect(sections.get_by_role("row")).to_have_count(3)  # the header and two sections
    expect(sections).to_contain_text("Działania")
    expect(sections).to_contain_text("Rola partnerów i wartość partnerstwa")
    expect(sections).to_contain_text("19 Jan 2027")
    proposals = ola.get_by_role("region", name="Your proposals")
    expect(proposals).to_contain_text("BVT")
    # The demo's call (EEA Civil Society Fund Poland) has not published its next deadline.
    expect(proposals).to_contain_text("no deadline published yet")
    on_home = _shown_days(ola, "main")
    assert date(2027, 1, 19) in on_home

    # Marta: every consortium she mentors, its stage, deadline and what waits for her.
    marta.goto(demo.url + "/")
    mentored = marta.get_by_role("region", name="Consortia you mentor")
    row = mentored.get_by_role("row").filter(has_text="BVT")
    expect(row).to_contain_text("Drafting")
    expect(row).to_contain_text("2 sections to review")
    expect(row).to_contain_text("no deadline published yet")
    expect(marta.get_by_role("region", name="Waiting for you")).to_contain_text("20 Jan 2027")
    marta_on_home = _shown_days(marta, "main")

    # Both feeds parse and hold the dates the home page shows.
    ola_feed = _feed_days(ola)
    assert on_home <= ola_feed, on_home - ola_feed
    marta_feed = _feed_days(marta)
    assert marta_on_home <= marta_feed and date(2027, 1, 20) in marta_feed
