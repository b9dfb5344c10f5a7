"""What a person has on their plate: the home page's "my work", and the call deadlines.

One place works out, for a user, the sections assigned to them (overdue first),
their proposals with the call's deadline, the days left and the progress, and
what waits for them (invitations, sign-offs, reviews, mentions); for a mentor,
every consortium they follow with its stage, progress, deadline and what waits.
The proposals list, the proposal page and the calendar feed use the same
deadline and progress.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proposals.calls import library
from proposals.calls.schema import CallProfile
from proposals.domain import consortium, final, reviews
from proposals.domain.notifications import describe
from proposals.domain.planning import PlannedMilestone, planned, saved_milestones
from proposals.models import Notification, Partner, Proposal, ProposalAccess, Section, User
from proposals.policy import organisation_ids, proposal_role, visible_proposals
from workflow.definitions import READ_ONLY_STATES, SIGNING_STATES

#: Section states in which a section counts as written.
WRITTEN = ("ready", "approved")
#: How many unread mentions the home page lists.
MENTIONS_SHOWN = 10


def today_for(user: User | None) -> date:
    """Today in the user's time zone (Europe/Warsaw when unknown)."""
    try:
        zone = ZoneInfo(user.timezone if user and user.timezone else "Europe/Warsaw")
    except (KeyError, ValueError):
        zone = ZoneInfo("Europe/Warsaw")
    return datetime.now(zone).date()


@dataclass(frozen=True)
class CallDeadline:
    """When the call closes, and how many days are left from ``today``."""

    moment: datetime
    days_left: int

    @property
    def day(self) -> date:
        return self.moment.date()

    @property
    def passed(self) -> bool:
        return self.days_left < 0


def call_deadline(session: Session, proposal: Proposal, today: date) -> CallDeadline | None:
    """The deadline of the call version the proposal started with (None: an open call)."""
    return _deadline(library.profile_for(session, proposal), proposal, today)


def _deadline(profile: CallProfile, proposal: Proposal, today: date) -> CallDeadline | None:
    """The deadline of the stage the proposal is at (for a call in stages), else the call's."""
    deadline = profile.deadline_at(proposal.stage)
    if deadline is None:
        return None
    moment = deadline.moment()
    return CallDeadline(moment, (moment.date() - today).days)


@dataclass(frozen=True)
class Progress:
    written: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.written / self.total) if self.total else 0


def progress(proposal: Proposal) -> Progress:
    """How many of the proposal's sections are written (ready or approved)."""
    return Progress(
        sum(1 for s in proposal.sections if s.status in WRITTEN), len(proposal.sections)
    )


@dataclass(frozen=True)
class ProposalLine:
    """A proposal as the home page and the lists show it."""

    proposal: Proposal
    role: str | None
    deadline: CallDeadline | None
    progress: Progress
    late: list[PlannedMilestone] = field(default_factory=list)
    waiting: int = 0  # for a mentor: sections waiting for their verdict


@dataclass(frozen=True)
class MySection:
    section: Section
    overdue: bool


@dataclass(frozen=True)
class SignOffDue:
    proposal: Proposal
    partner: Partner


@dataclass
class Agenda:
    sections: list[MySection]
    proposals: list[ProposalLine]
    invitations: list[Partner]
    sign_offs: list[SignOffDue]
    reviews: list[reviews.Waiting]
    mentions: list[tuple[Notification, str]]
    mentored: list[ProposalLine]

    @property
    def waiting_count(self) -> int:
        return len(self.invitations) + len(self.sign_offs) + len(self.reviews) + len(self.mentions)


