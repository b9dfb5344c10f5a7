"""What python-docx lacks, in one place: fields, A4, Markdown runs, byte-identical files.

- Fields (table of contents, page numbers) are written as ``w:fldChar`` runs,
  and the document asks Word to update its fields when it opens.
- Raw XML follows the schema order (the OOXML validator checks it in CI).
- ``save`` writes the zip with fixed timestamps and fixed core properties, so
  the same snapshot gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from exports.locales import format_locale
from exports.markup import SAFE_SCHEMES, tokens

#: Characters XML 1.0 cannot hold (C0 controls but tab and newlines, lone surrogates, FFFE/F).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
#: Every style the exports use: the starting document (or a funder's template) must define them.
REQUIRED_STYLES = (
    "Normal",
    "Title",
    "Subtitle",
    "Heading 1",
    "Heading 2",
    "TOC Heading",
    "List Bullet",
    "List Bullet 2",
    "List Number",
    "List Number 2",
    "List Continue",
    "Table Grid",
    "Header",
    "Footer",
)
LIST_DEPTH = 2  # deeper lists use the second level's style
#: The one font family of every export (LibreOffice shows it with the metric-equal Liberation Sans).
FONT = "Arial"
MARGIN_MM = 20
#: A generous width of one character in Arial (bold, wide letters), in ems, and a cell's padding.
_CHAR_EM = 0.62
_PADDING_MM = 2.4
_TABLE_SIZES_PT = (10, 9, 8)


def clean(text: str) -> str:
    """Text Word can hold: characters XML forbids are dropped."""
    return _NOT_XML.sub("", text)


def money(amount: Decimal, currency: str, language: str) -> str:
    return f"{figure(amount, language)} {currency}"


def figure(amount: Decimal, language: str) -> str:
    """An amount without its currency (a table names the currency once, above it)."""
    return format_decimal(amount, format="#,##0.00", locale=format_locale(language))


def percent(value: Decimal | None, language: str) -> str:
    if value is None:
        return "–"
    return format_decimal(value * 100, format="#,##0.00", locale=format_locale(language)) + " %"


def long_date(value: Any, language: str) -> str:
    return format_date(value, "long", locale=format_locale(language))


# --- the starting document --------------------------------------------------------


def prepare(document: Any) -> None:
    """A4 with 20 mm margins, the character style for links, and one font family."""
    for section in document.sections:
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Mm(MARGIN_MM)
        section.top_margin = section.bottom_margin = Mm(MARGIN_MM)
    ensure_styles(document)
    one_font(document)


def one_font(document: Any, family: str = FONT) -> None:
    """Every style and the document defaults in ``family`` (not the theme's two fonts)."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is not None and defaults.find(".//" + qn("w:rFonts")) is None:
        _default_run_fonts(defaults)
    for fonts in styles.iter(qn("w:rFonts")):
        for name in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
            fonts.attrib.pop(qn(f"w:{name}"), None)
        for name in ("ascii", "hAnsi", "eastAsia", "cs"):
            fonts.set(qn(f"w:{name}"), family)


def _default_run_fonts(defaults: Any) -> Any:
    """The ``w:rFonts`` of ``w:docDefaults/w:rPrDefault/w:rPr``, made if missing."""
    run_default = defaults.find(qn("w:rPrDefault"))
    if run_default is None:
        run_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, run_default)
    properties = run_default.find(qn("w:rPr"))
    if properties is None:
        properties = OxmlElement("w:rPr")
        run_default.append(properties)
    fonts = OxmlElement("w:rFonts")
    properties.insert(0, fonts)
    return fonts


def landscape_section(document: Any) -> Any:
    """From here on, A4 landscape pages (the wide budget tables); header and footer go on."""
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    return section


def text_width_mm(document: Any) -> float:
    """The width between the margins of the document's last (current) section."""
    section = document.sections[-1]
    return float(section.page_width.mm - section.left_margin.mm - section.right_margin.mm)


