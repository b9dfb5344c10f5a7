"""Word exports: they open in LibreOffice, pass the OOXML validator, say what the app says.

Every kind of export is built from a snapshot (exports are pure), converted to
PDF by LibreOffice headless, and its text read back; python-docx reads the
headings and the tables' totals back. The same snapshot gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import docx
import pytest

from exports import sample, wordkit
from exports.application import build_application
from exports.budget import SOURCE_KINDS
from exports.declaration import build_declaration
from exports.package import CHECKSUMS, build_package
from exports.snapshot import Labels
from proposals.i18n import translations
from proposals.text import plain_text
from tests.export_helpers import opened, squeeze

POLISH = Labels.translated(translations("pl").gettext)


def _body(text: str, snapshot) -> str:  # type: ignore[no-untyped-def]
    """The PDF's text without the running header (acronym) and footer (page numbers)."""
    page = re.compile(r"^Strona \d+ z \d+$")
    lines = [
        line
        for line in text.replace("\f", "\n").splitlines()
        if line.strip() != snapshot.acronym and not page.match(line.strip())
    ]
    return squeeze("\n".join(lines))


def _money(value: Decimal) -> str:
    return squeeze(wordkit.money(value, "EUR", "pl"))


def test_application_opens_with_every_section_totals_and_page_numbers(tmp_path: Path) -> None:
    snapshot = sample.snapshot(sections=6, section_length=2500, partners=4, lines=40, labels=POLISH)
    data = build_application(snapshot)
    text = opened(data, tmp_path, "application.docx")

    body = _body(text, snapshot)
    for section in snapshot.sections:
        for block in plain_text(section.text).splitlines():
            assert squeeze(block) in body, block
    assert "Zażółć gęślą jaźń" in body
    budget = snapshot.budget
    assert _money(budget.total_costs) in squeeze(text)
    assert _money(budget.funding("grant")) in squeeze(text)
    pages = re.findall(r"Strona (\d+) z (\d+)", text)
    assert pages and pages[0] == ("1", pages[0][1]) and int(pages[0][1]) > 3
    assert pages[-1][0] == pages[-1][1]
    assert "Spis treści" in text  # the labels are in the call's language
    # The contents list the headings even before Word updates them (with page numbers).
    contents = squeeze(text.split("\f")[1])
    assert "Spis treści" in contents and "Aktualizuj pole" not in contents
    for number, section in enumerate(snapshot.sections, 1):
        assert squeeze(f"{number}. {section.title}") in contents
    assert POLISH.budget_lines in contents

    # python-docx reads back the headings in the call's order and the tables' totals.
    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    expected = [f"{n}. {s.title}" for n, s in enumerate(snapshot.sections, 1)]
    assert headings == [*expected, f"7. {POLISH.partnership}", f"8. {POLISH.budget}"]
    first_category = budget.categories[0].title
    by_partner = next(t for t in document.tables if t.rows[0].cells[1].text == first_category)
    last = [c.text for c in by_partner.rows[-1].cells]
    assert last[0] == POLISH.total
    assert last[-1] == wordkit.figure(budget.total_costs, "pl")  # "EUR" once, above the table
    for category, cell in zip(budget.categories, last[1:-1], strict=True):
        assert cell == wordkit.figure(budget.category_total(category.key), "pl")
    cofunding = next(t for t in document.tables if t.rows[0].cells[1].text == POLISH.source_grant)
    totals = [c.text for c in cofunding.rows[-2].cells]
    assert totals[1:] == [
        *(wordkit.figure(budget.funding(k), "pl") for k in SOURCE_KINDS),
        wordkit.figure(budget.total_funding, "pl"),
    ]
    assert "Kwoty w EUR" in text or "Amounts in EUR" in text
    assert cofunding.rows[-1].cells[1].text == wordkit.percent(budget.source_share("grant"), "pl")
    # Portrait A4 for the texts, landscape A4 for the budget; one font family throughout.
    assert len(document.sections) == 2
    section, budget_pages = document.sections
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (round(budget_pages.page_width.mm), round(budget_pages.page_height.mm)) == (297, 210)
    styles = document.styles.element.xml
    assert not re.search(r"w:(ascii|hAnsi|eastAsia)Theme|w:cstheme", styles)
    assert set(re.findall(r'w:ascii="([^"]+)"', styles)) == {wordkit.FONT}
    assert document.core_properties.title == "BVT – Bałtyccy wolontariusze razem"
    assert document.core_properties.language == "pl"
    assert document.core_properties.created.year == 2027
    assert "BVT" in section.header.paragraphs[0].text
    assert "updateFields" in document.settings.element.xml
    assert 'TOC \\o "1-2"' in document.element.xml