def lines(session: Session, user: User, today: date, *, urgent: bool = True) -> list[ProposalLine]:
    """Every proposal the user may open: most urgent deadline first, else as last changed.

    A fixed number of queries however many proposals: the proposals with their
    partners and sections, their saved milestones, and one per call version.
    """
    visible = list(
        session.scalars(
            visible_proposals(user)
            .options(
                selectinload(Proposal.partners).selectinload(Partner.organisation),
                selectinload(Proposal.sections),
                selectinload(Proposal.access),
            )
            .order_by(Proposal.updated_at.desc())
        )
    )
    saved = saved_milestones(session, [p.id for p in visible])
    profiles: dict[tuple[str, int], CallProfile] = {}
    out = []
    for proposal in visible:
        pair = (proposal.call_id, proposal.call_version)
        if pair not in profiles:
            profiles[pair] = library.profile_for(session, proposal)
        late = []
        if proposal.status not in READ_ONLY_STATES:
            late = [m for m in planned(saved.get(proposal.id, []), {}, today) if m.late]
        out.append(
            ProposalLine(
                proposal=proposal,
                role=proposal_role(user, proposal),
                deadline=_deadline(profiles[pair], proposal, today),
                progress=progress(proposal),
                late=late,
            )
        )
    return sorted(out, key=_urgency) if urgent else out


def _urgency(item: ProposalLine) -> tuple[bool, bool, int]:
    closed = item.proposal.status in READ_ONLY_STATES
    days = item.deadline.days_left if item.deadline else 10**6
    return (closed, days < 0, days)


def my_sections(session: Session, user: User, today: date) -> list[MySection]:
    """Sections assigned to the user in open proposals they still write in: overdue first."""
    rows = session.scalars(
        select(Section)
        .join(Proposal, Proposal.id == Section.proposal_id)
        .where(
            Section.assignee_id == user.id,
            Section.status != "approved",
            Proposal.status.not_in(READ_ONLY_STATES),
        )
        .options(selectinload(Section.proposal).selectinload(Proposal.partners))
    ).all()
    mine = [
        MySection(s, s.due_date is not None and s.due_date < today and s.status not in WRITTEN)
        for s in rows
        if proposal_role(user, s.proposal) in ("coordinator", "writer")
    ]
    return sorted(
        mine,
        key=lambda m: (
            not m.overdue,
            m.section.status in WRITTEN,
            m.section.due_date or date.max,
            m.section.title,
        ),
    )


def sign_offs_due(session: Session, user: User, proposals: list[Proposal]) -> list[SignOffDue]:
    """Partners of the user's organisations that have not signed off a proposal in sign-off."""
    mine = organisation_ids(user)
    due = []
    for proposal in proposals:
        if proposal.status not in SIGNING_STATES:
            continue
        for state in final.sign_offs(session, proposal):
            if state.partner.organisation_id in mine and not state.complete:
                due.append(SignOffDue(proposal, state.partner))
    return due


def unread_mentions(session: Session, user: User) -> list[tuple[Notification, str]]:
    rows = session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.kind == "mention",
            Notification.read_at.is_(None),
        )
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(MENTIONS_SHOWN)
    )
    return [(n, describe(n)) for n in rows]


def agenda(session: Session, user: User, today: date) -> Agenda:
    """Everything the home page shows the user."""
    all_lines = lines(session, user, today)
    mine = [item for item in all_lines if item.role != "mentor"]
    waiting = reviews.queue(session, user)
    per_proposal = Counter[str]()
    for item in waiting:
        per_proposal[item.proposal_id] += item.waiting
    mentored_ids = set(
        session.scalars(
            select(ProposalAccess.proposal_id).where(
                ProposalAccess.user_id == user.id, ProposalAccess.role == "mentor"
            )
        )
    )
    mentored = [
        ProposalLine(
            item.proposal,
            item.role,
            item.deadline,
            item.progress,
            item.late,
            per_proposal[item.proposal.public_id],
        )
        for item in all_lines
        if item.proposal.id in mentored_ids
    ]
    return Agenda(
        sections=my_sections(session, user, today),
        proposals=mine,
        invitations=consortium.pending_invitations(session, user),
        sign_offs=sign_offs_due(session, user, [item.proposal for item in mine]),
        reviews=waiting,
        mentions=unread_mentions(session, user),
        mentored=mentored,
    )
