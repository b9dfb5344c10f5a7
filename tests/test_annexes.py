"""Annexes over HTTP: checked by content, versions, who sees them, the check, the .zip."""

from __future__ import annotations

import html
import io
import re
import zipfile
from urllib.parse import quote

import docx
import openpyxl
import pytest
from sqlalchemy import select

from proposals.calls.loader import ProfileError, parse_profile
from proposals.domain.annexes import clean_filename, file_format
from proposals.models import Annex, ProposalAccess, SignOff
from tests.annex_helpers import partner_annexes, tiny_pdf, upload_annex
from tests.conftest import make_user, post, row_counts
from tests.consortium_helpers import browser, consortium, flashes, partner_of, proposal
from tests.test_final import _signing

MB = 1024 * 1024


def _docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Letter of intent")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Budget"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


ODT = _zip(
    {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<office:document/>"}
)
DOCM = _zip(
    {
        "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.ms-word.document.'
        b'macroEnabled.main+xml"/></Types>',
        "word/document.xml": b"<w:document/>",
    }
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS mode."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20


# --- what a file is, by its content ------------------------------------------------------


def test_the_format_is_read_from_the_content_not_the_name() -> None:
    assert file_format(tiny_pdf()) == "pdf"
    assert file_format(_docx()) == "docx"
    assert file_format(_xlsx()) == "xlsx"
    assert file_format(ODT) == "odt"
    assert file_format(PNG) == "png"
    assert file_format(JPEG) == "jpg"
    for refused in (EXE, DOCM, _zip({"a.txt": b"x"}), b"PK\x03\x04broken", b"", b"<html>"):
        assert file_format(refused) is None


def test_names_keep_their_letters_and_lose_folders_and_control_characters() -> None:
    assert clean_filename("Zaświadczenie ŁÓDŹ.pdf", "pdf") == "Zaświadczenie ŁÓDŹ.pdf"
    assert clean_filename("C:\\fakepath\\Statut.PDF", "pdf") == "Statut.pdf"
    assert clean_filename("../../etc/passwd", "pdf") == "passwd.pdf"
    assert clean_filename("skan\x00\n.jpeg", "jpg") == "skan.jpg"
    assert clean_filename("list.docx", "pdf") == "list.docx.pdf"  # a PDF, whatever its name said
    assert clean_filename("...", "png") == "annex.png"
    assert len(clean_filename("x" * 500 + ".pdf", "pdf")) == 204


def test_a_profile_asks_for_each_annex_once_and_a_declaration_from_each_partner() -> None:
    with open("proposals/calls/acf-poland-national.yaml", encoding="utf-8") as file:
        text = file.read()
    profile = parse_profile(text)
    declaration = profile.annex("declaration")
    assert declaration is not None and declaration.per == "partner" and declaration.declaration
    wrong = text.replace(
        "    per: partner\n    formats: [pdf, jpg, png]\n    declaration", "    declaration", 1
    )
    with pytest.raises(ProfileError, match="each partner"):
        parse_profile(wrong)
    twice = text.replace("  - key: letters", "  - key: statutes", 1)
    with pytest.raises(ProfileError, match="duplicate annex key"):
        parse_profile(twice)


# --- over HTTP --------------------------------------------------------------------------


def test_a_signed_declaration_completes_the_sign_off_and_the_check_until_then(app, db):
    team = _signing(app, db)
    frivillig = partner_of(db, team.pid, team.partner.organisation)
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    missing = "The annex “Signed partnership declaration” of Frivillig is missing."
    assert missing in html.unescape(page)
    link = f"/proposals/{team.pid}/annexes#annex-declaration-{frivillig.public_id}"
    assert f'href="{link}"' in page
    assert "The annex “Statutes or extract from the register” of Fundacja Fala is missing." in (
        html.unescape(page)
    )
    assert "Letters of intent" not in page  # optional: not asked for
    annexes_page = team.partner.client.get(f"/proposals/{team.pid}/annexes").text
    assert f'id="annex-declaration-{frivillig.public_id}"' in annexes_page

    response = upload_annex(
        team.partner.client,
        partner_annexes(db, team, team.partner),
        "Deklaracja podpisana.pdf",
        tiny_pdf(),
        requirement="declaration",
    )
    assert response.status_code == 200
    said = " ".join(flashes(response))
    assert "“Deklaracja podpisana.pdf” is uploaded (version 1)." in said
    assert "The signed declaration records the sign-off of Frivillig." in said
    signed = db.scalars(select(SignOff).where(SignOff.partner_id == frivillig.id)).all()
    assert {s.what for s in signed if s.withdrawn_at is None} == {"sections", "budget"}
    page = html.unescape(team.lead.client.get(f"/proposals/{team.pid}/final").text)
    assert missing not in page
    assert "Frivillig has not signed off" not in page
    assert "Fundacja Fala has not signed off" in page  # the lead has not yet


def test_versions_are_kept_and_names_come_back_with_their_letters(app, db):
    team = consortium(app, db)
    path = partner_annexes(db, team, team.partner)
    first = upload_annex(
        team.partner.client, path, "Zaświadczenie ŁÓDŹ.pdf", tiny_pdf("one"), requirement="statutes"
    )
    assert first.status_code == 200
    second = upload_annex(
        team.partner.client, path, "Zaświadczenie ŁÓDŹ.pdf", tiny_pdf("two"), requirement="statutes"
    )
    assert "(version 2)" in " ".join(flashes(second))
    rows = db.scalars(select(Annex).order_by(Annex.version)).all()
    assert [r.version for r in rows] == [1, 2]
    assert rows[1].uploaded_by_id == team.partner.user.id and rows[1].size == len(tiny_pdf("two"))
    page = team.lead.client.get(f"/proposals/{team.pid}/annexes").text
    assert "Earlier versions" in page
    for row, text in zip(rows, ("one", "two"), strict=True):
        assert f"/proposals/{team.pid}/annexes/{row.public_id}" in page
        response = team.lead.client.get(f"/proposals/{team.pid}/annexes/{row.public_id}")
        assert response.status_code == 200
        assert response.content == tiny_pdf(text)
        assert response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert f"filename*=UTF-8''{quote('Zaświadczenie ŁÓDŹ.pdf', safe='')}" in disposition
        assert 'filename="Zaswiadczenie LODZ.pdf"' in disposition


def test_hostile_and_wrong_files_are_refused_with_a_reason_and_nothing_is_kept(app, db):
    team = consortium(app, db)
    path = partner_annexes(db, team, team.partner)
    before = row_counts(db)
    cases = [
        (
            "setup.pdf",
            EXE,
            "statutes",
            "is not a PDF, Word, Excel, OpenDocument text, JPEG or PNG file",
        ),
        ("macro.docx", DOCM, "statutes", "is not a PDF, Word, Excel"),
        (
            "list.docx",
            _docx(),
            "declaration",
            "is a Word document (.docx); this annex must be: PDF",
        ),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (26 * MB), "statutes", "is larger than 25 MB"),
        ("empty.pdf", b"", "statutes", "is empty"),
        ("x.pdf", tiny_pdf(), "no-such-annex", "Choose which annex this file is."),
        ("x.pdf", tiny_pdf(), "letters", "Choose which annex this file is."),  # not a partner's
    ]
    for name, data, requirement, message in cases:
        response = upload_annex(team.partner.client, path, name, data, requirement=requirement)
        assert response.status_code == 422, name
        assert message in html.unescape(response.text), name
        assert 'role="alert"' in response.text
    assert row_counts(db) == before
    no_file = post(team.partner.client, path, {"requirement": "statutes"})
    assert no_file.status_code == 422 and "Choose the file to upload." in no_file.text
    huge = upload_annex(
        team.partner.client, path, "huge.pdf", b"%PDF-" + b"0" * (30 * MB), requirement="statutes"
    )
    assert huge.status_code == 413
    assert "larger than 25 MB" in huge.text
    forged = upload_annex(
        team.partner.client,
        f"/proposals/{team.pid}/partners/not-a-partner/annexes",
        "x.pdf",
        tiny_pdf(),
        requirement="statutes",
    )
    assert forged.status_code == 404
    script = upload_annex(
        team.partner.client,
        path,
        "<script>alert(1)</script>.pdf",
        tiny_pdf(),
        requirement="statutes",
    )
    assert script.status_code == 200
    assert "<script>alert(1)</script>" not in script.text
    assert row_counts(db)["annex"] == before["annex"] + 1


def test_a_partner_may_not_upload_another_partners_files(app, db):
    team = consortium(app, db)
    lead_path = partner_annexes(db, team, team.lead)
    response = upload_annex(
        team.partner.client, lead_path, "x.pdf", tiny_pdf(), requirement="statutes"
    )
    assert response.status_code == 403
    assert db.scalars(select(Annex)).all() == []


def test_a_partners_own_file_is_seen_only_by_the_partner_and_the_coordinator(app, db):
    team = consortium(app, db)
    vic = make_user(db, email="vic@example.org", name="Vic Viewer")
    db.add(ProposalAccess(proposal=proposal(db, team.pid), user=vic, role="viewer"))
    db.commit()
    viewer = browser(app, "vic@example.org")
    path = partner_annexes(db, team, team.partner)
    upload_annex(
        team.partner.client, path, "Oświadczenie.pdf", tiny_pdf(), requirement="declaration"
    )
    upload_annex(
        team.partner.client,
        path,
        "Statut.pdf",
        tiny_pdf(),
        requirement="statutes",
        visibility="consortium",
    )
    declaration = db.scalars(select(Annex).where(Annex.requirement == "declaration")).one()
    statutes = db.scalars(select(Annex).where(Annex.requirement == "statutes")).one()
    assert declaration.visibility == "partner"  # the call's default for declarations
    assert statutes.visibility == "consortium"
    url = f"/proposals/{team.pid}/annexes/"
    assert team.lead.client.get(url + declaration.public_id).status_code == 200
    assert viewer.get(url + declaration.public_id).status_code == 404
    assert viewer.get(url + statutes.public_id).status_code == 200
    page = viewer.get(f"/proposals/{team.pid}/annexes").text
    assert "Oświadczenie.pdf" not in page and "Statut.pdf" in page
    assert "only the partner and the coordinator see the file" in page
    assert "<form" not in page.split("<h1>")[1]  # a viewer uploads nothing
    stranger = browser(app, None)
    assert stranger.get(url + statutes.public_id, follow_redirects=False).status_code == 303


def test_the_package_carries_the_annexes_in_a_folder_per_partner(app, db):
    team = consortium(app, db)
    upload_annex(
        team.partner.client,
        partner_annexes(db, team, team.partner),
        "Statut.pdf",
        tiny_pdf(),
        requirement="statutes",
    )
    upload_annex(
        team.lead.client,
        partner_annexes(db, team, team.lead),
        "Odpis KRS.pdf",
        tiny_pdf("KRS"),
        requirement="statutes",
    )
    upload_annex(
        team.partner.client,
        f"/proposals/{team.pid}/annexes/upload",
        "List.docx",
        _docx(),
        requirement="letters",
    )
    response = post(team.lead.client, f"/proposals/{team.pid}/final/export", {"kind": "package"})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert archive.read("annexes/Frivillig/Statut.pdf") == tiny_pdf()
        assert archive.read("annexes/Fundacja Fala/Odpis KRS.pdf") == tiny_pdf("KRS")
        assert "annexes/List.docx" in names
        sums = archive.read("SHA256SUMS.txt").decode()
    assert re.search(r"[0-9a-f]{64}  annexes/Frivillig/Statut\.pdf", sums)


def test_the_call_page_lists_the_annexes_it_asks_for(client):
    page = html.unescape(client.get("/calls/acf-poland-national").text)
    assert "<h2>Annexes</h2>" in page
    assert (
        "Signed partnership declaration</strong>: "
        "From each partner; PDF, JPEG image, PNG image. Required." in page
    )
    assert "Letters of intent</strong>: Once for the proposal;" in page and "Optional." in page
