"""Arrange helpers shared by the idea board, consortium and proposal access tests.

Each person gets a TestClient of their own (their own session cookie), signed
in, and an organisation they administer. Ideas and proposals are made over
HTTP, the way people make them, so that the tests start from real states.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals.models import (
    Idea,
    Membership,
    Organisation,
    Partner,
    Proposal,
    ProposalAccess,
    StatusChange,
    User,
)
from tests.conftest import make_organisation, make_user, post
from tests.support import signed_in

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
XSS_ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
FLASH = re.compile(r'<div class="flash (\w+)" role="\w+">(.*?)</div>', re.S)
FIELD_ERROR = re.compile(r'<p class="error" id="e-(\w+)">(.*?)</p>', re.S)
STATE_FIELD = re.compile(r'name="state" value="([^"]+)"')


@dataclass
class Person:
    """A signed-in user with their own browser (TestClient) and organisation."""

    client: TestClient
    user: User
    organisation: Organisation


def person(
    app,  # type: ignore[no-untyped-def]
    db: Session,
    email: str,
    name: str,
    organisation: str,
    country: str = "PL",
) -> Person:
    user = make_user(db, email=email, name=name)
    org = make_organisation(db, admin=user, name=organisation, country=country, city="Town")
    return Person(browser(app, email), user, org)


def browser(app, email: str | None = None) -> TestClient:  # type: ignore[no-untyped-def]
    """A new TestClient, signed in as ``email`` unless it is None (anonymous)."""
    return signed_in(app, email)


def colleague(app, db: Session, of: Person, email: str, name: str, role: str = "member") -> Person:  # type: ignore[no-untyped-def]
    """Another user in ``of``'s organisation."""
    user = make_user(db, email=email, name=name)
    db.add(Membership(user=user, organisation_id=of.organisation.id, role=role))
    db.commit()
    return Person(browser(app, email), user, of.organisation)


# --- reading pages -------------------------------------------------------------------


