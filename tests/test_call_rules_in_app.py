"""The call rules that need what a consortium says of itself, over HTTP: a region below
country level, partners new to the programme, the application's language and the call's
stage. Each finding is read where the coordinator reads it ("Check before submit" and the
consortium on the proposal page) and goes away when the consortium sets the fact right."""

from __future__ import annotations

import html

import pytest

from proposals.domain import exporting
from proposals.models import Organisation
from tests.conftest import post
from tests.consortium_helpers import (
    answer_invitation,
    audit,
    consortium,
    field_errors,
    flashes,
    invite,
    partner_of,
    person,
    proposal,
)

DE_SOUTH = ("lena@stadtjugend.example.de", "Lena Huber", "Stadtjugend München", "DE")


def _final(client, pid: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/proposals/{pid}/final")
    assert response.status_code == 200
    return html.unescape(response.text)


def _organisation_form(org: Organisation, **changes: object) -> dict[str, object]:
    return {
        "name": org.name,
        "country": org.country,
        "city": org.city,
        "languages": ["en"],
        "region": org.region,
        **changes,
    }


def test_a_bsr_partner_from_southern_germany_is_found_until_its_region_is_northern(app, db):
    c = consortium(app, db, call="interreg-bsr-small", partner=DE_SOUTH)
    page = _final(c.lead.client, c.pid)
    assert "Stadtjugend München is in Germany, where only some regions are eligible" in page

    org = c.partner.organisation
    response = post(
        c.partner.client,
        f"/organisations/{org.public_id}/edit",
        _organisation_form(org, region="DE21"),
    )
    assert response.status_code == 200, field_errors(response)
    page = _final(c.lead.client, c.pid)
    assert "Stadtjugend München is in the region DE21, outside the call's area in Germany." in page
    assert "Interreg" in page  # the finding quotes its rule's source

    # The proposal page shows the region beside the country.
    assert "DE21 – Oberbayern" in html.unescape(c.lead.client.get(f"/proposals/{c.pid}").text)

    response = post(
        c.partner.client,
        f"/organisations/{org.public_id}/edit",
        _organisation_form(org, region="DE60"),
    )
    assert response.status_code == 200
    page = _final(c.lead.client, c.pid)
    assert "Stadtjugend München is in" not in page


@pytest.mark.parametrize(
    ("region", "country"),
    [("PL63", "DE"), ("ZZ9", "DE"), ("DE2" * 3, "DE"), ("<b>", "PL")],
    ids=["another-country", "unknown", "too-long", "markup"],
)
def test_a_region_outside_the_country_is_refused_with_a_message(app, db, region, country):
    anna = person(app, db, "anna@fala.example.org", "Anna Lis", "Fundacja Fala", country)
    org = anna.organisation
    response = post(
        anna.client, f"/organisations/{org.public_id}/edit", _organisation_form(org, region=region)
    )
    assert response.status_code == 422
    assert field_errors(response)["region"]
    db.expire_all()
    assert db.get(Organisation, org.id).region == ""


def test_south_baltic_newcomers_are_asked_for_then_counted(app, db):
    c = consortium(
        app,
        db,
        call="interreg-south-baltic-small",
        partner=("ruta@jura.example.lt", "Rūta Jonaitė", "Jūros vaikai", "LT"),
    )
    third = person(app, db, "lars@hav.example.se", "Lars Ek", "Havets vänner", "SE")
    assert f"{third.organisation.name} is invited." in flashes(
        invite(c.lead, c.pid, third.organisation)
    )
    answer_invitation(third, db, c.pid)

    page = _final(c.lead.client, c.pid)
    assert "0 of 3 partners are marked as new to the programme; say for" in page

    partners = [partner_of(db, c.pid, who.organisation) for who in (c.lead, c.partner, third)]
    for partner in partners:
        path = f"/proposals/{c.pid}/partners/{partner.public_id}/newcomer"
        assert path in c.lead.client.get(f"/proposals/{c.pid}").text
        response = post(c.lead.client, path, {"newcomer": "no"})
        assert "Saved." in flashes(response)
    page = _final(c.lead.client, c.pid)
    assert "0 of 3 partners are new to the programme; the call asks for at least 33.33" in page

    path = f"/proposals/{c.pid}/partners/{partners[2].public_id}/newcomer"
    post(c.lead.client, path, {"newcomer": "yes"})
    assert "partners are new to the programme" not in _final(c.lead.client, c.pid)
    assert [e.detail for e in audit(db, c.pid, "newcomer_marked")] == ["Havets vänner"]

    # A partner may not mark itself, and nonsense is refused without a change.
    own = f"/proposals/{c.pid}/partners/{partners[1].public_id}/newcomer"
    assert post(c.partner.client, own, {"newcomer": "yes"}).status_code == 403
    response = post(c.lead.client, own, {"newcomer": "perhaps"})
    assert response.status_code == 200
    assert "Choose one of the options." in flashes(response)
    db.expire_all()
    assert partner_of(db, c.pid, c.partner.organisation).newcomer is False


def test_a_two_stage_call_asks_for_the_sections_of_the_stage_the_proposal_is_at(app, db):
    c = consortium(app, db, call="eea-csf-poland")
    page = _final(c.lead.client, c.pid)
    assert "“Project summary” is empty" in page  # outline
    assert "“Activities” is empty" not in page  # full application only
    shown = html.unescape(c.lead.client.get(f"/proposals/{c.pid}").text)
    assert "At this stage the call asks for 3 of the 8 sections" in shown

    response = post(c.lead.client, f"/proposals/{c.pid}/application", {"stage": "full"})
    assert "Saved." in flashes(response)
    assert proposal(db, c.pid).stage == "full"
    page = _final(c.lead.client, c.pid)
    assert "“Activities” is empty" in page and "“Project summary” is empty" in page
    assert [e.detail for e in audit(db, c.pid, "stage_changed")] == ["Pełny wniosek"]

    # A forged stage and a partner's attempt change nothing.
    response = post(c.lead.client, f"/proposals/{c.pid}/application", {"stage": "final"})
    assert "Choose one of the call's stages." in flashes(response)
    assert (
        post(c.partner.client, f"/proposals/{c.pid}/application", {"stage": "outline"}).status_code
        == 403
    )
    assert proposal(db, c.pid).stage == "full"


def test_the_application_language_is_one_the_call_accepts_and_the_export_uses_it(app, db):
    c = consortium(app, db, call="erasmus-ka210")
    shown = c.lead.client.get(f"/proposals/{c.pid}").text
    assert 'name="language"' in shown

    response = post(c.lead.client, f"/proposals/{c.pid}/application", {"language": "xx"})
    assert "Choose one of the languages the call accepts." in flashes(response)
    assert proposal(db, c.pid).language is None

    response = post(c.lead.client, f"/proposals/{c.pid}/application", {"language": "pl"})
    assert "Saved." in flashes(response)
    assert proposal(db, c.pid).language == "pl"
    assert [e.detail for e in audit(db, c.pid, "language_chosen")] == ["pl"]
    # The Word export is labelled in the application's language.
    snap = exporting.snapshot(db, proposal(db, c.pid))
    assert snap.language == "pl"
