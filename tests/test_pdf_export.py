"""PDF exports over HTTP: LibreOffice headless makes them, bounded, with the contents filled.

The demo application is exported as PDF and read back with poppler
(``pdftotext``): the table of contents names every section with the page it is
on, and the budget pages hold every partner's name and every column heading
unbroken. Without LibreOffice the buttons say so and a request gets that message.
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile

import docx
import pytest

from exports import sample
from exports.application import budget_rows, build_application, cofunding_rows
from proposals.domain import exporting, pdf
from proposals.errors import Invalid
from proposals.models import Export
from tests.budget_helpers import seeded, signed_in, the_proposal
from tests.conftest import post
from tests.export_helpers import squeeze, tool

AS_PDF = {"kind": "application", "format": "pdf"}


def _text(data: bytes, tmp_path, layout: bool = False) -> list[str]:  # type: ignore[no-untyped-def]
    """The PDF's pages as text (poppler), one string per page."""
    path = tmp_path / "export.pdf"
    path.write_bytes(data)
    arguments = [tool("pdftotext"), "-enc", "UTF-8", *(["-layout"] if layout else []), str(path)]
    done = subprocess.run([*arguments, "-"], capture_output=True, text=True, check=True)
    return done.stdout.split("\f")


def test_the_demo_application_as_pdf_has_its_contents_and_a_budget_that_fits(app, db, tmp_path):
    seeded(db)
    proposal = the_proposal(db)
    pid = proposal.public_id
    titles = [s.title for s in sorted(proposal.sections, key=lambda s: (s.position, s.id))]
    partners = [p.organisation.name for p in proposal.partners if p.status == "active"]
    anna = signed_in(app, "anna@demo.engage")
    page = anna.get(f"/proposals/{pid}/final").text
    assert "Export to PDF" in page and "not installed" not in page

    response = post(anna, f"/proposals/{pid}/final/export", AS_PDF)
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert ".pdf" in response.headers["content-disposition"]
    pages = _text(response.content, tmp_path, layout=True)

    # The contents (page 2) name every section with the page its heading is on.
    contents = pages[1]
    assert "right-click" not in contents.lower() and "update field" not in contents.lower()
    for number, title in enumerate(titles, 1):
        heading = f"{number}. {title}"
        entry = re.search(re.escape(heading) + r"[ .\u2026]*?(\d+)\s*$", contents, re.M)
        assert entry, f"{heading!r} is not in the contents:\n{contents}"
        on = int(entry.group(1))
        assert heading in pages[on - 1], f"{heading!r} is not on page {on}"

    # The budget pages hold each partner's name and each column heading whole.
    plain = _text(response.content, tmp_path)
    budget_pages = [squeeze(p) for p in plain if "Personnel" in p or "Koszty" in p]
    assert budget_pages, "no budget page"
    budget = " ".join(budget_pages)
    for name in partners:
        assert squeeze(name) in budget, name
    snap = exporting.snapshot(db, the_proposal(db))
    headings = [*budget_rows(snap)[0], *cofunding_rows(snap)[0]]
    for heading in headings:  # a word broken in a narrow cell would read "Organiz acja"
        assert squeeze(heading) in budget, heading
    amounts_in = snap.labels.amounts_in % {"currency": snap.budget.currency}  # the call's language
    assert amounts_in in budget, amounts_in
    assert f" {snap.budget.currency} " not in budget.replace(amounts_in + " ", "")

    db.expire_all()
    row = db.query(Export).order_by(Export.id.desc()).first()
    assert row is not None and row.filename.endswith(".pdf") and row.content == response.content
    again = anna.get(f"/proposals/{pid}/exports/{row.public_id}")
    assert again.headers["content-type"] == "application/pdf"


def test_a_declaration_as_pdf_and_nonsense_formats(app, db, tmp_path):
    seeded(db)
    proposal = the_proposal(db)
    pid = proposal.public_id
    ola = signed_in(app, "ola@demo.engage")
    mine = next(p for p in proposal.partners if p.organisation.country == "NO")
    url = f"/proposals/{pid}/final/declaration"
    response = post(ola, url, {"partner": mine.public_id, "format": "pdf"})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert squeeze(mine.organisation.name) in squeeze(" ".join(_text(response.content, tmp_path)))
    refused = post(ola, url, {"partner": mine.public_id, "format": "exe"})
    assert refused.status_code == 400 and "Choose Word or PDF" in refused.text
    anna = signed_in(app, "anna@demo.engage")
    package = post(anna, f"/proposals/{pid}/final/export", {"kind": "package", "format": "pdf"})
    assert package.status_code == 200, package.text[:500]
    assert package.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    names = archive.namelist()
    pdfs = [n for n in names if n.endswith(".pdf")]
    active = [p for p in proposal.partners if p.status == "active"]
    assert len(pdfs) == 1 + len(active), names  # the application and each declaration
    assert not [n for n in names if n.endswith(".docx")]
    assert any(n.endswith("-budget.xlsx") for n in names) and "SHA256SUMS.txt" in names
    assert all(archive.read(n).startswith(b"%PDF-") for n in pdfs)


