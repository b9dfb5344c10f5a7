"""Who may see and change which proposal: nobody reaches another consortium's work.

Consortium X: Fundacja Fala (lead, Anna) and Frivillig (partner, Ola).
Consortium Y: Kaimas (lead, Rasa), with Dansk Ungdom (Mads) invited, not yet answering.
People of X guess, replay and forge URLs, forms and htmx requests against Y.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.models import (
    Idea,
    IdeaInterest,
    Organisation,
    Partner,
    Proposal,
    ProposalInvitation,
    public_id,
)
from tests.conftest import csrf, post, row_counts
from tests.consortium_helpers import (
    Consortium,
    Person,
    answer_invitation,
    browser,
    consortium,
    flashes,
    invite,
    partner_of,
    partners,
    person,
    post_idea,
    proposal,
    say_interested,
    start_proposal,
    state_field,
)

PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,}$")


@dataclass
class World:
    x: Consortium
    rasa: Person  # coordinator of Y
    mads: Person  # member of the organisation invited to Y
    y: str

    @property
    def anna(self) -> Person:
        return self.x.lead

    @property
    def ola(self) -> Person:
        return self.x.partner


@pytest.fixture
def world(app, db) -> World:  # type: ignore[no-untyped-def]
    x = consortium(app, db)
    rasa = person(app, db, "rasa@kaimas.example.org", "Rasa Jonaitė", "Kaimas", "LT")
    mads = person(app, db, "mads@du.example.org", "Mads Holm", "Dansk Ungdom", "DK")
    y = start_proposal(rasa, call="interreg-bsr-small", title="Wetlands of Y", acronym="WETY")
    assert "Dansk Ungdom is invited." in flashes(invite(rasa, y, mads.organisation))
    return World(x, rasa, mads, y)


def snapshot(db, world: World) -> tuple[dict[str, int], str, dict[str, tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """Everything a refused request must leave as it was."""
    return row_counts(db), proposal(db, world.y).status, partners(db, world.y)


def y_attacks(db, world: World, intruder: Person) -> list[tuple[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """Every state-changing request one could aim at Y, as (path, form)."""
    y = world.y
    lead = partner_of(db, y, world.rasa.organisation).public_id
    invited = partner_of(db, y, world.mads.organisation).public_id
    state = proposal(db, y).status
    return [
        (f"/proposals/{y}/transition", {"trigger": "withdraw", "state": state}),
        (f"/proposals/{y}/transition", {"trigger": "start_drafting", "state": state}),
        (f"/proposals/{y}/partners", {"organisation": intruder.organisation.public_id}),
        (f"/proposals/{y}/invitations", {"email": "spy@example.org", "role": "partner"}),
        (
            "/proposals/invite",
            {"proposal": y, "organisation": intruder.organisation.public_id, "role": "partner"},
        ),
        (f"/proposals/{y}/partners/{invited}/lead", {}),
        (f"/proposals/{y}/partners/{lead}/withdraw", {}),
        (f"/proposals/{y}/partners/{invited}/withdraw", {}),
        (f"/proposals/{y}/partners/{lead}/contact", {"contact": str(intruder.user.id)}),
        (f"/proposals/{y}/partners/{invited}/accept", {}),
        (f"/proposals/{y}/partners/{invited}/decline", {}),
        (f"/proposals/{y}/partners/{lead}/accept", {}),
    ]


def send(client: TestClient, path: str, data: dict[str, str], htmx: bool):  # type: ignore[no-untyped-def]
    if htmx:
        headers = {"HX-Request": "true", "X-CSRF-Token": csrf(client)}
        return client.post(path, data=data, headers=headers, follow_redirects=False)
    return post(client, path, data, follow_redirects=False)


# --- reading ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anna", "ola"])
def test_member_of_another_consortium_cannot_open_or_list_the_proposal(world, who):
    client = getattr(world, who).client
    assert client.get(f"/proposals/{world.y}").status_code == 404
    fragment = client.get(f"/proposals/{world.y}", headers={"HX-Request": "true"})
    assert fragment.status_code == 404 and "Wetlands of Y" not in fragment.text
    listing = client.get("/proposals").text
    assert f"/proposals/{world.x.pid}" in listing
    assert world.y not in listing and "Wetlands of Y" not in listing
    assert "Wetlands of Y" not in client.get("/invitations").text
    directory = client.get("/partners").text
    assert world.y not in directory and "WETY" not in directory
    for guess in ("export", "export.docx", "export.pdf", "partners", "invitations", "edit"):
        assert client.get(f"/proposals/{world.y}/{guess}").status_code in (404, 405), guess


def test_coordinator_is_offered_only_own_proposals_as_invitation_targets(world):
    directory = world.anna.client.get("/partners").text
    assert f'<option value="{world.x.pid}">BYC</option>' in directory
    assert world.y not in directory
    assert 'action="/proposals/invite"' not in world.ola.client.get("/partners").text


# --- changing ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
@pytest.mark.parametrize("who", ["anna", "ola"])
def test_member_of_another_consortium_cannot_change_anything_of_it(db, world, who, htmx):
    intruder = getattr(world, who)
    attacks = y_attacks(db, world, intruder)
    before = snapshot(db, world)
    for path, data in attacks:
        response = send(intruder.client, path, data, htmx)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert "Wetlands of Y" not in response.text
    assert snapshot(db, world) == before
    db.expire_all()
    assert db.scalars(select(ProposalInvitation)).all() == []


def test_replaying_own_forms_with_the_other_proposals_ids_is_refused(db, world):
    anna, y, x = world.anna, world.y, world.x.pid
    page = anna.client.get(f"/proposals/{x}").text
    state = state_field(anna.client.get(f"/proposals/{x}"))
    assert f'action="/proposals/{x}/transition"' in page
    y_lead = partner_of(db, y, world.rasa.organisation).public_id
    y_invited = partner_of(db, y, world.mads.organisation).public_id
    x_partner = partner_of(db, x, world.ola.organisation).public_id
    before = snapshot(db, world)
    x_partners = partners(db, x)
    refused = [
        # X's transition form sent to Y's address (with X's state, then with Y's).
        (f"/proposals/{y}/transition", {"trigger": "withdraw", "state": state}),
        (f"/proposals/{y}/transition", {"trigger": "withdraw", "state": before[1]}),
        # X's address with Y's partners in it.
        (f"/proposals/{x}/partners/{y_lead}/lead", {}),
        (f"/proposals/{x}/partners/{y_lead}/withdraw", {}),
        (f"/proposals/{x}/partners/{y_invited}/accept", {}),
        (f"/proposals/{x}/partners/{y_lead}/contact", {"contact": str(anna.user.id)}),
        # Y's address with X's partner in it.
        (f"/proposals/{y}/partners/{x_partner}/withdraw", {}),
    ]
    for path, data in refused:
        response = post(anna.client, path, data, follow_redirects=False)
        assert response.status_code in (403, 404), (path, response.status_code)
    # X's contact form naming a person of Y's lead organisation is refused by name.
    contact = post(
        anna.client,
        f"/proposals/{x}/partners/{x_partner}/contact",
        {"contact": str(world.rasa.user.id)},
    )
    assert "The contact person must be a member of the organisation." in flashes(contact)
    assert snapshot(db, world) == before
    assert partners(db, x) == x_partners
    assert partner_of(db, x, world.ola.organisation).contact_user_id == world.ola.user.id


def test_writer_cannot_manage_the_consortium_it_belongs_to(db, world):
    ola, x = world.ola, world.x.pid
    lead = partner_of(db, x, world.anna.organisation).public_id
    own = partner_of(db, x, ola.organisation).public_id
    state = proposal(db, x).status
    before = row_counts(db), partners(db, x), state
    attempts = [
        (f"/proposals/{x}/transition", {"trigger": "withdraw", "state": state}),
        (f"/proposals/{x}/partners", {"organisation": world.mads.organisation.public_id}),
        (f"/proposals/{x}/invitations", {"email": "friend@example.org"}),
        ("/proposals/invite", {"proposal": x, "organisation": world.mads.organisation.public_id}),
        (f"/proposals/{x}/partners/{own}/lead", {}),
        (f"/proposals/{x}/partners/{lead}/withdraw", {}),
        (f"/proposals/{x}/partners/{lead}/contact", {"contact": str(ola.user.id)}),
    ]
    for path, data in attempts:
        for htmx in (False, True):
            response = send(ola.client, path, data, htmx)
            assert response.status_code == 403, (path, htmx, response.status_code)
    assert (row_counts(db), partners(db, x), proposal(db, x).status) == before


def test_withdrawn_partner_can_no_longer_act_on_the_proposal(db, world):
    ola, x = world.ola, world.x.pid
    own = partner_of(db, x, ola.organisation).public_id
    post(ola.client, f"/proposals/{x}/partners/{own}/withdraw")
    before = row_counts(db), partners(db, x)
    for path, data in [
        (f"/proposals/{x}/partners/{own}/accept", {}),
        (f"/proposals/{x}/partners/{own}/contact", {"contact": str(ola.user.id)}),
        (f"/proposals/{x}/transition", {"trigger": "withdraw", "state": proposal(db, x).status}),
    ]:
        assert post(ola.client, path, data, follow_redirects=False).status_code == 404, path
    assert (row_counts(db), partners(db, x)) == before


def test_invitation_of_another_organisation_cannot_be_answered(db, world):
    """Only a member of the invited organisation answers its invitation."""
    invited = partner_of(db, world.y, world.mads.organisation).public_id
    path = f"/proposals/{world.y}/partners/{invited}"
    before = snapshot(db, world)
    for action in ("accept", "decline"):
        assert post(world.ola.client, f"{path}/{action}").status_code == 404
        # The lead of Y is in Y, but answering for Dansk Ungdom is not hers to do.
        assert post(world.rasa.client, f"{path}/{action}").status_code == 403
    assert snapshot(db, world) == before
    assert partners(db, world.y)["Dansk Ungdom"] == ("partner", "invited")


# --- invitees and anonymous visitors ---------------------------------------------------------


def test_invitee_sees_only_the_invitation_until_it_accepts(db, world):
    mads, y = world.mads, world.y
    invitations = mads.client.get("/invitations").text
    assert "WETY – Wetlands of Y" in invitations
    assert "Kaimas invites Dansk Ungdom to join as a partner." in invitations
    page = mads.client.get(f"/proposals/{y}")
    assert page.status_code in (403, 404)
    assert "Kaimas" not in page.text and "Consortium" not in page.text
    assert y not in mads.client.get("/proposals").text
    before = snapshot(db, world)
    own = partner_of(db, y, mads.organisation).public_id
    lead = partner_of(db, y, world.rasa.organisation).public_id
    for path, data in [
        (f"/proposals/{y}/transition", {"trigger": "withdraw", "state": before[1]}),
        (f"/proposals/{y}/partners", {"organisation": world.ola.organisation.public_id}),
        (f"/proposals/{y}/invitations", {"email": "friend@example.org"}),
        (f"/proposals/{y}/partners/{own}/lead", {}),
        (f"/proposals/{y}/partners/{lead}/withdraw", {}),
        (f"/proposals/{y}/partners/{lead}/contact", {"contact": str(mads.user.id)}),
    ]:
        response = post(mads.client, path, data, follow_redirects=False)
        assert response.status_code in (403, 404), (path, response.status_code)
    assert snapshot(db, world) == before
    answer_invitation(mads, db, y)
    assert mads.client.get(f"/proposals/{y}").status_code == 200


def test_invitee_gets_404_on_the_proposal_page(world):
    """As for anyone who may not read it: the page is not found, not forbidden."""
    assert world.mads.client.get(f"/proposals/{world.y}").status_code == 404


ANONYMOUS_GETS = ["/proposals", "/invitations", "/proposals/new", "/ideas", "/partners"]


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_anonymous_visitor_is_sent_to_sign_in_for_everything(app, db, world, htmx):
    anonymous = browser(app)
    paths = [*ANONYMOUS_GETS, f"/proposals/{world.y}", f"/proposals/{world.x.pid}"]
    headers = {"HX-Request": "true"} if htmx else {}
    for path in paths:
        response = anonymous.get(path, headers=headers, follow_redirects=False)
        target = response.headers.get("HX-Redirect" if htmx else "location", "")
        assert response.status_code == (204 if htmx else 303), path
        assert "/signin?next=" in target, path
    before = snapshot(db, world)
    for path, data in y_attacks(db, world, world.ola):
        response = send(anonymous, path, data, htmx)
        target = response.headers.get("HX-Redirect" if htmx else "location", "")
        assert response.status_code == (204 if htmx else 303), path
        assert "/signin?next=" in target, path
    assert snapshot(db, world) == before


def test_anonymous_post_without_a_token_is_refused(app, db, world):
    anonymous = TestClient(app, raise_server_exceptions=False)
    before = snapshot(db, world)
    response = anonymous.post(
        f"/proposals/{world.y}/transition", data={"trigger": "withdraw", "state": before[1]}
    )
    assert response.status_code == 403
    assert snapshot(db, world) == before


# --- unguessable ids ------------------------------------------------------------------------


def test_public_ids_are_long_random_and_not_sequential(app, db, world):
    iid = post_idea(world.rasa)
    say_interested(world.ola, iid, "Hello")
    post(world.rasa.client, f"/proposals/{world.y}/invitations", {"email": "new@example.org"})
    db.expire_all()
    ids: list[str] = []
    for model in (Proposal, Partner, Organisation, Idea, IdeaInterest, ProposalInvitation):
        values = list(db.scalars(select(model.public_id).order_by(model.id)))
        assert values, model.__name__
        ids.extend(values)
    assert len(ids) >= 12
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert PUBLIC_ID.match(value), value
        assert not value.isdigit(), value
    fresh = [public_id() for _ in range(200)]
    assert len(set(fresh)) == 200 and all(len(v) >= 16 for v in fresh)
    # The row numbers behind them are no address, not even for the proposal's own lead.
    y = proposal(db, world.y)
    for guess in (str(y.id), str(y.id - 1), str(y.id + 1), "0", "-1"):
        assert world.rasa.client.get(f"/proposals/{guess}").status_code == 404, guess


@pytest.mark.parametrize("path", ["/proposals/%00", "/ideas/%00", "/proposals/%00/transition"])
def test_ids_with_a_nul_byte_are_not_found_rather_than_a_server_error(world, path):
    client = world.anna.client
    if path.endswith("transition"):
        response = post(client, path, {"trigger": "withdraw", "state": "idea"})
    else:
        response = client.get(path)
    assert response.status_code in (400, 404), response.status_code
