"""Building a consortium and moving the proposal through its workflow.

Starting a proposal (from an idea or a call), inviting organisations on
Engage or by e-mail, answering, handing over the lead, withdrawing, contact
persons, and the workflow buttons with their guards, stale forms and races.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from proposals.models import (
    Membership,
    OutboxMessage,
    Partner,
    ProposalInvitation,
    User,
    utcnow,
)
from tests.conftest import PASSWORD, csrf, post, printed_mail, row_counts
from tests.consortium_helpers import (
    Consortium,
    Person,
    access,
    answer_invitation,
    audit,
    browser,
    colleague,
    consortium,
    field_errors,
    flash_of,
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

JOIN_LINK = re.compile(r"https?://[^/\s]+(/proposals/join/\S+)")
STALE = (
    "Someone else changed this proposal a moment ago, so nothing was done. "
    "Here is how it looks now."
)
BSR_RULES = (
    "The consortium has 1 partners; the call asks for at least 3.",
    "The partners come from 1 countries; the call asks for at least 3.",
)


@pytest.fixture
def anna(app, db) -> Person:  # type: ignore[no-untyped-def]
    """Coordinator-to-be: Fundacja Fala, Poland."""
    return person(app, db, "anna@fala.example.org", "Anna Lis", "Fundacja Fala", "PL")


@pytest.fixture
def ola(app, db) -> Person:  # type: ignore[no-untyped-def]
    """A partner-to-be: Frivillig, Norway."""
    return person(app, db, "ola@fri.example.org", "Ola Berg", "Frivillig", "NO")


@pytest.fixture
def team(app, db) -> Consortium:  # type: ignore[no-untyped-def]
    """Fundacja Fala (lead, Anna) with Frivillig (Ola) as an active partner, on ACF."""
    return consortium(app, db)


def lead_count(db, pid: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for p in proposal(db, pid).partners if p.role == "lead")


def partner_path(db, pid: str, who: Person, action: str) -> str:  # type: ignore[no-untyped-def]
    return f"/proposals/{pid}/partners/{partner_of(db, pid, who.organisation).public_id}/{action}"


def race(app, email: str, path: str, data: dict[str, str], tabs: int = 2) -> list[int]:  # type: ignore[no-untyped-def]
    """``tabs`` browsers signed in as ``email`` post ``data`` to ``path`` at the same moment."""
    clients = [browser(app, email) for _ in range(tabs)]
    tokens = [csrf(c) for c in clients]
    barrier = threading.Barrier(tabs)

    def press(n: int) -> int:
        barrier.wait()
        response = clients[n].post(
            path, data={"csrf_token": tokens[n], **data}, follow_redirects=False
        )
        return response.status_code

    with ThreadPoolExecutor(tabs) as pool:
        return list(pool.map(press, range(tabs)))


# --- starting a proposal ---------------------------------------------------------------


def test_start_proposal_from_idea_invites_the_interested_organisation(app, anna, ola, db):
    iid = post_idea(anna)
    say_interested(ola, iid, "We run youth clubs.")
    bystander = person(app, db, "lina@lt.example.org", "Lina", "Jaunimas", "LT")
    form = anna.client.get(f"/proposals/new?idea={iid}")
    assert form.status_code == 200
    assert 'value="Baltic youth councils"' in form.text  # the idea's title
    assert f'value="{ola.organisation.public_id}" checked' in form.text  # interested: ticked
    # A forged form cannot slip in an organisation that never said it was interested.
    pid = start_proposal(
        anna, idea_id=iid, invite=(ola.organisation, bystander.organisation, anna.organisation)
    )
    page = anna.client.get(f"/proposals/{pid}")
    assert re.search(r'<span class="badge state">Partnership</span>', page.text)
    assert re.search(
        r"Fundacja Fala</a></th>\s*<td>Poland</td>\s*<td><strong>Lead partner", page.text
    )
    assert "Invited" in page.text
    stored = proposal(db, pid)
    assert stored.status == "partnership.inviting"
    assert stored.idea_id is not None and stored.call_id == "eea-csf-poland"
    assert partners(db, pid) == {
        "Fundacja Fala": ("lead", "active"),
        "Frivillig": ("partner", "invited"),
    }
    assert access(db, pid) == {"anna@fala.example.org": "coordinator"}
    assert [(c.trigger, c.source, c.dest) for c in audit(db, pid)] == [
        ("start", "idea", "partnership.inviting"),
        ("invite_partner", "partnership.inviting", "partnership.inviting"),
    ]
    assert "Baltic youth councils" in ola.client.get("/invitations").text
    assert "Baltic youth councils" not in bystander.client.get("/invitations").text


def test_start_proposal_from_scratch_with_a_call(anna, db):
    form = anna.client.get("/proposals/new?call=interreg-bsr-small")
    assert re.search(r'<option value="interreg-bsr-small" selected>', form.text)
    pid = start_proposal(anna, call="interreg-bsr-small", title="Wetlands", acronym="WET")
    page = anna.client.get(f"/proposals/{pid}")
    assert "WET – Wetlands" in page.text and "Lead partner" in page.text
    assert "Interreg" in page.text
    stored = proposal(db, pid)
    assert (stored.call_id, stored.call_version, stored.idea_id) == ("interreg-bsr-small", 2, None)
    assert (stored.status, stored.created_by_id) == ("partnership.inviting", anna.user.id)
    assert anna.client.get("/proposals").text.count(f'href="/proposals/{pid}"') == 1


def test_bad_new_proposal_forms_are_refused_and_store_nothing(anna, ola, db):
    before = row_counts(db)
    base = {
        "call": "eea-csf-poland",
        "title": "T",
        "organisation": anna.organisation.public_id,
    }
    cases = [
        ({"call": "no-such-call"}, "call", "Choose one of the options."),
        # A closed call is refused with the reason, even when asked for by name.
        ({"call": "acf-poland-national"}, "call", "This call closed on 30 April 2024"),
        ({"call": ""}, "call", "This field is required."),
        ({"title": ""}, "title", "This field is required."),
        ({"acronym": "A" * 21}, "acronym", "Use at most 20 characters (this has 21)."),
        ({"organisation": ola.organisation.public_id}, "organisation", "Choose one of your"),
    ]
    for change, field, message in cases:
        response = post(anna.client, "/proposals/new", {**base, **change})
        assert response.status_code == 422, change
        assert field_errors(response)[field].startswith(message)
    assert row_counts(db) == before


def test_only_the_ideas_organisation_starts_a_proposal_from_it(anna, ola, db):
    iid = post_idea(anna)
    before = row_counts(db)
    assert ola.client.get(f"/proposals/new?idea={iid}").status_code == 403
    data = {
        "idea": iid,
        "call": "eea-csf-poland",
        "title": "Hijack",
        "organisation": ola.organisation.public_id,
    }
    assert post(ola.client, "/proposals/new", data).status_code == 403
    assert row_counts(db) == before


# --- invitations to organisations on Engage ----------------------------------------------


def test_invited_member_sees_the_invitation_and_accepts(anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    page = ola.client.get("/invitations")
    assert "BYC – Baltic youth councils" in page.text
    assert "Fundacja Fala invites Frivillig to join as a partner." in page.text
    response = answer_invitation(ola, db, pid)
    assert str(response.url).endswith(f"/proposals/{pid}")
    assert "Welcome to the consortium of Baltic youth councils." in flashes(response)
    assert response.text.count("<td>Active</td>") == 2
    assert response.text.count("Lead partner") == 1
    assert partners(db, pid) == {
        "Fundacja Fala": ("lead", "active"),
        "Frivillig": ("partner", "active"),
    }
    assert partner_of(db, pid, ola.organisation).contact_user_id == ola.user.id
    assert access(db, pid)["ola@fri.example.org"] == "writer"
    assert "No invitation is waiting" in ola.client.get("/invitations").text
    assert f'href="/proposals/{pid}"' in ola.client.get("/proposals").text


def test_invited_member_declines(anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    response = answer_invitation(ola, db, pid, "decline")
    assert str(response.url).endswith("/invitations")
    assert "You declined the invitation." in flashes(response)
    assert partners(db, pid)["Frivillig"] == ("partner", "declined")
    assert "ola@fri.example.org" not in access(db, pid)
    assert ola.client.get(f"/proposals/{pid}").status_code == 404
    assert [c.trigger for c in audit(db, pid, "partner_declined")] == ["partner_declined"]
    # Declined is not final: the lead may ask again.
    assert "Frivillig is invited." in flashes(invite(anna, pid, ola.organisation))
    assert partners(db, pid)["Frivillig"] == ("partner", "invited")


def test_pressing_accept_twice_makes_one_partner_and_one_audit_row(anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    path = partner_path(db, pid, ola, "accept")
    first = post(ola.client, path)
    second = post(ola.client, path)
    assert "Welcome to the consortium of Baltic youth councils." in flashes(first)
    assert "This invitation has already been answered." in flashes(second)
    assert partners(db, pid)["Frivillig"] == ("partner", "active")
    assert len(audit(db, pid, "partner_accepted")) == 1
    decline_after = post(ola.client, partner_path(db, pid, ola, "decline"))
    assert "This invitation has already been answered." in flashes(decline_after)
    assert partners(db, pid)["Frivillig"] == ("partner", "active")


def test_simultaneous_accepts_make_one_partner_and_one_audit_row(app, anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    statuses = race(app, "ola@fri.example.org", partner_path(db, pid, ola, "accept"), {}, tabs=3)
    assert 500 not in statuses and statuses.count(303) >= 1, statuses
    assert set(statuses) <= {303, 409}, statuses
    assert partners(db, pid)["Frivillig"] == ("partner", "active")
    assert len(audit(db, pid, "partner_accepted")) == 1
    assert access(db, pid) == {
        "anna@fala.example.org": "coordinator",
        "ola@fri.example.org": "writer",
    }


def test_two_colleagues_accepting_at_once_make_one_answer(app, anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    per = colleague(app, db, ola, "per@fri.example.org", "Per Dahl")
    path = partner_path(db, pid, ola, "accept")
    clients = [ola.client, per.client]
    tokens = [csrf(c) for c in clients]
    barrier = threading.Barrier(2)

    def press(n: int) -> int:
        barrier.wait()
        data = {"csrf_token": tokens[n]}
        return clients[n].post(path, data=data, follow_redirects=False).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(press, range(2)))
    assert 500 not in statuses, statuses
    assert len(audit(db, pid, "partner_accepted")) == 1
    writers = {e for e, role in access(db, pid).items() if role == "writer"}
    assert len(writers) == 1 and writers <= {"ola@fri.example.org", "per@fri.example.org"}
    assert partner_of(db, pid, ola.organisation).status == "active"


def test_inviting_the_same_organisation_twice_says_so_and_keeps_one_partner(app, team, db):
    again = invite(team.lead, team.pid, team.partner.organisation)
    assert "Frivillig is already in this consortium or invited." in flash_of(again, "error")
    third = person(app, db, "lina@lt.example.org", "Lina", "Jaunimas", "LT")
    invite(team.lead, team.pid, third.organisation)
    twice = invite(team.lead, team.pid, third.organisation)
    assert "Jaunimas is already in this consortium or invited." in flash_of(twice, "error")
    db.expire_all()
    count = db.scalar(
        select(func.count())
        .select_from(Partner)
        .where(Partner.organisation_id.in_([team.partner.organisation.id, third.organisation.id]))
    )
    assert count == 2
    assert len(audit(db, team.pid, "invite_partner")) == 2  # one for each organisation


def test_inviting_the_lead_organisation_says_it_leads_already(anna, db):
    pid = start_proposal(anna)
    response = invite(anna, pid, anna.organisation)
    assert "Fundacja Fala leads this proposal already." in flash_of(response, "error")
    assert partners(db, pid) == {"Fundacja Fala": ("lead", "active")}
    assert audit(db, pid, "invite_partner") == []


def test_invitation_with_a_bad_role_or_unknown_organisation_is_refused(anna, ola, db):
    pid = start_proposal(anna)
    response = invite(anna, pid, ola.organisation, role="lead")
    assert "Choose one of the options." in flash_of(response, "error")
    response = post(anna.client, f"/proposals/{pid}/partners", {"organisation": "nobody"})
    assert "Choose an organisation from the directory." in flash_of(response, "error")
    assert partners(db, pid) == {"Fundacja Fala": ("lead", "active")}
    response = invite(anna, pid, ola.organisation, role="associated")
    assert partners(db, pid)["Frivillig"] == ("associated", "invited")
    assert "join as an associated partner" in ola.client.get("/invitations").text


def test_partner_directory_filters_and_offers_invitations_to_coordinators(anna, ola, db):
    pid = start_proposal(anna)
    page = anna.client.get("/partners?country=NO")
    assert page.status_code == 200
    assert "Frivillig" in page.text and ">Fundacja Fala<" not in page.text
    assert "Invite Frivillig" in page.text and f'<option value="{pid}">BYC</option>' in page.text
    response = post(
        anna.client,
        "/proposals/invite",
        {"proposal": pid, "organisation": ola.organisation.public_id, "role": "partner"},
    )
    assert "Frivillig is invited." in flashes(response)
    assert partners(db, pid)["Frivillig"] == ("partner", "invited")
    # Someone coordinating nothing is offered no invitation form.
    assert "Invite Fundacja Fala" not in ola.client.get("/partners").text
    fragment = anna.client.get("/partners?q=friv", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Frivillig" in fragment.text


@pytest.mark.parametrize("query", ["page=99999999999999999999", "q=%00", "language=%00"])
def test_odd_directory_parameters_never_make_a_server_error(anna, query):
    assert anna.client.get(f"/partners?{query}").status_code in (200, 400)


# --- invitations by e-mail -----------------------------------------------------------------


def email_invitation(db, who: Person, pid: str, email: str, role: str = "partner") -> str:  # type: ignore[no-untyped-def]
    """Invite ``email`` as ``who``; the path of the link in the e-mail."""
    with printed_mail() as printed:  # as a developer without SMTP reads the e-mail
        response = post(who.client, f"/proposals/{pid}/invitations", {"email": email, "role": role})
    assert f"We have sent an invitation to {email}." in flashes(response)
    db.expire_all()
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email)).one()
    assert message.kind == "proposal-invitation"
    assert message.subject == "Fundacja Fala invites you to a joint project: Baltic youth councils"
    return JOIN_LINK.search(printed.text).group(1)


def newcomer_with_organisation(app, email: str = "mari@ee.example.org") -> TestClient:  # type: ignore[no-untyped-def]
    client = browser(app)
    response = post(client, "/signup", {"name": "Mari Tamm", "email": email, "password": PASSWORD})
    assert response.status_code == 200 and "Welcome to Engage, Mari Tamm." in flashes(response)
    response = post(
        client, "/organisations/new", {"name": "Noored", "country": "EE", "city": "Tartu"}
    )
    assert response.status_code == 200
    return client


def test_email_invitation_brings_a_new_user_and_organisation_into_the_consortium(app, anna, db):
    pid = start_proposal(anna)
    link = email_invitation(db, anna, pid, "mari@ee.example.org")
    assert "Waiting for: mari@ee.example.org" in anna.client.get(f"/proposals/{pid}").text
    anonymous = browser(app)
    landing = anonymous.get(link)
    assert landing.status_code == 200
    assert "Fundacja Fala invites you to join this joint project as a partner." in landing.text
    assert "/signup?next=" in landing.text
    mari = newcomer_with_organisation(app)
    page = mari.get(link)
    assert page.status_code == 200 and "Join as" in page.text
    noored = db.scalars(select(Membership).join(User).where(User.email == "mari@ee.example.org"))
    org_id = noored.one().organisation.public_id
    response = post(mari, link, {"organisation": org_id, "answer": "accept"})
    assert str(response.url).endswith(f"/proposals/{pid}")
    assert "Welcome to the consortium of Baltic youth councils." in flashes(response)
    assert partners(db, pid)["Noored"] == ("partner", "active")
    assert access(db, pid)["mari@ee.example.org"] == "writer"
    assert db.scalars(select(ProposalInvitation)).one().used_at is not None
    assert len(audit(db, pid, "partner_accepted")) == 1

    again = mari.get(link)
    assert again.status_code == 400 and "This invitation has already been used." in again.text
    replay = post(mari, link, {"organisation": org_id, "answer": "accept"})
    assert replay.status_code == 400
    assert len(audit(db, pid, "partner_accepted")) == 1


def test_expired_email_invitation_is_refused(app, anna, db):
    pid = start_proposal(anna)
    link = email_invitation(db, anna, pid, "mari@ee.example.org")
    invitation = db.scalars(select(ProposalInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    mari = newcomer_with_organisation(app)
    noored = db.scalars(select(Membership).join(User).where(User.email == "mari@ee.example.org"))
    choice = {"organisation": noored.one().organisation.public_id, "answer": "accept"}
    for response in (mari.get(link), post(mari, link, choice)):
        assert response.status_code == 400
        assert "This invitation link is not valid or has expired." in response.text
    assert "Noored" not in partners(db, pid)
    assert "Waiting for: mari" not in anna.client.get(f"/proposals/{pid}").text


def test_forged_or_foreign_invitation_tokens_are_400(app, anna, db):
    pid = start_proposal(anna)
    email_invitation(db, anna, pid, "mari@ee.example.org")
    invitation = db.scalars(select(ProposalInvitation)).one()
    wrong_purpose = app.state.tokens.make("invite", invitation.public_id)
    for token in ("not-a-token", "A" * 3000, wrong_purpose, invitation.public_id):
        response = anna.client.get(f"/proposals/join/{token}")
        assert response.status_code == 400
        assert "not valid or has expired" in response.text
    assert db.scalars(select(ProposalInvitation)).one().used_at is None


def test_inviting_oneself_by_email_is_refused(anna, db):
    pid = start_proposal(anna)
    for email in ("anna@fala.example.org", "ANNA@Fala.example.org"):
        response = post(anna.client, f"/proposals/{pid}/invitations", {"email": email})
        assert "You cannot invite yourself." in flash_of(response, "error")
    assert row_counts(db)["proposal_invitation"] == row_counts(db)["outbox_message"] == 0


def test_bad_or_repeated_email_invitations_are_refused(anna, db):
    pid = start_proposal(anna)
    path = f"/proposals/{pid}/invitations"
    bad = post(anna.client, path, {"email": "not-an-email"})
    assert "Enter an e-mail address like name@example.org." in flash_of(bad, "error")
    role = post(anna.client, path, {"email": "mari@ee.example.org", "role": "lead"})
    assert "Choose one of the options." in flash_of(role, "error")
    email_invitation(db, anna, pid, "mari@ee.example.org")
    twice = post(anna.client, path, {"email": "Mari@EE.example.org"})
    assert "mari@ee.example.org has an invitation already." in flash_of(twice, "error")
    assert row_counts(db)["proposal_invitation"] == row_counts(db)["outbox_message"] == 1


def test_a_refused_join_does_not_use_up_the_invitation_link(app, team, db):
    """Choosing an organisation that is in the consortium already must not burn the link."""
    link = email_invitation(db, team.lead, team.pid, "mari@ee.example.org")
    mari = newcomer_with_organisation(app)
    mari_id = db.scalar(select(User.id).where(User.email == "mari@ee.example.org"))
    db.add(Membership(user_id=mari_id, organisation_id=team.partner.organisation.id))
    db.commit()
    refused = post(
        mari, link, {"organisation": team.partner.organisation.public_id, "answer": "accept"}
    )
    assert refused.status_code == 422
    assert field_errors(refused)["organisation"] == "Frivillig is already in this consortium."
    noored = db.scalars(
        select(Membership)
        .join(User)
        .where(
            User.email == "mari@ee.example.org",
            Membership.organisation_id != team.partner.organisation.id,
        )
    )
    response = post(
        mari, link, {"organisation": noored.one().organisation.public_id, "answer": "accept"}
    )
    assert response.status_code == 200, "the intended partner can no longer use the link"
    assert partners(db, team.pid)["Noored"] == ("partner", "active")


# --- lead, withdrawal, contact persons ---------------------------------------------------


def test_handing_over_the_lead_makes_exactly_one_lead_and_swaps_coordinator(team, db):
    response = post(team.lead.client, partner_path(db, team.pid, team.partner, "lead"))
    assert "Frivillig is now the lead partner." in flashes(response)
    db.expire_all()
    leads = db.scalars(
        select(Partner).where(
            Partner.proposal_id == proposal(db, team.pid).id, Partner.role == "lead"
        )
    ).all()
    assert [p.organisation.name for p in leads] == ["Frivillig"]
    assert partners(db, team.pid)["Fundacja Fala"] == ("partner", "active")
    assert access(db, team.pid) == {
        "anna@fala.example.org": "writer",
        "ola@fri.example.org": "coordinator",
    }
    assert [c.detail for c in audit(db, team.pid, "lead_handed_over")] == ["Frivillig"]
    # The new coordinator manages the consortium; the old one no longer does.
    assert "Hand over the lead" in team.partner.client.get(f"/proposals/{team.pid}").text
    back = post(team.lead.client, partner_path(db, team.pid, team.lead, "lead"))
    assert back.status_code == 403
    assert lead_count(db, team.pid) == 1


def test_lead_cannot_go_to_an_invited_partner(app, anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    response = post(anna.client, partner_path(db, pid, ola, "lead"))
    assert "Only an active partner can take over the lead." in flash_of(response, "error")
    assert partners(db, pid)["Fundacja Fala"] == ("lead", "active")
    assert lead_count(db, pid) == 1


def test_lead_partner_cannot_withdraw(team, db):
    response = post(team.lead.client, partner_path(db, team.pid, team.lead, "withdraw"))
    assert "The lead partner cannot withdraw. Hand the lead to another partner first." in flash_of(
        response, "error"
    )
    assert partners(db, team.pid)["Fundacja Fala"] == ("lead", "active")


def test_partner_withdraws_and_its_members_lose_access(app, team, db):
    per = colleague(app, db, team.partner, "per@fri.example.org", "Per Dahl")
    assert per.client.get(f"/proposals/{team.pid}").status_code == 200  # a member: a writer
    path = partner_path(db, team.pid, team.partner, "withdraw")
    response = post(team.partner.client, path, follow_redirects=False)
    assert response.status_code == 303
    assert partners(db, team.pid)["Frivillig"] == ("partner", "withdrawn")
    assert "ola@fri.example.org" not in access(db, team.pid)
    for member in (team.partner, per):
        assert member.client.get(f"/proposals/{team.pid}").status_code == 404
        assert f"/proposals/{team.pid}" not in member.client.get("/proposals").text
    assert [c.detail for c in audit(db, team.pid, "partner_withdrawn")] == ["Frivillig"]
    page = team.lead.client.get(f"/proposals/{team.pid}")
    assert "<td>Withdrawn</td>" in page.text
    assert "Ola Berg withdrew Frivillig from the consortium." in page.text


def test_partner_that_withdraws_itself_is_told_so_not_shown_an_error_page(team, db):
    response = post(team.partner.client, partner_path(db, team.pid, team.partner, "withdraw"))
    assert partners(db, team.pid)["Frivillig"] == ("partner", "withdrawn")
    # It may no longer open the proposal, so it must not be sent there to a 404.
    assert response.status_code == 200, f"landed on a {response.status_code} page"
    assert "Frivillig has left the consortium." in flashes(response)


def test_coordinator_withdraws_a_partner(team, db):
    response = post(team.lead.client, partner_path(db, team.pid, team.partner, "withdraw"))
    assert "Frivillig has left the consortium." in flashes(response)
    assert partners(db, team.pid)["Frivillig"] == ("partner", "withdrawn")
    assert team.partner.client.get(f"/proposals/{team.pid}").status_code == 404


def test_contact_person_must_be_a_member_of_the_organisation(app, team, db):
    per = colleague(app, db, team.partner, "per@fri.example.org", "Per Dahl")
    path = partner_path(db, team.pid, team.partner, "contact")
    page = team.partner.client.get(f"/proposals/{team.pid}")
    assert f'<option value="{per.user.id}">Per Dahl</option>' in page.text
    outsider = post(team.partner.client, path, {"contact": str(team.lead.user.id)})
    assert "The contact person must be a member of the organisation." in flash_of(outsider, "error")
    for junk in ("", "abc", "999999"):
        response = post(team.partner.client, path, {"contact": junk})
        assert "Choose one of the options." in flash_of(response, "error")
    assert (
        partner_of(db, team.pid, team.partner.organisation).contact_user_id == team.partner.user.id
    )
    response = post(team.partner.client, path, {"contact": str(per.user.id)})
    assert "Per Dahl is the contact person of Frivillig." in flashes(response)
    assert partner_of(db, team.pid, team.partner.organisation).contact_user_id == per.user.id
    assert access(db, team.pid)["per@fri.example.org"] == "writer"


def test_new_contact_of_the_lead_becomes_the_coordinator(app, team, db):
    jan = colleague(app, db, team.lead, "jan@fala.example.org", "Jan Kos")
    response = post(
        team.lead.client,
        partner_path(db, team.pid, team.lead, "contact"),
        {"contact": str(jan.user.id)},
    )
    assert "Jan Kos is the contact person of Fundacja Fala." in flashes(response)
    roles = access(db, team.pid)
    assert roles["jan@fala.example.org"] == "coordinator"
    assert roles["anna@fala.example.org"] == "writer"
    assert list(roles.values()).count("coordinator") == 1


# --- the workflow -----------------------------------------------------------------------


def transition(who: Person, pid: str, trigger: str, state: str | None = None):  # type: ignore[no-untyped-def]
    if state is None:
        state = state_field(who.client.get(f"/proposals/{pid}"))
    return post(who.client, f"/proposals/{pid}/transition", {"trigger": trigger, "state": state})


def test_start_drafting_when_the_rules_hold_is_recorded(anna, db):
    pid = start_proposal(anna)  # ACF: a Polish lead may apply alone
    page = anna.client.get(f"/proposals/{pid}")
    assert re.search(r'<button type="submit" class="secondary">Start drafting</button>', page.text)
    response = transition(anna, pid, "start_drafting")
    assert "Done: the proposal is now “Writing”." in flashes(response)
    assert '<span class="badge state">Drafting</span>' in response.text
    assert proposal(db, pid).status == "drafting.writing"
    rows = audit(db, pid)
    assert [(r.trigger, r.source, r.dest, r.role) for r in rows] == [
        ("start", "idea", "partnership.inviting", "coordinator"),
        ("start_drafting", "partnership.inviting", "drafting.writing", "coordinator"),
    ]
    assert {r.actor_id for r in rows} == {anna.user.id}


def test_failing_call_rules_disable_the_button_and_refuse_a_forced_post(anna, db):
    pid = start_proposal(anna, call="interreg-bsr-small")
    page = anna.client.get(f"/proposals/{pid}")
    assert re.search(
        r'disabled aria-describedby="why-start_drafting">Start drafting</button>', page.text
    )
    why = page.text.split('id="why-start_drafting"', 1)[1].split("</div>", 1)[0]
    assert all(rule in why for rule in BSR_RULES)
    response = transition(anna, pid, "start_drafting", "partnership.inviting")
    errors = flash_of(response, "error")
    assert len(errors) == 1 and errors[0].startswith("Not yet:")
    assert all(rule in errors[0] for rule in BSR_RULES)
    assert proposal(db, pid).status == "partnership.inviting"
    assert [r.trigger for r in audit(db, pid)] == ["start"]


def test_confirming_waits_for_open_invitations(anna, ola, db):
    pid = start_proposal(anna)
    invite(anna, pid, ola.organisation)
    response = transition(anna, pid, "confirm_partnership")
    assert "Waiting for an answer from: Frivillig." in " ".join(flash_of(response, "error"))
    assert proposal(db, pid).status == "partnership.inviting"
    answer_invitation(ola, db, pid)
    response = transition(anna, pid, "confirm_partnership")
    assert "Done: the proposal is now “Partnership confirmed”." in flashes(response)


def test_stale_form_is_refused_and_recorded_once(anna, db):
    pid = start_proposal(anna)
    seen = state_field(anna.client.get(f"/proposals/{pid}"))
    transition(anna, pid, "confirm_partnership", seen)  # someone moves it meanwhile
    stale = transition(anna, pid, "start_drafting", seen)
    assert STALE in flash_of(stale, "error")
    assert proposal(db, pid).status == "partnership.confirmed"
    assert [r.trigger for r in audit(db, pid)] == ["start", "confirm_partnership"]
    # Pressing the same button twice: the second press is stale too.
    seen = state_field(anna.client.get(f"/proposals/{pid}"))
    transition(anna, pid, "start_drafting", seen)
    again = transition(anna, pid, "start_drafting", seen)
    assert STALE in flash_of(again, "error")
    assert len(audit(db, pid, "start_drafting")) == 1
    assert proposal(db, pid).status == "drafting.writing"


def test_simultaneous_transitions_change_the_state_once(app, anna, db):
    pid = start_proposal(anna)
    state = state_field(anna.client.get(f"/proposals/{pid}"))
    version = proposal(db, pid).version
    statuses = race(
        app,
        "anna@fala.example.org",
        f"/proposals/{pid}/transition",
        {"trigger": "start_drafting", "state": state},
        tabs=3,
    )
    assert 500 not in statuses and set(statuses) <= {303, 409}, statuses
    assert proposal(db, pid).status == "drafting.writing"
    assert len(audit(db, pid, "start_drafting")) == 1
    assert proposal(db, pid).version == version + 1  # one change, not two


def test_writer_cannot_fire_a_transition(team, db):
    before = row_counts(db)
    state = proposal(db, team.pid).status
    page = team.partner.client.get(f"/proposals/{team.pid}")
    assert "Start drafting" not in page.text  # no buttons for a writer
    for trigger in ("start_drafting", "withdraw", "confirm_partnership"):
        response = transition(team.partner, team.pid, trigger, state)
        assert response.status_code == 403, trigger
    assert proposal(db, team.pid).status == state
    assert row_counts(db) == before


def test_unknown_trigger_is_400_and_changes_nothing(anna, db):
    pid = start_proposal(anna)
    before = row_counts(db)
    for trigger in ("fly_to_the_moon", "", "__init__", "state"):
        response = transition(anna, pid, trigger, "partnership.inviting")
        assert response.status_code == 400, trigger
    assert proposal(db, pid).status == "partnership.inviting"
    assert row_counts(db) == before


def test_withdrawing_the_proposal_ends_it(anna, db):
    pid = start_proposal(anna)
    response = transition(anna, pid, "withdraw")
    assert "Done: the proposal is now “Withdrawn”." in flashes(response)
    assert proposal(db, pid).status == "withdrawn"
    assert "Next steps" not in anna.client.get(f"/proposals/{pid}").text
    late = transition(anna, pid, "start_drafting", "withdrawn")
    assert STALE in flash_of(late, "error")
    assert [r.trigger for r in audit(db, pid)] == ["start", "withdraw"]
