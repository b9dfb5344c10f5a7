"""The shared document of a section (a Yjs CRDT), its storage, and the Markdown it stands for.

A section being written live is a Yjs document whose root ``default`` is the
XML fragment Tiptap/ProseMirror edits: paragraphs, bullet and numbered lists
of items, and text formatted bold, italic or as a link. Every change to it
(an update) is appended to ``live_update`` and committed before anyone else
receives it; the document is all of a section's rows merged, so a crash loses
no update that was stored. Many rows are compacted into one from time to time.

The Markdown subset stays the source of truth for everything else: it is
derived from the document (:func:`to_markdown`) and recorded as a revision
(:func:`settle`) after a pause, when the last writer leaves and before exports,
checks, sign-offs and reviews read the text. A section's existing Markdown
becomes its first document (:func:`load`), and a text saved another way (the
plain text box, a restore) is written into the document (:func:`follow_text`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText, merge_updates
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from exports.markup import SAFE_SCHEMES, tokens
from proposals.db import serialised_writes
from proposals.domain import sections
from proposals.live import CHANNEL, Broker
from proposals.models import LiveUpdate, Section

ROOT = "default"  # the fragment Tiptap's Collaboration extension binds to
MAX_UPDATE = 512 * 1024  # bytes; a paste of a long chapter is far smaller
COMPACT_AFTER = 400  # rows of one section before they are merged into one
EMPTY_UPDATE = b"\x00\x00"

Mark = dict[str, Any]
Inline = list[tuple[str, Mark]]


@dataclass
class Block:
    """A paragraph (``inline``) or a list (``items``: each item a list of blocks)."""

    kind: str  # paragraph, bulletList, orderedList
    inline: Inline | None = None
    items: list[list[Block]] | None = None


class UpdateRefused(ValueError):
    """An update that is not a well-formed Yjs update, or too large."""


# --- Markdown -> blocks ---------------------------------------------------------------


def parse(markdown: str) -> list[Block]:
    """The blocks of ``markdown`` (the subset: paragraphs, lists, bold, italic, links)."""
    stack: list[list[Block]] = [[]]  # the block lists being filled, innermost last
    lists: list[Block] = []
    for token in tokens(markdown):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            block = Block("bulletList" if kind == "bullet_list_open" else "orderedList", items=[])
            stack[-1].append(block)
            lists.append(block)
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            item: list[Block] = []
            assert lists[-1].items is not None
            lists[-1].items.append(item)
            stack.append(item)
        elif kind == "list_item_close":
            stack.pop()
        elif kind == "inline":
            stack[-1].append(Block("paragraph", inline=_inline(token.children or [])))
    return stack[0]


def _inline(children: Iterable[Any]) -> Inline:
    out: Inline = []
    marks: Mark = {}
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            out.append((child.content, dict(marks)))
        elif kind in ("softbreak", "hardbreak"):
            out.append(("\n", dict(marks)))
        elif kind == "strong_open":
            marks["bold"] = {}
        elif kind == "strong_close":
            marks.pop("bold", None)
        elif kind == "em_open":
            marks["italic"] = {}
        elif kind == "em_close":
            marks.pop("italic", None)
        elif kind == "link_open":
            marks["link"] = {"href": str(child.attrs.get("href", ""))}
        elif kind == "link_close":
            marks.pop("link", None)
    return out


# --- blocks -> document ------------------------------------------------------------------


def _insert_block(children: Any, index: int, block: Block) -> None:
    if block.kind == "paragraph":
        paragraph = children.insert(index, XmlElement("paragraph"))
        inline = [(t, m) for t, m in block.inline or [] if t]
        if inline:
            xml_text = paragraph.children.insert(0, XmlText())
            position = 0
            for segment, marks in inline:
                xml_text.insert(position, segment, marks or None)
                position += len(segment)
        return
    element = children.insert(index, XmlElement(block.kind))
    for n, item in enumerate(block.items or []):
        list_item = element.children.insert(n, XmlElement("listItem"))
        for m, inner in enumerate(item or [Block("paragraph", inline=[])]):
            _insert_block(list_item.children, m, inner)


def new_document(markdown: str) -> Doc:
    doc = Doc()
    fragment = doc.get(ROOT, type=XmlFragment)
    with doc.transaction():
        for n, block in enumerate(parse(markdown)):
            _insert_block(fragment.children, n, block)
    return doc


# --- document -> Markdown ------------------------------------------------------------------

_ESCAPE = re.compile(r"([\\`*_\[\]])")
_LINE_START = re.compile(r"^(\s*)([-+*]|\d+[.)])(\s|$)", re.MULTILINE)


def _escape(segment: str) -> str:
    escaped = _ESCAPE.sub(r"\\\1", segment)
    return _LINE_START.sub(lambda m: m.group(1) + _escape_marker(m.group(2)) + m.group(3), escaped)


def _escape_marker(marker: str) -> str:
    return "\\" + marker if not marker[0].isdigit() else marker[:-1] + "\\" + marker[-1]


def _inline_markdown(inline: Inline) -> str:
    """Markdown for formatted text: marks opened and closed in a stable nesting order."""
    order = ("link", "bold", "italic")
    opened: list[str] = []
    href = ""
    out: list[str] = []

    def close(name: str) -> None:
        if name == "link":
            out.append(f"]({href})")
        else:
            out.append("**" if name == "bold" else "*")

    for segment, marks in _merged(inline):
        wanted = [m for m in order if m in marks]
        link = marks.get("link") or {}
        link_href = str(link.get("href", "")) if isinstance(link, dict) else ""
        if link_href and not link_href.lower().startswith(SAFE_SCHEMES):
            wanted.remove("link")  # an unsafe link stays as its words
        # Close from the innermost outwards until what stays open is wanted.
        keep = 0
        while keep < len(opened) and keep < len(wanted) and opened[keep] == wanted[keep]:
            if opened[keep] == "link" and link_href != href:
                break
            keep += 1
        lead, core, trail = _split_space(segment)
        if not core:  # whitespace between differently formatted words stays outside
            while opened:
                close(opened.pop())
            out.append(segment)
            continue
        while len(opened) > keep:
            close(opened.pop())
        out.append(lead)
        for name in wanted[keep:]:
            if name == "link":
                href = link_href.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
                out.append("[")
            else:
                out.append("**" if name == "bold" else "*")
            opened.append(name)
        out.append(_escape(core))
        if trail:
            while opened:
                close(opened.pop())
            out.append(trail)
    while opened:
        close(opened.pop())
    return "".join(out)


def _split_space(segment: str) -> tuple[str, str, str]:
    core = segment.strip()
    if not core:
        return segment, "", ""
    start = segment.index(core[0])
    return segment[:start], core, segment[start + len(core) :]


def _merged(inline: Inline) -> list[tuple[str, Mark]]:
    out: list[tuple[str, Mark]] = []
    for segment, marks in inline:
        if out and out[-1][1] == marks:
            out[-1] = (out[-1][0] + segment, marks)
        elif segment:
            out.append((segment, marks))
    return out


def _read_inline(element: Any) -> Inline:
    out: Inline = []
    for child in element.children:
        if isinstance(child, XmlText):
            for value, attrs in child.diff():
                if isinstance(value, str):
                    marks = {k: v for k, v in (attrs or {}).items() if k in _MARKS}
                    out.append((value, marks))
        elif isinstance(child, XmlElement) and child.tag == "hardBreak":
            out.append(("\n", {}))
    return out


_MARKS = {"bold", "italic", "link"}


def read_blocks(parent: Any) -> list[Block]:
    """The blocks of a fragment or list item (unknown elements read as their text)."""
    blocks: list[Block] = []
    for child in parent.children:
        if isinstance(child, XmlText):
            blocks.append(Block("paragraph", inline=_read_inline_text(child)))
            continue
        if not isinstance(child, XmlElement):
            continue
        tag = child.tag
        if tag in ("bulletList", "orderedList"):
            items = [
                read_blocks(item)
                for item in child.children
                if isinstance(item, XmlElement) and item.tag == "listItem"
            ]
            blocks.append(Block(tag, items=items))
        else:
            blocks.append(Block("paragraph", inline=_read_inline(child)))
    return blocks


def _read_inline_text(xml_text: XmlText) -> Inline:
    return [
        (value, {k: v for k, v in (attrs or {}).items() if k in _MARKS})
        for value, attrs in xml_text.diff()
        if isinstance(value, str)
    ]


def blocks_markdown(blocks: list[Block], indent: str = "") -> str:
    parts: list[str] = []
    for block in blocks:
        if block.kind == "paragraph":
            line = _inline_markdown(block.inline or []).strip()
            parts.append(line.replace("\n", "\n" + indent))
        else:
            parts.append(_list_markdown(block, indent))
    return ("\n\n" + indent).join(p for p in parts if p)


def _list_markdown(block: Block, indent: str) -> str:
    lines: list[str] = []
    for n, item in enumerate(block.items or [], start=1):
        marker = "- " if block.kind == "bulletList" else f"{n}. "
        inner = blocks_markdown(item, indent + " " * len(marker))
        lines.append(marker + inner if inner else marker.rstrip())
    # Items are separated by one line (a tight list); nested content carries its indent.
    return ("\n" + indent).join(lines)


def to_markdown(doc: Doc) -> str:
    """The section's Markdown, as the rest of Engage reads it, from the shared document."""
    fragment = doc.get(ROOT, type=XmlFragment)
    return blocks_markdown(read_blocks(fragment))


