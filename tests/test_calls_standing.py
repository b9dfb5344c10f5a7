"""A call's standing over HTTP: closed calls start nothing, proposals on them are told so,
and admins see which profiles need checking."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from proposals.calls import library
from proposals.models import Idea, Proposal
from tests.conftest import make_user, post, row_counts, sign_in
from tests.consortium_helpers import (
    Person,
    field_errors,
    idea_form,
    person,
    post_idea,
    start_proposal,
)
from tests.test_calls_profiles import BASE, changed

CLOSED_V2 = changed(
    "version: 1",
    "version: 2\nstatus: closed\ndates: {closes: 2026-06-30}\n",
    changed("date: 2099-01-31", "date: 2026-06-30"),
)


@pytest.fixture
def anna(app, db) -> Person:  # type: ignore[no-untyped-def]
    return person(app, db, "anna@fala.example.org", "Anna Lis", "Fundacja Fala", "PL")


def test_a_closed_calls_page_says_so_and_offers_no_start(anna):
    text = anna.client.get("/calls/acf-poland-national").text
    assert 'id="call-standing">Closed</span>' in text
    assert "This call closed on 30 April 2024 and takes no new applications." in text
    assert "project eligibility ended on 30 April 2024" in text  # the dates' note
    assert "/proposals/new?call=acf-poland-national" not in text
    assert "/ideas/new?call=acf-poland-national" not in text
    assert "Start a proposal" not in text
    current = anna.client.get("/calls/eea-csf-poland").text
    assert 'id="call-standing">Expected</span>' in current
    assert "/proposals/new?call=eea-csf-poland" in current
    assert "Verified on" in current and "4 December 2026" in current


def test_the_new_proposal_form_offers_no_closed_call(anna):
    form = anna.client.get("/proposals/new?call=acf-poland-national").text
    assert '<option value="acf-poland-national"' not in form
    assert '<option value="nordic-ngo-baltic-sea"' not in form
    assert '<option value="eea-csf-poland"' in form


def test_starting_a_proposal_on_a_closed_call_is_refused_with_the_reason(anna, db):
    before = row_counts(db)
    response = post(
        anna.client,
        "/proposals/new",
        {
            "call": "nordic-ngo-baltic-sea",
            "title": "Too late",
            "organisation": anna.organisation.public_id,
        },
    )
    assert response.status_code == 422
    assert field_errors(response)["call"] == (
        "This call closed on 31 December 2020 and takes no new applications."
    )
    assert row_counts(db) == before


def test_an_idea_cannot_be_put_on_a_closed_call(anna, db):
    response = post(anna.client, "/ideas/new", idea_form(anna, call_id="acf-poland-national"))
    assert response.status_code == 422
    assert field_errors(response)["call_id"].startswith("This call closed on 30 April 2024")
    assert db.scalar(select(func.count()).select_from(Idea)) == 0
    form = anna.client.get("/ideas/new").text
    assert '<option value="acf-poland-national"' not in form
    assert '<option value="eea-csf-poland"' in form


def test_an_idea_whose_call_closed_later_keeps_it_when_edited(anna, db):
    library.store(db, BASE)
    db.commit()
    iid = post_idea(anna, call_id="test-call")
    library.store(db, CLOSED_V2)
    db.commit()
    form = anna.client.get(f"/ideas/{iid}/edit").text
    assert '<option value="test-call" selected>' in form
    data = idea_form(anna, call_id="test-call", title="Still our idea")
    response = post(anna.client, f"/ideas/{iid}/edit", data)
    assert response.status_code == 200
    db.expire_all()
    idea = db.scalars(select(Idea)).one()
    assert (idea.title, idea.call_id) == ("Still our idea", "test-call")


def test_a_proposal_on_a_call_that_has_closed_since_says_so_and_keeps_its_version(anna, db):
    library.store(db, BASE)
    db.commit()
    pid = start_proposal(anna, call="test-call", title="Started in time")
    page = anna.client.get(f"/proposals/{pid}").text
    assert 'id="call-notices"' not in page

    library.store(db, CLOSED_V2)
    db.commit()
    page = anna.client.get(f"/proposals/{pid}").text
    assert 'id="call-notices"' in page
    assert "This call closed on 30 June 2026 and takes no new applications." in page
    assert "version 2 is current, this proposal follows version 1" in page
    db.expire_all()
    stored = db.scalars(select(Proposal).where(Proposal.public_id == pid)).one()
    assert (stored.call_id, stored.call_version) == ("test-call", 1)
    # Its sections and checks still follow version 1: the final check page works.
    assert anna.client.get(f"/proposals/{pid}/final").status_code == 200


def test_a_proposal_on_a_changed_call_is_told_of_the_newer_version(anna, db):
    library.store(db, BASE)
    db.commit()
    pid = start_proposal(anna, call="test-call")
    library.store(db, changed("version: 1", "version: 2", changed("max: 80", "max: 70")))
    db.commit()
    page = anna.client.get(f"/proposals/{pid}").text
    assert "version 2 is current, this proposal follows version 1" in page
    assert "takes no new applications" not in page


def test_admin_sees_which_profiles_need_a_check(client, db):
    make_user(db, email="admin@example.org", name="Ada Admin", is_admin=True)
    sign_in(client, "admin@example.org")
    library.store(db, BASE)  # never verified
    library.store(db, changed("id: test-call", "id: old-check\nverified_on: 2026-01-10", BASE))
    past = changed("id: test-call", "id: past-call\nverified_on: 2026-11-30", BASE)
    library.store(db, changed("date: 2099-01-31", "date: 2026-02-01", past))
    db.commit()
    text = client.get("/admin/calls").text
    table = text[text.index('id="stored-calls"') :]

    def row(call_id: str) -> str:
        part = table[: table.index(f"{call_id} v")]
        return table[part.rindex("<tr") : table.index("</tr>", len(part))]

    assert "Never verified against its sources." in row("test-call")
    assert "Verified on 10 January 2026, more than six months ago." in row("old-check")
    assert "Its deadline passed on 1 February 2026" in row("past-call")
    assert "Closed" in row("past-call")
    fresh = row("eea-csf-poland")
    assert "4 Dec 2026" in fresh and 'class="stale"' not in fresh and "<td>no</td>" in fresh
    assert 'class="stale"' in row("old-check")


def test_every_closed_call_is_kept_for_proposals_that_started_on_it(db):
    for call_id in ("acf-poland-national", "nordic-ngo-baltic-sea"):
        profile = library.get(db, call_id)
        assert profile is not None and profile.status == "closed"


def test_a_review_total_under_the_calls_threshold_shows_before_submitting(anna, db):
    from proposals.domain.facts import facts_of
    from proposals.models import ReviewRound, SectionVerdict, utcnow

    pid = start_proposal(anna, call="erasmus-ka210", title="Adult learners", acronym="AL")
    proposal = db.scalars(select(Proposal).where(Proposal.public_id == pid)).one()
    sections = {s.key: s for s in proposal.sections}
    # A mentor's closed round: two sections scored, averaging 14.5 + 15 + 15 + 15 = 59.5.
    points = [
        {"relevance": 14, "design": 15, "partnership": 15, "impact": 15},
        {"relevance": 15, "design": 15, "partnership": 15, "impact": 15},
    ]
    db.add(
        ReviewRound(
            proposal_id=proposal.id,
            status="closed",
            closed_at=utcnow(),
            verdicts=[
                SectionVerdict(section_id=sections[key].id, verdict="approved", scores=given)
                for key, given in zip(("relevance", "impact"), points, strict=True)
            ],
        )
    )
    db.commit()
    db.expire_all()
    proposal = db.scalars(select(Proposal).where(Proposal.public_id == pid)).one()
    facts = facts_of(proposal)
    assert facts.review_scores == {
        "relevance": Decimal("14.5"),
        "design": 15,
        "partnership": 15,
        "impact": 15,
    }
    page = anna.client.get(f"/proposals/{pid}/final").text
    assert "The review gave 59.5 points in all; the call needs at least 60." in page
    assert "The review gave “Relevance of the project” 14.5 points" in page
    assert "Growth Projects" in page  # the rule's source is named