def test_markdown_becomes_named_styles_runs_and_links() -> None:
    text = "Para **bold** and *it* [site](https://example.org).\n\n- a\n- b\n\n1. one\n2. two\n"
    snapshot = sample.snapshot(sections=2, texts={1: text, 2: "3. x\n4. y"}, partners=2, lines=4)
    document = docx.Document(io.BytesIO(build_application(snapshot)))
    styles = [p.style.name for p in document.paragraphs]
    assert styles.count("List Bullet") == 2 and styles.count("List Number") == 4
    paragraph = next(p for p in document.paragraphs if p.text.startswith("Para"))
    assert [r.text for r in paragraph.runs if r.bold] == ["bold"]
    assert [r.text for r in paragraph.runs if r.italic] == ["it"]
    assert "https://example.org" in [r.target_ref for r in document.part.rels.values()]
    # Each numbered list restarts at 1: its own w:num with a start override.
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    first, second = numbered[0]._p.pPr.numPr.numId.val, numbered[2]._p.pPr.numPr.numId.val
    assert first != second


def test_same_snapshot_gives_byte_identical_files() -> None:
    snapshot = sample.snapshot(sections=3, partners=3, lines=12)
    first = build_application(snapshot), build_declaration(snapshot, "p1")
    again = build_application(replace(snapshot)), build_declaration(replace(snapshot), "p1")
    assert first == again
    files = {"application.docx": first[0], "declaration-p1.docx": first[1]}
    assert build_package(files, snapshot.moment) == build_package(dict(files), snapshot.moment)
    changed = replace(snapshot, title=snapshot.title + "!")
    assert build_application(changed) != first[0]


def test_declaration_per_partner_with_its_data_and_contribution(tmp_path: Path) -> None:
    snapshot = sample.snapshot(sections=4, partners=3, lines=30, labels=POLISH)
    for partner in snapshot.partners:
        data = build_declaration(snapshot, partner.key)
        text = squeeze(opened(data, tmp_path, f"declaration-{partner.key}.docx"))
        budget = snapshot.budget.partner(partner.key)
        assert partner.name in text
        assert POLISH.declaration in text
        assert _money(budget.total_costs) in text
        assert partner.contact_email in text
        written = [s.title for s in snapshot.sections if s.partner == partner.key]
        assert all(title in text for title in written)
    with pytest.raises(KeyError):
        build_declaration(snapshot, "nobody")


def test_package_holds_every_file_and_their_checksums() -> None:
    snapshot = sample.snapshot(sections=2, partners=2, lines=4)
    files = {
        "application.docx": build_application(snapshot),
        **{
            f"declaration-{p.key}.docx": build_declaration(snapshot, p.key)
            for p in snapshot.partners
        },
    }
    data = build_package(files, snapshot.moment)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == sorted([*files, CHECKSUMS])
        assert {i.date_time for i in archive.infolist()} == {(2027, 3, 1, 9, 30, 0)}
        assert archive.read("application.docx") == files["application.docx"]
        sums = archive.read(CHECKSUMS).decode()
    import hashlib

    assert f"{hashlib.sha256(files['application.docx']).hexdigest()}  application.docx" in sums


