"""J6, annexes (demo): a partner uploads its files; the check lists what is missing; the .zip."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.annex_helpers import tiny_pdf
from tests.e2e.journey import exactly
from tests.e2e.test_j3_writing import sign_in
from tests.e2e.test_j6_final import open_final

KRISTIANSAND = "Frivillighetssentralen Kristiansand"
DECLARATION = "Signed partnership declaration"
STATUTES = "Statutes or extract from the register"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode."


def annex(page: Page, title: str) -> Locator:
    """The card of an annex the signed-in partner may upload (its own partner's)."""
    return (
        page.locator("section.annex")
        .filter(has=page.get_by_role("heading", name=re.compile(re.escape(title))))
        .filter(has=page.locator("input[type=file]"))
    )


def choose(card: Locator, name: str, data: bytes) -> None:
    card.locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": data},
        timeout=120_000,  # 26 MB take a while to reach the browser on a busy machine
    )


@pytest.mark.browser
def test_j6_annexes(demo, new_page, tmp_path: Path) -> None:
    anna, ola = new_page(), new_page()
    sign_in(anna, demo.url, "anna@demo.engage")
    sign_in(ola, demo.url, "ola@demo.engage")
    anna.get_by_role("link", name=exactly("Proposals")).click()
    anna.get_by_role("link", name="Baltic Volunteers Together").click()
    anna.get_by_role("button", name=exactly("Move to sign-off")).click()
    # Sections are still empty: the move asks first.
    anna.get_by_role("button", name=exactly("Move to sign-off anyway")).click()
    expect(anna.get_by_text("Done: the proposal is now “Signing off”.")).to_be_visible()

    # 1. "Check before submit" lists each missing annex, with a link to where it is uploaded.
    open_final(ola)
    problems = ola.locator("#problems")
    missing = f"The annex “{DECLARATION}” of {KRISTIANSAND} is missing."
    expect(problems).to_contain_text(missing)
    expect(problems).to_contain_text(f"The annex “{STATUTES}” of {KRISTIANSAND} is missing.")
    problems.get_by_role("link", name=re.compile(re.escape(missing))).click()
    expect(ola.get_by_role("heading", level=1)).to_have_text("Annexes")
    assert re.search(r"/annexes#annex-declaration-[\w-]+$", ola.url)

    # 2. An executable renamed .pdf and a 26 MB file are refused, each with a reason.
    declaration = annex(ola, DECLARATION)
    choose(declaration, "podpis.pdf", EXE)
    declaration.get_by_role("button", name=re.compile(r"^Upload\s*:")).click()
    expect(ola.get_by_role("alert").first).to_contain_text(
        "“podpis.pdf” is not a PDF, Word, Excel, OpenDocument text, JPEG or PNG file"
    )
    statutes = annex(ola, STATUTES)
    field = statutes.locator("input[type=file]")
    choose(statutes, "skan.pdf", b"%PDF-1.4\n" + b"0" * (26 * 1024 * 1024))
    message = field.evaluate("input => input.validationMessage")
    assert "larger than 25 MB" in message
    assert field.evaluate("input => input.form.checkValidity()") is False  # it is not sent

    # 3. A PDF named with Polish letters is kept and downloads with that name.
    choose(statutes, "Zaświadczenie ŁÓDŹ.pdf", tiny_pdf("Statut"))
    statutes.get_by_role("button", name=re.compile(r"^Upload\s*:")).click()
    expect(ola.get_by_text("“Zaświadczenie ŁÓDŹ.pdf” is uploaded (version 1).")).to_be_visible()
    with ola.expect_download() as info:
        annex(ola, STATUTES).get_by_role("link", name="Zaświadczenie ŁÓDŹ.pdf").click()
    assert info.value.suggested_filename == "Zaświadczenie ŁÓDŹ.pdf"
    saved = tmp_path / "statutes.pdf"
    info.value.save_as(saved)
    assert saved.read_bytes() == tiny_pdf("Statut")

    # 4. The signed declaration records Kristiansand's sign-off.
    declaration = annex(ola, DECLARATION)
    choose(declaration, "Deklaracja podpisana.pdf", tiny_pdf("Podpisano"))
    declaration.get_by_role("button", name=re.compile(r"^Upload\s*:")).click()
    expect(
        ola.get_by_text(f"The signed declaration records the sign-off of {KRISTIANSAND}.")
    ).to_be_visible()
    open_final(ola)
    expect(ola.locator("#problems")).not_to_contain_text(missing)
    expect(ola.locator("#problems")).not_to_contain_text(f"{KRISTIANSAND} has not signed off")
    expect(ola.locator("#problems")).to_contain_text(
        "The annex “Signed partnership declaration” of"
    )

    # 5. The coordinator's package carries the files in a folder per partner.
    open_final(anna)
    with anna.expect_download() as info:
        anna.get_by_role("button", name=exactly("Submission package (.zip)")).click()
    package = tmp_path / "package.zip"
    info.value.save_as(package)
    with zipfile.ZipFile(package) as archive:
        folder = f"annexes/{KRISTIANSAND}/"
        assert archive.read(folder + "Zaświadczenie ŁÓDŹ.pdf") == tiny_pdf("Statut")
        assert archive.read(folder + "Deklaracja podpisana.pdf") == tiny_pdf("Podpisano")
