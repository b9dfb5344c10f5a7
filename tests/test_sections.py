"""Sections: created from the call, assigned, saved without losing text, history, access."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update
from starlette.testclient import TestClient

from proposals import packing
from proposals.domain.sections import merge_texts
from proposals.models import Revision, Section, User
from proposals.web import plumbing
from tests.conftest import count_queries, csrf, post
from tests.consortium_helpers import Consortium, consortium, flashes, person, start_proposal

PARTNER_ROW = re.compile(r'<option value="([\w-]+)"[^>]*>Frivillig</option>')


def _setup(app, db) -> tuple[Consortium, str]:  # type: ignore[no-untyped-def]
    """A consortium whose first section is assigned to the Norwegian partner."""
    team = consortium(app, db)
    page = team.lead.client.get(f"/proposals/{team.pid}/sections").text
    partner_id = PARTNER_ROW.search(page).group(1)
    response = post(
        team.lead.client,
        f"/proposals/{team.pid}/sections/streszczenie/assign",
        {"partner": partner_id, "due_date": "2027-01-15"},
    )
    assert "is assigned" in " ".join(flashes(response))
    return team, f"/proposals/{team.pid}/sections/streszczenie"


def _save(client: TestClient, url: str, text: str, base: int):  # type: ignore[no-untyped-def]
    token = csrf(client, url)
    return client.post(
        url + "/save",
        data={"csrf_token": token, "base": str(base), "text": text},
        headers={"Accept": "application/json"},
    )


def _section(db, pid_key: str) -> Section:  # type: ignore[no-untyped-def]
    db.expire_all()
    return db.scalar(select(Section).where(Section.key == pid_key))


def _titles(page: str) -> list[str]:
    """The sections' names as the dashboard links them."""
    links = re.findall(r'sections/[\w-]+">(.+?)</a>', page)
    return [re.sub(r"<[^>]+>", "", t) for t in links]


def test_sections_come_from_the_call_in_order_with_limits(app, db):
    team = consortium(app, db)
    page = team.lead.client.get(f"/proposals/{team.pid}/sections").text
    # In English each is named in English, with the application's Polish title beside it.
    assert _titles(page)[:3] == [
        "Project summary (Streszczenie projektu)",
        "Why the project is needed (Uzasadnienie potrzeby realizacji projektu)",
        "Objectives (Cele projektu)",
    ]
    assert "0 / 1,500" in page


def test_only_the_coordinator_assigns(app, db):
    team, url = _setup(app, db)
    response = post(team.partner.client, url + "/assign", {"partner": ""})
    assert response.status_code == 403
    assert _section(db, "streszczenie").partner_id is not None


def test_writer_saves_and_the_text_is_current(app, db):
    team, url = _setup(app, db)
    page = team.partner.client.get(url)
    assert page.status_code == 200 and 'name="base" value="0"' in page.text
    reply = _save(team.partner.client, url, "Pierwszy akapit.", 0).json()
    assert reply["kind"] == "save" and reply["number"] == 1 and reply["count"] == 16
    section = _section(db, "streszczenie")
    assert section.text == "Pierwszy akapit." and section.status == "drafting"


def test_stale_save_is_merged_and_both_texts_are_kept(app, db):
    team, url = _setup(app, db)
    _save(team.partner.client, url, "Para one.\n\nPara two.", 0)
    _save(team.lead.client, url, "Para one. Anna adds.\n\nPara two.", 1)
    reply = _save(team.partner.client, url, "Para one.\n\nPara two. Ola adds.", 1).json()
    assert reply["kind"] == "merge"
    assert reply["text"] == "Para one. Anna adds.\n\nPara two. Ola adds."
    assert reply["number"] == 4
    # The writer's own text verbatim (from the base), then the merge (from the current).
    kept = [
        (r.number, r.kind, r.parent_number, r.text)
        for r in db.scalars(select(Revision).order_by(Revision.number))
    ]
    assert kept[2:] == [
        (3, "save", 1, "Para one.\n\nPara two. Ola adds."),
        (4, "merge", 2, "Para one. Anna adds.\n\nPara two. Ola adds."),
    ]
    section = _section(db, "streszczenie")
    assert (section.current_number, section.last_number) == (4, 4)


