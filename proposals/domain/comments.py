"""Comments on sections: threads on a quoted passage, resolve and reopen, @mentions.

A mention is "@" followed by the full name of someone taking part in the
proposal (case does not matter); each mentioned person gets a notification.
"""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from proposals.domain import livedoc
from proposals.domain.notifications import notify_all, writers_of
from proposals.errors import Invalid
from proposals.i18n import gettext as _
from proposals.models import Comment, Membership, Proposal, Section, User
from proposals.policy import proposal_role

MAX_BODY = 5000
MAX_QUOTE = 1000
MAX_ANCHOR = 120  # bytes of an encoded Yjs relative position (a few varints)
#: The shared document's root type, as the live editor names it (Collaboration field).
ROOT = "default"
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


def _varuint(data: bytes, at: int) -> tuple[int, int]:
    """A lib0 variable-length unsigned integer at ``at``: its value and where the next starts."""
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        shift += 7
        if byte < 0x80:
            return value, at


def _position(raw: str) -> tuple[str, int, int] | tuple[str, str]:
    """A decoded relative position: ("item", client, clock) or ("root", name)."""
    data = base64.b64decode(raw, validate=True)
    if not data or len(data) > MAX_ANCHOR:
        raise ValueError("size")
    kind = data[0]
    if kind in (0, 2):  # an item's id, or a type's id
        client, at = _varuint(data, 1)
        clock, at = _varuint(data, at)
        return ("item", client, clock)
    if kind == 1:  # a root type by name
        length, at = _varuint(data, 1)
        return ("root", data[at : at + length].decode("utf-8"))
    raise ValueError("kind")


def _state_vector(data: bytes) -> dict[int, int]:
    count, at = _varuint(data, 0)
    clocks = {}
    for _i in range(count):
        client, at = _varuint(data, at)
        clocks[client], at = _varuint(data, at)
    return clocks


def anchor(session: Session, section: Section, start: str, end: str) -> tuple[str, str] | None:
    """The passage's two positions if they point into this section's shared document.

    Both or neither; each must be a Yjs relative position (base64) naming the
    document's root or one of its items. Anything else is refused with a message.
    """
    if not start and not end:
        return None
    refused = Invalid(
        _("The selected passage could not be found in this section's text; nothing was posted.")
    )
    if not start or not end:
        raise refused
    doc = livedoc.document(session, section.id)
    try:
        positions = [_position(start), _position(end)]
        known = _state_vector(doc.get_state()) if doc is not None else {}
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise refused from None
    for position in positions:
        if position[0] == "root":
            if position[1] != ROOT:
                raise refused
        elif known.get(position[1], 0) <= position[2]:  # type: ignore[operator]
            raise refused  # an item this document does not hold (another section's)
    return start, end


def add(
    session: Session,
    user: User,
    proposal: Proposal,
    section: Section,
    body: str,
    quote: str = "",
    parent: Comment | None = None,
    link: str = "",
    anchors: tuple[str, str] | None = None,
) -> Comment:
    """A new thread (or a reply to ``parent``); ``anchors`` from :func:`anchor`."""
    comment = Comment(
        section_id=section.id,
        parent_id=parent.id if parent else None,
        author_id=user.id,
        body=body,
        quote="" if parent else quote,
        anchor_start=anchors[0] if anchors and not parent else None,
        anchor_end=anchors[1] if anchors and not parent else None,
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
