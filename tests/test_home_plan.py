"""Home per person, deadlines, the plan back from the deadline, and the calendars (issue 17).

Over HTTP on the demo consortium (Gdańsk leads, Kristiansand and Klaipėda are
partners, Marta mentors): what each person's home lists, the plan the
coordinator saves, and the .ics files parsed back with ``icalendar``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from proposals.calls import library
from proposals.calls.loader import SHIPPED_DIR, parse_profile
from proposals.domain import agenda
from proposals.domain.planning import KEYS, DaysOff, back_plan
from proposals.models import Milestone, Proposal, Section, User
from tests import support
from tests.budget_helpers import seeded, signed_in
from tests.conftest import csrf, make_user

DEADLINE = "2027-03-31"  # the deadline the demo's call gets here (it has none published yet)


@pytest.fixture
def demo_db(db: Session) -> Session:
    """The demo, its call in a later version that has published its deadline."""
    seeded(db)
    shipped = (SHIPPED_DIR / "eea-csf-poland.yaml").read_text(encoding="utf-8")
    version = parse_profile(shipped).version + 1
    dated = re.sub(r"(?m)^version: \d+$", f"version: {version}", shipped) + (
        f'deadline:\n  date: {DEADLINE}\n  time: "12:00"\n  timezone: Europe/Warsaw\n'
    )
    library.store(db, dated)
    proposal = db.scalars(select(Proposal)).one()
    assert proposal.call_id == "eea-csf-poland"
    proposal.call_version = version
    db.commit()
    return db


def _proposal(db: Session) -> Proposal:
    db.expire_all()
    return db.scalars(select(Proposal)).one()


def _text(html: str) -> str:
    main = html[html.index("<main") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def _post(client, path: str, data: dict) -> object:  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf(client), **data}, follow_redirects=False)


# --- back-planning ---------------------------------------------------------------------------


def test_a_plan_back_from_20_may_2027_avoids_polish_and_norwegian_days_off() -> None:
    plan = back_plan(date(2027, 5, 20), ["PL", "NO"])
    assert list(plan) == list(KEYS)
    days = list(plan.values())
    assert days == sorted(days) and len(set(days)) == len(days)
    assert days[-1] < date(2027, 5, 20)
    for day in days:
        assert day.weekday() < 5, day
        assert day not in (date(2027, 5, 1), date(2027, 5, 3), date(2027, 5, 17)), day
    # The two countries' holidays are known by name (not only weekends).
    off = DaysOff(["PL", "NO"])
    assert off.off(date(2027, 5, 3)) and "PL" in off.why(date(2027, 5, 3))
    assert off.off(date(2027, 5, 17)) and "NO" in off.why(date(2027, 5, 17))
    assert off.off(date(2027, 5, 6))  # Ascension Day in Norway, a Thursday
    # Without Norway, 17 May is an ordinary Monday.
    assert not DaysOff(["PL"]).off(date(2027, 5, 17))


def test_no_milestone_ever_falls_on_a_day_off() -> None:
    off = DaysOff(["PL", "NO", "LT", "DE", "SE"])
    start = date(2027, 1, 1)
    for offset in range(0, 366, 3):
        plan = back_plan(start + timedelta(days=offset), ["PL", "NO", "LT", "DE", "SE"])
        assert not [d for d in plan.values() if off.off(d)], plan


def test_an_unknown_country_code_plans_with_weekends_only() -> None:
    plan = back_plan(date(2027, 5, 20), ["XX"])
    assert all(d.weekday() < 5 for d in plan.values())


# --- home per person -------------------------------------------------------------------------


def test_ola_sees_her_sections_with_due_dates_and_the_call_deadline(app, demo_db) -> None:
    ola = signed_in(app, "ola@demo.engage")
    page = ola.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Your sections" in text
    for title in ("Działania", "Rola partnerów i wartość partnerstwa"):
        assert title in text
    ola_sections = demo_db.scalars(
        select(Section).join(User, User.id == Section.assignee_id).where(User.name.like("Ola%"))
    ).all()
    assert len(ola_sections) == 2
    for section in ola_sections:
        assert f'datetime="{section.due_date.isoformat()}"' in page.text
    # Anna's sections are not Ola's.
    assert "Cele projektu" not in text
    assert "Your proposals" in text and "BVT" in text
    assert f'datetime="{DEADLINE}T12:00:00+02:00"' in page.text
    assert "days left" in text


def test_overdue_sections_come_first(app, demo_db) -> None:
    anna = demo_db.scalar(select(User).where(User.email == "anna@demo.engage"))
    late = demo_db.scalar(select(Section).where(Section.key == "trwalosc"))
    if late is None:  # any of Anna's sections not yet written will do
        late = demo_db.scalars(
            select(Section).where(Section.assignee_id == anna.id, Section.status == "assigned")
        ).first()
    late.due_date = date.today() - timedelta(days=3)
    demo_db.commit()
    items = agenda.my_sections(demo_db, anna, date.today())
    assert items[0].section.id == late.id and items[0].overdue
    assert not any(item.overdue for item in items[1:])
    page = signed_in(app, "anna@demo.engage", locale="en").get("/")
    first_row = page.text[page.text.index('id="sections-h"') :]
    assert late.title in first_row[: first_row.index("</tr>", first_row.index("<tbody>"))]
    assert "overdue" in first_row


def test_marta_sees_every_consortium_she_mentors_and_what_waits(app, demo_db) -> None:
    marta = signed_in(app, "marta@demo.engage")
    page = marta.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Consortia you mentor" in text
    assert "BVT – Baltic Volunteers Together" in text
    assert "Drafting" in text  # the stage
    assert "3 of 8 sections ready or approved" in text
    assert "2 sections to review" in text  # the demo round: two sections wait
    assert f'datetime="{DEADLINE}T12:00:00+02:00"' in page.text
    assert "due 20 Jan 2027" in text  # the round's due date


def test_sign_offs_and_invitations_wait_on_the_home_page(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    proposal.status = "final.signing_off"
    demo_db.commit()
    text = _text(signed_in(app, "ruta@demo.engage").get("/").text)
    assert "Sign off “BVT” for Klaipėdos bendruomenių asociacija." in text


def test_a_newcomer_sees_empty_sections_and_no_500(app, demo_db) -> None:
    make_user(demo_db, "new@example.org", "Nowa Osoba")
    page = support.signed_in(app, "new@example.org").get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Nothing waits for you right now." in text
    assert "No section is assigned to you." in text


def test_the_proposals_list_and_page_show_the_deadline_and_days_left(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    ola = signed_in(app, "ola@demo.engage")
    days = (date(2027, 3, 31) - agenda.today_for(None)).days
    listing = _text(ola.get("/proposals").text)
    assert "Call deadline" in listing and f"{days} days left" in listing
    page = _text(ola.get(f"/proposals/{proposal.public_id}").text)
    assert "Call deadline:" in page and f"{days} days left" in page
    assert "Timeline" in page and "Partnership confirmed" in page


# --- the plan --------------------------------------------------------------------------------


def _plan_form(dates: dict[str, str], done: tuple[str, ...] = ()) -> dict[str, object]:
    return {**dates, "done": list(done)}


def test_the_coordinator_saves_the_plan_and_late_milestones_are_flagged(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    anna = signed_in(app, "anna@demo.engage", locale="en")
    page = anna.get(f"/proposals/{proposal.public_id}/plan")
    assert page.status_code == 200
    proposed = back_plan(date(2027, 3, 31), ["LT", "NO", "PL"])
    for day in proposed.values():
        assert f'value="{day.isoformat()}"' in page.text
    past = (date.today() - timedelta(days=2)).isoformat()
    dates = {key: day.isoformat() for key, day in proposed.items()}
    dates["partnership"] = past
    dates["sections_assigned"] = past
    answer = _post(
        anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates, ("partnership",))
    )
    assert answer.status_code == 303
    rows = {m.key: m for m in demo_db.scalars(select(Milestone)).all()}
    assert set(rows) == set(KEYS)
    assert rows["partnership"].done and not rows["sections_assigned"].done
    assert rows["submission"].due_date == proposed["submission"]
    page = anna.get(f"/proposals/{proposal.public_id}").text
    timeline = page[page.index('id="timeline"') : page.index('id="consortium"')]
    assert timeline.count(">late<") == 1  # sections assigned: past and not reached
    assert "late: Sections assigned" in _text(anna.get("/").text)


def test_a_wrong_plan_says_what_is_wrong_and_stores_nothing(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    anna = signed_in(app, "anna@demo.engage", locale="en")
    dates = {key: "2027-01-10" for key in KEYS}
    for bad in ("not a date", "20277-01-01", "", "<script>alert(1)</script>"):
        dates["first_drafts"] = bad
        answer = _post(anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates))
        assert answer.status_code == 422, bad
        assert "<script>alert(1)</script>" not in answer.text
        assert 'aria-invalid="true"' in answer.text
    dates["first_drafts"] = "1999-12-31"
    answer = _post(anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates))
    assert answer.status_code == 422
    assert demo_db.scalars(select(Milestone)).all() == []


def test_only_the_coordinator_plans(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    dates = {key: "2027-01-11" for key in KEYS}
    for email in ("ola@demo.engage", "marta@demo.engage"):
        client = signed_in(app, email)
        assert client.get(f"/proposals/{proposal.public_id}/plan").status_code == 403
        answer = _post(client, f"/proposals/{proposal.public_id}/plan", _plan_form(dates))
        assert answer.status_code == 403
    assert demo_db.scalars(select(Milestone)).all() == []


def test_section_due_dates_are_set_from_the_plan_in_one_step(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    anna = signed_in(app, "anna@demo.engage", locale="en")
    url = f"/proposals/{proposal.public_id}/plan/due-dates"
    # Before a plan is saved there is nothing to set them from.
    assert _post(anna, url, {}).status_code == 303
    assert "Save the plan first" in anna.get(f"/proposals/{proposal.public_id}/plan").text
    dates = {key: day.isoformat() for key, day in back_plan(date(2027, 3, 31), ["PL"]).items()}
    _post(anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates))
    assert _post(anna, url, {}).status_code == 303
    demo_db.expire_all()
    sections = demo_db.scalars(select(Section).where(Section.proposal_id == proposal.id)).all()
    first_drafts = date.fromisoformat(dates["first_drafts"])
    for section in sections:
        if section.status == "approved":
            assert section.due_date != first_drafts
        elif section.partner_id is not None:
            assert section.due_date == first_drafts, section.key
    # Ola is told that her sections' due dates moved.
    ola = signed_in(app, "ola@demo.engage")
    assert f"{first_drafts.day} {first_drafts:%b %Y}" in ola.get("/").text


# --- calendars -------------------------------------------------------------------------------


def _events(ics: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(ics)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def _day(event) -> date:  # type: ignore[no-untyped-def]
    value = event.decoded("DTSTART")
    return value.date() if hasattr(value, "date") else value


def test_the_proposal_ics_holds_the_deadline_and_the_milestones(app, demo_db) -> None:
    proposal = _proposal(demo_db)
    ola = signed_in(app, "ola@demo.engage")
    answer = ola.get(f"/proposals/{proposal.public_id}/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    events = _events(answer.content)
    deadline = events[f"deadline-{proposal.public_id}@engage"]
    assert deadline.decoded("DTSTART").isoformat() == "2027-03-31T10:00:00+00:00"
    plan = back_plan(date(2027, 3, 31), ["LT", "NO", "PL"])
    for key, day in plan.items():
        assert _day(events[f"milestone-{key}-{proposal.public_id}@engage"]) == day
    # An outsider learns nothing, not even that it exists.
    make_user(demo_db, "out@example.org", "Outsider")
    outsider = support.signed_in(app, "out@example.org")
    assert outsider.get(f"/proposals/{proposal.public_id}/calendar.ics").status_code == 404


def test_the_private_feed_holds_my_dates_and_can_be_replaced_or_revoked(app, demo_db) -> None:
    ola = signed_in(app, "ola@demo.engage")
    assert "Create my calendar address" in ola.get("/account/calendar").text
    assert _post(ola, "/account/calendar", {"action": "create"}).status_code == 303
    page = ola.get("/account/calendar").text
    feed = re.search(r'id="feed" type="url" readonly value="([^"]+)"', page).group(1)
    path = feed.removeprefix(app.state.settings.base_url)
    visitor = support.signed_in(app)  # a calendar program: no cookie, only the address
    answer = visitor.get(path)
    assert answer.status_code == 200, answer.text[:500]
    events = _events(answer.content)
    mine = demo_db.scalars(
        select(Section).join(User, User.id == Section.assignee_id).where(User.name.like("Ola%"))
    ).all()
    for section in mine:
        assert _day(events[f"section-{section.public_id}@engage"]) == section.due_date
    proposal = _proposal(demo_db)
    assert f"deadline-{proposal.public_id}@engage" in events
    assert f"milestone-submission-{proposal.public_id}@engage" in events
    # Anna's sections are not in Ola's feed.
    anna_only = demo_db.scalar(select(Section).where(Section.key == "cele"))
    if anna_only is not None:
        assert f"section-{anna_only.public_id}@engage" not in events
    # Replacing the address ends the old one; revoking ends every one.
    assert _post(ola, "/account/calendar", {"action": "replace"}).status_code == 303
    assert visitor.get(path).status_code == 404
    page = ola.get("/account/calendar").text
    new_path = re.search(r'readonly value="([^"]+)"', page).group(1)
    new_path = new_path.removeprefix(app.state.settings.base_url)
    assert visitor.get(new_path).status_code == 200
    assert _post(ola, "/account/calendar", {"action": "revoke"}).status_code == 303
    assert visitor.get(new_path).status_code == 404
    assert "Create my calendar address" in ola.get("/account/calendar").text


def test_marta_feed_holds_the_review_due_date(app, demo_db) -> None:
    marta = signed_in(app, "marta@demo.engage")
    _post(marta, "/account/calendar", {"action": "create"})
    user = demo_db.scalar(select(User).where(User.email == "marta@demo.engage"))
    demo_db.refresh(user)
    events = _events(support.signed_in(app).get(f"/calendar/{user.calendar_token}.ics").content)
    reviews = [e for uid, e in events.items() if uid.startswith("review-")]
    assert [_day(e) for e in reviews] == [date(2027, 1, 20)]


@pytest.mark.parametrize("token", ["x", "a" * 64, "a" * 500, "%00", "'; drop table x; --"])
def test_a_forged_feed_address_is_not_found(app, demo_db, token: str) -> None:
    answer = support.signed_in(app).get(f"/calendar/{token}.ics")
    assert answer.status_code == 404


def test_a_late_milestone_is_reminded_to_the_coordinator_once_per_date(app, demo_db) -> None:
    from proposals.domain import planning
    from proposals.domain.notifications import describe
    from proposals.models import Notification

    proposal = _proposal(demo_db)
    anna = signed_in(app, "anna@demo.engage", locale="en")
    dates = {key: day.isoformat() for key, day in back_plan(date(2027, 3, 31), ["PL"]).items()}
    _post(anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates, ("partnership",)))
    drafts = date.fromisoformat(dates["first_drafts"])

    def late_notes() -> list[Notification]:
        demo_db.expire_all()
        return demo_db.scalars(
            select(Notification).where(Notification.kind == "milestone_late")
        ).all()

    # On the due date itself nothing is late; the partnership, reached, is never late.
    assert planning.late_reminders(demo_db, date.fromisoformat(dates["partnership"])) == []
    assert planning.late_reminders(demo_db, date.fromisoformat(dates["sections_assigned"])) == []
    ids = planning.late_reminders(demo_db, drafts + timedelta(days=1))
    demo_db.commit()
    notes = late_notes()
    assert len(ids) == len(notes) == 2  # sections assigned and first drafts, to Anna
    assert {n.user.email for n in notes} == {"anna@demo.engage"}
    assert any("First drafts of all sections" in describe(n) for n in notes)
    assert notes[0].link.endswith("#timeline")
    # The next run, the next day: nothing new.
    assert planning.late_reminders(demo_db, drafts + timedelta(days=2)) == []
    # A date moved (and missed again) is reminded again.
    dates["first_drafts"] = (drafts + timedelta(days=3)).isoformat()
    _post(anna, f"/proposals/{proposal.public_id}/plan", _plan_form(dates, ("partnership",)))
    assert len(planning.late_reminders(demo_db, drafts + timedelta(days=10))) == 1


def test_the_home_page_takes_the_same_queries_for_3_or_30_consortia(app, db) -> None:
    from tests.conftest import count_queries
    from tests.consortium_helpers import person
    from tests.review_helpers import add_mentored_rounds

    marta = person(app, db, "marta@biser.example", "Marta Wiśniewska", "BISER")
    marta.user.is_mentor = True
    add_mentored_rounds(db, marta.user.id, 3, requested_by_id=marta.user.id)
    db.commit()
    small, page = count_queries(app, marta.client, "/")
    # Each consortium twice: in the mentored table and in what waits.
    assert page.count("15 sections to review") == 6
    add_mentored_rounds(db, marta.user.id, 27, start=3, requested_by_id=marta.user.id)
    db.commit()
    large, page = count_queries(app, marta.client, "/")
    # Each consortium twice: in the mentored table and in what waits.
    assert page.count("15 sections to review") == 60
    assert large == small
