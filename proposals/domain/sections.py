"""Sections: created from the call profile, assigned to partners, saved without losing text.

"Nothing typed is lost": every save names the revision it was based on. If
someone saved in between, the texts are merged three-way, word by word; a
clean merge is saved as a merge revision, and overlapping edits are saved as
a conflict revision (the writer's text, kept in full) for the writer to
resolve. A save is acknowledged only after its transaction committed.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cache
from typing import Any, NamedTuple

import merge3
from sqlalchemy import (
    ColumnElement,
    Exists,
    Select,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from proposals import packing, urls
from proposals.calls.schema import CallProfile
from proposals.db import serialised_writes
from proposals.domain import activity, audit, signoffs
from proposals.domain.notifications import notify_all, writers_of
from proposals.forms import clean_text
from proposals.i18n import gettext as _
from proposals.models import (
    PREVIEW_CHARS,
    LiveUpdate,
    Partner,
    Proposal,
    Revision,
    Section,
    User,
    unpack_chain,
    utcnow,
)
from proposals.text import count_characters
from workflow import READ_ONLY_STATES, GuardResult, Option, section_workflow

MAX_TEXT = 200_000  # characters; far above any funder's limit, far below trouble
SAVE_ATTEMPTS = 20
_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class SaveResult:
    """What happened to a save: ``save``, ``merge``, ``conflict`` or ``unchanged``."""

    kind: str
    number: int  # the section's current revision after the save
    text: str  # the section's current text after the save
    conflict_number: int | None = None  # the revision holding the writer's text on conflict
    #: Whether the section had a live document when the save committed (None: not known).
    #: Read in the save's own transaction, which a live document's first load waits for,
    #: so False means whoever opens it later starts from this text.
    live: bool | None = None
    #: The characters of ``text`` as the funder counts them (stored with the save).
    chars: int | None = None

    @property
    def new_text(self) -> bool:
        """Whether the save gave the section a new current text."""
        return self.kind not in ("unchanged", "conflict")


class SaveRefused(Exception):
    """The save cannot be taken (e.g. a base revision that does not exist)."""


class Busy(SaveRefused):
    """Other saves kept winning the race; nothing was stored, the writer may simply retry."""


def merge_texts(base: str, mine: str, theirs: str) -> tuple[str, bool]:
    """Merge ``mine`` and ``theirs`` (both edited from ``base``) word by word.

    Returns the merged text and whether they overlapped (a conflict); on a
    conflict the text returned is ``theirs``, unchanged.
    """
    texts = [_TOKENS.findall(base), _TOKENS.findall(mine), _TOKENS.findall(theirs)]
    # What all three share at the start and at the end is merged already: the matching
    # runs on the rest (an edit is usually a small part of a long text).
    head = _shared_start(texts)
    tail = _shared_start([t[head:][::-1] for t in texts])
    merger = merge3.Merge3(*(t[head : len(t) - tail] for t in texts))
    out: list[str] = texts[0][:head]
    for region in merger.merge_regions():
        kind = region[0]
        if kind == "unchanged":
            out += merger.base[region[1] : region[2]]
        elif kind in ("a", "same"):
            out += merger.a[region[1] : region[2]]
        elif kind == "b":
            out += merger.b[region[1] : region[2]]
        else:
            return theirs, True
    out += texts[0][len(texts[0]) - tail :]
    return "".join(out), False


def _shared_start(texts: list[list[str]]) -> int:
    """How many tokens all of ``texts`` begin with (halving the range: the comparisons
    of list slices run in C)."""
    first, *others = texts
    low, high = 0, min(len(t) for t in texts)
    while low < high:
        middle = (low + high + 1) // 2
        if all(t[low:middle] == first[low:middle] for t in others):
            low = middle
        else:
            high = middle - 1
    return low


def create_sections(proposal: Proposal, profile: CallProfile) -> None:
    """The sections the call asks for, in the call's order, in the application's language."""
    language = profile.written_in(proposal.language)
    for position, spec in enumerate(profile.sections):
        proposal.sections.append(
            Section(
                key=spec.key,
                title=spec.title.get(language),
                guidance=spec.guidance.get(language),
                char_limit=spec.char_limit,
                required=spec.required,
                position=position,
            )
        )


def retitle_sections(proposal: Proposal, profile: CallProfile, old: str, new: str) -> None:
    """The call's titles and guidance of the sections in the language ``new`` instead of ``old``.

    A title or guidance someone changed is theirs and stays as it is.
    """
    for section in proposal.sections:
        spec = profile.section(section.key)
        if spec is None:
            continue
        if section.title == spec.title.get(old):
            section.title = spec.title.get(new)
        if section.guidance == spec.guidance.get(old):
            section.guidance = spec.guidance.get(new)


def _clean(text: str) -> str:
    text = str(clean_text(text.replace("\r\n", "\n")))
    if len(text) > MAX_TEXT:
        raise SaveRefused(f"text longer than {MAX_TEXT} characters")
    return text


class _SettleFirst(Exception):
    """The section has a live document: what was typed there is recorded before this save."""


def save(
    factory: sessionmaker[Session],
    section_id: int,
    user_id: int,
    text: str,
    base: int,
    kind: str = "save",
    settle: Callable[[], object] | None = None,
    on_saved: Callable[[Session, SaveResult], None] | None = None,
) -> SaveResult:
    """Store a save in its own short transaction, retried when another save got there first.

    ``settle`` records what was typed live (``livedoc.settle``): when the section has a
    live document it is called first, so that this save merges with that text.
    ``on_saved`` runs in the save's transaction with its result, before the commit (to
    publish an event that goes out with the commit). The caller has checked access. The
    result is committed when this returns.
    """
    text = _clean(text)
    for attempt in range(SAVE_ATTEMPTS):
        try:
            with serialised_writes(factory), factory() as session, session.begin():
                result = _save_once(session, section_id, user_id, text, base, kind)
                if result.live and settle is not None:
                    raise _SettleFirst  # nothing of this attempt is kept
                if on_saved is not None:
                    on_saved(session, result)
                return result
        except _SettleFirst:
            assert settle is not None  # raised only when there is one
            settle()
            settle = None  # once: the next attempt saves after it
        except (IntegrityError, OperationalError, StaleDataError):
            # Another save took the next revision number, or SQLite was busy: read again.
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311 - jitter
    raise Busy("the section is too busy; try again")


def _flags(
    section_id: ColumnElement[int], proposal_id: ColumnElement[int]
) -> tuple[Exists, Exists]:
    """What every save asks once it holds the section: whether the section has a live
    document, and whether the proposal has current sign-offs of its sections."""
    return (
        exists().where(LiveUpdate.section_id == section_id),
        signoffs.sections_signed(proposal_id),
    )


#: Those questions alone, for a save that wrote nothing (the others ask them in their
#: UPDATE's RETURNING: no statement of their own).
_AFTER_WRITING = select(*_flags(bindparam("section_id"), bindparam("proposal_id")))


def save_in(session: Session, section: Section, user_id: int, text: str) -> SaveResult:
    """Save within the caller's transaction (demo data, scripts): based on the current text."""
    return _save_once(session, section.id, user_id, _clean(text), section.current_number, "save")