def canonical(markdown: str) -> str:
    """``markdown`` as the document writes it back (the form revisions take when live)."""
    return blocks_markdown(parse(markdown))


# --- changing the document from outside -----------------------------------------------------


def follow_text(doc: Doc, markdown: str) -> bytes:
    """Make ``doc`` say ``markdown``, touching only the blocks that differ; the update made."""
    fragment = doc.get(ROOT, type=XmlFragment)
    wanted = parse(markdown)
    present = read_blocks(fragment)
    if [blocks_markdown([b]) for b in present] == [blocks_markdown([b]) for b in wanted]:
        return EMPTY_UPDATE
    before = doc.get_state()
    matcher = difflib.SequenceMatcher(
        a=[blocks_markdown([b]) for b in present],
        b=[blocks_markdown([b]) for b in wanted],
        autojunk=False,
    )
    with doc.transaction():
        # From the end backwards, so that earlier indexes stay valid.
        for tag, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
            if tag == "equal":
                continue
            if i2 > i1:
                del fragment.children[i1:i2]
            for offset, block in enumerate(wanted[j1:j2]):
                _insert_block(fragment.children, i1 + offset, block)
    return doc.get_update(before)


def check_update(data: bytes) -> None:
    """Refuse what is not a well-formed Yjs update (or is too large) before it is stored."""
    if len(data) > MAX_UPDATE:
        raise UpdateRefused("update too large")
    try:
        Doc().apply_update(data)
    except Exception as exc:  # pycrdt raises ValueError for bytes that are no update
        raise UpdateRefused("not a Yjs update") from exc


