"""J5. Mentor review (demo): request review, the mentor's queue, verdicts, the round closes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import open_section, sign_in

SAVED = re.compile(r"^\s*Saved")


@pytest.mark.browser
def test_j5_mentor_review(demo, new_page) -> None:
    anna, marta, ola = new_page(), new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(marta, demo.url, "marta@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")

    # The demo has a round under way; the coordinator writes one more section, marks it
    # ready and presses "Request review": the ready section is chosen for her.
    open_section(anna, "Cele projektu")
    # Type once the editor has joined the shared document (it then says "Saved"): typed
    # before that, the text reaches the server a moment after the page says so.
    expect(anna.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    anna.get_by_label(exactly("Text")).fill("Celem projektu jest wzmocnienie małych organizacji.")
    expect(anna.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    anna.reload()
    anna.get_by_role("button", name=exactly("Mark as ready")).click()
    expect(anna.locator("main")).to_contain_text("Ready for review")
    marta.get_by_role("link", name=exactly("Review queue")).click()
    unread = int(marta.locator("[data-count]").inner_text())
    anna.get_by_role("link", name=exactly("Proposals")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    anna.get_by_role("link", name=exactly("Request review")).click()
    expect(anna.get_by_label("Cele projektu")).to_be_checked()
    anna.get_by_role("button", name=exactly("Request review")).click()
    expect(anna.locator(".flash")).to_contain_text("is asked to review")

    # 1. The mentor's bell rings without reloading; the review queue lists the proposal.
    expect(marta.locator("[data-count]")).to_have_text(str(unread + 1))
    marta.reload()
    rows = marta.get_by_role("row").filter(has_text="BVT")
    expect(rows).to_have_count(2)  # the demo round and the new one

    # 2. Per section: comments and "Approve" / "Request changes".
    rows.filter(has_text="1 / 1").get_by_role("link", name="BVT").click()
    marta.get_by_label("Comment for the writers").fill("Dodajcie mierzalne cele.")
    marta.get_by_role("button", name="Request changes").click()
    expect(marta.locator(".flash")).to_contain_text("the review round is closed")

    marta.get_by_role("link", name=exactly("Review queue")).click()
    # The demo round: two of its three sections wait.
    marta.get_by_role("row").filter(has_text="2 / 3").get_by_role("link", name="BVT").click()
    section = marta.locator("#s-uzasadnienie")
    section.get_by_label("Comment for the writers").fill("Dobre uzasadnienie.")
    section.get_by_role("button", name="Approve").click()
    section = marta.locator("#s-dzialania")
    section.get_by_label("Comment for the writers").fill("Please add dates for each workshop.")
    section.get_by_role("button", name="Request changes").click()
    # 3. Every section has a verdict: the round closes, its summary stays readable.
    expect(marta.locator(".flash")).to_contain_text("the review round is closed")
    expect(marta.locator(".lead .badge")).to_have_text("Closed")
    marta.get_by_role("link", name=exactly("Review queue")).click()
    expect(marta.get_by_text("Nothing waits for your review.")).to_be_visible()

    # The writers see the verdicts and comments on their sections; changes go back to them.
    open_section(ola, "Działania")
    expect(ola.locator("#review")).to_contain_text("Changes requested")
    expect(ola.locator("#review")).to_contain_text("Please add dates for each workshop.")
    # The verdict and its comment sit above the text, where the writer starts.
    assert ola.locator("#review").bounding_box()["y"] < ola.get_by_label("Text").bounding_box()["y"]
    expect(ola.get_by_text("Changes requested").first).to_be_visible()
    expect(ola.get_by_role("button", name=exactly("Mark as ready"))).to_be_enabled()
    ola.locator("[data-bell]").click()
    expect(ola.locator("main")).to_contain_text("Marta Wiśniewska requests changes to")
    open_section(anna, "Cele projektu")
    expect(anna.locator("#review")).to_contain_text("Dodajcie mierzalne cele.")