def _save_once(
    session: Session, section_id: int, user_id: int, text: str, base: int, kind: str
) -> SaveResult:
    result, section, flags = _write(session, section_id, user_id, text, base, kind)
    # Asked while the section is locked (PostgreSQL: FOR UPDATE, SQLite: the write lock),
    # as a document's first load locks it too: the answer holds until this commits. Asked
    # by a statement after the lock was taken, so that PostgreSQL reads what others
    # committed while this save waited for it: the section's UPDATE (RETURNING), or a
    # statement of its own when nothing was written.
    if flags is None:
        flags = session.execute(
            _AFTER_WRITING, {"section_id": section_id, "proposal_id": section.proposal_id}
        ).one()
    live, signed = flags
    if signed and result.new_text:
        signoffs.withdraw_for_section(session, section, user_id)
    # The text of the result is the section's current text but on a conflict (the text
    # kept as current, then): the section as read, or as written, counts it.
    return replace(result, live=bool(live), chars=characters(section))


def _write(
    session: Session, section_id: int, user_id: int, text: str, base: int, kind: str
) -> tuple[SaveResult, Section, tuple[bool, bool] | None]:
    """The save's read and writes: its result, the section, and what the last UPDATE
    returned (see :func:`_flags`; None when nothing was written)."""
    # One read: the section, its proposal's state and how many deltas its text stands on.
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    query = _save_read(locking=postgres)
    section, status, depth = session.execute(query, {"section_id": section_id}).one()
    session.info["current_depth"] = (section.id, section.current_number, depth)
    if (status or "") in READ_ONLY_STATES:
        raise SaveRefused(
            _("The proposal is signed and read-only: the coordinator can reopen it for editing.")
        )
    current = section.current_number
    if base < 0 or base > section.last_number:
        raise SaveRefused(f"revision {base} does not exist for this section")
    if base == current:
        if text == section.text:
            return SaveResult("unchanged", current, text), section, None
        number, flags = _add(session, section, user_id, [(kind, text, base)], make_current=True)
        return SaveResult(kind, number, text), section, flags
    base_text = revision_text(session, section_id, base)
    merged, conflict = merge_texts(base_text or "", text, section.text)
    if merged == section.text and not conflict:
        return SaveResult("unchanged", current, merged), section, None
    # The writer's own text is always kept verbatim, so that every acknowledged save
    # can be found again; a clean merge then becomes the current text.
    kept = ("conflict" if conflict else "save", text, base)
    if conflict:
        mine, flags = _add(session, section, user_id, [kept], make_current=False)
        conflicted = SaveResult("conflict", current, section.text, conflict_number=mine)
        return conflicted, section, flags
    # Both in one INSERT and one UPDATE: the writer's text, then the merge made current.
    number, flags = _add(
        session, section, user_id, [kept, ("merge", merged, current)], make_current=True
    )
    return SaveResult("merge", number, merged), section, flags


