"""The budget as a partner uses it: own budget first, keyboard focus kept, one-step balance,
stacked rows on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in
from tests.e2e.test_j4_budget import figure, open_budget, partner_section

OLA = "Frivillighetssentralen Kristiansand"


@pytest.mark.browser
def test_a_partner_works_on_its_own_budget_with_the_keyboard(demo, new_page) -> None:
    ola = new_page()
    ola.set_viewport_size({"width": 1280, "height": 900})
    sign_in(ola, demo.url, "ola@demo.engage")
    open_budget(ola)
    assert ola.evaluate("document.documentElement.scrollWidth") <= 1280
    # Her own budget comes first and open; the other partners' budgets are folded.
    partners = ola.locator("section.budget-partner")
    expect(partners.first).to_contain_text(OLA)
    expect(partners.locator("details.budget-fold[open]")).to_have_count(1)
    expect(partners.nth(1).locator("details.budget-fold")).not_to_have_attribute("open", "")

    # Add a line with the keyboard only: Enter in the last field submits through htmx.
    mine = partner_section(ola, OLA)
    mine.get_by_text(exactly("Add line")).first.focus()
    ola.keyboard.press("Enter")
    mine.get_by_label(exactly("Category")).focus()
    mine.get_by_label(exactly("Category")).select_option(label="Travel and accommodation")
    ola.keyboard.press("Tab")
    ola.keyboard.type("Train Oslo–Kristiansand")
    ola.keyboard.press("Tab")
    ola.keyboard.type("ticket")
    ola.keyboard.press("Tab")
    ola.keyboard.type("2")
    ola.keyboard.press("Tab")
    ola.keyboard.type("60")
    ola.keyboard.press("Enter")
    mine = partner_section(ola, OLA)
    # The message is beside the form, and focus stays in the form (not 5,000 px up).
    expect(mine.locator(".budget-here")).to_have_text("The line is added.")
    expect(mine.get_by_role("row").filter(has_text="Train Oslo–Kristiansand")).to_contain_text(
        "€120.00"
    )
    assert ola.evaluate(
        "document.activeElement.closest('form.budget-line-form') !== null"
        " && document.activeElement.closest('section.budget-partner').id"
        " === document.querySelector('section.budget-partner').id"
    )
    # The next Tab keeps going inside the budget, not to "Skip to content".
    ola.keyboard.press("Tab")
    assert ola.evaluate("document.activeElement.closest('#budget') !== null")

    # A mistake: focus lands on the field in error.
    mine.get_by_label(exactly("Description")).fill("Taxi")
    mine.get_by_label(exactly("Quantity")).fill("-1")
    mine.get_by_label(exactly("Unit cost")).fill("10")
    mine.get_by_label(exactly("Unit cost")).press("Enter")
    mine = partner_section(ola, OLA)
    expect(mine.get_by_label(exactly("Quantity"))).to_be_focused()

    # The costs grew; one choice balances the grant at the call's rate.
    expect(mine.get_by_text("Costs and funding differ by")).to_be_visible()
    mine.get_by_role("button", name="Balance with grant at 100%").click()
    mine = partner_section(ola, OLA)
    expect(mine.locator(".budget-here")).to_have_text("The funding is balanced and saved.")
    expect(mine.get_by_text("Costs and funding differ by")).to_have_count(0)
    expect(figure(mine, "total-funding")).to_have_text(figure(mine, "total-costs").inner_text())
    expect(mine.get_by_role("button", name="Balance with grant at 100%")).to_be_focused()

    # On a phone the tables become stacked rows: nothing scrolls sideways.
    ola.set_viewport_size({"width": 390, "height": 844})
    ola.reload()
    assert ola.evaluate("document.documentElement.scrollWidth") <= 390
    mine = partner_section(ola, OLA)
    cell = mine.locator("table.budget-lines td[data-amount]").first
    assert cell.evaluate("el => getComputedStyle(el).display") == "block"
    assert ola.evaluate(
        "[...document.querySelectorAll('#budget .table-scroll')]"
        ".every(b => b.scrollWidth <= b.clientWidth)"
    )
