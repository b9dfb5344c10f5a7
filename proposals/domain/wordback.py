"""Word edits coming back: an uploaded export read per section, shown, and merged on Accept.

The upload is compared with the texts of the export it was made from (the
revisions its history row names), not with today's texts: what changed in Word
is what differs from those. Accepting a section saves Word's text based on
that old revision, so ``sections.save`` merges it three-way, word by word,
with whatever was written in Engage since; nothing typed in the browser is
lost (overlaps become a conflict revision for the writer, as in the editor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.wordback import (
    PICTURE,
    STYLE,
    TABLE,
    NotWord,
    Part,
    Tracked,
    as_read_back,
    read_parts,
)
from proposals.domain.sections import merge_texts, revision_text
from proposals.errors import Invalid
from proposals.i18n import gettext as _
from proposals.i18n import ngettext
from proposals.models import Export, Proposal, Section
from proposals.text import word_diff

MAX_UPLOAD = 10 * 1024 * 1024
_NUMBER = re.compile(r"^\s*\d+[.)]?\s*")


@dataclass(frozen=True)
class Hunk:
    """One change within a section: words taken out and put in at one place."""

    number: int  # 1, 2, ... in the order of the text
    removed: str
    added: str
    tracked: Tracked | None = None  # the tracked change in the file it comes from, if any


@dataclass
class Change:
    """One section as Word changed it since the export."""

    section: Section
    base: int  # the section's revision in the export
    proposed: str  # the export's text with Word's changes, in Engage's Markdown
    diff: list[tuple[str, str]]
    edited_meanwhile: bool  # someone saved in Engage since the export
    notices: list[str] = field(default_factory=list)
    hunks: list[Hunk] = field(default_factory=list)


@dataclass
class Review:
    changes: list[Change]
    unchanged: list[str]  # titles of sections Word left as they were
    not_read: list[str]  # headings of the file that are no section of the export


def _segments(diff: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """The diff as (same text, "") and (removed, added) pairs: one pair per change.

    Words changed with only spaces between them are one change ("tę wiedzę dalej" →
    "Nowe zakończenie od Oli" is one edit, as Word tracks it, not three).
    """
    out: list[list[str]] = []  # [kind, removed, added] or ["same", text, ""]
    for op, text in diff:
        last = out[-1] if out else None
        if op == " ":
            if last is not None and last[0] == "same":
                last[1] += text
            else:
                out.append(["same", text, ""])
            continue
        if last is not None and last[0] == "same" and not last[1].strip() and len(out) > 1:
            out.pop()  # only spaces since the previous change: it goes on
            out[-1][1] += last[1]
            out[-1][2] += last[1]
            last = out[-1]
        if last is None or last[0] != "change":
            last = ["change", "", ""]
            out.append(last)
        if op == "-":
            last[1] += text
        else:
            last[2] += text
    return [(a, b) if kind == "change" else (a, None) for kind, a, b in out]


def hunks_of(diff: list[tuple[str, str]], tracked: list[Tracked] | None = None) -> list[Hunk]:
    """The changes of a word diff, numbered in the order of the text.

    A change whose words are those of a tracked change in the file names its author.
    """
    changes = [(a, b) for a, b in _segments(diff) if b is not None]
    return [
        _hunk(number, removed, added, tracked or [])
        for number, (removed, added) in enumerate(changes, 1)
    ]


def _hunk(number: int, removed: str, added: str, tracked: list[Tracked]) -> Hunk:
    def words(text: str) -> str:
        return " ".join(re.findall(r"\w+", text.casefold()))

    def same(change: str, hunk: str) -> bool:
        a, b = words(change), words(hunk)
        return bool(a and b) and (a in b or b in a)

    found = next(
        (
            t
            for t in tracked
            if (t.kind == "ins" and same(t.text, added))
            or (t.kind == "del" and same(t.text, removed))
        ),
        None,
    )
    return Hunk(number, removed, added, found)


def chosen_text(
    session: Session, section: Section, base: int, proposed: str, accepted: set[int]
) -> str:
    """The export's text of ``section`` (revision ``base``) with the accepted changes only."""
    old = revision_text(session, section.id, base)
    if old is None:
        raise Invalid(_("The form was incomplete; nothing was saved. Upload the file again."))
    return apply_hunks(old, proposed, accepted)


