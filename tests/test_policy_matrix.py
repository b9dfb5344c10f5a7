"""Every route x every kind of person x the proposal's states, answered as the policy says.

The routes come from the app's own route table, so a new route is tested as
soon as it exists; a route that declares no action, or one missing from the
policy table, fails here. For each combination the test sends a plausible
request (with a valid form, so that an allowed change really happens) and
compares the answer with ``workflow.policy.POLICY``:

- refused: 403, 404 or 409 (or, for a visitor, the way to sign in), and the
  database is exactly as before;
- allowed: anything else but a 500, and the routes marked as changing
  something changed the database.

Who holds which role is written out here, independently of
``proposals/policy.py``: this file is the specification the code must meet.
The world is the demo consortium (Gdańsk leads, Kristiansand and Klaipėda are
partners, Marta mentors) plus the people the demo lacks; it is restored after
every request that changed it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, insert, select, text
from sqlalchemy.orm import Session
from starlette.routing import Route
from starlette.testclient import TestClient

from proposals import demo
from proposals.calls import library
from proposals.domain import annexes as annex_domain
from proposals.domain import comments as comment_domain
from proposals.domain import consortium
from proposals.domain.planning import KEYS as PLAN_KEYS
from proposals.models import (
    Base,
    BudgetLine,
    Export,
    Idea,
    Membership,
    Organisation,
    OrganisationInvitation,
    Partner,
    Proposal,
    ProposalAccess,
    ProposalInvitation,
    ReviewRound,
    User,
    utcnow,
)
from proposals.passwords import hash_password
from proposals.policy import can, rights_columns
from tests.conftest import MATRIX_RUNS, csrf
from workflow.policy import POLICY

STATES = {
    "draft": "partnership.inviting",
    "drafting": "drafting.writing",
    "signed": "final.signed",
}

#: The people: their e-mail (None: not signed in).
PEOPLE = {
    "anonymous": None,
    "outsider": "eve@outside.example",
    "invitee": "mari@noored.example",
    "other_writer": "ruta@demo.engage",  # Klaipėda, another partner
    "writer": "per@demo.engage",  # a plain member of Kristiansand
    "org_admin": "ola@demo.engage",  # Kristiansand's administrator and contact person
    "lead_member": "piotr@demo.engage",  # a plain member of the lead organisation
    "coordinator": "anna@demo.engage",
    "mentor": "marta@demo.engage",
    "mentor_elsewhere": "jonas@biser.example",
    "viewer": "vic@demo.engage",
    "admin": "admin@demo.engage",
}
WRITERS = {"writer", "org_admin", "other_writer", "lead_member"}
SIGNED_IN = set(PEOPLE) - {"anonymous"}
#: The roles each person holds on the proposal (see workflow.policy.ROLES).
ON_PROPOSAL = {
    "coordinator": {"coordinator"},
    "mentor": {"mentor"},
    "viewer": {"viewer"},
    "invitee": {"invitee"},
    **{p: {"writer"} for p in WRITERS},
}


def roles(person: str, kind: str, target: str = "") -> set[str]:
    """The roles ``person`` holds towards the route's target (the specification)."""
    held = {"anyone"} | ({"user"} if person in SIGNED_IN else set())
    if person == "admin":
        held.add("admin")
    if kind == "organisation":  # Kristiansand
        held |= {"member"} if person in ("writer", "org_admin") else set()
        held |= {"org_admin"} if person == "org_admin" else set()
    if kind in ("organisation_invitation", "proposal_invitation") and person == "invitee":
        held.add("addressee")
    if kind == "idea":  # Gdańsk's idea; Marta's institute and Eve's association are others too
        if person in ("coordinator", "lead_member"):
            held.add("idea_owner")
        if person in ("writer", "org_admin", "other_writer", "invitee", "outsider", "mentor"):
            held.add("other_member")
    if kind in ("proposal", "partner", "section", "comment", "review_round"):
        held |= ON_PROPOSAL.get(person, set())
    if kind == "partner" and target == "invited":  # Noored, invited
        held |= {"partner_organisation"} if person == "invitee" else set()
    elif kind == "partner":  # Kristiansand
        if person in ("writer", "org_admin"):
            held |= {"partner_member", "partner_organisation"}
        if person == "org_admin":
            held.add("partner_admin")
    if kind == "section" and person in ("writer", "org_admin"):  # "dzialania", Kristiansand's
        held.add("section_writer")
    return held


