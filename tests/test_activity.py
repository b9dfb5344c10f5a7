"""The activity feed in words: every kind of entry is a sentence in the reader's language,
grouped by day, linked to what changed, and never shows an internal trigger name."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from proposals import i18n
from proposals.domain import activity
from proposals.models import Proposal, StatusChange, User
from tests.conftest import post
from tests.test_reviews import PARTNER_ROW, drafting
from workflow import proposal_workflow, section_workflow

ROOT = Path(__file__).resolve().parent.parent
DETAILS = {
    "invitations_lapsed": "2",
    "review_closed": "3/4",
    "review_cancelled": "1/4",
    "submission_recorded": "2027-02-01 EEA-2027-0042",
    "member_left": "Piotr Zieliński (Fundacja Fala)",
    "sign_off_withdrawn": "“Cele projektu” changed",
    "language_chosen": "pl",
    "stage_changed": "Pełny wniosek",
}


def every_kind() -> list[str]:
    return [
        *proposal_workflow().triggers,
        *(f"section.{t}" for t in section_workflow().triggers),
        *activity.RECORDED,
    ]


def test_every_kind_the_code_records_is_described():
    """A new ``audit.record(..., "kind", ...)`` must be added to the feed's words."""
    recorded: set[str] = set()
    for path in (ROOT / "proposals").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        recorded |= set(re.findall(r"audit\.record\([^\"]*?\"([a-z_]+)\"", text, re.S))
        recorded |= set(re.findall(r"audit\.write\([^\"]*?\"([a-z_]+)\"", text, re.S))
    assert recorded, "no audit.record call found"
    assert recorded <= set(activity.RECORDED), recorded - set(activity.RECORDED)


def _entry(kind: str, actor: User) -> StatusChange:
    if kind.startswith("section."):
        more = {"partner": "Frivillighetssentralen Kristiansand", "due": "2027-01-17"}
        detail = activity.section_detail("Cele projektu", "cele", **more)
    else:
        detail = DETAILS.get(kind, "Frivillighetssentralen Kristiansand")
    entry = StatusChange(
        trigger=kind,
        source="drafting.writing",
        dest="drafting.writing",
        detail=detail,
        created_at=datetime(2027, 1, 10, 9, 30, tzinfo=UTC),
    )
    entry.actor = actor
    return entry


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_entry_kind_reads_as_a_sentence_in_every_language(locale):
    actor = User(name="Anna Kowalska", email="anna@demo.engage", password_hash="x")
    i18n.set_locale(locale, "Europe/Warsaw")
    english: dict[str, str] = {}
    for kind in [*every_kind(), "something_new_nobody_described"]:
        text = activity.describe(_entry(kind, actor), lambda state: state)
        trigger = kind.removeprefix("section.")
        assert not re.search(rf"(?<![\w-]){re.escape(trigger)}(?![\w-])", text), (kind, text)
        assert "section." not in text and "_" not in text, (kind, text)
        assert "Anna Kowalska" in text or "{" not in text, (kind, text)
        if locale != "en":
            with i18n.using("en"):
                english[kind] = activity.describe(_entry(kind, actor), lambda state: state)
            assert text != english[kind], (locale, kind, text)
    i18n.set_locale("en")


def test_assignment_reads_with_section_partner_and_due_date():
    actor = User(name="Anna Kowalska", email="anna@demo.engage", password_hash="x")
    i18n.set_locale("en", "Europe/Warsaw")
    text = activity.describe(_entry("section.assign", actor), lambda state: state)
    assert text == (
        "Anna Kowalska assigned “Cele projektu” to Frivillighetssentralen Kristiansand, "
        "due 17 Jan 2027."
    )
    i18n.set_locale("pl")
    text = activity.describe(_entry("section.assign", actor), lambda state: state)
    assert "„Cele projektu”" in text and "17 sty 2027" in text
    i18n.set_locale("en")


def test_feed_on_the_proposal_page_is_grouped_by_day_with_links(app, db):
    team, _marta = drafting(app, db)
    base = f"/proposals/{team.pid}/sections"
    partner_id = PARTNER_ROW.search(team.lead.client.get(base).text).group(1)
    # Reassigning a section (new due date) is in the feed too, not only the first assignment.
    for due in ("2027-01-15", "2027-01-17"):
        post(
            team.lead.client,
            base + "/cele/assign",
            {"partner": partner_id, "assignee": str(team.partner.user.id), "due_date": due},
        )
    page = team.lead.client.get(f"/proposals/{team.pid}").text
    feed = page[page.index('id="activity-h"') :]
    assert "section.assign" not in feed and "start_drafting" not in feed
    assert re.search(
        rf'<a href="/proposals/{team.pid}/sections/cele">Anna Lis assigned “Cele projektu” '
        r"to Frivillig, due 17 Jan 2027\.</a>",
        feed,
    ), feed[:3000]
    assert "to Frivillig, due 15 Jan 2027." in feed
    assert "Anna Lis started drafting the application." in feed
    assert "Anna Lis asked Marta Wiśniewska to mentor the proposal." in feed
    today = i18n.format_date(datetime.now(UTC).astimezone(i18n.get_timezone()).date(), "full")
    assert feed.count('class="activity-day"') == 1 and today in feed
    # In Norwegian the same feed speaks Norwegian.
    post(team.lead.client, "/language", {"locale": "nb", "next": f"/proposals/{team.pid}"})
    page = team.lead.client.get(f"/proposals/{team.pid}").text
    assert "Anna Lis ga Frivillig ansvaret for «Cele projektu», frist 17. jan. 2027." in page
    proposal = db.scalar(select(Proposal).where(Proposal.public_id == team.pid))
    kinds = set(
        db.scalars(select(StatusChange.trigger).where(StatusChange.proposal_id == proposal.id))
    )
    assert "section.assign" in kinds
