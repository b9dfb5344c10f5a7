"""Two writers in two Chromium contexts type into one paragraph live, also across an outage."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import SAVED, editor_text, open_section, sign_in


def _box(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_label(exactly("Text"))


def _type_at_end(page: Page, words: str) -> None:
    box = _box(page)
    box.click()
    box.press("Control+End")
    box.press_sequentially(words, delay=15)


@pytest.mark.browser
def test_two_writers_see_each_other_live_and_after_being_offline(demo, new_page) -> None:
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")
    open_section(anna, "Działania")
    open_section(ola, "Działania")
    for page in (anna, ola):
        expect(
            page.get_by_role("status").filter(has_text=re.compile(r"Saved|Connect"))
        ).to_be_visible()
    expect(anna.locator("[data-live-who]")).to_contain_text("Ola Nordmann")

    # At the same time, in the same paragraph.
    _type_at_end(anna, " Anna pisze o Gdańsku.")
    _type_at_end(ola, " Ola skriver om Kristiansand.")
    started = time.monotonic()
    for page in (anna, ola):
        expect(_box(page)).to_contain_text("Anna pisze o Gdańsku.", timeout=2_000)
        expect(_box(page)).to_contain_text("Ola skriver om Kristiansand.", timeout=2_000)
    assert time.monotonic() - started < 4
    expect(anna.locator(".live-caret-label")).to_have_text("Ola Nordmann")
    expect(ola.locator(".live-caret-label")).to_have_text("Anna Kowalska")
    assert editor_text(anna) == editor_text(ola)

    # Ola's browser goes offline for 20 s while both type; then it comes back.
    ola.context.set_offline(True)
    expect(ola.get_by_role("status").filter(has_text="Offline")).to_be_visible(timeout=10_000)
    _type_at_end(ola, " Offline skrev Ola dette.")
    _type_at_end(anna, " Anna pisze dalej.")
    time.sleep(20)
    assert "Offline skrev Ola dette." not in editor_text(anna)
    ola.context.set_offline(False)
    for page in (anna, ola):
        expect(_box(page)).to_contain_text("Offline skrev Ola dette.", timeout=15_000)
        expect(_box(page)).to_contain_text("Anna pisze dalej.", timeout=15_000)
        expect(page.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    assert editor_text(anna) == editor_text(ola)

    # The section's text (and history) hold every sentence, and no conflict revision.
    anna.get_by_role("link", name=exactly("History")).click()
    history = anna.locator("main")
    expect(history).not_to_contain_text("conflict")
    anna.get_by_role("link", name=re.compile("Działania")).first.click()
    preview = editor_text(anna)
    for sentence in (
        "Anna pisze o Gdańsku.",
        "Ola skriver om Kristiansand.",
        "Offline skrev Ola dette.",
        "Anna pisze dalej.",
    ):
        assert sentence in preview
