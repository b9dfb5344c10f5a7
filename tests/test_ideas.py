"""The idea board: posting, editing, closing, finding ideas, and saying "I'm interested"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from proposals.models import Idea, IdeaInterest, Membership, Organisation, utcnow
from tests.conftest import make_organisation, make_user, post, row_counts
from tests.consortium_helpers import (
    XSS,
    XSS_ESCAPED,
    Person,
    browser,
    colleague,
    field_errors,
    flash_of,
    flashes,
    idea,
    idea_form,
    person,
    post_idea,
    say_interested,
)

CARD = '<article class="card">'


@pytest.fixture
def owner(app, db) -> Person:  # type: ignore[no-untyped-def]
    return person(app, db, "anna@fala.example.org", "Anna Lis", "Fundacja Fala", "PL")


@pytest.fixture
def other(app, db) -> Person:  # type: ignore[no-untyped-def]
    return person(app, db, "ola@fri.example.org", "Ola Berg", "Frivillig", "NO")


def titles(response) -> list[str]:  # type: ignore[no-untyped-def]
    """The idea titles listed on a page of the idea board, in order."""
    return re.findall(r'<h2><a href="/ideas/[\w-]+">([^<]*)</a></h2>', response.text)


def make_idea(db, organisation: Organisation, title: str, **fields) -> Idea:  # type: ignore[no-untyped-def]
    """An idea stored directly (for lists that need many)."""
    values = {
        "summary": f"About {title}.",
        "themes": ["youth"],
        "countries_sought": ["NO"],
        "status": "open",
        **fields,
    }
    row = Idea(organisation_id=organisation.id, title=title, **values)
    db.add(row)
    db.commit()
    return row


# --- posting, editing, closing -------------------------------------------------------


def test_member_posts_an_idea_with_countries_themes_and_call(owner, db):
    iid = post_idea(owner, call_id="interreg-bsr-small", countries_sought=["no", "LT", "NO"])
    stored = idea(db, iid)
    assert stored.organisation_id == owner.organisation.id
    assert stored.author_id == owner.user.id
    assert stored.countries_sought == ["NO", "LT"]  # upper-cased, duplicates dropped
    assert stored.themes == ["youth", "civic-participation"]
    assert (stored.call_id, stored.status) == ("interreg-bsr-small", "open")
    page = owner.client.get(f"/ideas/{iid}")
    assert page.status_code == 200
    assert "Baltic youth councils" in page.text
    assert "Norway, Lithuania" in page.text
    assert "By Fundacja Fala" in page.text
    assert f'href="/proposals/new?idea={iid}"' in page.text  # the owner may start a proposal


def test_owner_edits_the_idea(owner, db):
    iid = post_idea(owner)
    form = owner.client.get(f"/ideas/{iid}/edit")
    assert form.status_code == 200
    assert 'value="Baltic youth councils"' in form.text
    response = post(
        owner.client,
        f"/ideas/{iid}/edit",
        idea_form(owner, title="Baltic youth parliaments", countries_sought=["SE"]),
    )
    assert response.status_code == 200
    assert "The idea is saved." in flashes(response)
    stored = idea(db, iid)
    assert (stored.title, stored.countries_sought) == ("Baltic youth parliaments", ["SE"])
    assert db.scalar(select(Idea.id).where(Idea.title == "Baltic youth councils")) is None


def test_colleague_in_the_same_organisation_may_edit_the_idea(app, owner, db):
    iid = post_idea(owner)
    jan = colleague(app, db, owner, "jan@fala.example.org", "Jan Kos")
    response = post(jan.client, f"/ideas/{iid}/edit", idea_form(jan, title="Jan's version"))
    assert response.status_code == 200
    assert idea(db, iid).title == "Jan's version"


def test_member_of_another_organisation_cannot_edit_or_close_the_idea(owner, other, db):
    iid = post_idea(owner)
    before = row_counts(db)
    assert other.client.get(f"/ideas/{iid}/edit").status_code == 403
    taken = idea_form(other, title="Taken over")
    assert post(other.client, f"/ideas/{iid}/edit", taken).status_code == 403
    # Posting it for the owner's organisation does not help either.
    taken["organisation"] = owner.organisation.public_id
    assert post(other.client, f"/ideas/{iid}/edit", taken).status_code == 403
    assert post(other.client, f"/ideas/{iid}/close").status_code == 403
    assert row_counts(db) == before
    stored = idea(db, iid)
    assert (stored.title, stored.status) == ("Baltic youth councils", "open")
    page = other.client.get(f"/ideas/{iid}").text
    assert f'href="/ideas/{iid}/edit"' not in page and f"/ideas/{iid}/close" not in page


def test_owner_closes_and_reopens_the_idea(owner, other, db):
    iid = post_idea(owner)
    response = post(owner.client, f"/ideas/{iid}/close")
    assert "The idea is closed." in flashes(response)
    assert idea(db, iid).status == "closed"
    assert "Open the idea again" in response.text
    # Closed: off the board for everybody, hidden from others, still the owner's.
    assert "Baltic youth councils" not in owner.client.get("/ideas").text
    assert "Baltic youth councils" not in other.client.get("/ideas?q=baltic").text
    assert other.client.get(f"/ideas/{iid}").status_code == 404
    assert say_interested(other, iid).status_code == 404  # hidden, like the page
    assert row_counts(db)["idea_interest"] == 0
    assert owner.client.get(f"/ideas/{iid}").status_code == 200

    response = post(owner.client, f"/ideas/{iid}/close", {"reopen": "1"})
    assert "The idea is open." in flashes(response)
    assert idea(db, iid).status == "open"
    assert titles(other.client.get("/ideas")) == ["Baltic youth councils"]


def test_posting_without_an_organisation_sends_the_user_to_create_one(app, db):
    make_user(db, email="solo@example.org")
    solo = browser(app, "solo@example.org")
    response = solo.get("/ideas/new")
    assert str(response.url).endswith("/organisations/new")
    assert "Create your organisation's profile first" in " ".join(flashes(response))
    before = row_counts(db)
    post(solo, "/ideas/new", {"organisation": "x", "title": "T", "summary": "S"})
    assert row_counts(db)["idea"] == before["idea"] == 0


# --- finding ideas -------------------------------------------------------------------


def test_list_filters_by_country_theme_call_and_text(owner, db):
    org = owner.organisation
    make_idea(db, org, "Sailing school", countries_sought=["NO", "SE"], themes=["youth"])
    make_idea(
        db,
        org,
        "Wetland restoration",
        countries_sought=["LT"],
        themes=["environment"],
        call_id="interreg-bsr-small",
    )
    make_idea(
        db,
        org,
        "Seniors online",
        countries_sought=["NO"],
        themes=["seniors", "digital"],
        summary="Grandparents learn VIDEO calls.",
    )
    make_idea(db, org, "Closed sailing", countries_sought=["NO"], status="closed")
    client = owner.client

    def listed(query: str) -> set[str]:
        response = client.get(f"/ideas?{query}")
        assert response.status_code == 200
        return set(titles(response))

    assert listed("") == {"Sailing school", "Wetland restoration", "Seniors online"}
    assert listed("country=NO") == {"Sailing school", "Seniors online"}
    assert listed("country=no") == {"Sailing school", "Seniors online"}
    assert listed("country=SE") == {"Sailing school"}
    assert listed("country=DK") == set()
    assert listed("theme=environment") == {"Wetland restoration"}
    assert listed("theme=digital&country=NO") == {"Seniors online"}
    assert listed("call=interreg-bsr-small") == {"Wetland restoration"}
    assert listed("q=sailing") == {"Sailing school"}  # the closed one is never listed
    assert listed("q=video+CALLS") == {"Seniors online"}  # in the summary, any case
    assert listed("q=nothing+like+this") == set()
    # A filter value that is not on the list is ignored rather than an error.
    assert len(listed("country=XX&theme=piracy")) == 3


def test_htmx_filter_returns_only_the_results_fragment(owner, db):
    make_idea(db, owner.organisation, "Sailing school")
    response = owner.client.get("/ideas?q=sail", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert titles(response) == ["Sailing school"]
    assert "<html" not in response.text and "1 idea" in response.text


def test_twenty_five_ideas_make_two_pages_the_second_with_five(owner, db):
    start = utcnow() - timedelta(days=1)
    for n in range(25):
        make_idea(db, owner.organisation, f"Idea {n:02d}", created_at=start + timedelta(minutes=n))
    first = owner.client.get("/ideas")
    assert "25 ideas" in first.text and "Page 1 of 2" in first.text
    assert first.text.count(CARD) == 20
    assert titles(first)[0] == "Idea 24"  # newest first
    assert 'href="/ideas?page=2' in first.text
    second = owner.client.get("/ideas?page=2")
    assert second.status_code == 200
    assert second.text.count(CARD) == 5
    assert titles(second) == ["Idea 04", "Idea 03", "Idea 02", "Idea 01", "Idea 00"]
    assert "Page 2 of 2" in second.text and "Next page" not in second.text
    assert owner.client.get("/ideas?page=3").text.count(CARD) == 0


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-5",
        "page=0",
        "page=99999999999999999999",
        "page=" + "9" * 5000,  # past Python's 4,300-digit limit for int()
        "page=1e9",
        "q=%25%25%25&country=%3Cscript%3E",
        "q=%00",
        "call=%00",
        "theme=" + "x" * 5000,
    ],
)
def test_odd_list_parameters_never_make_a_server_error(owner, db, query):
    make_idea(db, owner.organisation, "Sailing school")
    response = owner.client.get(f"/ideas?{query}")
    assert response.status_code in (200, 400), (query, response.status_code)


# --- "I'm interested" ------------------------------------------------------------------


def test_other_organisation_says_it_is_interested_with_a_message(owner, other, db):
    iid = post_idea(owner)
    page = other.client.get(f"/ideas/{iid}")
    assert ">I'm interested<" in page.text
    form = other.client.get(f"/ideas/{iid}?interest=1")
    assert f'<option value="{other.organisation.public_id}"' in form.text
    assert f'<option value="{owner.organisation.public_id}"' not in form.text
    response = say_interested(other, iid, "We run youth clubs in Kristiansand.")
    assert response.status_code == 200
    assert "Thank you: the idea's authors can now see your interest and answer." in flashes(
        response
    )
    assert "Your organisation has told the authors it is interested." in response.text
    interest = db.scalars(select(IdeaInterest)).one()
    assert interest.idea_id == idea(db, iid).id
    assert (interest.organisation_id, interest.user_id) == (other.organisation.id, other.user.id)
    assert interest.message == "We run youth clubs in Kristiansand."


def test_second_interest_from_the_same_organisation_is_refused_with_a_message(
    app, owner, other, db
):
    iid = post_idea(owner)
    assert say_interested(other, iid, "First").status_code == 200
    again = say_interested(other, iid, "Second press")
    assert again.status_code == 422
    assert field_errors(again)["organisation"] == "Frivillig has already said it is interested."
    colleague_ = colleague(app, db, other, "per@fri.example.org", "Per Dahl")
    by_colleague = say_interested(colleague_, iid, "Me too")
    assert by_colleague.status_code == 422
    assert "Frivillig has already said it is interested." in by_colleague.text
    assert [i.message for i in db.scalars(select(IdeaInterest))] == ["First"]


def test_organisation_cannot_be_interested_in_its_own_idea(app, owner, db):
    iid = post_idea(owner)
    page = owner.client.get(f"/ideas/{iid}")
    assert ">I'm interested<" not in page.text
    assert say_interested(owner, iid).status_code == 403
    # A member of two organisations may speak for the other one, never for the owner.
    second = make_organisation(db, name="Klub Żagli", country="PL")
    db.add(Membership(user_id=owner.user.id, organisation_id=second.id, role="admin"))
    db.commit()
    own = post(
        owner.client,
        f"/ideas/{iid}/interest",
        {"organisation": owner.organisation.public_id, "message": "Us!"},
    )
    assert own.status_code == 422
    assert field_errors(own)["organisation"] == "This is your own idea."
    assert row_counts(db)["idea_interest"] == 0
    ok = post(
        owner.client,
        f"/ideas/{iid}/interest",
        {"organisation": second.public_id, "message": "The sailing club would join."},
    )
    assert ok.status_code == 200
    assert db.scalars(select(IdeaInterest)).one().organisation_id == second.id


def test_interest_for_an_organisation_the_user_is_not_in_is_refused(owner, other, app, db):
    iid = post_idea(owner)
    third = person(app, db, "lina@lt.example.org", "Lina", "Jaunimas", "LT")
    response = post(
        other.client,
        f"/ideas/{iid}/interest",
        {"organisation": third.organisation.public_id, "message": "In their name"},
    )
    assert response.status_code == 422
    assert field_errors(response)["organisation"] == "Choose one of your organisations."
    empty = say_interested(other, iid, "   ")
    assert empty.status_code == 422
    assert field_errors(empty)["message"] == "This field is required."
    assert row_counts(db)["idea_interest"] == 0


def test_owner_sees_the_interest_and_replies(owner, other, db):
    iid = post_idea(owner)
    say_interested(other, iid, "We run youth clubs.")
    page = owner.client.get(f"/ideas/{iid}")
    assert "Interested organisations" in page.text
    assert (
        "Frivillig" in page.text and "We run youth clubs." in page.text and "Ola Berg" in page.text
    )
    interest = db.scalars(select(IdeaInterest)).one()
    path = f"/ideas/{iid}/interests/{interest.public_id}/reply"
    assert path in page.text
    # Only the idea's organisation answers.
    assert post(other.client, path, {"reply": "I answer myself"}).status_code == 403
    response = post(owner.client, path, {"reply": "Welcome! Let us talk on Monday."})
    assert response.status_code == 200
    assert "Your answer is saved." in flashes(response)
    assert "Welcome! Let us talk on Monday." in response.text
    db.expire_all()
    interest = db.get(IdeaInterest, interest.id)
    assert interest.reply == "Welcome! Let us talk on Monday."
    assert interest.replied_at is not None
    empty = post(owner.client, path, {"reply": ""})
    assert "This field is required." in flash_of(empty, "error")
    assert (
        post(owner.client, f"/ideas/{iid}/interests/no-such/reply", {"reply": "x"}).status_code
        == 404
    )


def test_interested_organisation_can_read_the_owners_reply(owner, other, db):
    iid = post_idea(owner)
    say_interested(other, iid, "We run youth clubs.")
    interest = db.scalars(select(IdeaInterest)).one()
    post(
        owner.client,
        f"/ideas/{iid}/interests/{interest.public_id}/reply",
        {"reply": "Welcome! Let us talk on Monday."},
    )
    assert idea(db, iid).interests[0].reply == "Welcome! Let us talk on Monday."
    # The answer is addressed to the interested organisation: it must reach it somewhere.
    places = [other.client.get(f"/ideas/{iid}").text, other.client.get("/").text]
    assert any("Welcome! Let us talk on Monday." in text for text in places)


# --- bad input -------------------------------------------------------------------------

BAD_IDEAS = {
    "megabyte-summary": ({"summary": "x" * 1_000_000}, "summary", "Use at most 5000 characters"),
    "huge-title": ({"title": "T" * 201}, "title", "Use at most 200 characters (this has 201)"),
    "empty-title": ({"title": "  "}, "title", "This field is required."),
    "unknown-country": ({"countries_sought": ["NO", "XX"]}, "countries_sought", "Choose a country"),
    "unknown-theme": ({"themes": ["youth", "piracy"]}, "themes", "Choose themes from the list."),
    "unknown-call": ({"call_id": "no-such-call"}, "call_id", "Choose one of the options."),
}


@pytest.mark.parametrize(("fields", "field", "message"), BAD_IDEAS.values(), ids=BAD_IDEAS)
def test_bad_idea_is_refused_next_to_the_field_and_nothing_stored(
    owner, db, fields, field, message
):
    before = row_counts(db)
    response = post(owner.client, "/ideas/new", idea_form(owner, **fields))
    assert response.status_code == 422
    assert field_errors(response)[field].startswith(message)
    assert f'href="#f-{field}"' in response.text  # and in the summary at the top
    assert row_counts(db) == before


def test_bad_edit_is_refused_and_the_idea_kept(owner, db):
    iid = post_idea(owner)
    response = post(owner.client, f"/ideas/{iid}/edit", idea_form(owner, summary="y" * 1_000_000))
    assert response.status_code == 422
    assert field_errors(response)["summary"].startswith("Use at most 5000 characters")
    assert idea(db, iid).summary == "Young people in three towns run their own council."


def test_posting_for_an_organisation_one_is_not_a_member_of_is_refused(owner, other, db):
    before = row_counts(db)
    form = idea_form(owner, organisation=other.organisation.public_id)
    response = post(owner.client, "/ideas/new", form)
    assert response.status_code == 422
    assert field_errors(response)["organisation"] == "Choose one of your organisations."
    assert row_counts(db) == before
    # Moving one's idea to someone else's organisation is refused the same way.
    iid = post_idea(owner)
    response = post(owner.client, f"/ideas/{iid}/edit", form)
    assert response.status_code == 422
    assert idea(db, iid).organisation_id == owner.organisation.id


def test_markup_in_every_field_is_shown_escaped_on_list_and_detail(owner, other, db):
    iid = post_idea(owner, title=XSS, summary=XSS, skills_sought=XSS)
    say_interested(other, iid, XSS)
    interest = db.scalars(select(IdeaInterest)).one()
    post(owner.client, f"/ideas/{iid}/interests/{interest.public_id}/reply", {"reply": XSS})
    stored = idea(db, iid)
    assert stored.title == stored.summary == stored.skills_sought == XSS  # kept as typed
    pages = [
        owner.client.get("/ideas"),
        other.client.get("/ideas", headers={"HX-Request": "true"}),
        owner.client.get(f"/ideas/{iid}"),
        other.client.get(f"/ideas/{iid}"),
        owner.client.get(f"/ideas/{iid}/edit"),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "<script>" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text
    detail = owner.client.get(f"/ideas/{iid}").text
    assert detail.count(XSS_ESCAPED) >= 5  # title, summary, skills, message, reply


@pytest.mark.parametrize(
    "data",
    [
        {"organisation": ["a", "b"], "title": ["x", "y"], "summary": "s"},
        {"themes": "youth", "countries_sought": "PL"},
        {"title": "T", "summary": "S", "countries_sought": ["PL"] * 61},
        {"title": "T", "summary": "S", "call_id": "c" * 10_000},
        {"title": "\x00\x01", "summary": "\x00"},
    ],
    ids=["lists-for-text", "text-for-lists", "too-many-countries", "huge-call", "control-chars"],
)
def test_malformed_idea_forms_never_make_a_server_error(owner, db, data):
    before = row_counts(db)
    response = post(
        owner.client, "/ideas/new", {"organisation": owner.organisation.public_id, **data}
    )
    assert response.status_code == 422, response.text[:500]
    assert row_counts(db) == before


def test_unknown_idea_is_404_everywhere(owner):
    client = owner.client
    assert client.get("/ideas/no-such-idea").status_code == 404
    assert client.get("/ideas/no-such-idea/edit").status_code == 404
    for path in ("/ideas/no-such-idea/edit", "/ideas/no-such-idea/interest", "/ideas/x/close"):
        assert post(client, path, {"title": "x"}).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(app, owner, db):
    iid = post_idea(owner)
    anonymous = browser(app)
    for path in ("/ideas", f"/ideas/{iid}", "/ideas/new", f"/ideas/{iid}/edit"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert "/signin?next=" in response.headers["location"]
    response = post(anonymous, f"/ideas/{iid}/close", follow_redirects=False)
    assert response.status_code == 303
    assert idea(db, iid).status == "open"