# --- storage ----------------------------------------------------------------------------


def _notify(session: Session, topic: str, update_id: int, origin: str) -> None:
    """On PostgreSQL, tell every app process (on commit) which row to read."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        import json

        payload = json.dumps({"topic": topic, "type": "doc", "id": update_id, "origin": origin})
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )


def topic(section_public_id: str) -> str:
    return f"doc:{section_public_id}"


def append(
    factory: sessionmaker[Session],
    batch: list[tuple[int, str, int | None, bytes]],
    origin: str,
) -> list[int]:
    """Store updates ``(section id, section public id, user id, bytes)`` in one transaction.

    Returns their row ids once committed. Callers have checked every update.
    """
    with serialised_writes(factory), factory() as session, session.begin():
        rows = [LiveUpdate(section_id=s, user_id=u, data=d) for s, _p, u, d in batch]
        session.add_all(rows)
        session.flush()
        for row, (_s, public, _u, _d) in zip(rows, batch, strict=True):
            _notify(session, topic(public), row.id, origin)
        return [row.id for row in rows]


def read_updates(session: Session, update_ids: list[int]) -> list[bytes]:
    """The stored bytes of these updates (those still there: compaction merges rows)."""
    return list(
        session.scalars(
            select(LiveUpdate.data).where(LiveUpdate.id.in_(update_ids)).order_by(LiveUpdate.id)
        )
    )


def load(factory: sessionmaker[Session], section_id: int) -> tuple[Doc, int]:
    """The section's document and its row count; its Markdown becomes the first update."""
    with factory() as session:
        data = list(
            session.scalars(
                select(LiveUpdate.data)
                .where(LiveUpdate.section_id == section_id)
                .order_by(LiveUpdate.id)
            )
        )
    if not data:
        data = [_seed(factory, section_id)]
    doc = Doc()
    doc.apply_update(merge_updates(*data) if len(data) > 1 else data[0])
    return doc, len(data)


