"""Steps the journeys share, done the way a person does them (roles and visible labels)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def exactly(text: str) -> re.Pattern[str]:
    """Match a visible name as a whole, case-insensitively ("City" is not "capacity")."""
    # Playwright serialises the pattern as /.../: a "/" in the text must be escaped too.
    escaped = re.escape(text).replace("/", r"\/")
    return re.compile(rf"^\s*{escaped}\s*$", re.I)


def sign_up(page: Page, w: dict[str, str], name: str, email: str, password: str) -> None:
    page.get_by_role("link", name=exactly(w["sign_up"])).click()
    page.get_by_label(exactly(w["name"])).fill(name)
    page.get_by_label(exactly(w["email"])).fill(email)
    page.get_by_label(exactly(w["password"])).fill(password)
    page.get_by_role("button", name=exactly(w["create_account"])).click()
    expect(page.get_by_role("button", name=exactly(w["sign_out"]))).to_be_visible()


def new_organisation(page: Page, w: dict[str, str], name: str, country: str, city: str) -> None:
    page.get_by_role("link", name=exactly(w["new_org"])).first.click()
    page.get_by_label(exactly(w["org_name"])).fill(name)
    page.get_by_label(exactly(w["country"])).select_option(label=country)
    page.get_by_label(exactly(w["city"])).fill(city)
    page.get_by_role("button", name=exactly(w["save"])).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def switch_language(page: Page, locale: str) -> None:
    if locale == "en":
        return
    page.get_by_label(exactly("language")).select_option(locale)
    expect(page.locator("html")).to_have_attribute("lang", locale)