def flashes(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The flash messages on a page, as the user reads them."""
    return [html.unescape(text).strip() for _, text in FLASH.findall(response.text)]


def flash_of(response, category: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [html.unescape(t).strip() for c, t in FLASH.findall(response.text) if c == category]


def field_errors(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Field name -> the error message shown next to that field."""
    return {k: html.unescape(v).strip() for k, v in FIELD_ERROR.findall(response.text)}


def state_field(response) -> str:  # type: ignore[no-untyped-def]
    """The state the transition forms on a proposal page were rendered for."""
    match = STATE_FIELD.search(response.text)
    assert match, "page has no workflow buttons"
    return match.group(1)


# --- ideas ---------------------------------------------------------------------------


def idea_form(who: Person, **fields: object) -> dict[str, object]:
    return {
        "organisation": who.organisation.public_id,
        "title": "Baltic youth councils",
        "summary": "Young people in three towns run their own council.",
        "themes": ["youth", "civic-participation"],
        "countries_sought": ["NO", "LT"],
        "skills_sought": "Youth work",
        "call_id": "",
        **fields,
    }


def post_idea(who: Person, **fields: object) -> str:
    """Publish an idea as ``who``; its public id."""
    response = post(who.client, "/ideas/new", idea_form(who, **fields))
    assert response.status_code == 200, response.text[:2000]
    assert "Your idea is published." in flashes(response)
    return str(response.url).rsplit("/", 1)[1]


def say_interested(who: Person, idea_id: str, message: str = "We run youth clubs."):  # type: ignore[no-untyped-def]
    return post(
        who.client,
        f"/ideas/{idea_id}/interest",
        {"organisation": who.organisation.public_id, "message": message},
    )


def idea(db: Session, public_id: str) -> Idea:
    db.expire_all()
    return db.scalars(select(Idea).where(Idea.public_id == public_id)).one()


# --- proposals -----------------------------------------------------------------------


def start_proposal(
    who: Person,
    *,
    call: str = "eea-csf-poland",
    title: str = "Baltic youth councils",
    acronym: str = "BYC",
    idea_id: str | None = None,
    invite: tuple[Organisation, ...] = (),
) -> str:
    """Create a proposal led by ``who``'s organisation; its public id."""
    data: dict[str, object] = {
        "call": call,
        "title": title,
        "acronym": acronym,
        "organisation": who.organisation.public_id,
        "invite": [o.public_id for o in invite],
    }
    if idea_id:
        data["idea"] = idea_id
    response = post(who.client, "/proposals/new", data)
    assert response.status_code == 200, response.text[:2000]
    assert "The proposal is created. Invite your partners next." in flashes(response)
    return str(response.url).rsplit("/", 1)[1]


def invite(who: Person, pid: str, organisation: Organisation, role: str = "partner"):  # type: ignore[no-untyped-def]
    return post(
        who.client,
        f"/proposals/{pid}/partners",
        {"organisation": organisation.public_id, "role": role},
    )


def proposal(db: Session, pid: str) -> Proposal:
    db.expire_all()
    return db.scalars(select(Proposal).where(Proposal.public_id == pid)).one()


def partners(db: Session, pid: str) -> dict[str, tuple[str, str]]:
    """Organisation name -> (role, status) in the proposal's consortium."""
    rows = proposal(db, pid).partners
    return {p.organisation.name: (p.role, p.status) for p in rows}


def partner_of(db: Session, pid: str, organisation: Organisation) -> Partner:
    db.expire_all()
    return db.scalars(
        select(Partner)
        .join(Proposal, Partner.proposal_id == Proposal.id)
        .where(Proposal.public_id == pid, Partner.organisation_id == organisation.id)
    ).one()


def access(db: Session, pid: str) -> dict[str, str]:
    """User e-mail -> role from the proposal's access rows."""
    db.expire_all()
    rows = db.scalars(
        select(ProposalAccess)
        .join(Proposal, ProposalAccess.proposal_id == Proposal.id)
        .where(Proposal.public_id == pid)
    )
    return {a.user.email: a.role for a in rows}


def audit(db: Session, pid: str, trigger: str | None = None) -> list[StatusChange]:
    """The proposal's audit rows, oldest first (only ``trigger``'s when given)."""
    db.expire_all()
    query = (
        select(StatusChange)
        .join(Proposal, StatusChange.proposal_id == Proposal.id)
        .where(Proposal.public_id == pid)
        .order_by(StatusChange.id)
    )
    if trigger is not None:
        query = query.where(StatusChange.trigger == trigger)
    return list(db.scalars(query))


def answer_invitation(who: Person, db: Session, pid: str, action: str = "accept"):  # type: ignore[no-untyped-def]
    """Accept (or decline) the invitation of ``who``'s organisation, as from /invitations."""
    partner = partner_of(db, pid, who.organisation)
    path = f"/proposals/{pid}/partners/{partner.public_id}/{action}"
    assert path in who.client.get("/invitations").text, "no such button under Invitations"
    return post(who.client, path)


@dataclass
class Consortium:
    pid: str
    lead: Person
    partner: Person


def consortium(
    app,  # type: ignore[no-untyped-def]
    db: Session,
    *,
    call: str = "eea-csf-poland",
    lead: tuple[str, str, str, str] = ("anna@fala.example.org", "Anna Lis", "Fundacja Fala", "PL"),
    partner: tuple[str, str, str, str] = ("ola@fri.example.org", "Ola Berg", "Frivillig", "NO"),
    title: str = "Baltic youth councils",
) -> Consortium:
    """A proposal led by one organisation with a second one as active partner."""
    leader = person(app, db, *lead)
    member = person(app, db, *partner)
    pid = start_proposal(leader, call=call, title=title)
    response = invite(leader, pid, member.organisation)
    assert f"{member.organisation.name} is invited." in flashes(response)
    response = answer_invitation(member, db, pid)
    assert response.status_code == 200
    return Consortium(pid, leader, member)
