"""The append-only audit of a proposal: every transition and change, who made it and when.

One writer (:func:`write`) for every kind of entry: workflow transitions,
section state changes, consortium changes, withdrawn sign-offs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proposals.models import Proposal, StatusChange, User
from proposals.policy import proposal_role

DETAIL_MAX = 500


def write(
    session: Session,
    proposal_id: int,
    actor_id: int | None,
    event: str,
    source: str,
    dest: str,
    role: str = "",
    detail: str = "",
) -> StatusChange:
    """Append one entry (``event``: a trigger such as ``finalise`` or ``section.assign``)."""
    entry = StatusChange(
        proposal_id=proposal_id,
        actor_id=actor_id,
        trigger=event,
        source=source,
        dest=dest,
        role=role,
        detail=detail[:DETAIL_MAX],
    )
    session.add(entry)
    return entry


def record(session: Session, proposal: Proposal, user: User, event: str, detail: str = "") -> None:
    """Audit a change that is not a state transition (e.g. a partner accepted)."""
    write(
        session,
        proposal.id,
        user.id,
        event,
        proposal.status,
        proposal.status,
        proposal_role(user, proposal) or "",
        detail,
    )


def activity(session: Session, proposal_id: int, limit: int) -> list[StatusChange]:
    """The newest ``limit`` entries of a proposal, with who made them."""
    return list(
        session.scalars(
            select(StatusChange)
            .where(StatusChange.proposal_id == proposal_id)
            .options(selectinload(StatusChange.actor))
            .order_by(StatusChange.created_at.desc(), StatusChange.id.desc())
            .limit(limit)
        )
    )
