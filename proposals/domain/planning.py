"""Back-planning: the milestones of a proposal, worked out backwards from the call's deadline.

From the deadline the plan steps back by working days (no weekends, none of the
public holidays of any partner's country, as the ``holidays`` package knows
them), so that no milestone falls on a day one of the partners is off. The
coordinator adjusts the proposed dates and saves them (``Milestone`` rows);
the sections' due dates can then be set from the "first drafts" milestone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from proposals import urls
from proposals.domain.notifications import notify_all
from proposals.i18n import gettext as _
from proposals.models import Milestone, Proposal, ProposalAccess, Section, User
from workflow.definitions import N_, READ_ONLY_STATES


@dataclass(frozen=True)
class Step:
    """One milestone of the plan and how many working days before the next one it falls."""

    key: str
    label: str  # a msgid, translated when shown
    before_next: int


#: The milestones, last one first: each lies ``before_next`` working days before the one
#: after it; submission lies one working day before the deadline (portals fail on the day).
STEPS: tuple[Step, ...] = (
    Step("submission", N_("Submission"), 1),
    Step("sign_offs", N_("Sign-offs by all partners"), 5),
    Step("revisions", N_("Revisions done"), 5),
    Step("mentor_review", N_("Mentor review"), 7),
    Step("first_drafts", N_("First drafts of all sections"), 10),
    Step("sections_assigned", N_("Sections assigned"), 15),
    Step("partnership", N_("Partnership confirmed"), 5),
)
KEYS = tuple(step.key for step in reversed(STEPS))
LABELS = {step.key: step.label for step in STEPS}


class DaysOff:
    """Weekends and the public holidays of the given countries (ISO codes)."""

    def __init__(self, countries: Iterable[str]) -> None:
        self.countries = sorted({c.upper() for c in countries if c})
        self._calendars = []
        for code in self.countries:
            try:
                self._calendars.append(holidays.country_holidays(code))
            except NotImplementedError:  # a country the package does not know
                continue

    def off(self, day: date) -> bool:
        return day.weekday() >= 5 or any(day in calendar for calendar in self._calendars)

    def why(self, day: date) -> str:
        """The names of the holidays on ``day`` (empty on an ordinary day or a weekend)."""
        names = []
        for code, calendar in zip(self.countries, self._calendars, strict=False):
            name = calendar.get(day)
            if name:
                names.append(f"{name} ({code})")
        return "; ".join(names)

    def working_day_before(self, day: date, count: int = 1) -> date:
        """The working day ``count`` working days before ``day``."""
        while count > 0:
            day -= timedelta(days=1)
            if not self.off(day):
                count -= 1
        return day

    def on_or_before(self, day: date) -> date:
        while self.off(day):
            day -= timedelta(days=1)
        return day


def back_plan(deadline: date, countries: Iterable[str]) -> dict[str, date]:
    """Proposed dates of every milestone, from the call's deadline, in order of time."""
    days_off = DaysOff(countries)
    planned: dict[str, date] = {}
    after = deadline
    for step in STEPS:
        after = days_off.working_day_before(after, step.before_next)
        planned[step.key] = after
    return {key: planned[key] for key in KEYS}


def countries_of(proposal: Proposal) -> list[str]:
    """The countries of the partners that are in (or invited to) the consortium."""
    return sorted(
        {
            p.organisation.country
            for p in proposal.partners
            if p.status in ("active", "invited") and p.organisation is not None
        }
    )


@dataclass(frozen=True)
class PlannedMilestone:
    key: str
    label: str
    due: date
    done: bool
    saved: bool
    late: bool


def saved_milestones(session: Session, proposal_ids: list[int]) -> dict[int, list[Milestone]]:
    """The saved milestones of many proposals, in one query."""
    out: dict[int, list[Milestone]] = {}
    if proposal_ids:
        rows = session.scalars(select(Milestone).where(Milestone.proposal_id.in_(proposal_ids)))
        for row in rows:
            out.setdefault(row.proposal_id, []).append(row)
    return out


def milestones(
    session: Session, proposal: Proposal, deadline: date | None, today: date
) -> list[PlannedMilestone]:
    """The saved milestones, or the proposed ones while none are saved (in order of time)."""
    rows = saved_milestones(session, [proposal.id]).get(proposal.id, [])
    proposed = back_plan(deadline, countries_of(proposal)) if deadline else {}
    return planned(rows, proposed, today)


def planned(
    rows: list[Milestone], proposed: dict[str, date], today: date
) -> list[PlannedMilestone]:
    """The saved milestones (``rows``) and, where none is saved, the ``proposed`` dates."""
    saved = {m.key: m for m in rows}
    out = []
    for key in KEYS:
        row = saved.get(key)
        due = row.due_date if row else proposed.get(key)
        if due is None:
            continue
        done = bool(row and row.done)
        out.append(
            PlannedMilestone(
                key=key,
                label=_(LABELS[key]),
                due=due,
                done=done,
                saved=row is not None,
                late=row is not None and not done and due < today,
            )
        )
    return sorted(out, key=lambda m: (m.due, KEYS.index(m.key)))


def save(
    session: Session, proposal: Proposal, dates: dict[str, date], done: set[str]
) -> list[Milestone]:
    """Keep the coordinator's dates (and which milestones are reached)."""
    existing = {
        m.key: m
        for m in session.scalars(select(Milestone).where(Milestone.proposal_id == proposal.id))
    }
    rows = []
    for key in KEYS:
        if key not in dates:
            continue
        row = existing.get(key)
        if row is None:
            row = Milestone(proposal_id=proposal.id, key=key)
            session.add(row)
        row.due_date = dates[key]
        row.done = key in done
        rows.append(row)
    session.flush()
    return rows


def drafts_due(session: Session, proposal: Proposal) -> date | None:
    """The saved "first drafts" date, the one section due dates are set from."""
    return session.scalar(
        select(Milestone.due_date).where(
            Milestone.proposal_id == proposal.id, Milestone.key == "first_drafts"
        )
    )


def sections_to_date(proposal: Proposal) -> list[Section]:
    """The sections whose due date the plan sets: assigned to a partner, not yet approved."""
    return [s for s in proposal.sections if s.partner_id is not None and s.status != "approved"]


def late_reminders(session: Session, today: date) -> list[int]:
    """Tell the coordinators of milestones that passed unreached; once per milestone and date.

    Returns the new notifications' ids (to deliver after the commit), as
    ``notifications.due_reminders`` does.
    """
    late = session.scalars(
        select(Milestone)
        .join(Proposal, Proposal.id == Milestone.proposal_id)
        .where(
            Milestone.done.is_(False),
            Milestone.due_date < today,
            (Milestone.reminded_for.is_(None)) | (Milestone.reminded_for != Milestone.due_date),
            Proposal.status.not_in(READ_ONLY_STATES),
        )
    ).all()
    before = len(session.info.get("notified", []))
    for milestone in late:
        milestone.reminded_for = milestone.due_date
        proposal = session.get(Proposal, milestone.proposal_id)
        assert proposal is not None
        coordinators = session.scalars(
            select(User)
            .join(ProposalAccess, ProposalAccess.user_id == User.id)
            .where(
                ProposalAccess.proposal_id == proposal.id,
                ProposalAccess.role == "coordinator",
            )
        ).all()
        notify_all(
            session,
            list(coordinators),
            "milestone_late",
            {
                "milestone": LABELS[milestone.key],
                "proposal": proposal.acronym or proposal.title,
                "due": milestone.due_date.isoformat(),
            },
            urls.link(proposal, "timeline"),
        )
    session.flush()
    return list(session.info.get("notified", [])[before:])
