"""J3. Writing together (demo): assign a section, live editing, two writers at once, history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journey import exactly

SAVED = re.compile(r"^\s*Saved")  # "Saved" or "Saved, merged with ..." (not "... saved by")


def sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label(exactly("email")).fill(email)
    page.get_by_label(exactly("password")).fill("engage-demo")
    page.get_by_role("button", name=exactly("Sign in")).click()
    if page.locator("html").get_attribute("lang") != "en":  # Anna's account is in Polish
        page.get_by_label(exactly("Język")).select_option("en")
        expect(page.locator("html")).to_have_attribute("lang", "en")


def open_section(page: Page, title: str) -> None:
    page.get_by_role("link", name=exactly("Proposals")).click()
    page.get_by_role("link", name="Baltic Volunteers Together").click()
    page.get_by_role("link", name=exactly("Sections")).click()
    page.get_by_role("link", name=exactly(title)).click()


def editor_text(page: Page) -> str:
    """The text in the live editor as its document holds it (without others' caret labels)."""
    return page.locator("[data-live]").evaluate("el => el.editor.getText()")


@pytest.mark.browser
def test_j3_writing_together(demo, new_page) -> None:
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")

    # 1. The coordinator assigns a section to the Norwegian partner with a due date.
    anna.get_by_role("link", name=exactly("Proposals")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    anna.get_by_role("link", name=exactly("Sections")).click()
    row = anna.get_by_role("row").filter(has_text="Cele projektu")
    row.get_by_label(exactly("Assign to")).select_option(
        label="Frivillighetssentralen Kristiansand"
    )
    row.get_by_label(exactly("Due date")).fill("2027-02-01")
    row.get_by_role("button", name="Save").click()
    row = anna.get_by_role("row").filter(has_text="Cele projektu")
    expect(row).to_contain_text("Frivillighetssentralen Kristiansand")

    # 2. A writer of that partner types; after a pause the page says "Saved".
    open_section(ola, "Cele projektu")
    text = ola.get_by_label(exactly("Text"))
    text.fill("Celem projektu jest wzmocnienie małych organizacji.")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    expect(ola.locator("#counter")).to_contain_text("/ 2,000")
    text.fill("x" * 2001)
    expect(ola.locator("#counter")).to_contain_text("over the limit")
    text.fill("Celem projektu jest wzmocnienie małych organizacji.")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)

    # 3. Two writers in the same section at once.
    open_section(anna, "Cele projektu")
    anna_text = anna.get_by_label(exactly("Text"))
    ola_text = ola.get_by_label(exactly("Text"))
    anna_text.press("End")
    anna_text.type(" Anna dopisuje zdanie o Gdańsku.")
    ola_text.press("Home")
    ola_text.type("Ola writes about Kristiansand. ")
    for page in (anna, ola):
        saved = page.get_by_role("status").filter(has_text=SAVED)
        expect(saved).to_be_visible(timeout=15_000)
    # Both see each other's words without reloading, and the same text.
    for page in (anna, ola):
        box = page.get_by_label(exactly("Text"))
        expect(box).to_contain_text("Anna dopisuje zdanie o Gdańsku.", timeout=2_000)
        expect(box).to_contain_text("Ola writes about Kristiansand.", timeout=2_000)
    assert editor_text(anna) == editor_text(ola)
    anna.get_by_role("link", name=exactly("History")).click()
    history = anna.locator("main")
    expect(history).to_contain_text("Ola Nordmann")
    expect(history).not_to_contain_text("conflict")
    anna.get_by_role("button", name=exactly("Compare")).click()
    expect(anna.locator("p.diff")).to_be_visible()
    page_text = anna.locator("main").inner_text()
    for sentence in ("Anna dopisuje zdanie o Gdańsku.", "Ola writes about Kristiansand."):
        assert sentence in page_text

    # 4. Someone else's words and caret show up live for a writer who has the section open.
    open_section(anna, "Cele projektu")
    expect(ola.locator("[data-live-who]")).to_contain_text("Anna Kowalska")
    anna.get_by_label(exactly("Text")).press("End")
    anna.get_by_label(exactly("Text")).type(" Jeszcze jedno zdanie.")
    expect(ola.get_by_label(exactly("Text"))).to_contain_text(
        "Jeszcze jedno zdanie.", timeout=2_000
    )
    expect(ola.locator(".live-caret-label")).to_have_text("Anna Kowalska", timeout=2_000)
    expect(anna.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
