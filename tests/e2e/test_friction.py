"""Smaller friction a first-time user hits: the header on a phone, the language switcher
with the keys, an idea already turned into a proposal, the account page's wording."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in


@pytest.mark.browser
def test_header_language_idea_and_account(demo, new_page) -> None:
    ola = new_page()
    sign_in(ola, demo.url, "ola@demo.engage")

    # At 1280 px the header is two rows at most; on a phone the navigation folds behind "Menu".
    ola.set_viewport_size({"width": 1280, "height": 900})
    rows = ola.evaluate(
        "new Set([...document.querySelectorAll('header.site a, header.site button')]"
        ".filter(e => e.offsetParent !== null)"
        ".map(e => Math.floor(e.getBoundingClientRect().top / 40))).size"
    )
    assert rows <= 2, f"the header's links and buttons sit on {rows} rows"
    assert ola.locator("header.site").bounding_box()["height"] <= 130  # two rows of 44 px targets
    ola.set_viewport_size({"width": 390, "height": 844})
    assert ola.locator("header.site").bounding_box()["height"] <= 100
    menu = ola.get_by_role("button", name=exactly("Menu"))
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(ola.get_by_role("link", name=exactly("Proposals"))).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    ola.get_by_role("link", name=exactly("Proposals")).click()
    expect(ola.get_by_role("heading", level=1)).to_have_text("Proposals")
    ola.set_viewport_size({"width": 1280, "height": 900})

    # ArrowDown on the language select moves through the options without leaving the page
    # (WCAG 3.2.2); Enter applies the choice.
    ola.evaluate("window.stillTheSamePage = true")
    language = ola.get_by_label(exactly("Language"))
    language.focus()
    ola.keyboard.press("ArrowDown")
    ola.wait_for_timeout(500)
    assert ola.evaluate("window.stillTheSamePage") is True
    expect(ola.locator("html")).to_have_attribute("lang", "en")
    expect(ola.get_by_role("button", name=exactly("Change"))).to_be_visible()
    ola.keyboard.press("Enter")
    expect(ola.locator("html")).not_to_have_attribute("lang", "en")
    ola.get_by_label(re.compile("^(Język|Språk|Kalba|Language)$")).select_option("en")
    expect(ola.locator("html")).to_have_attribute("lang", "en")

    # The account page names what is on the screen: "Notifications", not a bell.
    ola.goto(demo.url + "/account")
    expect(ola.get_by_text("bell")).to_have_count(0)
    expect(ola.locator("main")).to_contain_text("under “Notifications”")

    # The idea the demo proposal came from offers that proposal, not a second start.
    anna = new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    anna.get_by_role("link", name=exactly("Ideas")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").first.click()
    expect(anna.get_by_role("link", name=exactly("Start proposal"))).to_have_count(0)
    anna.get_by_role("link", name=re.compile("^Open the proposal")).click()
    expect(anna.get_by_role("heading", level=1)).to_contain_text("Baltic Volunteers Together")


@pytest.mark.browser
def test_no_stale_draft_is_offered_after_save_and_restore(demo, new_page) -> None:
    ola = new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    ola.get_by_role("link", name=exactly("Proposals")).click()
    ola.get_by_role("link", name="Baltic Volunteers Together").click()
    ola.get_by_role("link", name=exactly("Sections")).click()
    ola.get_by_role("link", name=re.compile("Działania")).click()
    saved = ola.get_by_role("status").filter(has_text=re.compile(r"^\s*Saved"))
    expect(saved).to_be_visible(timeout=10_000)  # joined the shared document
    text = ola.get_by_label(exactly("Text"))
    text.press("End")
    text.type(" Saved with the button.", delay=0)
    # The live editor stores every change; the page says so once the server has it.
    expect(ola.get_by_role("status").filter(has_text=re.compile(r"^\s*Saved"))).to_be_visible(
        timeout=10_000
    )
    ola.get_by_role("link", name=exactly("History")).first.click()
    ola.get_by_role("button", name=re.compile(r"^Restore")).last.click()
    ola.goto(ola.url.split("/history")[0])
    expect(ola.get_by_label(exactly("Text"))).not_to_contain_text("Saved with the button.")
    ola.wait_for_timeout(300)
    expect(ola.get_by_role("button", name=exactly("Restore unsaved text"))).to_be_hidden()
    expect(ola.locator("[data-status]")).not_to_contain_text("was not saved")


@pytest.mark.browser
def test_focus_goes_to_the_errors_of_a_form_sent_back(demo, new_page) -> None:
    page = new_page()
    page.goto(demo.url + "/signin")
    page.get_by_label(exactly("Email")).fill("ola@demo.engage")
    page.get_by_label(exactly("Password")).fill("not the password")
    page.get_by_role("button", name=exactly("Sign in")).click()
    summary = page.locator("main .error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
