"""The shared document of a section: Markdown in and out, storage, compaction, settling."""

from __future__ import annotations

import pytest
from pycrdt import Doc, XmlFragment
from sqlalchemy import func, select

from proposals.db import make_sessionmaker
from proposals.domain import livedoc
from proposals.models import LiveUpdate, Revision, Section
from proposals.text import plain_text
from tests.consortium_helpers import consortium

SAMPLES = [
    "Hello **world** and *it* [link](https://example.org) end.\n\nSecond paragraph.",
    "- one\n- two **b**\n\n1. a\n2. b\n\nAfter.",
    "Stars \\* and \\_ under \\[x\\] 1. not a list",
    "- a\n\n  para in item\n- b\n\n  - nested\n  - n2",
    "<script>alert(1)</script> stays text",
]


@pytest.mark.parametrize("markdown", SAMPLES)
def test_markdown_goes_through_the_document_unchanged_in_meaning(markdown: str) -> None:
    out = livedoc.to_markdown(livedoc.new_document(markdown))
    assert plain_text(out) == plain_text(markdown)
    assert livedoc.to_markdown(livedoc.new_document(out)) == out  # stable


def test_unsafe_links_stay_words() -> None:
    doc = livedoc.new_document("[x](https://ok.example)")
    text = livedoc.read_blocks(doc.get(livedoc.ROOT, type=XmlFragment))
    assert text[0].inline == [("x", {"link": {"href": "https://ok.example"}})]
    doc2 = livedoc.new_document("plain")
    fragment = doc2.get(livedoc.ROOT, type=XmlFragment)
    fragment.children[0].children[0].format(0, 5, {"link": {"href": "javascript:alert(1)"}})
    assert livedoc.to_markdown(doc2) == "plain"


def test_following_a_text_touches_only_changed_paragraphs() -> None:
    doc = livedoc.new_document("A\n\nB\n\nC")
    other = Doc()
    other.apply_update(doc.get_update())
    update = livedoc.follow_text(doc, "A\n\nB changed\n\nC\n\nD")
    assert livedoc.to_markdown(doc) == "A\n\nB changed\n\nC\n\nD"
    # Someone typing in paragraph C meanwhile keeps their words.
    before = other.get_state()
    fragment = other.get(livedoc.ROOT, type=XmlFragment)
    fragment.children[2].children[0].insert(1, " typed")
    doc.apply_update(other.get_update(before))
    other.apply_update(update)
    assert livedoc.to_markdown(doc) == livedoc.to_markdown(other)
    assert "C typed" in livedoc.to_markdown(doc)
    assert livedoc.follow_text(doc, livedoc.to_markdown(doc)) == livedoc.EMPTY_UPDATE


def test_bad_updates_are_refused() -> None:
    for bad in (b"\x05garbage\xff\xff", b"\xff" * 10, b"x" * (livedoc.MAX_UPDATE + 1)):
        with pytest.raises(livedoc.UpdateRefused):
            livedoc.check_update(bad)


def test_seed_append_compact_and_settle(app, db) -> None:  # type: ignore[no-untyped-def]
    team = consortium(app, db)
    section = db.scalar(select(Section).where(Section.key == "streszczenie"))
    factory = make_sessionmaker(app.state.engine)
    with factory() as session, session.begin():
        from proposals.domain import sections

        sections.save_in(session, session.get(Section, section.id), team.lead.user.id, "Start.")
    doc, rows = livedoc.load(factory, section.id)
    assert rows == 1 and livedoc.to_markdown(doc) == "Start."
    assert livedoc.load(factory, section.id)[1] == 1  # seeded once
    for n in range(12):
        before = doc.get_state()
        text = doc.get(livedoc.ROOT, type=XmlFragment).children[0].children[0]
        text.insert(len(str(text)), f" w{n}")
        livedoc.append(
            factory,
            [(section.id, section.public_id, team.lead.user.id, doc.get_update(before))],
            "t",
        )
    expected = livedoc.to_markdown(doc)
    assert livedoc.compact(factory, section.id) == 13
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(LiveUpdate)) == 1
    again, rows = livedoc.load(factory, section.id)
    assert rows == 1 and livedoc.to_markdown(again) == expected
    result = livedoc.settle(factory, section.id, None)
    assert result is not None and result.text == expected
    db.expire_all()
    revision = db.scalar(select(Revision).order_by(Revision.number.desc()))
    assert revision.text == expected and revision.author_id == team.lead.user.id
    assert livedoc.settle(factory, section.id, None) is None  # nothing new
