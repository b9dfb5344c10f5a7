"""Comparing revisions word by word stays fast and exact on any text a section can hold."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from proposals.models import Revision, Section
from proposals.text import word_diff
from tests.budget_helpers import seeded, signed_in, the_proposal

WORDS = st.lists(
    st.sampled_from(["wolontariusz", "Gdańsk", " ", "\n", ",", "a", "b", "klub", "ąę", "  "]),
    max_size=60,
).map("".join)


def _sides(diff: list[tuple[str, str]]) -> tuple[str, str]:
    old = "".join(text for op, text in diff if op in (" ", "-"))
    new = "".join(text for op, text in diff if op in (" ", "+"))
    return old, new


@given(WORDS, WORDS)
@settings(max_examples=300, deadline=None)
def test_the_diff_gives_back_both_texts(old, new):
    assert _sides(word_diff(old, new)) == (old, new)


def test_an_edit_in_a_long_text_is_shown_as_that_edit():
    old = "Wolontariusze z Gdańska uczą się od siebie. " * 200
    new = old.replace("uczą się", "uczą się chętnie", 1)
    diff = word_diff(old, new)
    assert [(op, text) for op, text in diff if op != " "] == [("+", " chętnie")] or [
        (op, text) for op, text in diff if op != " "
    ] == [("+", "chętnie ")]
    assert _sides(diff) == (old, new)


def _repetitive(size: int, seed: int) -> str:
    words = ["a", "b", "a", "c", "a", "b"]
    out, i, length = [], seed, 0
    while length < size:
        i = (i * 1103515245 + 12345) % 2**31
        out.append(words[i % len(words)])
        length += 2
    return " ".join(out)[:size]


def test_comparing_two_repetitive_revisions_of_the_largest_size_takes_bounded_time(app, db):
    """Was 2.8 s at 8,000 characters, 13 s at 16,000, superlinear up to 200,000."""
    seeded(db)
    proposal = the_proposal(db)
    section = db.scalar(select(Section).where(Section.proposal_id == proposal.id).limit(1))
    last = section.last_number
    for number, seed in ((last + 1, 1), (last + 2, 2)):
        db.add(Revision(section_id=section.id, number=number, parent_number=number - 1,
                        text=_repetitive(200_000, seed), kind="save"))  # fmt: skip
    section.last_number = last + 2
    db.commit()
    anna = signed_in(app, "anna@demo.engage")
    url = (
        f"/proposals/{proposal.public_id}/sections/{section.key}/history?a={last + 1}&b={last + 2}"
    )
    started = time.perf_counter()
    response = anna.get(url)
    elapsed = time.perf_counter() - started
    print(f"history compare of two 200,000-character revisions: {elapsed:.2f} s")
    assert response.status_code == 200
    assert elapsed < 5, f"{elapsed:.1f} s"
