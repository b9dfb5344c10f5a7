"""Bilingual drafting: a section's working-language draft beside its official text.

A partner writes the section in the language they work in (the Norwegian partner in
English); someone turns it into the application's language (the Polish lead writes
the official text, live, as any section). Every save of the draft is kept as a
:class:`~proposals.models.DraftRevision`. When the official text has been brought up
to date with the draft, a writer marks the translation updated: that revision is the
one the translation follows. Later saves are what the translation lacks, shown as a
word diff until someone marks it updated again.

Only the official text counts: checks, character limits, sign-offs and exports
never read the draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from proposals.domain.sections import MAX_TEXT, merge_texts
from proposals.forms import clean_text
from proposals.i18n import WORKING_LANGUAGES
from proposals.i18n import gettext as _
from proposals.models import DraftRevision, Section, User, utcnow
from proposals.text import word_diff


class DraftRefused(Exception):
    """A draft save or mark that cannot be taken; the message says why."""


class DraftStale(DraftRefused):
    """Someone saved the draft meanwhile and the two edits overlap: nothing was stored."""

    def __init__(self, message: str, current: DraftRevision) -> None:
        super().__init__(message)
        self.current = current


@dataclass(frozen=True)
class DraftState:
    """What the section page shows of the draft."""

    current: DraftRevision | None  # the latest save, None when nobody wrote a draft
    translated: DraftRevision | None  # the revision the official text follows
    changes: list[tuple[str, str]] | None  # word diff since ``translated``; None: up to date

    @property
    def outdated(self) -> bool:
        return self.current is not None and self.changes is not None


def revisions(session: Session, section: Section) -> list[DraftRevision]:
    """Every save of the draft, newest first."""
    return list(
        session.scalars(
            select(DraftRevision)
            .where(DraftRevision.section_id == section.id)
            .order_by(DraftRevision.number.desc())
        )
    )


def state(session: Session, section: Section) -> DraftState:
    """The draft as it stands against the official text."""
    current = session.scalar(
        select(DraftRevision)
        .where(DraftRevision.section_id == section.id)
        .order_by(DraftRevision.number.desc())
        .limit(1)
    )
    if current is None:
        return DraftState(None, None, None)
    translated = session.scalar(
        select(DraftRevision)
        .where(DraftRevision.section_id == section.id, DraftRevision.translated_at.is_not(None))
        .order_by(DraftRevision.number.desc())
        .limit(1)
    )
    if translated is None:
        return DraftState(current, None, word_diff("", current.text))
    if translated.text == current.text:
        return DraftState(current, translated, None)
    return DraftState(current, translated, word_diff(translated.text, current.text))


def save(
    session: Session, user: User, section: Section, language: str, text: str, base: int
) -> DraftRevision:
    """Save the draft as ``user``, edited from revision ``base`` (0: a first draft).

    If someone saved meanwhile, the two edits are merged word by word; if they
    overlap nothing is stored and :class:`DraftStale` carries the current draft, so
    that the writer's text can be shown back to them beside it.
    """
    if language not in WORKING_LANGUAGES:
        raise DraftRefused(_("Choose languages from the list."))
    text = str(clean_text(text.replace("\r\n", "\n")))
    if len(text) > MAX_TEXT:
        raise DraftRefused(
            _("Use at most %(max)s characters (this has %(count)s).", max=MAX_TEXT, count=len(text))
        )
    last = session.scalar(
        select(func.max(DraftRevision.number)).where(DraftRevision.section_id == section.id)
    )
    last = last or 0
    if base < 0 or base > last:
        raise DraftRefused(_("This version of the draft does not exist; reload the page."))
    if base != last:
        current = session.scalars(
            select(DraftRevision).where(
                DraftRevision.section_id == section.id, DraftRevision.number == last
            )
        ).one()
        base_text = ""
        if base:
            base_text = session.scalars(
                select(DraftRevision.text).where(
                    DraftRevision.section_id == section.id, DraftRevision.number == base
                )
            ).one()
        merged, conflict = merge_texts(base_text, text, current.text)
        if conflict:
            raise DraftStale(
                _(
                    "%(name)s changed the draft while you were writing, in the same place. "
                    "Nothing of yours was saved yet: your text is below, beside theirs.",
                    name=current.author.name if current.author else "–",
                ),
                current,
            )
        text = merged
        if text == current.text and language == current.language:
            return current
    elif last:
        current = session.scalars(
            select(DraftRevision).where(
                DraftRevision.section_id == section.id, DraftRevision.number == last
            )
        ).one()
        if text == current.text and language == current.language:
            return current
    revision = DraftRevision(
        section_id=section.id, number=last + 1, language=language, text=text, author_id=user.id
    )
    session.add(revision)
    try:
        session.flush()
    except IntegrityError:  # another save took the same number at the same moment
        session.rollback()
        raise DraftRefused(
            _("Someone saved the draft at the same moment; please save again.")
        ) from None
    return revision


def mark_translated(session: Session, user: User, section: Section, number: int) -> DraftRevision:
    """The official text now follows draft revision ``number`` (the one the writer read)."""
    revision = session.scalar(
        select(DraftRevision).where(
            DraftRevision.section_id == section.id, DraftRevision.number == number
        )
    )
    if revision is None:
        raise DraftRefused(_("This version of the draft does not exist; reload the page."))
    revision.translated_at = utcnow()
    revision.translated_by_id = user.id
    session.flush()
    return revision