@dataclass
class World:
    """The ids the routes need, and everyone's browser."""

    params: dict[str, str] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _person(db: Session, email: str, name: str, **extra: Any) -> User:
    user = User(email=email, name=name, password_hash=hash_password(demo.DEMO_PASSWORD), **extra)
    db.add(user)
    return user


def build(app, db: Session, state: str) -> World:  # type: ignore[no-untyped-def]
    """The demo consortium in ``state`` with one of each kind of person."""
    demo.seed(db)
    db.flush()
    proposal = db.scalars(select(Proposal)).one()
    orgs = {o.country: o for o in db.scalars(select(Organisation))}
    kristiansand = orgs["NO"]
    gdansk = next(p.organisation for p in proposal.partners if p.role == "lead")
    noored = Organisation(name="Noored", country="EE", city="Tartu")
    outside = Organisation(name="Elsewhere", country="LV", city="Riga")
    db.add_all([noored, outside])
    per = _person(db, PEOPLE["writer"], "Per Dahl")
    mari = _person(db, PEOPLE["invitee"], "Mari Tamm")
    eve = _person(db, PEOPLE["outsider"], "Eve Ozola")
    jonas = _person(db, PEOPLE["mentor_elsewhere"], "Jonas Mentor", is_mentor=True)
    vic = _person(db, PEOPLE["viewer"], "Vic Viewer")
    db.add_all(
        [
            Membership(user=per, organisation=kristiansand, role="member"),
            Membership(user=mari, organisation=noored, role="admin"),
            Membership(user=eve, organisation=outside, role="admin"),
            Partner(proposal=proposal, organisation=noored, role="partner", status="invited"),
            ProposalAccess(proposal=proposal, user=vic, role="viewer"),
        ]
    )
    later = utcnow() + timedelta(days=10)
    org_invitation = OrganisationInvitation(
        organisation=kristiansand, email=mari.email, role="member", expires_at=later
    )
    proposal_invitation = ProposalInvitation(
        proposal=proposal, email=mari.email, role="partner", expires_at=later
    )
    db.add_all([org_invitation, proposal_invitation])
    db.flush()
    section = next(s for s in proposal.sections if s.key == "dzialania")
    ola = db.scalars(select(User).where(User.email == PEOPLE["org_admin"])).one()
    thread = comment_domain.add(db, ola, proposal, section, "Shall we add a fourth workshop?")
    export = Export(
        proposal_id=proposal.id,
        kind="application",
        filename="BVT-application.docx",
        content=b"PK\x03\x04 not really a document",
        sha256="0" * 64,
        versions={"call": f"{proposal.call_id} v{proposal.call_version}", "sections": {}},
    )
    db.add(export)
    letters = library.profile_for(db, proposal).annex("letters")
    assert letters is not None
    annex = annex_domain.upload(
        db, proposal, letters, None, ola, "List intencyjny.pdf", b"%PDF-1.4\n%%EOF\n"
    )
    proposal.status = STATES[state]
    ola.calendar_token = "matrix-calendar-feed-token"
    db.flush()
    idea = db.scalars(select(Idea)).one()
    partners = {p.organisation.country: p for p in proposal.partners}
    line = db.scalars(
        select(BudgetLine).where(BudgetLine.partner_id == partners["NO"].id).limit(1)
    ).one()
    round_ = db.scalars(select(ReviewRound)).one()
    interest = next(i for i in idea.interests if i.organisation_id == kristiansand.id)
    membership = db.scalars(select(Membership).where(Membership.user_id == per.id)).one()
    world = World()
    world.params = {
        "pid": proposal.public_id,
        "key": section.key,
        "partner": partners["NO"].public_id,
        "line": line.public_id,
        "category": "indirect",
        "rid": round_.public_id,
        "cid": thread.public_id,
        "eid": export.public_id,
        "aid": annex.public_id,
        "iid": idea.public_id,
        "xid": interest.public_id,
        "oid": kristiansand.public_id,
        "mid": str(membership.id),
        "call_id": proposal.call_id,
    }
    world.ids = {
        "invited_partner": partners["EE"].public_id,
        "proposal_invitation": proposal_invitation.public_id,
        "org_invitation": org_invitation.public_id,
        "line_version": line.version,
        "current": section.current_number,
        "status": section.status,
        "lead_org": gdansk.public_id,
        "outside_org": outside.public_id,
        "klaipeda": partners["LT"].public_id,
        "jonas": jonas.id,
        "marta": db.scalar(select(User.id).where(User.email == PEOPLE["mentor"])),
        "per": per.id,
        "proposal_status": proposal.status,
        "organisations": {},
    }
    db.commit()
    tokens = app.state.tokens
    world.tokens = {
        "join_organisation": tokens.make("join", org_invitation.public_id),
        "proposal_invitation": tokens.make("proposal-invite", proposal_invitation.public_id),
        "reset_password": "not-a-token",
        "calendar_feed": "matrix-calendar-feed-token",
    }
    for person, email in PEOPLE.items():
        first = db.scalar(
            select(Organisation.public_id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == (email or ""))
            .order_by(Organisation.name)
            .limit(1)
        )
        world.ids["organisations"][person] = first or ""
        client = TestClient(app, raise_server_exceptions=False)
        client.cookies.set("engage_lang", "en")
        if email is not None:
            token = csrf(client, "/signin")
            answer = client.post(
                "/signin",
                data={"csrf_token": token, "email": email, "password": demo.DEMO_PASSWORD},
            )
            assert answer.status_code == 200 and "Sign out" in answer.text, person
        client.headers["X-CSRF-Token"] = csrf(client)
        client.headers["Accept"] = "application/json, text/html"
        world.clients[person] = client
    db.rollback()  # hold no locks while the matrix restores the tables
    return world


