"""Mentor review: mentors of a proposal, review rounds, verdicts and scores, the review queue.

The coordinator asks for a review of chosen sections (by default all that are
ready). The mentor gives each section a verdict, approve or request changes,
with a comment and, if they like, points against the call's award criteria.
A verdict moves the section (ready -> approved | changes_requested, so that
changes go back to the writers); the round closes when every section has one,
and its summary stays readable. The proposal is "in review" while a round is
open and "revising" once the last open round closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, selectinload

from proposals import urls
from proposals.calls.schema import AwardCriterion
from proposals.domain import actions, audit, sections
from proposals.domain.facts import average_scores
from proposals.domain.notifications import notify, notify_all, writers_of
from proposals.forms import form_id
from proposals.i18n import gettext as _
from proposals.models import (
    Proposal,
    ProposalAccess,
    ReviewRound,
    Section,
    SectionVerdict,
    User,
    utcnow,
)

VERDICTS = ("approved", "changes_requested")
MAX_COMMENT = 5000
MAX_NOTE = 2000


class ReviewError(Exception):
    """A review step that cannot be taken; the message says why (in the user's language)."""


def round_url(round_: ReviewRound, proposal: Proposal) -> str:
    return urls.path("review_round", pid=proposal.public_id, rid=round_.public_id)


def _name(proposal: Proposal) -> str:
    return proposal.acronym or proposal.title


# --- mentors ------------------------------------------------------------------------


def mentors_of(proposal: Proposal) -> list[User]:
    return sorted(
        (a.user for a in proposal.access if a.role == "mentor"), key=lambda u: u.name.casefold()
    )


def available_mentors(session: Session) -> list[User]:
    """Everyone with mentor standing, by name."""
    return list(session.scalars(select(User).where(User.is_mentor).order_by(User.name)))


def add_mentor(session: Session, actor: User, proposal: Proposal, mentor: User) -> None:
    """Make ``mentor`` (who has mentor standing) a mentor of ``proposal`` and tell them."""
    if not mentor.is_mentor:
        raise ReviewError(_("Choose one of the options."))
    existing = next((a for a in proposal.access if a.user_id == mentor.id), None)
    if existing is not None:
        raise ReviewError(_("%(name)s takes part in this proposal already.", name=mentor.name))
    proposal.access.append(ProposalAccess(user=mentor, role="mentor"))
    session.flush()
    audit.record(session, proposal, actor, "mentor_added", mentor.name)
    notify(
        session,
        mentor,
        "mentor_assigned",
        {"by": actor.name, "proposal": _name(proposal)},
        urls.link(proposal),
    )


# --- rounds -----------------------------------------------------------------------------


def rounds_of(session: Session, proposal: Proposal) -> list[ReviewRound]:
    """Every round of the proposal, newest first, with verdicts and sections loaded."""
    return list(
        session.scalars(
            select(ReviewRound)
            .where(ReviewRound.proposal_id == proposal.id)
            .options(
                selectinload(ReviewRound.mentor),
                selectinload(ReviewRound.verdicts).selectinload(SectionVerdict.section),
            )
            .order_by(ReviewRound.created_at.desc(), ReviewRound.id.desc())
        )
    )


def busy_sections(session: Session, proposal: Proposal) -> set[int]:
    """Ids of the sections waiting in an open round (a section is in one open round at most)."""
    return set(
        session.scalars(
            select(SectionVerdict.section_id)
            .join(ReviewRound, ReviewRound.id == SectionVerdict.round_id)
            .where(ReviewRound.proposal_id == proposal.id, ReviewRound.status == "open")
        )
    )


def default_sections(proposal: Proposal, busy: set[int]) -> list[Section]:
    """What "Request review" proposes: every ready section not already under review."""
    return [s for s in proposal.sections if s.status == "ready" and s.id not in busy]


def request_review(
    session: Session,
    user: User,
    proposal: Proposal,
    chosen: list[Section],
    mentor: User,
    due: date | None = None,
    note: str = "",
) -> ReviewRound:
    """Open a round on ``chosen`` sections for ``mentor``; the proposal goes "in review"."""
    if actions_phase(proposal) != "drafting":
        raise ReviewError(_("A review can be requested while the proposal is being drafted."))
    if mentor not in mentors_of(proposal):
        raise ReviewError(_("Ask for a mentor first."))
    if not chosen:
        raise ReviewError(_("Choose at least one section."))
    busy = busy_sections(session, proposal)
    for section in chosen:
        if section.id in busy:
            raise ReviewError(
                _("“%(title)s” is already waiting for a review.", title=section.title)
            )
        if not section.text.strip():
            raise ReviewError(_("“%(title)s” has no text yet.", title=section.title))
    round_ = ReviewRound(
        proposal_id=proposal.id,
        mentor_id=mentor.id,
        requested_by_id=user.id,
        note=note[:MAX_NOTE],
        due_date=due,
        verdicts=[
            SectionVerdict(section_id=s.id, position=i, revision_number=s.current_number)
            for i, s in enumerate(sorted(chosen, key=lambda s: (s.position, s.id)))
        ],
    )
    session.add(round_)
    session.flush()
    if proposal.status in ("drafting.writing", "drafting.revising"):
        actions.fire(session, proposal, user, "request_review", expected_state=proposal.status)
    audit.record(session, proposal, user, "review_requested", mentor.name)
    notify(
        session,
        mentor,
        "review_requested",
        {"by": user.name, "proposal": _name(proposal), "count": len(chosen)},
        round_url(round_, proposal),
    )
    return round_


def actions_phase(proposal: Proposal) -> str:
    return proposal.status.split(".", 1)[0]


def check_scores(
    raw: dict[str, str], criteria: list[AwardCriterion]
) -> tuple[dict[str, int], dict[str, str]]:
    """Points per award criterion (blank: not scored); errors by criterion key."""
    scores: dict[str, int] = {}
    errors: dict[str, str] = {}
    for criterion in criteria:
        value = raw.get(criterion.key, "").strip()
        if not value:
            continue
        points = form_id(value)
        if points is None or points > criterion.max_score:
            errors[criterion.key] = _(
                "Enter whole points from 0 to %(max)s.", max=criterion.max_score
            )
            continue
        scores[criterion.key] = points
    return scores, errors


def give_verdict(
    session: Session,
    user: User,
    round_: ReviewRound,
    item: SectionVerdict,
    verdict: str,
    comment: str,
    scores: dict[str, int],
) -> bool:
    """Record the mentor's verdict on one section; True when it closed the round."""
    if round_.status != "open" or item.verdict is not None:
        raise ReviewError(_("This section has a verdict already."))
    if verdict not in VERDICTS:
        raise ReviewError(_("Choose one of the options."))
    section = item.section
    item.verdict, item.comment, item.scores = verdict, comment[:MAX_COMMENT], scores
    item.decided_by_id, item.decided_at = user.id, utcnow()
    item.revision_number = section.current_number
    if section.status == "ready":  # an edit since the request reopened it: nothing to move
        trigger = "approve" if verdict == "approved" else "request_changes"
        sections.move(session, section, "mentor", user.id, trigger)
    proposal = round_.proposal
    notify_all(
        session,
        writers_of(section),
        "verdict",
        {
            "by": user.name,
            "section": section.title,
            "proposal": _name(proposal),
            "verdict": verdict,
        },
        urls.link(section, "review"),
        actor=user,
    )
    session.flush()
    if all(v.verdict is not None for v in round_.verdicts):
        _close(session, user, round_)
        return True
    return False


def _end(session: Session, user: User, round_: ReviewRound, status: str) -> Proposal:
    """Close or cancel the round; with no other round open, the proposal goes to revising."""
    round_.status, round_.closed_at = status, utcnow()
    session.flush()
    proposal = round_.proposal
    still_open = session.scalar(
        select(func.count())
        .select_from(ReviewRound)
        .where(ReviewRound.proposal_id == proposal.id, ReviewRound.status == "open")
    )
    if not still_open and proposal.status == "drafting.in_review":
        actions.fire(session, proposal, user, "return_for_revision", "drafting.in_review")
    return proposal


def cancel_round(session: Session, user: User, round_: ReviewRound) -> None:
    """The coordinator withdraws a round the mentor has not finished (verdicts given stay).

    Its waiting sections are free for another round; the mentor is told.
    """
    if round_.status != "open":
        raise ReviewError(_("This round is closed already."))
    proposal = _end(session, user, round_, "cancelled")
    decided = sum(1 for v in round_.verdicts if v.verdict is not None)
    audit.record(session, proposal, user, "review_cancelled", f"{decided}/{len(round_.verdicts)}")
    if round_.mentor is not None:
        notify_all(
            session,
            [round_.mentor],
            "review_cancelled",
            {"by": user.name, "proposal": _name(proposal)},
            round_url(round_, proposal),
            actor=user,
        )


def _close(session: Session, user: User, round_: ReviewRound) -> None:
    """Every section has its verdict: close the round; the proposal goes back to revising."""
    proposal = _end(session, user, round_, "closed")
    approved = sum(1 for v in round_.verdicts if v.verdict == "approved")
    changes = len(round_.verdicts) - approved
    audit.record(session, proposal, user, "review_closed", f"{approved}/{len(round_.verdicts)}")
    coordinators = [a.user for a in proposal.access if a.role == "coordinator"]
    notify_all(
        session,
        coordinators,
        "review_closed",
        {"proposal": _name(proposal), "approved": approved, "changes": changes},
        round_url(round_, proposal),
        actor=user,
    )


def latest_verdicts(session: Session, section: Section, limit: int = 5) -> list[SectionVerdict]:
    """The section's most recent verdicts (newest first), for its writers to read."""
    return list(
        session.scalars(
            select(SectionVerdict)
            .where(SectionVerdict.section_id == section.id, SectionVerdict.verdict.is_not(None))
            .options(selectinload(SectionVerdict.decided_by))
            .order_by(SectionVerdict.decided_at.desc(), SectionVerdict.id.desc())
            .limit(limit)
        )
    )


def totals(round_: ReviewRound, criteria: list[AwardCriterion]) -> dict[str, float]:
    """The average points per criterion over the sections scored on it."""
    averages = average_scores(round_.verdicts)
    return {c.key: round(float(averages[c.key]), 1) for c in criteria if c.key in averages}


# --- the review queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """One open round in a mentor's queue."""

    round_id: str
    proposal_id: str
    proposal: str
    since: datetime
    due: date | None
    waiting: int
    total: int

    @property
    def url(self) -> str:
        return urls.path("review_round", pid=self.proposal_id, rid=self.round_id)


@dataclass(frozen=True)
class Mentored:
    proposal_id: str
    proposal: str
    status: str


def queue(session: Session, mentor: User) -> list[Waiting]:
    """Open rounds waiting for ``mentor`` across all their consortia, most urgent first.

    One query however many consortia: the due date is the round's, else the
    earliest due date of its sections; rounds with a due date come first.
    """
    pending = func.sum(case((SectionVerdict.verdict.is_(None), 1), else_=0))
    rows = session.execute(
        select(
            ReviewRound.public_id,
            ReviewRound.created_at,
            ReviewRound.due_date,
            Proposal.public_id,
            Proposal.acronym,
            Proposal.title,
            func.count(SectionVerdict.id),
            pending,
            func.min(Section.due_date),
        )
        .join(Proposal, Proposal.id == ReviewRound.proposal_id)
        .join(
            ProposalAccess,
            and_(
                ProposalAccess.proposal_id == Proposal.id,
                ProposalAccess.user_id == mentor.id,
                ProposalAccess.role == "mentor",
            ),
        )
        .join(SectionVerdict, SectionVerdict.round_id == ReviewRound.id)
        .join(Section, Section.id == SectionVerdict.section_id)
        .where(ReviewRound.mentor_id == mentor.id, ReviewRound.status == "open")
        .group_by(
            ReviewRound.id,
            ReviewRound.public_id,
            ReviewRound.created_at,
            ReviewRound.due_date,
            Proposal.public_id,
            Proposal.acronym,
            Proposal.title,
        )
    ).all()
    items = [
        Waiting(
            round_id=r[0],
            proposal_id=r[3],
            proposal=r[4] or r[5],
            since=r[1],
            due=r[2] or r[8],
            waiting=int(r[7] or 0),
            total=int(r[6]),
        )
        for r in rows
    ]
    return sorted(items, key=lambda w: (w.due is None, w.due or date.max, w.since))


def mentored(session: Session, mentor: User) -> list[Mentored]:
    """The consortia ``mentor`` follows (one query)."""
    rows = session.execute(
        select(Proposal.public_id, Proposal.acronym, Proposal.title, Proposal.status)
        .join(ProposalAccess, ProposalAccess.proposal_id == Proposal.id)
        .where(ProposalAccess.user_id == mentor.id, ProposalAccess.role == "mentor")
        .order_by(Proposal.title)
    ).all()
    return [Mentored(r[0], r[1] or r[2], r[3]) for r in rows]


def scores_context(criteria: list[AwardCriterion], locale: str) -> list[dict[str, Any]]:
    """The award criteria as the verdict form and the summary show them."""
    return [
        {
            "key": c.key,
            "title": c.title.get(locale),
            "max": c.max_score,
            "min": c.min_score,
        }
        for c in criteria
    ]
