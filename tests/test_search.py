"""Search (issue 17): the database's own full-text engine, diacritics ignored, scoped by policy.

On the demo consortium over HTTP: "wolontariusz" and "Gdansk" find the demo
proposal's sections and the Gdańsk organisation; an outsider finds none of the
proposal; hostile queries get a page, never a 500.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proposals.domain.search import excerpt, fold, terms_of
from proposals.models import Comment, Idea, Section, User
from tests import support
from tests.budget_helpers import seeded, signed_in
from tests.conftest import make_user


@pytest.fixture
def demo_db(db: Session) -> Session:
    return seeded(db)


def _groups(html: str) -> dict[str, str]:
    """Each group of results (by its heading id) and its HTML."""
    parts = re.split(r'<h2 id="h-(\w+)">', html)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_wolontariusz_finds_the_demo_sections_with_the_words_marked(app, demo_db) -> None:
    anna = signed_in(app, "anna@demo.engage", locale="en")
    page = anna.get("/search", params={"q": "wolontariusz"})
    assert page.status_code == 200
    groups = _groups(page.text)
    assert "section" in groups
    # "wolontariuszy" in the summary: a word that starts with the term.
    assert "Streszczenie" in groups["section"] or "streszczenie" in groups["section"].lower()
    assert "<mark>wolontariuszy</mark>" in groups["section"]
    assert "BVT" in groups["section"]


def test_gdansk_without_diacritics_finds_the_organisation_and_sections(app, demo_db) -> None:
    ola = signed_in(app, "ola@demo.engage")
    page = ola.get("/search", params={"q": "Gdansk"})
    assert page.status_code == 200
    groups = _groups(page.text)
    assert "Stowarzyszenie Morze Możliwości" in groups["organisation"]
    assert "<mark>Gdańsk</mark>" in groups["organisation"]
    assert "<mark>Gdańska</mark>" in groups["section"]  # "z Gdańska" in the summary
    # With the diacritics, the same.
    again = _groups(ola.get("/search", params={"q": "GDAŃSK"}).text)
    assert again.keys() == groups.keys()


def test_an_outsider_finds_nothing_of_the_proposal(app, demo_db) -> None:
    make_user(demo_db, "out@example.org", "Outsider")
    outsider = support.signed_in(app, "out@example.org")
    for query in ("wolontariusz", "Gdansk", "BVT", "Baltic Volunteers", "workshop"):
        page = outsider.get("/search", params={"q": query})
        assert page.status_code == 200
        groups = _groups(page.text)
        assert not {"proposal", "section", "comment"} & groups.keys(), (query, groups.keys())
    # Organisations are public to every signed-in person; the open idea too.
    groups = _groups(outsider.get("/search", params={"q": "Gdansk"}).text)
    assert "organisation" in groups
    assert "idea" in _groups(outsider.get("/search", params={"q": "volunteers"}).text)


def test_a_closed_idea_is_found_only_by_its_owners(app, demo_db) -> None:
    idea = demo_db.scalars(select(Idea)).one()
    idea.status = "closed"
    demo_db.commit()
    make_user(demo_db, "out@example.org", "Outsider")
    outsider = support.signed_in(app, "out@example.org")
    assert "idea" not in _groups(outsider.get("/search", params={"q": "trainers"}).text)
    anna = signed_in(app, "anna@demo.engage", locale="en")
    assert "idea" in _groups(anna.get("/search", params={"q": "trainers"}).text)


def test_sections_edited_and_comments_added_are_found_at_once(app, demo_db) -> None:
    section = demo_db.scalar(select(Section).where(Section.key == "dzialania"))
    ola = demo_db.scalar(select(User).where(User.email == "ola@demo.engage"))
    from proposals.domain import comments, sections

    sections.save_in(demo_db, section, ola.id, "A fjord excursion for the Żuławy volunteers.")
    comments.add(demo_db, ola, section.proposal, section, "Should the kayaks be insured?")
    demo_db.commit()
    marta = signed_in(app, "marta@demo.engage")
    groups = _groups(marta.get("/search", params={"q": "zulawy fjord"}).text)
    assert "<mark>Żuławy</mark>" in groups["section"]
    assert (
        "<mark>kayaks</mark>"
        in _groups(marta.get("/search", params={"q": "kayak"}).text)["comment"]
    )
    # The old text is no longer found.
    assert "section" not in _groups(marta.get("/search", params={"q": "handbook"}).text) or (
        "Działania" not in _groups(marta.get("/search", params={"q": "handbook"}).text)["section"]
    )
    # A deleted comment is not found either.
    demo_db.query(Comment).delete()
    demo_db.commit()
    assert "comment" not in _groups(marta.get("/search", params={"q": "kayak"}).text)


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND OR NOT",
        "* ^ : ( ) -",
        "gdansk:* & | !",
        "<script>alert(1)</script>",
        "x" * 10_000,
        "\x00",
        "' OR 1=1 --",
        "NEAR(a b)",
        "_",
    ],
)
def test_hostile_queries_get_a_page_not_a_500(app, demo_db, query: str) -> None:
    anna = signed_in(app, "anna@demo.engage", locale="en")
    page = anna.get("/search", params={"q": query})
    # A NUL is refused before any route (400 with a message); everything else is searched.
    assert page.status_code == (400 if "\x00" in query else 200), page.text[:500]
    assert "<script>alert(1)</script>" not in page.text


def test_a_visitor_is_asked_to_sign_in(app, demo_db) -> None:
    answer = support.signed_in(app).get("/search?q=BVT", follow_redirects=False)
    assert answer.status_code in (302, 303) and "/signin" in answer.headers["location"]


def test_folding_terms_and_excerpts() -> None:
    assert fold("Gdańsk Łódź Kristiansand Klaipėda Ærø Straße") == (
        "gdansk lodz kristiansand klaipeda aro straße"
    )
    assert terms_of('  Gdańsk, gdańsk! "wolontariusz"* ') == ["gdańsk", "wolontariusz"]
    assert len(terms_of(" ".join(f"w{i}" for i in range(30)))) == 8
    pieces = excerpt("Małe organizacje z Gdańska i Kłajpedy.", ["gdansk", "klajpedy"])
    assert [p for p, marked in pieces if marked] == ["Gdańska", "Kłajpedy"]
    assert "".join(p for p, _ in pieces) == "Małe organizacje z Gdańska i Kłajpedy."


def test_the_search_uses_the_databases_own_full_text_index(migrated_engine) -> None:
    from sqlalchemy import inspect, text

    with migrated_engine.connect() as conn:
        if migrated_engine.dialect.name == "postgresql":
            indexes = {i["name"] for i in inspect(conn).get_indexes("section")}
            assert "ix_search_section" in indexes
            conn.execute(text("SET enable_seqscan = off"))
            from proposals.domain.search import _pg_document

            plan = conn.execute(
                text(
                    f"EXPLAIN SELECT id FROM section WHERE {_pg_document('section')} "
                    "@@ to_tsquery('simple', 'gdansk:*')"
                )
            ).scalars()
            assert "ix_search_section" in " ".join(plan)
        else:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'search_section'")
            ).scalar()
            assert "fts5" in sql and "remove_diacritics 2" in sql
