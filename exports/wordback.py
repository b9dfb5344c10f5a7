"""A Word file coming back: its Heading 1 parts as the Markdown subset (pure: bytes in, data out).

Partners edit the exported application in Word or LibreOffice and upload it.
This reads it back the way the export wrote it: each "Heading 1" starts a
part, paragraphs and the list styles become Markdown paragraphs and list
items, bold and italic runs ``**`` and ``*``, hyperlinks ``[text](url)``.
Tracked changes are read as if accepted (insertions in, deletions out) and
counted, with their authors, so the review can say so. Anything outside the
Markdown subset (tables, pictures, other headings and styles) is flattened to
plain paragraphs with a notice.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn

from exports.markup import SAFE_SCHEMES
from exports.wordkit import clean

_ESCAPE = re.compile(r"([\\`*_\[\]<])")
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])(\s)", re.M)
_LISTS = {
    "List Bullet": "- ",
    "List Bullet 2": "  - ",
    "List Number": "1. ",
    "List Number 2": "   1. ",
    "List Continue": "  ",
}
_PLAIN = ("Normal", "Body Text", "Default Paragraph Font", "Plain Text")
MAX_PARTS = 500
#: What a .docx may hold once unpacked: far above a long application, far below a zip bomb.
MAX_UNPACKED = 100 * 1024 * 1024

#: Notices, as keys the application translates.
TABLE, PICTURE, STYLE = "table", "picture", "style"


class NotWord(ValueError):
    """The upload is not a Word (.docx) file python-docx can read."""


@dataclass(frozen=True)
class Tracked:
    """One tracked change in the file: text inserted or deleted, by whom, when."""

    kind: str  # "ins" or "del"
    text: str
    author: str
    date: str  # as Word wrote it (ISO 8601), "" when it gave none


@dataclass
class Part:
    """What follows one Heading 1 up to the next."""

    heading: str
    markdown: str = ""
    notices: set[str] = field(default_factory=set)
    insertions: int = 0
    deletions: int = 0
    authors: set[str] = field(default_factory=set)
    tracked: list[Tracked] = field(default_factory=list)


@dataclass
class _Run:
    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None


def read_parts(data: bytes) -> list[Part]:
    """The Heading 1 parts of a .docx, in order (what comes before the first is left out)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
                raise NotWord("too large once unpacked")
        document = Document(io.BytesIO(data))
    except NotWord:
        raise
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise NotWord(str(exc)) from None
    parts: list[Part] = []
    blocks: list[tuple[str, str]] = []  # (prefix, markdown) of the current part
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            style = _style_name(document, element)
            if style == "Heading 1":
                if parts:
                    parts[-1].markdown = _join(blocks)
                if len(parts) >= MAX_PARTS:
                    break
                parts.append(Part(heading=clean(_plain(element)).strip()))
                blocks = []
                continue
            if not parts:
                continue
            part = parts[-1]
            text = _paragraph(document, element, part)
            if not text.strip():
                continue
            if style in _LISTS:
                blocks.append((_LISTS[style], text))
            else:
                if style not in _PLAIN:
                    part.notices.add(STYLE)
                blocks.append(("", text))
        elif element.tag == qn("w:tbl") and parts:
            parts[-1].notices.add(TABLE)
            for row in element.iter(qn("w:tr")):
                cells = [_plain(cell).strip() for cell in row.iter(qn("w:tc"))]
                if any(cells):
                    blocks.append(("", _escape(" | ".join(cells))))
    if parts:
        parts[-1].markdown = _join(blocks)
    return parts


def _style_name(document: Any, paragraph: Any) -> str:
    style_id = paragraph.style  # CT_P.style: the w:pStyle value
    if not style_id:
        return "Normal"
    try:
        return str(document.styles.get_by_id(style_id, 1).name)  # 1: paragraph style
    except Exception:  # an unknown id falls back to Normal in Word too
        return "Normal"


def _plain(element: Any) -> str:
    """The visible text of an element (deleted text left out)."""
    out = []
    for node in element.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:p")):
        if node.tag == qn("w:t"):
            out.append(node.text or "")
        elif node.tag == qn("w:tab"):
            out.append(" ")
        elif node.tag == qn("w:br") or out:
            out.append("\n")
    return "".join(out)


def _paragraph(document: Any, paragraph: Any, part: Part) -> str:
    runs: list[_Run] = []
    _walk(document, paragraph, runs, part, link=None)
    return _markdown(runs)


