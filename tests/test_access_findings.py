"""What an attacker inside a consortium found (issue 12), each tried again over HTTP.

On the demo consortium: Anna coordinates for the lead partner in Gdańsk,
Piotr is a plain member of her organisation, Ola administers the partner in
Kristiansand, Marta mentors. Each test fails on the code before the policy
table and passes after it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals import demo
from proposals.models import (
    Export,
    Membership,
    Notification,
    Organisation,
    OrganisationInvitation,
    Partner,
    ProposalAccess,
    ProposalInvitation,
    SignOff,
    User,
    utcnow,
)
from proposals.passwords import hash_password
from tests.budget_helpers import seeded, signed_in, the_proposal
from tests.conftest import post, row_counts
from tests.consortium_helpers import flashes

PASSWORD = demo.DEMO_PASSWORD


def _user(
    db: Session,
    email: str,
    name: str,
    organisation: Organisation | None = None,
    role: str = "member",
) -> User:
    user = User(email=email, name=name, password_hash=hash_password(PASSWORD))
    db.add(user)
    if organisation is not None:
        db.add(Membership(user=user, organisation=organisation, role=role))
    db.commit()
    return user


def _org(db: Session, country: str) -> Organisation:
    proposal = the_proposal(db)
    return next(p.organisation for p in proposal.partners if p.organisation.country == country)


def _partner(db: Session, country: str) -> Partner:
    return next(p for p in the_proposal(db).partners if p.organisation.country == country)


def _coordinators(db: Session) -> set[str]:
    db.expire_all()
    rows = db.scalars(select(ProposalAccess).where(ProposalAccess.role == "coordinator"))
    return {r.user.email for r in rows}


# --- 1. a plain member of the lead organisation makes himself coordinator --------------------


def test_a_plain_member_cannot_make_himself_the_lead_contact_and_coordinator(app, db):
    seeded(db)
    piotr = signed_in(app, "piotr@demo.engage")
    pid, lead = the_proposal(db).public_id, _partner(db, "PL")
    piotr_id = db.scalar(select(User.id).where(User.email == "piotr@demo.engage"))
    before = row_counts(db)
    response = post(
        piotr, f"/proposals/{pid}/partners/{lead.public_id}/contact", {"contact": str(piotr_id)}
    )
    assert response.status_code == 403
    assert _coordinators(db) == {"anna@demo.engage"}
    assert row_counts(db) == before
    # He can neither withdraw, nor hand over the lead, nor export the application.
    for tail, data in [
        (f"/partners/{_partner(db, 'NO').public_id}/lead", {}),
        ("/final/export", {"kind": "application"}),
        ("/transition", {"trigger": "withdraw", "state": the_proposal(db).status}),
    ]:
        assert post(piotr, f"/proposals/{pid}{tail}", data).status_code == 403, tail
    assert row_counts(db) == before


def test_a_plain_member_cannot_withdraw_the_organisation_its_administrator_can(app, db):
    seeded(db)
    per = _user(db, "per@demo.engage", "Per Dahl", _org(db, "NO"))
    per_browser = signed_in(app, per.email)
    pid, kristiansand = the_proposal(db).public_id, _partner(db, "NO").public_id
    assert (
        post(per_browser, f"/proposals/{pid}/partners/{kristiansand}/withdraw").status_code == 403
    )
    assert _partner(db, "NO").status == "active"
    # The organisation's administrator sets its contact person and may withdraw it.
    ola = signed_in(app, "ola@demo.engage")
    set_contact = post(
        ola, f"/proposals/{pid}/partners/{kristiansand}/contact", {"contact": str(per.id)}
    )
    assert "Per Dahl is the contact person of" in " ".join(flashes(set_contact))
    withdrawn = post(ola, f"/proposals/{pid}/partners/{kristiansand}/withdraw")
    assert withdrawn.status_code == 200
    db.expire_all()
    assert _partner(db, "NO").status == "withdrawn"


# --- 2. people removed from an organisation keep its proposals --------------------------------


def test_a_removed_member_loses_the_organisations_proposals(app, db):
    seeded(db)
    proposal = the_proposal(db)
    pid = proposal.public_id
    ruta = signed_in(app, "ruta@demo.engage")
    assert ruta.get(f"/proposals/{pid}").status_code == 200
    exported = post(
        signed_in(app, "anna@demo.engage"),
        f"/proposals/{pid}/final/export",
        {"kind": "application"},
    )
    assert exported.status_code == 200
    export_id = db.scalar(select(Export.public_id))
    # A second administrator of Klaipėda removes Rūta.
    klaipeda = _org(db, "LT")
    boss = _user(db, "jonas@klaipeda.example", "Jonas Boss", klaipeda, role="admin")
    boss_browser = signed_in(app, boss.email)
    ruta_membership = db.scalar(
        select(Membership).join(User).where(User.email == "ruta@demo.engage")
    )
    removed = post(
        boss_browser,
        f"/organisations/{klaipeda.public_id}/members/{ruta_membership.id}",
        {"action": "remove"},
    )
    assert "is no longer a member" in " ".join(flashes(removed))
    for path in (
        f"/proposals/{pid}",
        f"/proposals/{pid}/sections/dzialania",
        f"/proposals/{pid}/exports/{export_id}",
        f"/proposals/{pid}/budget/workbook",
    ):
        assert ruta.get(path).status_code == 404, path
    comment = post(ruta, f"/proposals/{pid}/sections/dzialania/comments", {"body": "Still here?"})
    assert comment.status_code == 404
    db.expire_all()
    assert "ruta@demo.engage" not in {a.user.email for a in the_proposal(db).access}
    assert _partner(db, "LT").contact_user_id is None  # she was its contact person
    told = db.scalars(select(Notification).where(Notification.kind == "contact_missing")).all()
    assert [n.user.email for n in told] == ["anna@demo.engage"]


def test_a_member_who_leaves_loses_access_and_the_lead_without_coordinator_is_told(app, db):
    seeded(db)
    pid = the_proposal(db).public_id
    gdansk = _org(db, "PL")
    zofia = _user(db, "zofia@demo.engage", "Zofia Nowak", gdansk, role="admin")
    anna = signed_in(app, "anna@demo.engage")
    left = post(anna, f"/organisations/{gdansk.public_id}/leave")
    assert "You have left" in " ".join(flashes(left))
    assert anna.get(f"/proposals/{pid}").status_code == 404
    assert _coordinators(db) == set()
    told = db.scalars(select(Notification).where(Notification.kind == "coordinator_missing"))
    assert [n.user_id for n in told] == [zofia.id]
    # The organisation's administrator names a new contact person, who coordinates.
    zofia_browser = signed_in(app, zofia.email)
    lead = _partner(db, "PL").public_id
    named = post(
        zofia_browser, f"/proposals/{pid}/partners/{lead}/contact", {"contact": str(zofia.id)}
    )
    assert "Zofia Nowak is the contact person" in " ".join(flashes(named))
    assert _coordinators(db) == {"zofia@demo.engage"}


# --- 3. invitation links are bearer tokens ------------------------------------------------------


def _organisation_link(app, db: Session, email: str, role: str = "admin") -> tuple[str, str]:  # type: ignore[no-untyped-def]
    organisation = _org(db, "NO")
    invitation = OrganisationInvitation(
        organisation=organisation, email=email, role=role, expires_at=utcnow() + timedelta(days=3)
    )
    db.add(invitation)
    db.commit()
    return f"/join/{app.state.tokens.make('join', invitation.public_id)}", invitation.public_id


def test_an_organisation_invitation_is_accepted_only_by_its_address(app, db):
    seeded(db)
    link, public_id = _organisation_link(app, db, "Mari@Noored.example")
    eve = _user(db, "eve@elsewhere.example", "Eve Ozola")
    eve_browser = signed_in(app, eve.email)
    page = eve_browser.get(link)
    assert "This invitation was sent to Mari@Noored.example" in page.text
    assert "Accept invitation" not in page.text
    before = row_counts(db)
    assert post(eve_browser, link).status_code == 403
    assert row_counts(db) == before  # not a member, and the link is not used up
    mari = _user(db, "mari@noored.example", "Mari Tamm")  # the address, in other letters
    accepted = post(signed_in(app, mari.email), link)
    assert "You are now a member of" in " ".join(flashes(accepted))
    db.expire_all()
    invitation = db.scalar(
        select(OrganisationInvitation).where(OrganisationInvitation.public_id == public_id)
    )
    assert invitation.accepted_by_id == mari.id


def test_a_proposal_invitation_is_answered_only_by_its_address(app, db):
    seeded(db)
    proposal = the_proposal(db)
    proposal.status = "partnership.inviting"
    invitation = ProposalInvitation(
        proposal=proposal, email="mari@noored.example", expires_at=utcnow() + timedelta(days=3)
    )
    db.add(invitation)
    db.commit()
    link = f"/proposals/join/{app.state.tokens.make('proposal-invite', invitation.public_id)}"
    eve = _user(db, "eve@elsewhere.example", "Eve Ozola", _org(db, "NO"))
    eve_browser = signed_in(app, eve.email)
    before = row_counts(db)
    for answer in ("accept", "decline"):
        data = {"answer": answer, "organisation": _org(db, "NO").public_id}
        assert post(eve_browser, link, data).status_code == 403, answer
    assert row_counts(db) == before
    db.expire_all()
    assert db.get(ProposalInvitation, invitation.id).used_at is None


def test_open_invitations_lapse_when_the_partnership_is_formed(app, db):
    seeded(db)
    proposal = the_proposal(db)
    proposal.status = "partnership.inviting"
    noored = Organisation(name="Noored", country="EE", city="Tartu")
    mari = _user(db, "mari@noored.example", "Mari Tamm")
    db.add_all([noored, Membership(user=mari, organisation=noored, role="admin")])
    db.add(Partner(proposal=proposal, organisation=noored, status="invited"))
    invitation = ProposalInvitation(
        proposal=proposal, email=mari.email, expires_at=utcnow() + timedelta(days=3)
    )
    db.add(invitation)
    db.commit()
    anna = signed_in(app, "anna@demo.engage")
    pid = proposal.public_id
    started = post(
        anna,
        f"/proposals/{pid}/transition",
        {"trigger": "start_drafting", "state": "partnership.inviting"},
    )
    assert "Done" in " ".join(flashes(started))
    assert _partner(db, "EE").status == "lapsed"
    mari_browser = signed_in(app, mari.email)
    answer = post(mari_browser, f"/proposals/{pid}/partners/{_partner(db, 'EE').public_id}/accept")
    assert answer.status_code == 404  # no longer invited: nothing to answer
    link = f"/proposals/join/{app.state.tokens.make('proposal-invite', invitation.public_id)}"
    joined = post(mari_browser, link, {"answer": "accept", "organisation": noored.public_id})
    assert joined.status_code == 400  # the link has expired with the partnership
    assert _partner(db, "EE").status == "lapsed"


# --- 4. "signed and read-only" is not read-only ---------------------------------------------------


def _signed(db: Session) -> str:
    proposal = the_proposal(db)
    proposal.status = "final.signed"  # arranged directly: reaching it needs a complete application
    db.commit()
    return proposal.public_id


def test_a_signed_proposal_refuses_every_edit_of_its_structure_and_says_why(app, db):
    seeded(db)
    pid = _signed(db)
    anna, ola = signed_in(app, "anna@demo.engage"), signed_in(app, "ola@demo.engage")
    before = row_counts(db)
    attempts = [
        (ola, "/sections/dzialania/state", {"trigger": "mark_ready", "state": "ready"}),
        (anna, "/sections/dzialania/assign", {"partner": _partner(db, "LT").public_id}),
        (anna, "/sections/add", {"title": "Statutes"}),
        (anna, "/sections/dzialania/move", {"direction": "up"}),
        (anna, f"/partners/{_partner(db, 'NO').public_id}/lead", {}),
        (anna, "/invitations", {"email": "late@x.example", "role": "partner"}),
    ]
    for browser, tail, data in attempts:
        response = post(browser, f"/proposals/{pid}{tail}", data)
        assert response.status_code == 200, tail  # back on the page, with the reason
        assert any(
            "read-only" in f or "before sign-off" in f or "partnership is formed" in f
            for f in flashes(response)
        ), (tail, flashes(response))
    assert row_counts(db) == before
    dashboard = anna.get(f"/proposals/{pid}/sections").text
    assert "Add section" not in dashboard and "Move up" not in dashboard


def test_the_submission_checks_the_sign_offs_again(app, db):
    seeded(db)
    pid = _signed(db)
    proposal = the_proposal(db)
    for partner in proposal.partners:  # signed off once, then one of them withdrawn
        for what in ("sections", "budget"):
            db.add(
                SignOff(
                    proposal_id=proposal.id,
                    partner_id=partner.id,
                    what=what,
                    covers={},
                    withdrawn_at=utcnow() if what == "budget" else None,
                )
            )
    db.commit()
    anna = signed_in(app, "anna@demo.engage")
    response = post(
        anna,
        f"/proposals/{pid}/final/submission",
        {"submitted_on": utcnow().date().isoformat(), "reference": "ACF/1"},
    )
    assert "Not signed off yet by" in " ".join(flashes(response))
    assert the_proposal(db).status == "final.signed"


def test_a_mentor_who_was_never_assigned_is_told_403_others_404(app, db):
    seeded(db)
    pid = the_proposal(db).public_id
    jonas = _user(db, "jonas@biser.example", "Jonas Mentor")
    jonas.is_mentor = True
    db.commit()
    assert signed_in(app, jonas.email).get(f"/proposals/{pid}").status_code == 403
    eve = _user(db, "eve@elsewhere.example", "Eve Ozola")
    assert signed_in(app, eve.email).get(f"/proposals/{pid}").status_code == 404
    anonymous = TestClient(app, raise_server_exceptions=False)
    assert anonymous.get(f"/proposals/{pid}", follow_redirects=False).status_code == 303