def apply_hunks(old: str, new: str, accepted: set[int]) -> str:
    """``old`` with only the changes numbered in ``accepted`` of those that make it ``new``."""
    out: list[str] = []
    number = 0
    for first, second in _segments(word_diff(old, new)):
        if second is None:
            out.append(first)
            continue
        number += 1
        out.append(second if number in accepted else first)
    return "".join(out)


def exports_to_compare(session: Session, proposal: Proposal) -> list[Export]:
    """The Word exports of the application an upload can be compared with, newest first."""
    return list(
        session.scalars(
            select(Export)
            .where(
                Export.proposal_id == proposal.id,
                Export.kind == "application",
                Export.filename.like("%.docx"),
            )
            .order_by(Export.created_at.desc(), Export.id.desc())
        )
    )


def _squeezed(text: str) -> str:
    return " ".join(_NUMBER.sub("", text).split()).casefold()


def _notices(part: Part) -> list[str]:
    out = []
    if TABLE in part.notices:
        out.append(_("A table became plain paragraphs, one per row."))
    if PICTURE in part.notices:
        out.append(_("Pictures cannot be kept in the text and were left out."))
    if STYLE in part.notices:
        out.append(_("Headings and styles other than lists became plain paragraphs."))
    if part.insertions or part.deletions:
        authors = ", ".join(sorted(a for a in part.authors if a)) or _("someone")
        count = part.insertions + part.deletions
        out.append(
            ngettext(
                "%(num)d tracked change by %(authors)s is shown below as a proposal: "
                "accept or reject it here.",
                "%(num)d tracked changes by %(authors)s are shown below as proposals: "
                "accept or reject them here.",
                count,
                authors=authors,
            )
        )
    return out


def review(session: Session, proposal: Proposal, export: Export, data: bytes) -> Review:
    """What the uploaded file changed, section by section, against ``export``'s texts."""
    if len(data) > MAX_UPLOAD:
        raise Invalid(_("The file is larger than 10 MB."))
    try:
        parts = read_parts(data)
    except NotWord:
        raise Invalid(
            _("This is not a Word file (.docx). Upload the exported application you edited.")
        ) from None
    revisions: dict[str, int] = dict(export.versions.get("sections") or {})
    ordered = sorted(proposal.sections, key=lambda s: (s.position, s.id))
    by_title = {_squeezed(s.title): s for s in ordered if s.key in revisions}
    changes: list[Change] = []
    unchanged: list[str] = []
    not_read: list[str] = []
    seen: set[int] = set()
    for part in parts:
        section = by_title.get(_squeezed(part.heading))
        if section is None or section.id in seen:
            not_read.append(part.heading)
            continue
        seen.add(section.id)
        base = int(revisions[section.key])
        base_text = revision_text(session, section.id, base)
        base_text = base_text or ""
        spelled = as_read_back(base_text)
        if part.markdown == spelled:
            unchanged.append(section.title)
            continue
        # Word's changes onto the export's own text (its own spelling of the Markdown).
        proposed, overlap = merge_texts(spelled, part.markdown, base_text)
        if overlap:
            proposed = part.markdown
        diff = word_diff(base_text, proposed)
        changes.append(
            Change(
                section=section,
                base=base,
                proposed=proposed,
                diff=diff,
                edited_meanwhile=section.current_number != base,
                notices=_notices(part),
                hunks=hunks_of(diff, part.tracked),
            )
        )
    if not parts:
        raise Invalid(
            _(
                "No section headings were found in this file. Upload the exported "
                "application, with its numbered headings kept."
            )
        )
    return Review(changes, unchanged, not_read)