def _walk(document: Any, element: Any, runs: list[_Run], part: Part, link: str | None) -> None:
    for child in element.iterchildren():
        tag = child.tag
        if tag == qn("w:r"):
            _run(child, runs, link, part)
        elif tag == qn("w:del"):
            part.deletions += 1
            part.authors.add(child.get(qn("w:author")) or "")
            deleted = "".join(t.text or "" for t in child.iter(qn("w:delText")))
            part.tracked.append(_tracked("del", deleted, child))
        elif tag in (qn("w:ins"), qn("w:moveTo")):
            part.insertions += 1
            part.authors.add(child.get(qn("w:author")) or "")
            part.tracked.append(_tracked("ins", _plain(child), child))
            _walk(document, child, runs, part, link)
        elif tag == qn("w:hyperlink"):
            target = None
            rel_id = child.get(qn("r:id"))
            if rel_id and rel_id in document.part.rels:
                rel = document.part.rels[rel_id]
                if rel.reltype == RELATIONSHIP_TYPE.HYPERLINK:
                    target = str(rel.target_ref)
            if target and not target.lower().startswith(SAFE_SCHEMES):
                target = None
            _walk(document, child, runs, part, target)
        elif tag in (qn("w:smartTag"), qn("w:sdt"), qn("w:sdtContent"), qn("w:fldSimple")):
            _walk(document, child, runs, part, link)


def _tracked(kind: str, text: str, element: Any) -> Tracked:
    author = clean(element.get(qn("w:author")) or "")[:200]
    return Tracked(kind, clean(text)[:2000], author, (element.get(qn("w:date")) or "")[:40])


def _run(element: Any, runs: list[_Run], link: str | None, part: Part) -> None:
    properties = element.find(qn("w:rPr"))
    bold = italic = False
    if properties is not None:
        bold = _on(properties.find(qn("w:b")))
        italic = _on(properties.find(qn("w:i")))
    text = []
    for child in element.iterchildren():
        if child.tag == qn("w:t"):
            text.append(child.text or "")
        elif child.tag == qn("w:tab"):
            text.append(" ")
        elif child.tag in (qn("w:br"), qn("w:cr")):
            kind = child.get(qn("w:type"))
            if kind not in ("page", "column"):
                text.append("\n")
        elif child.tag in (qn("w:drawing"), qn("w:pict"), qn("w:object")):
            part.notices.add(PICTURE)
    if text:
        runs.append(_Run(clean("".join(text)), bold, italic, link))


def _on(flag: Any) -> bool:
    return flag is not None and flag.get(qn("w:val")) not in ("0", "false", "off")


def _escape(text: str) -> str:
    return _LINE_START.sub(r"\1\\\2\3", _ESCAPE.sub(r"\\\1", text))


def _markdown(runs: list[_Run]) -> str:
    """Runs as Markdown: neighbours with the same look are one span."""
    merged: list[_Run] = []
    for run in runs:
        last = merged[-1] if merged else None
        if last and (last.bold, last.italic, last.link) == (run.bold, run.italic, run.link):
            last.text += run.text
        else:
            merged.append(_Run(run.text, run.bold, run.italic, run.link))
    out = []
    for run in merged:
        core = run.text.strip()
        if not core:
            out.append(run.text)
            continue
        lead = run.text[: len(run.text) - len(run.text.lstrip())]
        tail = run.text[len(run.text.rstrip()) :]
        text = _escape(core)
        if run.italic:
            text = f"*{text}*"
        if run.bold:
            text = f"**{text}**"
        if run.link:
            text = f"[{text}]({run.link})"
        out.append(lead + text + tail)
    return "".join(out).strip()


def _kind(prefix: str) -> str:
    """ "-" for bullets, "1" for numbers, "" for a continuation paragraph."""
    return prefix.strip()[:1]


def _join(blocks: list[tuple[str, str]]) -> str:
    """Blocks as Markdown: list items of one list on neighbouring lines, others apart."""
    out: list[str] = []
    previous = None
    for prefix, text in blocks:
        indent = " " * len(prefix) if prefix else ""
        body = text.replace("\n", "\n" + indent) if indent else text
        if out:
            same_list = prefix and previous and _kind(prefix) in (_kind(previous), "")
            out.append("\n" if same_list else "\n\n")
        out.append(prefix + body)
        previous = prefix
    return "".join(out)


def as_read_back(text: str) -> str:
    """``text`` (Markdown) written as the export writes it and read back as an upload is.

    Comparing an upload with this, not with ``text`` itself, shows only what was
    changed in Word, not how the reading spells what was there.
    """
    from exports import wordkit

    document = Document()
    wordkit.prepare(document)
    document.add_heading("x", level=1)
    wordkit.write_markdown(document, text)
    buffer = io.BytesIO()
    document.save(buffer)
    parts = read_parts(buffer.getvalue())
    return parts[0].markdown if parts else ""
