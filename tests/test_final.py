"""The final stage over HTTP: check before submit, sign-offs and their withdrawal, exports."""

from __future__ import annotations

import html
import io
import re
import zipfile
from datetime import date

import docx
from sqlalchemy import select

from proposals.domain.exporting import _slug
from proposals.i18n import format_date
from proposals.models import Export, Proposal, SignOff
from tests.annex_helpers import tiny_pdf, upload_annex
from tests.budget_helpers import line_form, lines_of, partner, seeded, signed_in, the_proposal, url
from tests.conftest import csrf, post
from tests.consortium_helpers import audit, consortium, flashes, partner_of, proposal

PARTNER_ROW = re.compile(r'<option value="([\w-]+)"[^>]*>Frivillig</option>')


def _move(who, pid: str, trigger: str, state: str):  # type: ignore[no-untyped-def]
    return post(who.client, f"/proposals/{pid}/transition", {"trigger": trigger, "state": state})


def _save(client, pid: str, key: str, text: str, base: int):  # type: ignore[no-untyped-def]
    url = f"/proposals/{pid}/sections/{key}"
    token = csrf(client, url)
    return client.post(
        url + "/save",
        data={"csrf_token": token, "base": str(base), "text": text},
        headers={"Accept": "application/json"},
    )


def _signing(app, db):  # type: ignore[no-untyped-def]
    """A consortium in final.signing_off with "cele" assigned to the Norwegian partner."""
    team = consortium(app, db)
    _move(team.lead, team.pid, "start_drafting", "partnership.inviting")
    page = team.lead.client.get(f"/proposals/{team.pid}/sections").text
    partner_id = PARTNER_ROW.search(page).group(1)
    post(team.lead.client, f"/proposals/{team.pid}/sections/cele/assign", {"partner": partner_id})
    assert (
        _save(team.partner.client, team.pid, "cele", "Cel: **wolontariat**.", 0).status_code == 200
    )
    # Sections are still empty: the move shows what is wrong and asks first.
    asked = _move(team.lead, team.pid, "finalise", "drafting.writing")
    assert asked.status_code == 200 and "Move to sign-off?" in asked.text
    assert "is empty" in asked.text and "Move to sign-off anyway" in asked.text
    assert proposal(db, team.pid).status == "drafting.writing"
    response = post(
        team.lead.client,
        f"/proposals/{team.pid}/transition",
        {"trigger": "finalise", "state": "drafting.writing", "confirmed": "1"},
    )
    assert "Done" in " ".join(flashes(response))
    assert proposal(db, team.pid).status == "final.signing_off"
    return team


def test_check_before_submit_lists_problems_with_links(app, db):
    team = _signing(app, db)
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    assert "Check before submit" in page
    assert "is empty" in page
    assert f'href="/proposals/{team.pid}/sections/streszczenie"' in page
    assert "Frivillig has not signed off its sections and budget." in page
    assert f'href="/proposals/{team.pid}/final#sign-offs"' in page
    assert "is not approved yet" in page
    assert "Ready: nothing blocks the submission." not in page


def test_partners_sign_off_and_an_edit_withdraws_the_sign_off_it_touches(app, db):
    team = _signing(app, db)
    url = f"/proposals/{team.pid}/final/sign-off"
    lead_partner = partner_of(db, team.pid, team.lead.organisation)
    other = partner_of(db, team.pid, team.partner.organisation)
    # Nobody signs off for another organisation.
    assert post(team.partner.client, url, {"partner": lead_partner.public_id}).status_code == 403
    # Its budget breaks rules of the call: the partner sees the findings before signing.
    asked = post(team.partner.client, url, {"partner": other.public_id})
    assert asked.status_code == 200 and "the budget breaks rules of the call" in asked.text
    assert "Sign off anyway" in asked.text and not flashes(asked)
    response = post(team.partner.client, url, {"partner": other.public_id, "confirmed": "1"})
    assert "Frivillig has signed off." in flashes(response)
    response = post(team.lead.client, url, {"partner": lead_partner.public_id, "confirmed": "1"})
    assert "Fundacja Fala has signed off." in flashes(response)
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    assert "has not signed off" not in page
    db.expire_all()
    signed = {(s.partner_id, s.what): s.covers for s in db.scalars(select(SignOff))}
    assert signed[(other.id, "sections")] == {"sections": {"cele": 1}}
    assert len(signed[(other.id, "budget")]["budget"]) == 64

    # The Norwegian partner edits its section: its sign-off is withdrawn, the lead's stays.
    assert _save(team.partner.client, team.pid, "cele", "Cel: **więcej**.", 1).status_code == 200
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    assert "The sign-off of Frivillig was withdrawn: “Cele projektu” was edited." in page
    assert "Sign-off withdrawn:" in page
    assert "Fundacja Fala has not signed off" not in page
    assert [a.detail for a in audit(db, team.pid, "sign_off_withdrawn")] == [
        "“Cele projektu” was edited."
    ]
    # Marking as signed needs every partner's current sign-off.
    show = team.lead.client.get(f"/proposals/{team.pid}").text
    assert "Not signed off yet by: Frivillig." in show


