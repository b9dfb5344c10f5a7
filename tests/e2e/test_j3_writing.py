"""J3. Writing together (demo): assign a section, live editing, two writers at once, history.

In English, Norwegian and Lithuanian: every step is found by the words of that catalogue."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from proposals import i18n
from tests.e2e.journey import exactly

SAVED = re.compile(r"^\s*Saved")  # "Saved" or "Saved, merged with ..." (not "... saved by")
LANGUAGE_LABEL = {"en": "Language", "pl": "Język", "nb": "Språk", "lt": "Kalba"}
WORDS = {
    "en": {
        "saved": "Saved", "proposals": "Proposals", "sections": "Sections",
        "assign_to": "Assign to", "due_date": "Due date", "save": "Save", "text": "Text",
        "over": "over the limit", "history": "History", "compare": "Compare",
        "assigned": "Anna Kowalska assigned “Cele projektu” to "
        "Frivillighetssentralen Kristiansand, due {due}.",
    },
    "nb": {
        "saved": "Lagret", "proposals": "Prosjektforslag", "sections": "Deler",
        "assign_to": "Tildel til", "due_date": "Frist", "save": "Lagre", "text": "Tekst",
        "over": "over grensen", "history": "Historikk", "compare": "Sammenlign",
        "assigned": "Anna Kowalska ga Frivillighetssentralen Kristiansand ansvaret for "
        "«Cele projektu», frist {due}.",
    },
    "lt": {
        "saved": "Išsaugota", "proposals": "Paraiškos", "sections": "Skyriai",
        "assign_to": "Paskirti", "due_date": "Terminas", "save": "Išsaugoti", "text": "Tekstas",
        "over": "viršytas limitas", "history": "Istorija", "compare": "Palyginti",
        "assigned": "Anna Kowalska paskyrė skyrių „Cele projektu“ partneriui "
        "Frivillighetssentralen Kristiansand, terminas {due}.",
    },
}  # fmt: skip


def sign_in(page: Page, url: str, email: str, locale: str = "en") -> None:
    page.goto(url + "/signin")
    page.get_by_label(exactly("email")).fill(email)
    page.get_by_label(exactly("password")).fill("engage-demo")
    page.get_by_role("button", name=exactly("Sign in")).click()
    current = page.locator("html").get_attribute("lang") or "en"
    if current != locale:  # Anna's account is in Polish
        page.get_by_label(exactly(LANGUAGE_LABEL[current])).select_option(locale)
        expect(page.locator("html")).to_have_attribute("lang", locale)


def open_section(page: Page, title: str, w: dict[str, str] | None = None) -> None:
    w = w or WORDS["en"]
    page.get_by_role("link", name=exactly(w["proposals"])).click()
    page.get_by_role("link", name="Baltic Volunteers Together").click()
    page.get_by_role("link", name=exactly(w["sections"])).click()
    # Named in the reader's language with the application's title beside it: "Objectives
    # (Cele projektu)" in English; the official title is in the link in every language.
    page.get_by_role("link", name=re.compile(re.escape(title))).click()


def editor_text(page: Page) -> str:
    """The text in the live editor as its document holds it (without others' caret labels)."""
    return page.locator("[data-live]").evaluate("el => el.editor.getText()")


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "nb", "lt"])
def test_j3_writing_together(demo, new_page, locale: str) -> None:
    w = WORDS[locale]
    saved_status = re.compile(rf"^\s*{w['saved']}")  # "Saved" or "Saved, merged with ..."
    with i18n.using(locale):
        limit = i18n.format_number(Decimal(2000))
        due = i18n.format_date(date(2027, 2, 1))
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage", locale)
    sign_in(ola, demo.url, "ola@demo.engage", locale)

    # 1. The coordinator assigns a section to the Norwegian partner with a due date.
    anna.get_by_role("link", name=exactly(w["proposals"])).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    anna.get_by_role("link", name=exactly(w["sections"])).click()
    row = anna.get_by_role("row").filter(has_text="Cele projektu")
    row.get_by_label(exactly(w["assign_to"])).select_option(
        label="Frivillighetssentralen Kristiansand"
    )
    row.get_by_label(exactly(w["due_date"])).fill("2027-02-01")
    row.get_by_role("button", name=w["save"]).click()
    row = anna.get_by_role("row").filter(has_text="Cele projektu")
    expect(row).to_contain_text("Frivillighetssentralen Kristiansand")
    # The activity feed says it in words, in the reader's language, with the date as they write it.
    anna.get_by_role("link", name=exactly(w["proposals"])).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    expect(anna.locator("ol.activity").first).to_contain_text(w["assigned"].format(due=due))

    # 2. A writer of that partner types; after a pause the page says "Saved".
    open_section(ola, "Cele projektu", w)
    # The editor has joined the shared document once it says "Saved".
    expect(ola.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)
    text = ola.get_by_label(exactly(w["text"]))
    text.fill("Celem projektu jest wzmocnienie małych organizacji.")
    expect(ola.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)
    expect(ola.locator("#counter")).to_contain_text(f"/ {limit}")
    text.fill("x" * 2001)
    expect(ola.locator("#counter")).to_contain_text(w["over"])
    text.fill("Celem projektu jest wzmocnienie małych organizacji.")
    expect(ola.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)

    # 3. Two writers in the same section at once.
    open_section(anna, "Cele projektu", w)
    expect(anna.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)
    anna_text = anna.get_by_label(exactly(w["text"]))
    ola_text = ola.get_by_label(exactly(w["text"]))
    anna_text.press("End")
    anna_text.type(" Anna dopisuje zdanie o Gdańsku.")
    ola_text.press("Home")
    ola_text.type("Ola writes about Kristiansand. ")
    for page in (anna, ola):
        saved = page.get_by_role("status").filter(has_text=saved_status)
        expect(saved).to_be_visible(timeout=15_000)
    # Both see each other's words without reloading, and the same text.
    for page in (anna, ola):
        box = page.get_by_label(exactly(w["text"]))
        expect(box).to_contain_text("Anna dopisuje zdanie o Gdańsku.", timeout=2_000)
        expect(box).to_contain_text("Ola writes about Kristiansand.", timeout=2_000)
    assert editor_text(anna) == editor_text(ola)
    anna.get_by_role("link", name=exactly(w["history"])).click()
    history = anna.locator("main")
    expect(history).to_contain_text("Ola Nordmann")
    expect(history).not_to_contain_text("conflict")
    anna.get_by_role("button", name=exactly(w["compare"])).click()
    expect(anna.locator("p.diff")).to_be_visible()
    page_text = anna.locator("main").inner_text()
    for sentence in ("Anna dopisuje zdanie o Gdańsku.", "Ola writes about Kristiansand."):
        assert sentence in page_text

    # 4. Someone else's words and caret show up live for a writer who has the section open.
    open_section(anna, "Cele projektu", w)
    expect(anna.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)
    expect(ola.locator("[data-live-who]")).to_contain_text("Anna Kowalska")
    anna.get_by_label(exactly(w["text"])).press("End")
    anna.get_by_label(exactly(w["text"])).type(" Jeszcze jedno zdanie.")
    expect(ola.get_by_label(exactly(w["text"]))).to_contain_text(
        "Jeszcze jedno zdanie.", timeout=2_000
    )
    expect(ola.locator(".live-caret-label")).to_have_text("Anna Kowalska", timeout=2_000)
    expect(anna.get_by_role("status").filter(has_text=saved_status)).to_be_visible(timeout=10_000)