def ensure_styles(document: Any) -> None:
    names = {style.name for style in document.styles}
    missing = [name for name in REQUIRED_STYLES if name not in names]
    if missing:
        raise ValueError(f"the template lacks the styles {', '.join(missing)}")
    if "Hyperlink" not in names:
        link = document.styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.underline = True
        link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)


def update_fields_on_open(document: Any) -> None:
    """Ask Word to update the fields (table of contents, pages) when the file opens."""
    settings = document.settings.element
    if settings.find(qn("w:updateFields")) is not None:
        return
    element = OxmlElement("w:updateFields")
    element.set(qn("w:val"), "true")
    settings.insert_element_before(
        element,
        "w:hdrShapeDefaults",
        "w:footnotePr",
        "w:endnotePr",
        "w:compat",
        "w:docVars",
        "w:rsids",
        "m:mathPr",
        "w:attachedSchema",
        "w:themeFontLang",
        "w:clrSchemeMapping",
        "w:doNotIncludeSubdocsInStats",
        "w:doNotAutoCompressPictures",
        "w:forceUpgrade",
        "w:captions",
        "w:readModeInkLockDown",
        "w:smartTagType",
        "sl:schemaLibrary",
        "w:shapeDefaults",
        "w:doNotEmbedSmartTags",
        "w:decimalSymbol",
        "w:listSeparator",
    )