# --- what each route is sent ---------------------------------------------------------------

Form = Callable[[World, str], dict[str, Any]]
Changes = bool | Callable[[str], bool]


def _org_of(person: str, world: World) -> str:
    """The person's (first) organisation, or "" for those who have none."""
    return world.ids["organisations"].get(person, "")


def _has_organisation(person: str) -> bool:
    return person not in ("anonymous", "mentor_elsewhere", "viewer", "admin")


#: POST forms that make a real change when the route is allowed (name -> form, changes?).
FORMS: dict[str, tuple[Form, Changes]] = {
    "signup": (
        lambda w, p: {"name": "New", "email": "new@x.example", "password": "a long passphrase"},
        False,  # a signed-in person is sent home
    ),
    "signin": (lambda w, p: {"email": "nobody@x.example", "password": "wrong password"}, True),
    "forgot_password": (lambda w, p: {"email": PEOPLE["coordinator"]}, True),
    "account": (
        lambda w, p: {"name": "Renamed", "locale": "en", "email_notifications": "off"},
        True,
    ),
    "language": (lambda w, p: {"locale": "pl", "next": "/"}, False),
    "admin_mentors": (lambda w, p: {"name": "New Mentor", "email": "nm@x.example"}, True),
    "new_organisation": (
        lambda w, p: {"name": "Nowa", "country": "PL", "city": "Sopot", "languages": ["pl"]},
        True,
    ),
    "edit_organisation": (
        lambda w, p: {"name": "Frivillig", "country": "NO", "city": "Oslo", "languages": ["en"]},
        True,
    ),
    "invite_member": (lambda w, p: {"email": "colleague@x.example", "role": "member"}, True),
    "revoke_member_invitation": (lambda w, p: {}, True),
    "change_member": (lambda w, p: {"action": "admin"}, True),
    "leave_organisation": (lambda w, p: {}, False),  # the only administrator may not leave
    "join_organisation": (lambda w, p: {}, True),
    "new_idea": (
        lambda w, p: {"organisation": _org_of(p, w), "title": "An idea", "summary": "Why."},
        _has_organisation,  # the others are asked to create their organisation first
    ),
    "edit_idea": (
        lambda w, p: {"organisation": w.ids["lead_org"], "title": "Edited", "summary": "Why."},
        True,
    ),
    "express_interest": (lambda w, p: {"organisation": _org_of(p, w), "message": "Us!"}, False),
    "reply_interest": (lambda w, p: {"reply": "Welcome"}, True),
    "close_idea": (lambda w, p: {}, True),
    "new_proposal": (
        lambda w, p: {"call": "eea-csf-poland", "title": "New", "organisation": _org_of(p, w)},
        False,  # people without an organisation are sent to create one
    ),
    "proposal_invitation": (lambda w, p: {"answer": "decline"}, True),
    "invite_from_directory": (
        lambda w, p: {"proposal": w.params["pid"], "organisation": w.ids["outside_org"]},
        True,
    ),
    "transition": (lambda w, p: {"trigger": "withdraw", "state": w.ids["proposal_status"]}, True),
    "invite_partner": (lambda w, p: {"organisation": w.ids["outside_org"]}, True),
    "invite_email": (lambda w, p: {"email": "partner@x.example", "role": "partner"}, True),
    "revoke_invitation": (lambda w, p: {}, True),
    "partner_accept": (lambda w, p: {}, True),
    "partner_decline": (lambda w, p: {}, True),
    "partner_lead": (lambda w, p: {}, True),
    "partner_withdraw": (lambda w, p: {}, True),
    "partner_contact": (lambda w, p: {"contact": str(w.ids["per"])}, True),
    "partner_newcomer": (lambda w, p: {"newcomer": "yes"}, True),
    "proposal_application": (lambda w, p: {"stage": "full"}, True),
    "add_section": (lambda w, p: {"title": "Letters of intent"}, True),
    "move_section": (lambda w, p: {"direction": "up"}, True),
    "assign_section": (lambda w, p: {"partner": w.ids["klaipeda"], "due_date": ""}, True),
    "save_section": (
        lambda w, p: {"base": str(w.ids["current"]), "text": "Three workshops and a handbook."},
        True,
    ),
    "section_state": (lambda w, p: {"trigger": "reopen", "state": w.ids["status"]}, True),
    "restore_revision": (lambda w, p: {"number": "1"}, False),
    "section_draft": (
        lambda w, p: {"language": "en", "text": "Three workshops.", "base": "0"},
        True,
    ),
    "section_draft_translated": (lambda w, p: {"number": "1"}, False),  # no draft yet
    "comments": (lambda w, p: {"body": "A fourth one in Riga?"}, True),
    "resolve_comment": (lambda w, p: {"resolved": "1"}, True),
    "budget_lines": (
        lambda w, p: {
            "category": "travel",
            "description": "Bus",
            "unit": "person",
            "quantity": "2",
            "unit_cost": "100.00",
        },
        True,
    ),
    "budget_line": (
        lambda w, p: {
            "category": "travel",
            "description": "Workshop in Gdańsk, 5 people",
            "unit": "person",
            "quantity": "5",
            "unit_cost": "350.00",
            "version": str(w.ids["line_version"]),
        },
        True,
    ),
    "delete_budget_line": (lambda w, p: {"version": str(w.ids["line_version"])}, True),
    "budget_flat_rate": (lambda w, p: {"rate": "5"}, True),
    "budget_funding": (
        lambda w, p: {"grant": "1000", "own_cash": "10", "other_donor": "0", "national": "0"},
        True,
    ),
    "budget_workbook": (lambda w, p: {}, False),  # no file: the errors are listed
    "new_round": (
        lambda w, p: {"mentor": str(w.ids["marta"]), "sections": [w.params["key"]]},
        False,  # the demo's round still waits for this section
    ),
    "add_mentor": (lambda w, p: {"mentor": str(w.ids["jonas"])}, True),
    "verdict": (lambda w, p: {"verdict": "approved", "comment": "Good."}, True),
    "cancel_round": (lambda w, p: {}, True),
    "sign_off": (lambda w, p: {"partner": w.params["partner"], "confirmed": "1"}, True),
    "export": (lambda w, p: {"kind": "application"}, True),
    "export_declaration": (lambda w, p: {"partner": w.params["partner"]}, True),
    "word_upload": (lambda w, p: {}, False),  # no file: the message says what to choose
    "word_apply": (lambda w, p: {}, False),  # nothing accepted: nothing saved
    "submission": (lambda w, p: {"submitted_on": "2026-12-01", "reference": "R-1"}, False),
    "notifications_read": (lambda w, p: {}, False),
    "plan": (lambda w, p: {key: "2027-02-01" for key in PLAN_KEYS}, True),
    "apply_plan": (lambda w, p: {}, False),  # no plan saved yet: nothing to set dates from
    "calendar_settings": (lambda w, p: {"action": "create"}, True),
    "admin_calls": (lambda w, p: {}, False),
    "signout": (lambda w, p: {}, False),
}
#: Routes whose target is not the one its path names by default.
TARGETS = {
    "partner_accept": "invited",
    "partner_decline": "invited",
}
#: Routes that change the browser's own session: sent from a copy of the browser.
OWN_SESSION = {"signin", "signup", "signout", "language", "account", "reset_password"}
#: Live event streams never end: only their refusals are checked over TestClient
#: (tests/test_live.py follows the allowed ones against a real server).
STREAMS = {"section_events", "notification_events"}