BAD_TEXT = (
    '<script>alert("x")</script> <b>raw HTML</b> & ampersand \x01\x02\x0b\x1f control\x7f\n\n'
    + "w" * 5000
    + "\n\nEmoji 🎉👩🏽‍💻 and right-to-left: שלום עולם مرحبا بالعالم\n\n"
    "- [bad link](javascript:alert(1)) **unclosed bold\n\n\ufffe\ud800 end"
)


def test_bad_text_still_gives_a_file_libreoffice_opens(tmp_path: Path) -> None:
    snapshot = sample.snapshot(sections=2, texts={1: BAD_TEXT}, partners=2, lines=4)
    snapshot = replace(snapshot, title="A & B <c> \x0c title 🎉", acronym="A&B")
    application = build_application(snapshot)
    text = squeeze(opened(application, tmp_path, "bad.docx"))
    assert '<script>alert("x")</script>' in text
    assert "& ampersand" in text and "control" in text
    assert "שלום" in text and "مرحبا" in text and "end" in text
    assert "javascript" not in " ".join(
        r.target_ref for r in docx.Document(io.BytesIO(application)).part.rels.values()
    )
    declaration = build_declaration(snapshot, "p0")
    assert "A & B" in squeeze(opened(declaration, tmp_path, "bad-declaration.docx"))


def funder_template() -> bytes:
    """A small funder template with docxtpl tags, made from python-docx's styles."""
    document = docx.Document()
    wordkit.prepare(document)
    document.add_paragraph("{{ acronym }} – {{ title }}", style="Title")
    document.add_paragraph("{{ labels.call }}: {{ call }} ({{ funder }})")
    document.add_paragraph("{{ labels.lead_partner }}: {{ lead }}")
    grid = document.add_table(rows=5, cols=3)
    grid.style = document.styles["Table Grid"]
    rows = grid.rows
    for cell, text in zip(rows[0].cells, ["No.", "Organisation", "Country"], strict=True):
        cell.text = text
    rows[1].cells[0].text = "{%tr for p in partners %}"
    for cell, text in zip(
        rows[2].cells, ["{{ p.number }}", "{{ p.name }}", "{{ p.country }}"], strict=True
    ):
        cell.text = text
    rows[3].cells[0].text = "{%tr endfor %}"
    rows[4].cells[0].text = "Total"
    rows[4].cells[2].text = "{{ total_budget }}"
    document.add_paragraph("{%p for s in sections %}")
    document.add_paragraph("{{ s.number }}. {{ s.title }}", style="Heading 1")
    document.add_paragraph("{{p s.body }}")
    document.add_paragraph("{%p endfor %}")
    wordkit.page_footer(document, "Page %(page)s of %(pages)s")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_funder_template_is_filled_with_docxtpl_and_escapes_user_text(tmp_path: Path) -> None:
    texts = {1: "Fish & chips <b>not bold</b> **bold**\n\n- one\n- two", 2: "Zażółć gęślą jaźń."}
    snapshot = sample.snapshot(
        sections=2, texts=texts, partners=3, lines=9, template=funder_template()
    )
    snapshot = replace(snapshot, title="Sea & <Shore>")
    data = build_application(snapshot)
    assert data == build_application(snapshot)
    text = squeeze(opened(data, tmp_path, "funder.docx"))
    assert "BVT – Sea & <Shore>" in text
    assert "Fish & chips <b>not bold</b> bold" in text
    assert "Zażółć gęślą jaźń." in text
    assert _money(snapshot.budget.total_costs) in text
    for partner in snapshot.partners:
        assert partner.name in text
    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["1. Część 1: żółwie i źródła", "2. Część 2: żółwie i źródła"]
    assert [p.style.name for p in document.paragraphs].count("List Bullet") == 2


def test_a_template_without_the_styles_used_is_refused() -> None:
    document = docx.Document()
    document.styles["List Bullet"].delete()
    buffer = io.BytesIO()
    document.save(buffer)
    snapshot = sample.snapshot(sections=1, partners=1, lines=1, template=buffer.getvalue())
    with pytest.raises(ValueError, match="List Bullet"):
        build_application(snapshot)