def add_field(paragraph: Paragraph, instruction: str, placeholder: str = "") -> None:
    """A field (e.g. ``PAGE``, ``TOC \\o "1-2" \\h``) as begin / instruction / result / end."""

    def run_with(child: Any) -> None:
        run = OxmlElement("w:r")
        run.append(child)
        paragraph._p.append(run)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")
    run_with(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run_with(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    result = OxmlElement("w:t")
    result.set(qn("xml:space"), "preserve")
    result.text = placeholder
    run_with(result)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


def fill_contents(
    document: Any, paragraph: Paragraph, levels: int = 2, pages: Sequence[int] | None = None
) -> None:
    """Write the headings into the table of contents field of ``paragraph`` as its result.

    The field (see ``add_field``) then shows every Heading 1 and 2 as a link to
    its heading before anyone updates it, with its page number when ``pages``
    gives one per heading (as LibreOffice laid the same document out); Word
    updates it on opening too, and the PDF export has LibreOffice update it.
    """
    headings = [
        (int(p.style.name.rsplit(" ", 1)[1]), p)
        for p in document.paragraphs
        if p.style is not None and p.style.name in {f"Heading {n}" for n in range(1, levels + 1)}
    ]
    runs = paragraph._p.findall(qn("w:r"))
    result = next(r for r in runs if r.find(qn("w:t")) is not None)
    end = runs[-1]
    if not headings:
        return
    numbered = pages is not None and len(pages) == len(headings)
    target = paragraph
    for index, (level, heading) in enumerate(headings):
        name = f"_TocEngage{index + 1}"
        _bookmark(heading, name, 1000 + index)
        if index:
            target = _paragraph_after(target)
        target.style = _toc_style(document, level)
        link = OxmlElement("w:hyperlink")
        link.set(qn("w:anchor"), name)
        link.set(qn("w:history"), "1")
        run = OxmlElement("w:r")
        text = OxmlElement("w:t")
        text.set(qn("xml:space"), "preserve")
        text.text = clean(heading.text)
        run.append(text)
        link.append(run)
        if numbered:
            assert pages is not None
            tab = OxmlElement("w:r")
            tab.append(OxmlElement("w:tab"))
            page = OxmlElement("w:r")
            digits = OxmlElement("w:t")
            digits.text = str(pages[index])
            page.append(digits)
            link.append(tab)
            link.append(page)
        if index == 0:
            result.addprevious(link)
        else:
            target._p.append(link)
    paragraph._p.remove(result)
    target._p.append(end)  # the field ends after the last entry


def _paragraph_after(paragraph: Paragraph) -> Paragraph:
    element = OxmlElement("w:p")
    paragraph._p.addnext(element)
    return Paragraph(element, paragraph._parent)


def _toc_style(document: Any, level: int) -> Any:
    """The "TOC 1" / "TOC 2" paragraph styles Word uses for its contents, made if missing."""
    name = f"TOC {level}"
    if name not in {style.name for style in document.styles}:
        style = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = document.styles["Normal"]
        style.paragraph_format.left_indent = Mm(6 * (level - 1))
        style.paragraph_format.space_after = Pt(2)
        # The page number at the right margin, after a dotted leader.
        width = Mm(210 - 2 * MARGIN_MM) - style.paragraph_format.left_indent
        style.paragraph_format.tab_stops.add_tab_stop(
            width, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
    return document.styles[name]


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    finish = OxmlElement("w:bookmarkEnd")
    finish.set(qn("w:id"), str(number))
    properties = paragraph._p.pPr
    if properties is not None:
        properties.addnext(start)
    else:
        paragraph._p.insert(0, start)
    paragraph._p.append(finish)


def page_footer(document: Any, label: str) -> None:
    """ "Page X of Y" in every footer, from a label with ``%(page)s`` and ``%(pages)s``."""
    for section in _own(document, "footer"):
        paragraph = section.footer.paragraphs[0]
        paragraph.style = document.styles["Footer"]
        paragraph.alignment = 1  # centred
        for piece in re.split(r"(%\(page\)s|%\(pages\)s)", label):
            if piece == "%(page)s":
                add_field(paragraph, "PAGE", "1")
            elif piece == "%(pages)s":
                add_field(paragraph, "NUMPAGES", "1")
            elif piece:
                paragraph.add_run(clean(piece))


def _own(document: Any, part: str) -> list[Any]:
    """The sections with their own header (footer): the first, and any not linked to the last."""
    sections = list(document.sections)
    return [
        s for i, s in enumerate(sections) if i == 0 or not getattr(s, part).is_linked_to_previous
    ]


def page_header(document: Any, text: str) -> None:
    for section in _own(document, "header"):
        paragraph = section.header.paragraphs[0]
        paragraph.style = document.styles["Header"]
        paragraph.alignment = 2  # right
        paragraph.add_run(clean(text))


def repeat_as_header(row: Any) -> None:
    """The row repeats at the top of every page the table runs over."""
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:tblHeader"))


def fill_row(
    row: Any, values: list[str], bold: bool = False, numeric_from: int = 99, size: Any = None
) -> None:
    """Fill one table row through ``row.cells`` (``table.cell(r, c)`` is quadratic)."""
    for index, (cell, value) in enumerate(zip(row.cells, values, strict=False)):
        paragraph = cell.paragraphs[0]
        run = paragraph.add_run(clean(value))
        if bold:
            run.bold = True
        if size is not None:
            run.font.size = size
        if index >= numeric_from:
            paragraph.alignment = 2


def column_widths(
    header: list[str], rows: list[list[str]], width_mm: float
) -> tuple[list[float], int]:
    """Column widths (mm) by content, and the font size (pt) at which they fit ``width_mm``.

    Each column is at least as wide as its longest word (a figure with its
    no-break spaces is one word), so no word breaks inside; the rest of the
    width goes to the columns with the longest texts. The size is the largest
    of 10, 9, 8 pt at which the longest words fit side by side.
    """
    columns = list(zip(header, *rows, strict=True)) if rows else [(h,) for h in header]
    words = [max((len(w) for v in col for w in v.split()), default=1) for col in columns]
    texts = [max((len(v) for v in col), default=1) for col in columns]
    size = _TABLE_SIZES_PT[-1]
    for candidate in _TABLE_SIZES_PT:
        if sum(_mm(n, candidate) for n in words) <= width_mm:
            size = candidate
            break
    least = [_mm(n, size) for n in words]
    wanted = [max(_mm(n, size), low) for n, low in zip(texts, least, strict=True)]
    spare = width_mm - sum(least)
    extra = [w - low for w, low in zip(wanted, least, strict=True)]
    if spare <= 0 or not sum(extra):
        scale = width_mm / sum(least)
        return [w * scale for w in least], size
    share = min(1.0, spare / sum(extra))
    widths = [low + e * share for low, e in zip(least, extra, strict=True)]
    rest = (width_mm - sum(widths)) / len(widths)  # all the text fits: even out the rest
    return [w + rest for w in widths], size


def _mm(characters: int, size_pt: int) -> float:
    return characters * size_pt * _CHAR_EM * 25.4 / 72 + _PADDING_MM


def _fixed_widths(grid: Any, widths_mm: list[float]) -> None:
    """A fixed layout with these column widths (Word and LibreOffice both keep them)."""
    grid.autofit = False
    properties = grid._tbl.tblPr
    width = properties.find(qn("w:tblW"))  # python-docx writes one ("auto")
    if width is not None:
        width.set(qn("w:type"), "dxa")
        width.set(qn("w:w"), str(int(sum(Mm(w).twips for w in widths_mm))))
    for column, width_mm in zip(grid.columns, widths_mm, strict=True):
        column.width = Mm(width_mm)
    for row in grid.rows:
        for cell, width_mm in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width_mm)


def table(
    document: Any,
    header: list[str],
    rows: list[list[str]],
    numeric_from: int = 99,
    width_mm: float | None = None,
) -> Any:
    """A "Table Grid" table whose header row repeats; the last row may be a total.

    Columns are as wide as their content needs (``column_widths``) within the
    text width of the current section, or ``width_mm``.
    """
    widths, size = column_widths(header, rows, width_mm or text_width_mm(document))
    grid = document.add_table(rows=1 + len(rows), cols=len(header))
    grid.style = document.styles["Table Grid"]
    all_rows = grid.rows
    points = Pt(size)
    fill_row(all_rows[0], header, bold=True, numeric_from=numeric_from, size=points)
    repeat_as_header(all_rows[0])
    for row, values in zip(all_rows[1:], rows, strict=True):
        fill_row(row, values, numeric_from=numeric_from, size=points)
    _fixed_widths(grid, widths)
    return grid


# --- Markdown to paragraphs and runs --------------------------------------------------


class _Lists:
    """Numbered lists restart at 1: each one gets its own ``w:num`` over the style's list."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.abstract: dict[str, int] = {}

    def restart(self, style_name: str) -> int | None:
        style = self.document.styles[style_name]
        num_pr = style.element.pPr.numPr if style.element.pPr is not None else None
        if num_pr is None or num_pr.numId is None:
            return None
        numbering = self.document.part.numbering_part.numbering_definitions._numbering
        num = numbering.num_having_numId(num_pr.numId.val)
        fresh = numbering.add_num(num.abstractNumId.val)
        fresh.add_lvlOverride(ilvl=0).add_startOverride(1)
        return int(fresh.numId)


def write_markdown(document: Any, text: str, lists: _Lists | None = None) -> None:
    """Append ``text`` (the Markdown subset) to ``document`` as styled paragraphs."""
    lists = lists or _Lists(document)
    stack: list[tuple[str, int | None]] = []  # (kind, numId of an ordered list)
    paragraph: Paragraph | None = None
    new_item = False
    for token in tokens(clean(text)):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            ordered = kind == "ordered_list_open"
            depth = min(len(stack) + 1, LIST_DEPTH)
            number_id = lists.restart(_list_style("ordered", depth)) if ordered else None
            stack.append(("ordered" if ordered else "bullet", number_id))
        elif kind in ("bullet_list_close", "ordered_list_close"):
            stack.pop()
        elif kind == "list_item_open":
            new_item = True
        elif kind == "paragraph_open":
            if not stack:
                paragraph = document.add_paragraph(style=document.styles["Normal"])
            elif new_item:
                list_kind, number_id = stack[-1]
                style = _list_style(list_kind, min(len(stack), LIST_DEPTH))
                paragraph = document.add_paragraph(style=document.styles[style])
                if number_id is not None and len(stack) == 1:
                    _number(paragraph, number_id)
                new_item = False
            else:
                paragraph = document.add_paragraph(style=document.styles["List Continue"])
        elif kind == "inline" and paragraph is not None:
            _runs(document, paragraph, token.children or [])


def _list_style(kind: str, depth: int) -> str:
    base = "List Number" if kind == "ordered" else "List Bullet"
    return base if depth == 1 else f"{base} {depth}"


def _number(paragraph: Paragraph, number_id: int) -> None:
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = 0
    num_pr.get_or_add_numId().val = number_id


def _runs(document: Any, paragraph: Paragraph, children: list[Any]) -> None:
    bold = italic = False
    link: Any = None
    for child in children:
        kind = child.type
        if kind == "strong_open":
            bold = True
        elif kind == "strong_close":
            bold = False
        elif kind == "em_open":
            italic = True
        elif kind == "em_close":
            italic = False
        elif kind == "link_open":
            link = _hyperlink(document, paragraph, str(child.attrGet("href") or ""))
        elif kind == "link_close":
            link = None
        elif kind in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
        elif kind in ("text", "code_inline") and child.content:
            if link is not None:
                link.append(_link_run(child.content, bold, italic))
            else:
                run = paragraph.add_run(child.content)
                run.bold = bold or None
                run.italic = italic or None


def _hyperlink(document: Any, paragraph: Paragraph, url: str) -> Any:
    if not url.lower().startswith(SAFE_SCHEMES):  # the parser refuses others; be sure
        return None
    rel_id = document.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    element = OxmlElement("w:hyperlink")
    element.set(qn("r:id"), rel_id)
    paragraph._p.append(element)
    return element


def _link_run(text: str, bold: bool, italic: bool) -> Any:
    run = OxmlElement("w:r")
    properties = OxmlElement("w:rPr")
    style = OxmlElement("w:rStyle")
    style.set(qn("w:val"), "Hyperlink")
    properties.append(style)
    if bold:
        properties.append(OxmlElement("w:b"))
    if italic:
        properties.append(OxmlElement("w:i"))
    run.append(properties)
    content = OxmlElement("w:t")
    content.set(qn("xml:space"), "preserve")
    content.text = text
    run.append(content)
    return run


# --- properties and a byte-identical file ------------------------------------------


def set_properties(
    document: Any,
    *,
    title: str,
    subject: str,
    author: str,
    language: str,
    keywords: str,
    moment: datetime,
) -> None:
    """Core properties fixed by the snapshot (never "now"), so the bytes repeat."""
    core = document.core_properties
    moment = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    core.title = clean(title)[:255]
    core.subject = clean(subject)[:255]
    core.author = clean(author)[:255]
    core.last_modified_by = "Engage"
    core.language = language
    core.keywords = clean(keywords)[:255]
    core.comments = ""
    core.category = ""
    core.revision = 1
    core.created = moment
    core.modified = moment
    core.last_printed = moment


def save(document: Any, moment: datetime) -> bytes:
    """The .docx bytes, with every zip entry stamped with ``moment`` (not the clock)."""
    buffer = io.BytesIO()
    document.save(buffer)
    return rezip(buffer.getvalue(), moment)


def rezip(data: bytes, moment: datetime) -> bytes:
    stamp = moment.astimezone(UTC).timetuple()[:6]
    stamp = (max(stamp[0], 1980), *stamp[1:])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp)  # type: ignore[arg-type]
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def format_quantity(value: Decimal, language: str) -> str:
    return format_decimal(value, format="#,##0.##", locale=format_locale(language))