def _routes(app) -> Iterator[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    """(name, method, path template, action) of every route the app serves."""
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        action = getattr(route.endpoint, "action", None)
        assert action in POLICY, f"{route.path} declares no action of the policy table"
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                yield route.name, method, route.path, action


def _url(world: World, name: str, template: str) -> str:
    params = dict(world.params)
    if name in TARGETS:
        params["partner"] = world.ids["invited_partner"]
    if name == "revoke_invitation":
        params["inv"] = world.ids["proposal_invitation"]
    if name == "revoke_member_invitation":
        params["inv"] = world.ids["org_invitation"]
    if name in world.tokens:
        params["token"] = world.tokens[name]
    return template.format(**params)


# --- the database before and after ---------------------------------------------------------


def fingerprint(engine: Engine) -> str:
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns]
            for row in conn.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


class Contents:
    """The database's :func:`fingerprint`, computed again only once something was written.

    SQLite's ``PRAGMA data_version`` (on a connection of its own) and PostgreSQL's WAL
    position stay put while nobody commits a change; when either moved, the contents are
    read again (a write that changed nothing gives the same digest).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.conn = engine.connect()
        self.mark = self._mark()
        self.digest = fingerprint(engine)

    def _mark(self) -> object:
        sql = (
            "PRAGMA data_version"
            if self.engine.dialect.name == "sqlite"
            else "SELECT pg_current_wal_insert_lsn()"
        )
        mark = self.conn.exec_driver_sql(sql).scalar()
        self.conn.rollback()  # hold no snapshot between two looks
        return mark

    def now(self) -> str:
        mark = self._mark()
        if mark != self.mark:
            self.mark, self.digest = mark, fingerprint(self.engine)
        return self.digest

    def close(self) -> None:
        self.conn.close()


def snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    with engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(select(t))]
            for t in Base.metadata.sorted_tables
        }


def restore(engine: Engine, saved: dict[str, list[dict[str, Any]]]) -> None:
    tables: list[Table] = list(Base.metadata.sorted_tables)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())
        for table in tables:
            rows = saved[table.name]
            if table.name == "comment":  # threads before their replies
                rows = sorted(rows, key=lambda r: r["id"])
            if rows:
                conn.execute(insert(table), rows)
        if engine.dialect.name == "postgresql":
            for table in tables:
                if "id" in table.columns:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                            f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                        )
                    )


# --- the matrix ------------------------------------------------------------------------------


def refused(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code in (403, 404, 409):
        return True
    location = response.headers.get("location", "") or response.headers.get("hx-redirect", "")
    return response.status_code == 303 and location.startswith("/signin?next=")


@pytest.mark.parametrize("state", list(STATES))
def test_every_route_answers_every_person_as_the_policy_says(
    app, db, migrated_engine, state, request
):  # type: ignore[no-untyped-def]
    world = build(app, db, state)
    saved = snapshot(migrated_engine)
    contents = Contents(migrated_engine)
    request.addfinalizer(contents.close)
    before = contents.now()
    wrong: list[str] = []
    runs = 0
    for name, method, template, action in _routes(app):
        rule = POLICY[action]
        target = TARGETS.get(name, "")
        url = _url(world, name, template)
        for person, client in world.clients.items():
            expected = rule.allows(
                roles(person, rule.target, target), _state_of(rule.target, state)
            )
            if name in STREAMS and expected:
                continue
            if name in OWN_SESSION:
                client = TestClient(app, raise_server_exceptions=False, cookies=client.cookies)
                client.headers.update(world.clients[person].headers)
            form, changes = FORMS.get(name, (lambda w, p: {}, False))
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                response = client.post(url, data=form(world, person), follow_redirects=False)
            runs += 1
            changed = contents.now() != before
            what = f"{method} {name} as {person} in {state}: {response.status_code}"
            if response.status_code >= 500:
                wrong.append(f"{what} (server error)")
            elif expected and refused(response):
                wrong.append(f"{what}, but the policy allows {action}")
            elif not expected and not refused(response):
                wrong.append(f"{what}, but the policy refuses {action}")
            elif not expected and changed:
                wrong.append(f"{what}: refused, yet the database changed")
            elif must_change(changes, person) and expected and method == "POST" and not changed:
                wrong.append(f"{what}: allowed, yet nothing changed")
            if changed:
                restore(migrated_engine, saved)
                assert contents.now() == before
    request.config.stash.setdefault(MATRIX_RUNS, {})[(state, app.state.engine.dialect.name)] = runs
    assert not wrong, f"{len(wrong)} of {runs} combinations differ:\n" + "\n".join(wrong)


def must_change(changes: Changes, person: str) -> bool:
    return changes(person) if callable(changes) else changes


def _state_of(kind: str, state: str) -> str | None:
    if kind == "idea":
        return "open"
    if kind in ("site", "organisation", "organisation_invitation"):
        return None
    return STATES[state]


@pytest.mark.parametrize("state", list(STATES))
def test_the_rights_a_page_asks_in_sql_are_the_specification(app, db, state):  # type: ignore[no-untyped-def]
    """A page at a glance (``consortium.glance``) asks the policy in one query: for every
    person and every proposal action that query can tell, its answer is the one this
    file specifies, and the same as the policy asked in Python on the loaded proposal."""
    world = build(app, db, state)
    pid = world.params["pid"]
    actions = tuple(
        a for a, r in POLICY.items() if r.target == "proposal" and rights_columns((a,), Proposal.id)
    )
    assert len(actions) >= 10 and "manage_sections" in actions and "view_proposal" in actions
    wrong = []
    for person, email in PEOPLE.items():
        if email is None:
            continue
        user = db.scalar(select(User).where(User.email == email))
        found = consortium.glance(db, user, pid, actions)
        assert found is not None, person
        head, allowed = found
        proposal = consortium.load_proposal(db, pid)
        assert head == consortium.glance_of(proposal, user, actions)[0]
        for action in actions:
            spec = POLICY[action].allows(roles(person, "proposal"), STATES[state])
            if allowed[action] != spec or can(user, action, proposal) != spec:
                wrong.append(f"{action} as {person}: sql {allowed[action]}, specified {spec}")
    assert not wrong, "\n".join(wrong)
    assert consortium.glance(db, user, "no-such-proposal", actions) is None