@cache
def _save_read(locking: bool) -> Select[Any]:
    """The save's one read, built once (locking the section's row where the database can)."""
    query = (
        select(Section, Proposal.status, Revision.depth)
        .join(Proposal, Proposal.id == Section.proposal_id)
        .outerjoin(
            Revision,
            (Revision.section_id == Section.id) & (Revision.number == Section.current_number),
        )
        .where(Section.id == bindparam("section_id"))
    )
    return query.with_for_update(of=Section) if locking else query


_revisions, _sections = Revision.__table__, Section.__table__
#: A revision appended (a plain INSERT: nothing for the unit of work to track).
_INSERT_REVISION = _revisions.insert()
#: The section's counter moved on, only from the number read (two savers can never both).
_MOVE_ON = (
    _sections.update()
    .where(_sections.c.id == bindparam("section_id"), _sections.c.last_number == bindparam("read"))
    .values(last_number=bindparam("number"))
    # The section's own columns, named in full: SQLite writes a RETURNING's columns
    # without their table, and a bare ``proposal_id`` in the sign-offs' subquery would
    # be the sign-off's own.
    .returning(
        *_flags(
            literal_column(f"{_sections.name}.id"),
            literal_column(f"{_sections.name}.proposal_id"),
        )
    )
)
#: ... and the new text made current.
_MAKE_CURRENT = _MOVE_ON.values(
    current_number=bindparam("number"),
    text=bindparam("text"),
    chars=bindparam("chars"),
    updated_at=bindparam("at"),
    updated_by_id=bindparam("user_id"),
)


