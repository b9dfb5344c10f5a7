"""Comments on sections: threads on a quoted passage, resolve and reopen, @mentions.

A mention is "@" followed by the full name of someone taking part in the
proposal (case does not matter); each mentioned person gets a notification.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proposals.domain.notifications import notify_all, writers_of
from proposals.models import Comment, Membership, Proposal, Section, User
from proposals.policy import proposal_role

MAX_BODY = 5000
MAX_QUOTE = 1000
COMMENTERS = frozenset({"coordinator", "writer", "mentor"})


def participants(session: Session, proposal: Proposal) -> list[User]:
    """Everyone who takes part: access rows and members of active partners."""
    active = [p.organisation_id for p in proposal.partners if p.status == "active"]
    members = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id.in_(active or [-1]))
    )
    people = {u.id: u for u in members}
    for access in proposal.access:
        people.setdefault(access.user_id, access.user)
    return sorted(people.values(), key=lambda u: u.name.casefold())


def mentioned(body: str, people: list[User]) -> list[User]:
    """The participants named with "@Full Name" in ``body`` (longest names first)."""
    lowered = body.casefold()
    found = []
    for person in sorted(people, key=lambda u: -len(u.name)):
        if "@" + person.name.casefold() in lowered:
            found.append(person)
    return found


def threads(session: Session, section: Section) -> list[Comment]:
    """Top-level comments with their replies and authors, oldest first (two queries)."""
    return list(
        session.scalars(
            select(Comment)
            .where(Comment.section_id == section.id, Comment.parent_id.is_(None))
            .options(
                selectinload(Comment.author),
                selectinload(Comment.replies).selectinload(Comment.author),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def add(
    session: Session,
    user: User,
    proposal: Proposal,
    section: Section,
    body: str,
    quote: str = "",
    parent: Comment | None = None,
    link: str = "",
) -> Comment:
    comment = Comment(
        section_id=section.id,
        parent_id=parent.id if parent else None,
        author_id=user.id,
        body=body,
        quote="" if parent else quote,
    )
    session.add(comment)
    session.flush()
    payload = {
        "by": user.name,
        "section": section.title,
        "proposal": proposal.acronym or proposal.title,
    }
    people = mentioned(body, participants(session, proposal))
    notify_all(session, people, "mention", payload, link, actor=user)
    # The section's writers hear of every comment on it (once: a mention already told them).
    writers = [w for w in writers_of(section) if w not in people]
    notify_all(session, writers, "comment", payload, link, actor=user)
    return comment


def may_comment(user: User | None, proposal: Proposal) -> bool:
    return proposal_role(user, proposal) in COMMENTERS
