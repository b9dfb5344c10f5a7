"""Mentor review: mentors, review rounds and verdicts, the review queue, what mentors may not do."""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.models import (
    Notification,
    Proposal,
    ProposalAccess,
    ReviewRound,
    Section,
    SectionVerdict,
    User,
)
from proposals.policy import can
from tests.conftest import count_queries, csrf, post, row_counts
from tests.consortium_helpers import (
    Consortium,
    Person,
    consortium,
    field_errors,
    flashes,
    person,
    proposal,
)
from tests.review_helpers import add_mentored_rounds
from workflow.policy import POLICY

PARTNER_ROW = re.compile(r'<option value="([\w-]+)"[^>]*>Frivillig</option>')


def mentor(app, db, email: str = "marta@biser.example", name: str = "Marta Wiśniewska") -> Person:  # type: ignore[no-untyped-def]
    who = person(app, db, email, name, "BISER " + email)
    who.user.is_mentor = True
    db.commit()
    return who


def drafting(app, db) -> tuple[Consortium, Person]:  # type: ignore[no-untyped-def]
    """A consortium in drafting with a mentor, two sections written and marked ready."""
    team = consortium(app, db)
    marta = mentor(app, db)
    response = post(
        team.lead.client,
        f"/proposals/{team.pid}/transition",
        {"trigger": "start_drafting", "state": "partnership.inviting"},
    )
    assert response.status_code == 200
    assert proposal(db, team.pid).status == "drafting.writing"
    response = post(team.lead.client, f"/proposals/{team.pid}/mentors", {"mentor": marta.user.id})
    assert "Marta Wiśniewska now mentors this proposal." in flashes(response)
    base = f"/proposals/{team.pid}/sections"
    partner_id = PARTNER_ROW.search(team.lead.client.get(base).text).group(1)
    post(
        team.lead.client,
        base + "/streszczenie/assign",
        {"partner": partner_id, "assignee": str(team.partner.user.id), "due_date": "2027-01-15"},
    )
    write(team.partner.client, base + "/streszczenie", "Krótkie streszczenie projektu.")
    write(team.lead.client, base + "/uzasadnienie", "Dlaczego ten projekt jest potrzebny.")
    return team, marta