def _add(
    session: Session,
    section: Section,
    user_id: int,
    revisions: list[tuple[str, str, int]],
    make_current: bool,
) -> tuple[int, tuple[bool, bool]]:
    """Append ``revisions`` (kind, text, parent number), numbered on from the section's
    last; when ``make_current``, the last of them becomes the section's text. One INSERT
    and one UPDATE however many.

    Returns the last one's number and what the section's UPDATE returned (:func:`_flags`)."""
    first = section.last_number + 1
    number = first + len(revisions) - 1
    # Packed against the current text (the section holds it), a delta of a few bytes.
    known = session.info.get("current_depth")
    if known is not None and known[:2] == (section.id, section.current_number):
        depth = known[2]
    else:
        depth = _depth(session, section.id, section.current_number)
    now = utcnow()
    rows = []
    for n, (kind, text, parent) in enumerate(revisions, start=first):
        packed, whole = packing.pack_against(
            text, section.text if depth is not None else None, depth or 0
        )
        rows.append(
            {
                "section_id": section.id,
                "number": n,
                "parent_number": parent,
                "text": "",
                "packed": packed,
                "basis": None if whole else section.current_number,
                "depth": 0 if whole else (depth or 0) + 1,
                "preview": text[:PREVIEW_CHARS],
                "kind": kind,
                "author_id": user_id,
                "created_at": now,
            }
        )
    session.execute(_INSERT_REVISION, rows if len(rows) > 1 else rows[0])
    # Only the parameters the statement names: a key named like a column would be SET too.
    params: dict[str, object] = {
        "section_id": section.id,
        "read": section.last_number,
        "number": number,
    }
    text = revisions[-1][1]
    chars = count_characters(text) if make_current else None
    if make_current:
        params |= {"text": text, "chars": chars, "at": now, "user_id": user_id}
    moved = session.execute(_MAKE_CURRENT if make_current else _MOVE_ON, params).first()
    if moved is None:
        raise StaleDataError("the section moved on")
    session.flush()
    # Already written by the UPDATE above: tell the ORM without marking them dirty.
    set_committed_value(section, "last_number", number)
    if make_current:
        set_committed_value(section, "current_number", number)
        set_committed_value(section, "text", text)
        set_committed_value(section, "chars", chars)
        _reopen_if_needed(session, section, user_id)
    return number, (bool(moved[0]), bool(moved[1]))


def _depth(session: Session, section_id: int, number: int) -> int | None:
    """How many deltas revision ``number`` stands on (None: no such revision)."""
    if number == 0:
        return None
    return session.scalar(
        select(Revision.depth).where(Revision.section_id == section_id, Revision.number == number)
    )


class DashboardRow(NamedTuple):
    """A section as the dashboard shows it: plain values, nothing loaded later."""

    id: int
    key: str
    title: str
    status: str
    partner_id: int | None
    assignee_id: int | None
    due_date: date | None
    char_limit: int | None
    current_number: int
    updated_at: datetime | None
    assignee_name: str | None
    updated_by_name: str | None
    used: int
    #: The text where no count is stored yet (rows from before counts; else "").
    uncounted: str = ""


def dashboard_rows(session: Session, proposal_id: int) -> list[DashboardRow]:
    """The sections of a proposal as the dashboard shows them: one query, only its columns."""
    # Plain rows, fetched at once: the connection's execute skips the ORM's result set-up.
    found = session.connection().execute(_dashboard_query(), {"proposal_id": proposal_id}).all()
    rows = [DashboardRow._make(row) for row in found]
    for i, row in enumerate(rows):
        if row.used is None:  # a row from before counts were stored: counted from its text
            rows[i] = row._replace(used=count_characters(row.uncounted))
    return rows


@cache
def _dashboard_query() -> Select[Any]:
    """The statement of :func:`dashboard_rows`, built once (every dashboard runs it)."""
    assignee, editor = aliased(User), aliased(User)
    return (
        select(
            Section.id,
            Section.key,
            Section.title,
            Section.status,
            Section.partner_id,
            Section.assignee_id,
            Section.due_date,
            Section.char_limit,
            Section.current_number,
            Section.updated_at,
            assignee.name,
            editor.name,
            # The stored count (0 for an empty text), and the text only where there is
            # neither (rows from before counts).
            func.coalesce(Section.chars, case((Section.text == "", 0))),
            case((Section.chars.is_(None), Section.text), else_=""),
        )
        .outerjoin(assignee, assignee.id == Section.assignee_id)
        .outerjoin(editor, editor.id == Section.updated_by_id)
        .where(Section.proposal_id == bindparam("proposal_id"))
        .order_by(Section.position, Section.id)
    )


def characters(section: Section) -> int:
    """The section's characters as the funder counts them (stored with each save)."""
    return section.chars if section.chars is not None else count_characters(section.text)


def revision_text(session: Session, section_id: int, number: int) -> str | None:
    """The text of revision ``number`` of a section, however it is stored (None: no such)."""
    return unpack_chain(session, section_id, number)


def revision_texts(session: Session, section_id: int) -> dict[int, str]:
    """Every revision's text of a section by number (one query, each delta unpacked once)."""
    texts: dict[int, str] = {}
    for number, plain, packed, basis in session.execute(
        select(Revision.number, Revision.plain, Revision.packed, Revision.basis)
        .where(Revision.section_id == section_id)
        .order_by(Revision.number)
    ):
        if packed is None:
            texts[number] = plain
        else:
            texts[number] = packing.unpack(packed, texts[basis] if basis is not None else None)
    return texts