def test_without_libreoffice_the_buttons_say_so_and_nothing_breaks(app, db, monkeypatch):
    seeded(db)
    pid = the_proposal(db).public_id
    monkeypatch.setenv("ENGAGE_SOFFICE", "/nonexistent/soffice")
    anna = signed_in(app, "anna@demo.engage")
    page = anna.get(f"/proposals/{pid}/final").text
    assert "LibreOffice, which is not installed on this server" in page
    assert re.search(r'disabled aria-describedby="pdf-missing">Export to PDF', page)
    response = post(anna, f"/proposals/{pid}/final/export", AS_PDF)
    assert response.status_code == 400
    assert "LibreOffice, which is not installed on this server" in response.text
    word = post(anna, f"/proposals/{pid}/final/export", {"kind": "application"})
    assert word.status_code == 200 and word.content.startswith(b"PK")
    db.expire_all()
    assert [r.filename.rsplit(".", 1)[-1] for r in db.query(Export)] == ["docx"]


def test_a_conversion_over_its_time_limit_is_stopped_with_a_message() -> None:
    data = build_application(sample.snapshot(sections=4, section_length=800, partners=3, lines=5))
    with pytest.raises(Invalid, match="longer than 1 seconds"):
        pdf.docx_to_pdf(data, time_limit=0.5)
    assert pdf.docx_to_pdf(data).startswith(b"%PDF-")  # the next conversion works again


def test_one_conversion_at_a_time_per_worker() -> None:
    data = build_application(sample.snapshot(sections=2, section_length=400, partners=2, lines=2))
    assert pdf._lock.acquire()
    try:
        waited = pdf.WAIT_SECONDS
        pdf.WAIT_SECONDS = 0.1
        with pytest.raises(Invalid, match="Another PDF is being made"):
            pdf.docx_to_pdf(data)
    finally:
        pdf.WAIT_SECONDS = waited
        pdf._lock.release()


def test_the_word_file_carries_the_page_of_each_heading_in_its_contents(tmp_path) -> None:
    """Where LibreOffice is installed, the .docx's contents give each heading's real page.

    The file is laid out once by LibreOffice to learn the pages; converting the exported
    .docx as it is (no field update) must then show each heading on the page its
    contents line names, and the file still passes the Open XML validator."""
    from exports.snapshot import Labels
    from proposals.i18n import translations
    from tests.export_helpers import pdf_text, to_pdf, validate_ooxml

    labels = Labels.translated(translations("pl").gettext)
    snap = sample.snapshot(sections=8, section_length=2500, partners=4, lines=40, labels=labels)
    data = exporting.application_file(snap)
    document = docx.Document(io.BytesIO(data))
    entries = [p.text for p in document.paragraphs if p.style.name in ("TOC 1", "TOC 2")]
    assert len(entries) >= len(snap.sections) + 2
    listed = {}
    for entry in entries:
        title, _tab, page = entry.rpartition("\t")
        assert page.isdigit(), f"no page number in the contents line {entry!r}"
        listed[title] = int(page)

    path = tmp_path / "application.docx"
    path.write_bytes(data)
    assert validate_ooxml(path) == []
    pages = pdf_text(to_pdf(path)).split("\f")
    for title, page in listed.items():
        # The heading itself (not its contents line, on page 2) is on the page listed.
        found = [
            number
            for number, text in enumerate(pages, 1)
            if number > 2 and any(squeeze(line) == squeeze(title) for line in text.splitlines())
        ]
        assert found and found[0] == page, (title, page, found)
    # Without page numbers the same file is still made (Word fills them on opening).
    plain = docx.Document(io.BytesIO(build_application(snap)))
    first = next(p.text for p in plain.paragraphs if p.style.name == "TOC 1")
    assert "\t" not in first
