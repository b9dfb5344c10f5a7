"""J4. Budget and co-funding (demo): lines and totals at once, funding and shares, the call's
rules flagged, and "Download budget" with the same figures."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in


def open_budget(page: Page) -> None:
    page.get_by_role("link", name=exactly("Proposals")).click()
    page.get_by_role("link", name="Baltic Volunteers Together").click()
    page.get_by_role("link", name=exactly("Budget")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Budget")


def partner_section(page: Page, name: str) -> Locator:
    return page.locator("section.budget-partner").filter(
        has=page.get_by_role("heading", level=2, name=re.compile("^" + re.escape(name)))
    )


def figure(scope: Locator, name: str) -> Locator:
    return scope.locator(f'[data-figure="{name}"]').first


@pytest.mark.browser
def test_j4_budget_and_co_funding(demo, new_page) -> None:
    ola = new_page()
    sign_in(ola, demo.url, "ola@demo.engage")
    open_budget(ola)
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    summary = ola.locator("#summary")
    expect(figure(mine, "total-costs")).to_have_text("€11,414.40")
    expect(figure(summary, "total-costs")).to_have_text("€84,314.40")
    # Ola edits only her own partner's budget: one "Add line", one "Save funding".
    expect(ola.get_by_role("button", name=exactly("Save funding"))).to_have_count(1)

    # 1. "Add line": the amount and the totals update at once, without loading the page.
    ola.evaluate("window.stillTheSamePage = true")
    mine.get_by_text(exactly("Add line")).first.click()
    mine.get_by_label(exactly("Category")).select_option(label="Travel and accommodation")
    mine.get_by_label(exactly("Description")).fill("Ferry Kristiansand–Hirtshals")
    mine.get_by_label(exactly("Quantity")).fill("4")
    mine.get_by_label(exactly("Unit cost")).fill("45.50")
    mine.get_by_role("button", name=exactly("Add line")).click()
    expect(ola.get_by_role("status")).to_contain_text("The line is added.")
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    row = mine.get_by_role("row").filter(has_text="Ferry Kristiansand–Hirtshals")
    expect(row).to_contain_text("€182.00")
    # Travel +182.00 and indirect costs (20 % flat rate) +36.40.
    expect(mine.locator('[data-category="travel"]')).to_have_text("€1,582.00")
    expect(mine.locator('[data-flat="indirect"]')).to_have_text("€1,938.80")
    expect(figure(mine, "total-costs")).to_have_text("€11,632.80")
    expect(figure(ola.locator("#summary"), "total-costs")).to_have_text("€84,532.80")
    assert ola.evaluate("window.stillTheSamePage") is True

    # Bad input is refused next to the field, and the typed text is kept (the form stays
    # open after an added line, for the next one).
    mine.get_by_label(exactly("Description")).fill("Bus tickets")
    mine.get_by_label(exactly("Quantity")).fill("-3")
    mine.get_by_label(exactly("Unit cost")).fill("1,5")
    mine.get_by_role("button", name=exactly("Add line")).click()
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    expect(mine.get_by_text("a negative figure is not allowed here")).to_be_visible()
    expect(mine.get_by_text("Enter a number, for example 1,234.50.")).to_be_visible()
    expect(mine.get_by_label(exactly("Unit cost"))).to_have_value("1,5")

    # 2. Grant, own contribution and in-kind volunteer work; rates and shares per partner.
    mine.get_by_label(exactly("Grant requested")).fill("10000")
    mine.get_by_label(exactly("Own contribution")).fill("632.80")
    mine.get_by_label(exactly("Volunteer hours")).fill("100")
    mine.get_by_role("button", name=exactly("Save funding")).click()
    expect(ola.get_by_role("status")).to_contain_text("The funding is saved.")
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    expect(figure(mine, "total-funding")).to_have_text("€11,632.80")
    expect(figure(mine, "grant-rate")).to_have_text("85.96%")
    expect(mine.locator('[data-share="grant"]')).to_have_text("85.96%")
    expect(mine.locator('[data-share="own_cash"]')).to_have_text("5.44%")
    expect(mine.locator('[data-share="in_kind"]')).to_have_text("8.60%")
    expect(mine.locator(".findings")).to_have_count(0)

    # A broken rule of the call is flagged beside the figures it concerns.
    mine.get_by_label(exactly("Rate in percent")).fill("25")
    mine.get_by_role("button", name=re.compile("^Apply")).click()
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    flat_row = mine.locator("tr.flat-rate")
    expect(flat_row).to_contain_text("Not met:")
    expect(flat_row).to_contain_text("the flat rate allows €1,938.80")
    expect(mine.get_by_text("the sources of funding add up to")).to_be_visible()
    mine.get_by_label(exactly("Rate in percent")).fill("20")
    mine.get_by_role("button", name=re.compile("^Apply")).click()
    mine = partner_section(ola, "Frivillighetssentralen Kristiansand")
    expect(mine.locator(".findings")).to_have_count(0)

    # The coordinator sees every partner and the consortium's grant rate and shares.
    anna = new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    open_budget(anna)
    summary = anna.locator("#summary")
    expect(figure(summary, "total-costs")).to_have_text("€84,532.80")
    expect(figure(summary, "grant-rate")).to_have_text(re.compile(r"^\d+\.\d\d%$"))
    expect(anna.get_by_role("button", name=exactly("Save funding"))).to_have_count(3)

    # 3. "Download budget": a workbook with the same figures.
    with anna.expect_download() as info:
        anna.get_by_role("link", name=exactly("Download budget")).click()
    download = info.value
    assert download.suggested_filename == "BVT-budget.xlsx"
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    sheet = book["Frivillighetssentralen Kristian"]
    values = [[c.value for c in r] for r in sheet.iter_rows(min_row=17)]
    ferry = next(r for r in values if r[1] == "Ferry Kristiansand–Hirtshals")
    assert (ferry[3], ferry[4]) == (4, 45.5)
    assert sheet["B7"].value == 10000 and Decimal(str(sheet["B8"].value)) == Decimal("632.8")
    assert sheet["C9"].value == 100  # volunteer hours, valued by a formula at the call's rate