def test_export_to_word_is_kept_with_its_checksum_and_versions(app, db):
    team = _signing(app, db)
    url = f"/proposals/{team.pid}/final/export"
    response = post(team.lead.client, url, {"kind": "application"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert 'filename="BYC-application.docx"' in response.headers["content-disposition"]
    document = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "1. Streszczenie projektu"
    assert "Cel: " in "\n".join(p.text for p in document.paragraphs)
    again = post(team.lead.client, url, {"kind": "application"})
    assert again.content == response.content  # nothing changed: the same bytes
    db.expire_all()
    rows = list(db.scalars(select(Export).order_by(Export.id)))
    assert len(rows) == 2 and rows[0].sha256 == rows[1].sha256
    assert rows[0].versions["sections"]["cele"] == 1
    assert rows[0].versions["call"] == "eea-csf-poland v1"
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    assert "BYC-application.docx" in page
    # The history speaks in words; the checksum waits in a details fold.
    said = re.search(r"Application, Polish, made by Anna Lis on (.+?) from the texts as of ", page)
    assert said and said.group(1) == format_date(rows[0].created_at)
    assert re.search(r"<details>\s*<summary>Details", page)
    assert f"<code>{rows[0].sha256}</code>" in page
    download = team.lead.client.get(f"/proposals/{team.pid}/exports/{rows[0].public_id}")
    assert download.content == response.content
    other = partner_of(db, team.pid, team.partner.organisation)
    declaration = post(
        team.lead.client, url.replace("/export", "/declaration"), {"partner": other.public_id}
    )
    assert "Frivillig" in "\n".join(
        p.text for p in docx.Document(io.BytesIO(declaration.content)).paragraphs
    )
    assert 'filename="BYC-declaration-Frivillig.docx"' in declaration.headers["content-disposition"]
    assert (
        "Declaration of Frivillig, Polish, made by Anna Lis"
        in team.lead.client.get(f"/proposals/{team.pid}/final").text
    )
    package = post(team.lead.client, url, {"kind": "package"})
    assert package.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert "BYC-budget.xlsx" in names and "BYC-application.docx" in names
    assert post(team.lead.client, url, {"kind": "nonsense"}).status_code == 400


def test_signed_proposal_is_read_only_until_reopened(app, db):
    team = _signing(app, db)
    row = db.scalar(select(Proposal).where(Proposal.public_id == team.pid))
    row.status = "final.signed"  # arranged directly: reaching it needs a complete application
    db.commit()
    response = _save(team.partner.client, team.pid, "cele", "Zmiana.", 1)
    assert response.status_code == 409
    assert "read-only" in response.json()["message"]
    page = team.lead.client.get(f"/proposals/{team.pid}/final").text
    assert "Record the submission" in page
    response = post(
        team.lead.client,
        f"/proposals/{team.pid}/final/submission",
        {"submitted_on": "not a date", "reference": ""},
    )
    assert response.status_code == 422
    response = _move(team.lead, team.pid, "reopen", "final.signed")
    assert "Done" in " ".join(flashes(response))
    assert audit(db, team.pid, "reopen")[-1].actor_id == team.lead.user.id
    assert _save(team.partner.client, team.pid, "cele", "Zmiana.", 1).status_code == 200


def test_only_the_coordinator_exports_the_application_and_partners_their_own_declaration(app, db):
    team = _signing(app, db)
    url = f"/proposals/{team.pid}/final/export"
    mine = partner_of(db, team.pid, team.partner.organisation)
    lead = partner_of(db, team.pid, team.lead.organisation)
    page = team.partner.client.get(f"/proposals/{team.pid}/final").text
    assert "Export to Word" not in page and "The coordinator exports the application" in page
    assert "Declaration of Frivillig" in page
    for kind in ("application", "package"):
        assert post(team.partner.client, url, {"kind": kind}).status_code == 403
    declarations = f"/proposals/{team.pid}/final/declaration"
    forged = post(team.partner.client, declarations, {"partner": lead.public_id})
    assert forged.status_code == 403
    assert db.scalars(select(Export)).first() is None  # nothing was made or kept
    own = post(team.partner.client, declarations, {"partner": mine.public_id})
    assert own.status_code == 200 and own.content.startswith(b"PK")
    sign = post(
        team.partner.client, f"/proposals/{team.pid}/final/sign-off", {"partner": lead.public_id}
    )
    assert sign.status_code == 403
    db.expire_all()
    assert db.scalars(select(SignOff).where(SignOff.partner_id == lead.id)).first() is None


def test_a_budget_edit_withdraws_the_partners_budget_sign_off_and_a_signed_budget_is_frozen(
    app, db
):  # type: ignore[no-untyped-def]
    seeded(db)
    row = the_proposal(db)
    row.status = "final.signing_off"  # arranged directly: the demo is still being drafted
    db.commit()
    pid = row.public_id
    ola = signed_in(app, "ola@demo.engage")
    no = partner(db, "NO")
    signed = post(ola, f"/proposals/{pid}/final/sign-off", {"partner": no.public_id})
    assert signed.status_code == 200
    db.expire_all()
    current = db.scalars(
        select(SignOff).where(SignOff.partner_id == no.id, SignOff.withdrawn_at.is_(None))
    ).all()
    assert {s.what for s in current} == {"sections", "budget"}
    budget_hash = next(s for s in current if s.what == "budget").covers["budget"]

    added = post(ola, url(db, f"/{no.public_id}/lines"), line_form(description="Ferry tickets"))
    assert added.status_code == 200
    db.expire_all()
    budget_row = db.scalars(
        select(SignOff).where(SignOff.partner_id == no.id, SignOff.what == "budget")
    ).one()
    assert (
        budget_row.withdrawn_at is not None and "budget was changed" in budget_row.withdrawn_reason
    )
    page = signed_in(app, "anna@demo.engage").get(f"/proposals/{pid}/final").text
    assert "The sign-off of Frivillighetssentralen Kristiansand was withdrawn" in page
    # The ferry left costs and funding apart: Ola sees that first, then signs anyway.
    asked = post(ola, f"/proposals/{pid}/final/sign-off", {"partner": no.public_id})
    assert "the budget breaks rules of the call" in asked.text
    again = post(
        ola, f"/proposals/{pid}/final/sign-off", {"partner": no.public_id, "confirmed": "1"}
    )
    assert again.status_code == 200
    db.expire_all()
    fresh = db.scalars(
        select(SignOff).where(
            SignOff.partner_id == no.id, SignOff.what == "budget", SignOff.withdrawn_at.is_(None)
        )
    ).one()
    assert fresh.covers["budget"] != budget_hash  # the new line is covered now

    row = the_proposal(db)
    row.status = "final.signed"
    db.commit()
    before = len(lines_of(db, "NO"))
    frozen = post(ola, url(db, f"/{no.public_id}/lines"), line_form(description="Late line"))
    assert "The proposal is signed and read-only" in " ".join(flashes(frozen))
    assert len(lines_of(db, "NO")) == before
    page = ola.get(url(db)).text
    assert "its budget is read-only" in page and "Add line" not in page


def test_a_complete_application_is_signed_submitted_and_funded_over_http(app, db):
    """The whole last day on the demo consortium, every step as the people would press it."""
    seeded(db)
    row = the_proposal(db)
    pid = row.public_id
    anna, ola, ruta = (signed_in(app, f"{n}@demo.engage") for n in ("anna", "ola", "ruta"))
    # The coordinator writes every section still empty (the demo has three written).
    for section in row.sections:
        if not section.text.strip():
            response = _save(anna, pid, section.key, f"Tekst sekcji „{section.title}”.", 0)
            assert response.status_code == 200, response.text
    transition = f"/proposals/{pid}/transition"
    moved = post(anna, transition, {"trigger": "finalise", "state": row.status})
    # The demo's mentor review is still open: the coordinator is asked, and confirms.
    assert "A mentor&#39;s review is still open" in moved.text
    assert "has not signed off" not in moved.text  # collecting sign-offs is what comes next
    confirmed = {"trigger": "finalise", "state": row.status, "confirmed": "1"}
    moved = post(anna, transition, confirmed)
    assert "Done" in " ".join(flashes(moved))
    assert the_proposal(db).status == "final.signing_off"
    page = anna.get(f"/proposals/{pid}/final").text
    assert "has not signed off its sections and budget" in page
    refused = post(anna, transition, {"trigger": "mark_signed", "state": "final.signing_off"})
    assert "Not signed off yet by" in " ".join(flashes(refused))
    for person, country in ((anna, "PL"), (ruta, "LT")):
        signed = post(
            person, f"/proposals/{pid}/final/sign-off", {"partner": partner(db, country).public_id}
        )
        assert signed.status_code == 200
    assert "The annex “Statutes or extract from the register”" in html.unescape(
        anna.get(f"/proposals/{pid}/final").text
    )
    # Every partner gives its statutes and signed declaration; Ola's declaration signs off.
    said = []
    for person, country in ((anna, "PL"), (ola, "NO"), (ruta, "LT")):
        where = f"/proposals/{pid}/partners/{partner(db, country).public_id}/annexes"
        for requirement in ("statutes", "declaration"):
            sent = upload_annex(
                person, where, f"{requirement}.pdf", tiny_pdf(), requirement=requirement
            )
            assert sent.status_code == 200, sent.text
            said += flashes(sent)
    assert "records the sign-off of Frivillighetssentralen Kristiansand" in " ".join(said)
    page = anna.get(f"/proposals/{pid}/final").text
    assert "Ready: nothing blocks the submission." in page, page
    moved = post(anna, transition, {"trigger": "mark_signed", "state": "final.signing_off"})
    assert "Done" in " ".join(flashes(moved))
    assert the_proposal(db).status == "final.signed"
    # A writer cannot record the submission; the coordinator records date and reference.
    day = date.today().isoformat()  # a submission is recorded on or after the day it was made
    data = {"submitted_on": day, "reference": "ACF/2027/0042"}
    assert post(ola, f"/proposals/{pid}/final/submission", data).status_code == 403
    recorded = post(anna, f"/proposals/{pid}/final/submission", data)
    assert "The submission is recorded." in " ".join(flashes(recorded))
    row = the_proposal(db)
    assert row.status == "submitted"
    assert row.submitted_on.isoformat() == day and row.funder_reference == "ACF/2027/0042"
    assert audit(db, pid, "submission_recorded")[-1].actor_id is not None
    again = post(anna, f"/proposals/{pid}/final/submission", data)  # a double click
    assert again.status_code == 200
    assert "must be signed before" in " ".join(flashes(again))
    assert len(audit(db, pid, "submission_recorded")) == 1
    funded = post(anna, transition, {"trigger": "record_funded", "state": "submitted"})
    assert "Done" in " ".join(flashes(funded))
    assert the_proposal(db).status == "funded"


def test_file_names_keep_the_letters_of_names():
    assert _slug("Stowarzyszenie Morze Możliwości") == "Stowarzyszenie-Morze-Możliwości"
    assert _slug("Klaipėdos jaunimo centras / VšĮ") == "Klaipėdos-jaunimo-centras-VšĮ"
    assert _slug("ŁÓDŹ 24") == "ŁÓDŹ-24"
    assert _slug("<script>") == "script" and _slug("…") == "proposal"
