"""J6. Final and export (demo): check before submit, sign-offs, a withdrawn sign-off, Word files."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import SAVED, open_section, sign_in
from tests.export_helpers import pdf_text, to_pdf, validate_ooxml


def open_final(page: Page) -> None:
    page.get_by_role("link", name=exactly("Proposals")).click()
    page.get_by_role("link", name="Baltic Volunteers Together").click()
    page.get_by_role("link", name=exactly("Check before submit")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before submit")


@pytest.mark.browser
def test_j6_final_and_export(demo, new_page, tmp_path: Path) -> None:
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")

    # 1. The coordinator moves to sign-off; "Check before submit" lists problems with links.
    anna.get_by_role("link", name=exactly("Proposals")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    # Sections are still empty: the button is not the primary action, and the move asks first.
    move = anna.get_by_role("button", name=exactly("Move to sign-off"))
    expect(move).to_have_class(re.compile(r"\bsecondary\b"))
    expect(anna.locator("#blockers")).to_contain_text("still wrong")
    move.click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("Move to sign-off?")
    expect(anna.get_by_role("alert")).to_contain_text("is empty")
    anna.get_by_role("button", name=exactly("Move to sign-off anyway")).click()
    expect(anna.get_by_text("Done: the proposal is now “Signing off”.")).to_be_visible()
    anna.get_by_role("link", name=exactly("Check before submit")).click()
    problems = anna.locator("#problems")
    expect(problems).to_contain_text("has not signed off its sections and budget")
    expect(problems).not_to_contain_text("Ready: nothing blocks the submission.")
    fix = problems.get_by_role(
        "link", name=re.compile("Frivillighetssentralen Kristiansand has not signed off")
    )
    expect(fix).to_have_attribute("href", re.compile(r"/final#sign-offs$"))

    # 2. Each partner signs off; a later edit withdraws the sign-off it touches.
    anna.get_by_role("button", name=re.compile("^Sign off")).first.click()
    expect(anna.get_by_text("has signed off.")).to_be_visible()
    open_final(ola)
    ola.get_by_role("button", name=exactly("Sign off Frivillighetssentralen Kristiansand")).click()
    expect(ola.get_by_text("Frivillighetssentralen Kristiansand has signed off.")).to_be_visible()
    expect(ola.locator("#problems")).not_to_contain_text(
        "Frivillighetssentralen Kristiansand has not signed off"
    )
    open_section(ola, "Działania")
    text = ola.get_by_label(exactly("Text"))
    text.press("End")
    text.type(" Jeszcze jedno zdanie po podpisie.")
    expect(ola.get_by_role("status").filter(has_text=SAVED)).to_be_visible(timeout=10_000)
    open_final(anna)
    expect(anna.locator("#problems")).to_contain_text(
        "The sign-off of Frivillighetssentralen Kristiansand was withdrawn: “Działania” was edited."
    )
    expect(anna.locator("#sign-offs")).to_contain_text("Sign-off withdrawn:")

    # 3. "Export to Word" gives a .docx that LibreOffice opens; declarations per partner.
    with anna.expect_download() as info:
        anna.get_by_role("button", name=exactly("Export to Word")).click()
    application = tmp_path / "application.docx"
    info.value.save_as(application)
    assert validate_ooxml(application) == []
    text = pdf_text(to_pdf(application))
    assert "Spis treści" in text and "Działania" in text
    assert "Jeszcze jedno zdanie po podpisie." in re.sub(r"\s+", " ", text)
    assert re.search(r"Strona 1 z \d+", text)
    headings = [
        p.text for p in docx.Document(str(application)).paragraphs if p.style.name == "Heading 1"
    ]
    assert any(h.endswith("Działania") for h in headings)
    with anna.expect_download() as info:
        anna.get_by_role(
            "button", name=exactly("Declaration of Frivillighetssentralen Kristiansand")
        ).click()
    declaration = tmp_path / "declaration.docx"
    info.value.save_as(declaration)
    assert "Frivillighetssentralen Kristiansand" in pdf_text(to_pdf(declaration))
    anna.reload()
    expect(anna.locator("#exports")).to_contain_text("application.docx")