def _seed(factory: sessionmaker[Session], section_id: int) -> bytes:
    """Store the section's Markdown as its first update (once, whoever comes first)."""
    with serialised_writes(factory), factory() as session, session.begin():
        query = select(Section).where(Section.id == section_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        section = session.scalars(query).one()
        existing = list(
            session.scalars(
                select(LiveUpdate.data)
                .where(LiveUpdate.section_id == section_id)
                .order_by(LiveUpdate.id)
            )
        )
        if existing:  # another process seeded it a moment ago
            return merge_updates(*existing) if len(existing) > 1 else existing[0]
        first = new_document(section.text).get_update()
        session.add(LiveUpdate(section_id=section_id, data=first, user_id=None))
        return first


def document(session: Session, section_id: int) -> Doc | None:
    """The stored document of a section, or None while it was never opened live."""
    data = list(
        session.scalars(
            select(LiveUpdate.data)
            .where(LiveUpdate.section_id == section_id)
            .order_by(LiveUpdate.id)
        )
    )
    if not data:
        return None
    doc = Doc()
    doc.apply_update(merge_updates(*data) if len(data) > 1 else data[0])
    return doc


def compact(factory: sessionmaker[Session], section_id: int) -> int:
    """Merge a section's rows into one (the same document); how many rows it replaced."""
    with serialised_writes(factory), factory() as session, session.begin():
        rows = list(
            session.execute(
                select(LiveUpdate.id, LiveUpdate.data, LiveUpdate.user_id)
                .where(LiveUpdate.section_id == section_id)
                .order_by(LiveUpdate.id)
            )
        )
        if len(rows) < 2:
            return 0
        merged = merge_updates(*[r.data for r in rows])
        last_writer = next((r.user_id for r in reversed(rows) if r.user_id is not None), None)
        session.add(LiveUpdate(section_id=section_id, data=merged, user_id=last_writer))
        session.execute(
            delete(LiveUpdate).where(
                LiveUpdate.section_id == section_id, LiveUpdate.id.in_([r.id for r in rows])
            )
        )
        return len(rows)


def count(session: Session, section_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(LiveUpdate).where(LiveUpdate.section_id == section_id)
        )
        or 0
    )


def settle(
    factory: sessionmaker[Session], section_id: int, user_id: int | None
) -> sections.SaveResult | None:
    """Record the document's Markdown as the section's revision if it says something new.

    None when the section was never opened live or is read-only now.
    """
    with factory() as session:
        section = session.get(Section, section_id)
        if section is None:
            return None
        doc = document(session, section.id)
        if doc is None:
            return None
        markdown = to_markdown(doc)
        if markdown == section.text or markdown == canonical(section.text):
            return None
        # The writer named, else the one whose change was stored last.
        author = user_id or session.scalar(
            select(LiveUpdate.user_id)
            .where(LiveUpdate.section_id == section_id, LiveUpdate.user_id.is_not(None))
            .order_by(LiveUpdate.id.desc())
            .limit(1)
        )
        base, author = section.current_number, author or section.updated_by_id
    if author is None:
        return None
    try:
        return sections.save(factory, section_id, author, markdown, base)
    except sections.SaveRefused:
        return None


def live_sections(session: Session, section_ids: Iterable[int]) -> list[int]:
    """Those of ``section_ids`` that have a live document (one query)."""
    wanted = list(section_ids)
    if not wanted:
        return []
    return list(
        session.scalars(
            select(LiveUpdate.section_id).where(LiveUpdate.section_id.in_(wanted)).distinct()
        )
    )


def settle_all(
    factory: sessionmaker[Session], section_ids: Iterable[int], user_id: int | None = None
) -> bool:
    """Settle every live section named (before an export, a check, a sign-off or a review).

    True when a revision was recorded.
    """
    recorded = False
    for section_id in section_ids:
        recorded = settle(factory, section_id, user_id) is not None or recorded
    return recorded


def follow_saved(
    factory: sessionmaker[Session],
    broker: Broker,
    section_id: int,
    public_id: str,
    markdown: str,
    user_id: int,
) -> int | None:
    """Write a text saved another way into the live document; the stored update's id.

    Nothing happens for a section never opened live: its Markdown seeds the document.
    """
    with factory() as session:
        doc = document(session, section_id)
    if doc is None:
        return None
    update = follow_text(doc, markdown)
    if update == EMPTY_UPDATE:
        return None
    (update_id,) = append(factory, [(section_id, public_id, user_id, update)], "form")
    if not broker.shared:  # on PostgreSQL the commit notified every process
        broker.publish(topic(public_id), {"type": "doc", "id": update_id, "origin": "form"})
    return update_id