def test_overlapping_edits_are_a_conflict_and_nothing_is_lost(app, db):
    team, url = _setup(app, db)
    _save(team.partner.client, url, "Para one.", 0)
    _save(team.lead.client, url, "Para uno.", 1)
    reply = _save(team.partner.client, url, "Para eins.", 1).json()
    assert reply["kind"] == "conflict"
    assert reply["text"] == "Para uno."  # the current text stays
    conflict = db.scalar(select(Revision).where(Revision.kind == "conflict"))
    assert conflict.text == "Para eins." and conflict.number == reply["conflict"]
    assert _section(db, "streszczenie").text == "Para uno."
    history = team.partner.client.get(url + "/history").text
    assert "Para eins." in history and "conflict" in history


def test_history_compare_and_restore(app, db):
    team, url = _setup(app, db)
    _save(team.partner.client, url, "Alpha beta.", 0)
    _save(team.partner.client, url, "Alpha gamma.", 1)
    page = team.partner.client.get(url + "/history?a=1&b=2").text
    assert "<del>beta</del>" in page and "<ins>gamma</ins>" in page
    response = post(team.partner.client, url + "/restore", {"number": "1"})
    assert "Revision 1 is restored as revision 3." in flashes(response)
    assert _section(db, "streszczenie").text == "Alpha beta."
    assert db.scalar(select(Revision).where(Revision.number == 3)).kind == "restore"


def test_writer_of_another_partner_and_outsiders_cannot_save(app, db):
    team, url = _setup(app, db)
    other = person(app, db, "x@other.example", "Xavier", "Other NGO", "LT")
    assert _save(other.client, url, "intrusion", 0).status_code == 404
    other_pid = start_proposal(other, title="Other")
    mine = f"/proposals/{other_pid}/sections/streszczenie"
    # A real section id of another consortium under this consortium's URL is still refused.
    assert _save(team.partner.client, mine, "intrusion", 0).status_code == 404
    # The lead's writers may not write the partner's section unless coordinator.
    assert _section(db, "streszczenie").current_number == 0


def test_bad_input_is_refused_clearly_and_loses_nothing(app, db):
    team, url = _setup(app, db)
    _save(team.partner.client, url, "Kept text.", 0)
    huge = _save(team.partner.client, url, "x" * 2_000_000, 1)
    assert huge.status_code == 409 and "longer than" in huge.json()["message"]
    future = _save(team.partner.client, url, "From the future.", 99)
    assert future.status_code == 409 and "does not exist" in future.json()["message"]
    nonsense = _save(team.partner.client, url, "x", "abc")  # type: ignore[arg-type]
    assert nonsense.status_code == 409
    controls = _save(team.partner.client, url, "Tab\tand\x00NUL\x07 bell", 1).json()
    assert controls["text"] == "Tab\tandNUL bell"
    assert _section(db, "streszczenie").text == "Tab\tandNUL bell"


def test_an_edit_to_an_approved_section_reopens_it(app, db):
    team, url = _setup(app, db)
    _save(team.partner.client, url, "Done.", 0)
    response = post(
        team.partner.client, url + "/state", {"trigger": "mark_ready", "state": "drafting"}
    )
    assert _section(db, "streszczenie").status == "ready", flashes(response)
    section = _section(db, "streszczenie")
    section.status = "approved"
    db.commit()
    _save(team.partner.client, url, "Done, and more.", 1)
    assert _section(db, "streszczenie").status == "drafting"