def write(client: TestClient, url: str, text: str) -> None:
    token = csrf(client, url)
    saved = client.post(
        url + "/save",
        data={"csrf_token": token, "base": "0", "text": text},
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 200, saved.text
    response = post(client, url + "/state", {"trigger": "mark_ready", "state": "drafting"})
    assert response.status_code == 200


def sections(db, pid: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    db.expire_all()
    rows = db.scalars(
        select(Section).join(Proposal).where(Proposal.public_id == pid).order_by(Section.position)
    )
    return {s.key: s.status for s in rows}


def request_review(team: Consortium, marta: Person) -> str:
    """Press "Request review" with the sections it proposes; the round's URL."""
    url = f"/proposals/{team.pid}/reviews/new"
    page = team.lead.client.get(url).text
    chosen = re.findall(r'name="sections" value="([\w-]+)" checked', page)
    assert chosen == ["streszczenie", "uzasadnienie"]  # the ready ones, by default
    response = post(
        team.lead.client,
        url,
        {"mentor": str(marta.user.id), "sections": chosen, "due_date": "2027-01-10"},
    )
    assert "Marta Wiśniewska is asked to review the chosen sections." in flashes(response)
    return response.url.path


def test_a_review_round_from_request_to_closing(app, db):
    team, marta = drafting(app, db)
    round_url = request_review(team, marta)
    assert proposal(db, team.pid).status == "drafting.in_review"
    note = db.scalar(select(Notification).where(Notification.kind == "review_requested"))
    assert note.user_id == marta.user.id and note.link == round_url

    queue = marta.client.get("/reviews").text
    assert "BYC" in queue and "2 / 2" in queue and round_url in queue

    # A request for changes needs a comment; scores stay within the criterion's points.
    verdict = round_url + "/sections/streszczenie"
    response = post(marta.client, verdict, {"verdict": "changes_requested", "comment": ""})
    assert response.status_code == 422
    assert "Say what should change" in field_errors(response)["comment"]
    response = post(
        marta.client, verdict, {"verdict": "approved", "comment": "ok", "score-trafnosc": "31"}
    )
    assert response.status_code == 422 and "from 0 to 30" in response.text
    assert (
        db.scalar(select(SectionVerdict.verdict).where(SectionVerdict.verdict.is_not(None))) is None
    )

    response = post(
        marta.client,
        verdict,
        {"verdict": "changes_requested", "comment": "Dodajcie liczby uczestników."},
    )
    assert "Your verdict on “Project summary” is saved." in flashes(response)
    assert sections(db, team.pid)["streszczenie"] == "changes_requested"
    assert db.scalar(select(ReviewRound.status)) == "open"
    assert "1 / 2" in marta.client.get("/reviews").text

    response = post(
        marta.client,
        round_url + "/sections/uzasadnienie",
        {"verdict": "approved", "comment": "Przekonujące.", "score-trafnosc": "25"},
    )
    assert "the review round is closed" in " ".join(flashes(response))
    states = sections(db, team.pid)
    assert states["streszczenie"] == "changes_requested" and states["uzasadnienie"] == "approved"
    assert proposal(db, team.pid).status == "drafting.revising"
    assert "Nothing waits for your review." in marta.client.get("/reviews").text

    # The writer hears of the verdict and reads it on the section; the summary stays.
    verdicts = db.scalars(select(Notification).where(Notification.kind == "verdict")).all()
    assert [n.user_id for n in verdicts] == [team.partner.user.id]
    page = team.partner.client.get(f"/proposals/{team.pid}/sections/streszczenie").text
    assert "Changes requested" in page and "Dodajcie liczby uczestników." in page
    summary = team.partner.client.get(round_url).text
    assert "Closed" in summary and "Przekonujące." in summary and ">25<" in summary
    assert "Request changes" not in summary  # nobody may judge a closed round
    closed = db.scalar(select(Notification).where(Notification.kind == "review_closed"))
    assert closed.user_id == team.lead.user.id
    # Changes requested: the section is back with its writer, who marks it ready again.
    url = f"/proposals/{team.pid}/sections/streszczenie"
    post(
        team.partner.client, url + "/state", {"trigger": "mark_ready", "state": "changes_requested"}
    )
    assert sections(db, team.pid)["streszczenie"] == "ready"


def test_a_section_waits_in_one_open_round_at_a_time(app, db):
    team, marta = drafting(app, db)
    request_review(team, marta)
    url = f"/proposals/{team.pid}/reviews/new"
    response = post(
        team.lead.client, url, {"mentor": str(marta.user.id), "sections": ["streszczenie"]}
    )
    assert response.status_code == 422
    assert "“Streszczenie projektu” is already waiting for a review." in response.text
    response = post(team.lead.client, url, {"mentor": str(marta.user.id), "sections": []})
    assert response.status_code == 422 and "Choose at least one section." in response.text
    assert db.scalar(select(ReviewRound.id).where(ReviewRound.id > 1)) is None


def test_only_the_coordinator_requests_review_and_only_the_mentor_judges(app, db):
    team, marta = drafting(app, db)
    url = f"/proposals/{team.pid}/reviews/new"
    assert team.partner.client.get(url).status_code == 403
    assert marta.client.get(url).status_code == 403
    round_url = request_review(team, marta)
    for client in (team.lead.client, team.partner.client):
        response = post(client, round_url + "/sections/streszczenie", {"verdict": "approved"})
        assert response.status_code == 403
    assert (
        db.scalar(select(SectionVerdict.verdict).where(SectionVerdict.verdict.is_not(None))) is None
    )


def test_a_mentor_edits_nothing_and_reads_only_what_they_mentor(app, db):
    team, marta = drafting(app, db)
    other = consortium(
        app,
        db,
        lead=("jan@x.example", "Jan Nowak", "Fundacja Inna", "PL"),
        partner=("kari@x.example", "Kari Dahl", "Annen", "NO"),
        title="Another proposal",
    )
    url = f"/proposals/{team.pid}/sections/streszczenie"
    assert marta.client.get(url).status_code == 200  # reads everything of what they mentor
    outsider = person(app, db, "eve@x.example", "Eve", "Elsewhere", "LT")
    before = row_counts(db)
    token = csrf(marta.client, url)
    saved = marta.client.post(
        url + "/save",
        data={"csrf_token": token, "base": "1", "text": "Mentor's own text"},
        headers={"Accept": "application/json"},
    )
    assert saved.status_code == 403
    assert post(marta.client, url + "/assign", {"partner": ""}).status_code == 403
    assert (
        post(marta.client, url + "/state", {"trigger": "reopen", "state": "ready"}).status_code
        == 403
    )
    assert (
        post(marta.client, f"/proposals/{team.pid}/sections/add", {"title": "x"}).status_code == 403
    )
    response = post(
        marta.client,
        f"/proposals/{team.pid}/transition",
        {"trigger": "withdraw", "state": "drafting.writing"},
    )
    assert response.status_code == 403
    # A proposal they do not mentor: 403 for a mentor, 404 for any other outsider.
    assert marta.client.get(f"/proposals/{other.pid}").status_code == 403
    assert marta.client.get(f"/proposals/{other.pid}/sections/streszczenie").status_code == 403
    assert outsider.client.get(f"/proposals/{other.pid}").status_code == 404
    assert row_counts(db) == before
    db.expire_all()
    section = db.scalar(
        select(Section)
        .join(Proposal)
        .where(Proposal.public_id == team.pid, Section.key == "streszczenie")
    )
    assert section.text == "Krótkie streszczenie projektu." and section.status == "ready"
    # The table gives mentors reading, comments and verdicts, and nothing that edits.
    coaching = {action for action, rule in POLICY.items() if "mentor" in rule.grants}
    assert coaching == {
        "view_proposal",
        "view_annex",
        "comment",
        "resolve_comment",
        "give_verdict",
    }
    user = db.get(User, marta.user.id)
    loaded = proposal(db, team.pid)
    partner = loaded.partners[0]
    for action, target in [
        ("edit_budget", partner),
        ("set_contact", partner),
        ("sign_off", partner),
        ("edit_text", section),
        ("assign_section", section),
        ("invite_partner", loaded),
    ]:
        assert not can(user, action, target), action
    assert can(user, "view_proposal", loaded) and can(user, "comment", section)


def test_admin_invites_a_mentor_and_assigns_them(app, db):
    from tests.conftest import make_user, sign_in

    make_user(db, email="admin@x.example", name="Admin", is_admin=True)
    admin = TestClient(app, raise_server_exceptions=False)
    sign_in(admin, email="admin@x.example")
    team = consortium(app, db)
    response = post(admin, "/admin/mentors", {"name": "", "email": "nope"})
    assert response.status_code == 422 and field_errors(response)
    response = post(
        admin, "/admin/mentors", {"name": "Nowa Mentorka", "email": "nowa@biser.example"}
    )
    assert "We have sent an invitation to nowa@biser.example." in flashes(response)
    db.expire_all()
    new = db.scalar(select(User).where(User.email == "nowa@biser.example"))
    assert new.is_mentor
    response = post(
        admin, "/admin/mentors", {"action": "assign", "mentor": str(new.id), "proposal": team.pid}
    )
    assert "Nowa Mentorka now mentors this proposal." in flashes(response)
    db.expire_all()
    assert (
        db.scalar(select(ProposalAccess.role).where(ProposalAccess.user_id == new.id)) == "mentor"
    )
    assert team.lead.client.get("/admin/mentors").status_code == 403


# --- the queue: constant queries ----------------------------------------------------------


def test_the_review_queue_takes_the_same_queries_for_3_or_30_consortia(app, db):
    marta = mentor(app, db)
    add_mentored_rounds(db, marta.user.id, 3, requested_by_id=marta.user.id)
    db.commit()
    small, page = count_queries(app, marta.client, "/reviews")
    assert page.count("15 / 20") == 3
    add_mentored_rounds(db, marta.user.id, 27, start=3, requested_by_id=marta.user.id)
    db.commit()
    large, page = count_queries(app, marta.client, "/reviews")
    assert page.count("15 / 20") == 30
    assert large == small
    # Most urgent first: the earliest due date leads.
    dues = [int(d) for d in re.findall(r"C(\d+)</a>", page)]
    assert dues[0] in (0, 27)  # due 1 January 2027 (section 0 of consortia 0 and 27)


def test_the_coordinator_cancels_a_round_the_mentor_never_finished(app, db):
    team, marta = drafting(app, db)
    url = request_review(team, marta)
    rid = url.rsplit("/", 1)[1]
    assert proposal(db, team.pid).status == "drafting.in_review"
    judged = post(
        marta.client,
        f"/proposals/{team.pid}/reviews/{rid}/sections/streszczenie",
        {"verdict": "approved", "comment": ""},
    )
    assert judged.status_code == 200
    # Neither the mentor nor a partner's writer may cancel it; nothing changes.
    before = row_counts(db)
    for who in (marta, team.partner):
        assert post(who.client, url + "/cancel").status_code == 403
    assert row_counts(db) == before
    assert "Nothing waits for your review." not in marta.client.get("/reviews").text
    assert "Cancel the round" in team.lead.client.get(url).text
    assert "Cancel the round" not in marta.client.get(url).text
    cancelled = post(team.lead.client, url + "/cancel")
    assert "The review round is cancelled" in " ".join(flashes(cancelled))
    db.expire_all()
    row = db.scalar(select(ReviewRound).where(ReviewRound.public_id == rid))
    assert row.status == "cancelled" and row.closed_at is not None
    assert [v.verdict for v in row.verdicts] == ["approved", None]  # the verdict given stays
    assert proposal(db, team.pid).status == "drafting.revising"
    assert "Cancelled" in team.lead.client.get(url).text
    assert "Nothing waits for your review." in marta.client.get("/reviews").text
    told = db.scalars(
        select(Notification).where(
            Notification.user_id == marta.user.id, Notification.kind == "review_cancelled"
        )
    ).all()
    assert len(told) == 1
    # A second press (double click) changes nothing more; the waiting section is free again.
    again = post(team.lead.client, url + "/cancel")
    assert "This round is closed already." in " ".join(flashes(again))
    page = team.lead.client.get(f"/proposals/{team.pid}/reviews/new").text
    assert re.search(r'name="sections" value="uzasadnienie"(?: checked)?>', page)  # enabled