def _reopen_if_needed(session: Session, section: Section, user_id: int) -> None:
    """Writing starts a section; an edit to a ready or approved one reopens it."""
    trigger = {
        "unassigned": "start_writing",
        "assigned": "start_writing",
        "ready": "reopen",
        "approved": "reopen",
    }.get(section.status)
    if trigger:
        move(session, section, "writer", user_id, trigger)


def move(
    session: Session,
    section: Section,
    role: str,
    user_id: int,
    trigger: str,
    detail: str | None = None,
) -> str:
    """Fire a section trigger as ``role``; audit it on the proposal; return the new state."""
    before = section.status
    row = _StatusRow(before)
    with section_workflow().bind(row, role, guards(section)) as bound:
        bound.fire(trigger)
    session.execute(
        update(Section)
        .where(Section.id == section.id, Section.status == before)
        .values(status=row.status)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(section, "status", row.status)
    audit.write(
        session,
        section.proposal_id,
        user_id,
        f"section.{trigger}",
        before,
        row.status,
        role,
        detail or activity.section_detail(section.title, section.key),
    )
    return row.status


@dataclass
class _StatusRow:
    status: str


def guards(section: Section) -> dict[str, Callable[[], GuardResult]]:
    """What the section workflow's guards check for ``section``."""

    def has_text() -> GuardResult:
        if section.text.strip():
            return GuardResult(True)
        return GuardResult(False, (_("Write something first."),))

    return {"has_text": has_text}


def options(section: Section, role: str, triggers: tuple[str, ...]) -> list[Option]:
    """Which of ``triggers`` ``role`` may see on the section now, and whether they may fire."""
    with section_workflow().bind(_StatusRow(section.status), role, guards(section)) as bound:
        return [o for o in bound.options() if o.trigger in triggers]


def assign(
    session: Session,
    user: User,
    section: Section,
    partner: Partner | None,
    assignee: User | None,
    due: date | None,
) -> None:
    """The coordinator gives a section to a partner (and a person) with a due date.

    The new writer (the person, else the partner's contact) is notified when the
    section changes hands or its due date moves.
    """
    changed = (
        section.partner_id != (partner.id if partner else None)
        or section.assignee_id != (assignee.id if assignee else None)
        or section.due_date != due
    )
    section.partner_id = partner.id if partner else None
    section.assignee_id = assignee.id if assignee else None
    section.due_date = due
    section.partner, section.assignee = partner, assignee
    detail = activity.section_detail(
        section.title,
        section.key,
        partner=partner.organisation.name if partner else "",
        due=due.isoformat() if due else "",
    )
    if partner is not None and section.status == "unassigned":
        move(session, section, "coordinator", user.id, "assign", detail)
    elif changed and partner is not None:
        status = section.status
        audit.write(
            session,
            section.proposal_id,
            user.id,
            "section.assign",
            status,
            status,
            "coordinator",
            detail,
        )
    if changed and partner is not None:
        proposal = section.proposal
        payload = {
            "by": user.name,
            "section": section.title,
            "proposal": proposal.acronym or proposal.title,
            "due": due.isoformat() if due else "",
        }
        link = urls.link(section)
        notify_all(session, writers_of(section), "section_assigned", payload, link, actor=user)


def add_annex(proposal: Proposal, title: str, char_limit: int | None) -> Section:
    """An extra section (an annex) after the call's sections; not required by the call."""
    taken = {s.key for s in proposal.sections}
    number = 1
    while f"annex-{number}" in taken:
        number += 1
    section = Section(
        key=f"annex-{number}",
        title=title,
        char_limit=char_limit,
        required=False,
        position=max((s.position for s in proposal.sections), default=-1) + 1,
    )
    proposal.sections.append(section)
    return section


def move_in_order(proposal: Proposal, section: Section, step: int) -> bool:
    """Swap a section with its neighbour (step -1: up, +1: down); False at either end."""
    ordered = sorted(proposal.sections, key=lambda s: (s.position, s.id))
    index = ordered.index(section)
    other = index + step
    if not 0 <= other < len(ordered):
        return False
    for position, item in enumerate(ordered):
        item.position = position
    ordered[index].position, ordered[other].position = other, index
    return True