def test_concurrent_saves_never_lose_an_acknowledged_text(app, db):
    team, url = _setup(app, db)
    writers: list[TestClient] = [team.partner.client, team.lead.client] * 3
    acknowledged: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(writers))

    def writer(client: TestClient, n: int) -> Callable[[], None]:
        def run() -> None:
            barrier.wait()
            for i in range(6):
                text = f"Writer {n} sentence {i}."
                reply = _save(client, url, text, 0)
                if reply.status_code == 200:
                    with lock:
                        acknowledged.append(text)

        return run

    threads = [threading.Thread(target=writer(c, n)) for n, c in enumerate(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stored = {r.text for r in db.scalars(select(Revision))}
    assert acknowledged and all(text in stored for text in acknowledged)
    numbers = sorted(db.scalars(select(Revision.number)))
    assert numbers == list(range(1, len(numbers) + 1))


words = st.lists(
    st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"]), min_size=4, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(
    base=words,
    left=st.text("xyz", min_size=1, max_size=5),
    right=st.text("xyz", min_size=1, max_size=5),
)
def test_edits_in_different_places_merge_cleanly(base, left, right):
    text = " ".join(base)
    mine = left + " " + text  # an insertion at the start
    theirs = text + " " + right  # an insertion at the end
    merged, conflict = merge_texts(text, mine, theirs)
    assert not conflict
    assert merged == left + " " + text + " " + right


@settings(max_examples=200, deadline=None)
@given(base=words, a=st.sampled_from(["one", "two"]), b=st.sampled_from(["three", "four"]))
def test_different_edits_of_the_same_word_conflict(base, a, b):
    text = " ".join(base)
    mine, theirs = text.replace(base[1], a, 1), text.replace(base[1], b, 1)
    merged, conflict = merge_texts(text, mine, theirs)
    assert conflict and merged == theirs


def test_dashboard_and_section_page_queries_are_the_same_at_200_sections_50000_revisions(app, db):
    team, url = _setup(app, db)
    dashboard = f"/proposals/{team.pid}/sections"
    first = _section(db, "streszczenie")  # the same shape of data in both measurements
    first.assignee_id, first.updated_by_id = team.partner.user.id, team.lead.user.id
    db.commit()
    small = (
        count_queries(app, team.lead.client, dashboard)[0],
        count_queries(app, team.lead.client, url)[0],
    )
    small_sections = len(db.scalars(select(Section.id)).all())
    proposal_id = _section(db, "streszczenie").proposal_id
    partner_id = _section(db, "streszczenie").partner_id
    for n in range(200 - small_sections):
        db.add(
            Section(
                proposal_id=proposal_id,
                key=f"annex-{n}",
                title=f"Annex {n}",
                position=100 + n,
                partner_id=partner_id,
                assignee_id=team.partner.user.id,
                updated_by_id=team.lead.user.id,
            )
        )
    section = _section(db, "streszczenie")
    db.execute(  # 50,000 revisions, stored as the saves store them (packed deltas)
        insert(Revision),
        [
            {
                "section_id": section.id,
                "number": n,
                "plain": "",
                "packed": packing.pack(f"text {n}", f"text {n - 1}" if n > 1 else None),
                "basis": n - 1 if n > 1 else None,
                "depth": n - 1,
                "author_id": team.lead.user.id,
            }
            for n in range(1, 50_001)
        ],
    )
    section.current_number = section.last_number = 50_000
    db.commit()
    large = (
        count_queries(app, team.lead.client, dashboard)[0],
        count_queries(app, team.lead.client, url)[0],
    )
    assert large == small


def test_coordinator_adds_an_annex_and_changes_the_order(app, db):
    team, _ = _setup(app, db)
    dashboard = f"/proposals/{team.pid}/sections"
    response = post(
        team.lead.client, dashboard + "/add", {"title": "Letters of support", "char_limit": "800"}
    )
    assert "“Letters of support” is added." in flashes(response)
    annex = _section(db, "annex-1")
    assert annex.char_limit == 800 and not annex.required
    post(team.lead.client, f"{dashboard}/annex-1/move", {"direction": "up"})
    titles = _titles(team.lead.client.get(dashboard).text)
    assert titles[-2:] == ["Letters of support", "Sustainability (Trwałość rezultatów)"]
    assert post(team.partner.client, dashboard + "/add", {"title": "x"}).status_code == 403
    response = post(team.lead.client, dashboard + "/add", {"title": "", "char_limit": "-3"})
    assert "This field is required." in " ".join(flashes(response))


def test_a_save_runs_the_same_statements_however_large_the_proposal(app, db):
    """The save authorises with one query: no consortium, no sections loaded, no preview."""
    from sqlalchemy import event

    team, url = _setup(app, db)
    token = csrf(team.lead.client, url)

    statements: list[str] = []

    def save(text: str, base: int) -> tuple[int, dict]:  # type: ignore[type-arg]
        statements.clear()

        def seen(_c, _cur, statement, *_a) -> None:  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(app.state.engine, "before_cursor_execute", seen)
        try:
            answer = team.lead.client.post(
                url + "/save",
                data={"base": str(base), "text": text},
                headers={"Accept": "application/json", "X-CSRF-Token": token},
            )
        finally:
            event.remove(app.state.engine, "before_cursor_execute", seen)
        assert answer.status_code == 200, answer.text
        return len(statements), answer.json()

    _first, data = save("One sentence.", 0)
    assert "preview" not in data and data["count"] == len("One sentence.")
    second, data = save("One sentence. Two.", data["number"])
    proposal_id = _section(db, "streszczenie").proposal_id
    db.add_all(
        Section(proposal_id=proposal_id, key=f"annex-{n}", title=f"Annex {n}", position=100 + n)
        for n in range(100)
    )
    db.commit()
    third, data = save("One sentence. Two. Three.", data["number"])
    assert second == third, (second, third)
    # Whether the section is live and whether sign-offs need withdrawing come back with
    # the section's UPDATE: no statement of their own, and no sign-offs read when there
    # are none.
    asked_apart = [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and ("live_update" in s or "sign_off" in s)
    ]
    assert not asked_apart, asked_apart
    assert any(s.lstrip().upper().startswith("UPDATE SECTION") for s in statements)
    asked = team.lead.client.post(
        url + "/save",
        data={"base": str(data["number"]), "text": "**Four.**", "preview": "1"},
        headers={"Accept": "application/json", "X-CSRF-Token": token},
    ).json()
    assert asked["preview"].strip() == "<p><strong>Four.</strong></p>"
    assert _section(db, "streszczenie").text == "**Four.**"


def test_a_page_that_only_reads_is_refused_any_write(app, db):  # type: ignore[no-untyped-def]
    """The dashboard is declared ``view(reads=True)``: on PostgreSQL its statements run
    without a transaction, so a write there would be half-done; it is refused at once."""
    team, _url = _setup(app, db)
    page = team.lead.client.get(f"/proposals/{team.pid}/sections")
    assert page.status_code == 200 and "Sections" in page.text
    with app.state.sessionmaker() as session:
        session.info[plumbing._WRITES_REFUSED] = True
        assert session.scalar(select(User.name).limit(1))  # reading is fine
        with pytest.raises(RuntimeError, match="reads=True"):
            session.execute(update(User).values(name="changed"))
        session.add(User(email="new@example.org", name="New", password_hash="x"))
        with pytest.raises(RuntimeError, match="reads=True"):
            session.flush()
        session.rollback()
    assert "changed" not in db.scalars(select(User.name)).all()


@settings(max_examples=200, deadline=None)
@given(base=words, data=st.data())
def test_a_word_changed_by_each_writer_in_different_places_merges(base, data):
    """The merge matches only what the three texts do not share at both ends: a change
    inside a long shared text is found and merged as if the whole were compared."""
    i = data.draw(st.integers(0, len(base) - 3))
    j = data.draw(st.integers(i + 2, len(base) - 1))
    mine, theirs, both = list(base), list(base), list(base)
    mine[i] = both[i] = "ONE"
    theirs[j] = both[j] = "TWO"
    merged, conflict = merge_texts(" ".join(base), " ".join(mine), " ".join(theirs))
    assert not conflict and merged == " ".join(both)
    assert merge_texts(" ".join(base), " ".join(base), " ".join(theirs)) == (
        " ".join(theirs),
        False,
    )
