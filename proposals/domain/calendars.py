"""What goes into a person's calendar feed and a proposal's .ics file.

The feed is private: its address holds a random secret (``User.calendar_token``)
that the person can replace or revoke at any time; a revoked address answers
"not found". A feed holds only what the person may see: the call deadlines and
milestones of the proposals they may open, the sections assigned to them, and
the review rounds waiting for them as a mentor.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.calendar import Dated, calendar
from proposals import urls
from proposals.domain import agenda, reviews
from proposals.domain.planning import milestones
from proposals.i18n import gettext as _
from proposals.models import Proposal, User, utcnow
from workflow.definitions import READ_ONLY_STATES


def new_token(user: User) -> str:
    """Give the user a new feed address (the old one stops working)."""
    user.calendar_token = secrets.token_urlsafe(32)
    return user.calendar_token


def revoke(user: User) -> None:
    user.calendar_token = None


def owner_of(session: Session, token: str) -> User | None:
    """The person whose feed ``token`` opens (None: unknown or revoked)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(User).where(User.calendar_token == token))


def _name(proposal: Proposal) -> str:
    return proposal.acronym or proposal.title


def proposal_events(session: Session, proposal: Proposal, base_url: str) -> list[Dated]:
    """The call deadline and the milestones of one proposal."""
    today = agenda.today_for(None)
    deadline = agenda.call_deadline(session, proposal, today)
    link = base_url + urls.link(proposal)
    events = []
    if deadline is not None:
        events.append(
            Dated(
                f"deadline-{proposal.public_id}@engage",
                _("Call deadline: %(proposal)s", proposal=_name(proposal)),
                deadline.moment,
                url=link,
            )
        )
    for m in milestones(session, proposal, deadline.day if deadline else None, today):
        summary = _("%(milestone)s: %(proposal)s", milestone=m.label, proposal=_name(proposal))
        events.append(
            Dated(
                f"milestone-{m.key}-{proposal.public_id}@engage",
                summary,
                m.due,
                "" if m.saved else _("Proposed from the call's deadline; not yet confirmed."),
                link,
            )
        )
    return events


def person_events(session: Session, user: User, base_url: str) -> list[Dated]:
    """Everything with a date that concerns ``user``."""
    today = agenda.today_for(user)
    events: list[Dated] = []
    for item in agenda.lines(session, user, today):
        if item.proposal.status in READ_ONLY_STATES:
            continue
        events.extend(proposal_events(session, item.proposal, base_url))
    for mine in agenda.my_sections(session, user, today):
        section = mine.section
        if section.due_date is None:
            continue
        events.append(
            Dated(
                f"section-{section.public_id}@engage",
                _(
                    "Due: %(section)s (%(proposal)s)",
                    section=section.title,
                    proposal=_name(section.proposal),
                ),
                section.due_date,
                url=base_url + urls.link(section),
            )
        )
    for waiting in reviews.queue(session, user):
        if waiting.due is None:
            continue
        events.append(
            Dated(
                f"review-{waiting.round_id}@engage",
                _("Review due: %(proposal)s", proposal=waiting.proposal),
                waiting.due,
                url=base_url + waiting.url,
            )
        )
    return events


def ics(name: str, events: list[Dated]) -> bytes:
    return calendar(name, events, utcnow())
