"""The budget workbook (.xlsx): one sheet per partner and a summary, with live formulas.

``budget_workbook(snapshot, labels)`` writes it; the same snapshot always gives
the same bytes (fixed document properties and zip timestamps).
``read_workbook(data, snapshot)`` reads one back in that layout, or says what is
wrong by sheet and cell. Both are pure: no database, no HTTP.

A partner sheet holds the partner's id, the call's currency and hourly value
of volunteer work, the funding sources (rows 7-11), the totals, and the cost
lines from row 17 down. Amounts are formulas (``ROUND(quantity * unit cost *
rate, 2)``, flat rates ``ROUND(base * rate / 100, 2)``), so a partner can keep
working in a spreadsheet; Engage recomputes them on import and never trusts
them. Text that a spreadsheet would run as a formula is written as text and
refused on import.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import _writer as cell_writer
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from exports.budget import SOURCE_KINDS, BudgetSnapshot, PartnerBudget
from exports.snapshot import N_

_number_text = cell_writer.safe_string


def _exact_text(value: object) -> str:
    """A cell's text: a Decimal exactly as it is (openpyxl would go through a float)."""
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    return str(_number_text(value))


# openpyxl writes every number with "%.16g", which turns a Decimal into a float first.
cell_writer.safe_string = _exact_text  # type: ignore[attr-defined]

ROW_ID, ROW_CURRENCY, ROW_HOURLY = 2, 3, 4
ROW_FUNDING_HEAD = 6
FUNDING_ROWS = {kind: 7 + index for index, kind in enumerate(SOURCE_KINDS)}
ROW_TOTAL_FUNDING, ROW_TOTAL_COSTS, ROW_GRANT_RATE = 12, 13, 14
ROW_LINES_HEAD, FIRST_LINE, LAST_LINE = 16, 17, 2000
LINE_COLUMNS = (
    "category",
    "description",
    "unit",
    "quantity",
    "unit_cost",
    "currency",
    "exchange_rate",
    "rate_date",
    "period",
    "amount",
)
COLUMN = {name: get_column_letter(i + 1) for i, name in enumerate(LINE_COLUMNS)}
MONEY = "#,##0.00"
PERCENT = "0.00%"
FIXED_TIME = datetime(2000, 1, 1)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
#: What a spreadsheet would run: a formula start, or a DDE call such as ``=cmd|' /C calc'!A0``.
_FORMULA = re.compile(r"^\s*[=+\-@\t\r]")
_DDE = re.compile(r"\|")

#: The labels the workbook prints, in English; ``proposals/`` passes them translated.
DEFAULT_LABELS: dict[str, str] = {
    "summary": N_("Summary"),
    "budget": N_("Budget"),
    "partner": N_("Partner"),
    "partner_id": N_("Partner ID"),
    "currency": N_("Currency"),
    "hourly_rate": N_("Value of an hour of volunteer work"),
    "source": N_("Source of funding"),
    "amount": N_("Amount"),
    "hours": N_("Hours"),
    "note": N_("Note"),
    "grant": N_("Grant requested"),
    "own_cash": N_("Own cash contribution"),
    "in_kind": N_("In-kind contribution"),
    "other_donor": N_("Other donors"),
    "national": N_("National co-financing"),
    "total_funding": N_("Total funding"),
    "total_costs": N_("Total costs"),
    "grant_rate": N_("Grant rate"),
    "category": N_("Category"),
    "description": N_("Description"),
    "unit": N_("Unit"),
    "quantity": N_("Quantity"),
    "unit_cost": N_("Unit cost"),
    "exchange_rate": N_("Exchange rate"),
    "rate_date": N_("Rate date"),
    "period": N_("Period or work package"),
    "consortium": N_("Consortium"),
    "share": N_("Share of funding"),
    "lines": N_("Cost lines (quantity × unit cost; flat rates: rate in percent × base)"),
}


def sheet_titles(snapshot: BudgetSnapshot) -> dict[str, str]:
    """Partner key -> a unique sheet title (at most 31 characters, no []:*?/\\)."""
    titles: dict[str, str] = {}
    used: set[str] = set()
    for partner in snapshot.partners:
        base = _BAD_SHEET_CHARS.sub(" ", partner.name).strip().strip("'")[:31] or partner.key
        title, n = base, 2
        while title.casefold() in used:
            suffix = f" ({n})"
            title, n = base[: 31 - len(suffix)] + suffix, n + 1
        used.add(title.casefold())
        titles[partner.key] = title
    return titles


def _ref(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _text(sheet: Worksheet, cell: str, value: str) -> None:
    """Write ``value`` as text, never as a formula, whatever it starts with."""
    sheet[cell] = value
    sheet[cell].data_type = "s"


def _round(expression: str, rounding: str) -> str:
    return f"{'ROUNDDOWN' if rounding == 'down' else 'ROUND'}({expression},2)"


def _partner_sheet(
    sheet: Worksheet, snapshot: BudgetSnapshot, partner: PartnerBudget, labels: Mapping[str, str]
) -> None:
    bold = Font(bold=True)
    _text(sheet, "A1", partner.name)
    sheet["A1"].font = Font(bold=True, size=14)
    _text(sheet, f"A{ROW_ID}", labels["partner_id"])
    _text(sheet, f"B{ROW_ID}", partner.key)
    _text(sheet, f"A{ROW_CURRENCY}", labels["currency"])
    _text(sheet, f"B{ROW_CURRENCY}", snapshot.currency)
    _text(sheet, f"A{ROW_HOURLY}", labels["hourly_rate"])
    if snapshot.hourly_rate is not None:
        sheet[f"B{ROW_HOURLY}"] = snapshot.hourly_rate
        sheet[f"B{ROW_HOURLY}"].number_format = MONEY
    for column, key in zip("ABCD", ("source", "amount", "hours", "note"), strict=True):
        _text(sheet, f"{column}{ROW_FUNDING_HEAD}", labels[key])
        sheet[f"{column}{ROW_FUNDING_HEAD}"].font = bold
    sources = {s.kind: s for s in partner.sources}
    for kind, row in FUNDING_ROWS.items():
        _text(sheet, f"A{row}", labels[kind])
        source = sources.get(kind)
        if kind == "in_kind" and source is not None and source.hours is not None:
            sheet[f"C{row}"] = source.hours
            sheet[f"B{row}"] = "=" + _round(f"C{row}*$B${ROW_HOURLY}", snapshot.rounding)
        else:
            sheet[f"B{row}"] = source.amount if source else Decimal("0.00")
        sheet[f"B{row}"].number_format = MONEY
        if source is not None and source.note:
            _text(sheet, f"D{row}", source.note)
    first, last = FUNDING_ROWS[SOURCE_KINDS[0]], FUNDING_ROWS[SOURCE_KINDS[-1]]
    amounts = f"{COLUMN['amount']}${FIRST_LINE}:{COLUMN['amount']}${LAST_LINE}"
    totals = (
        (ROW_TOTAL_FUNDING, "total_funding", f"=SUM(B{first}:B{last})", MONEY),
        (ROW_TOTAL_COSTS, "total_costs", f"=SUM({amounts})", MONEY),
        (
            ROW_GRANT_RATE,
            "grant_rate",
            f'=IF(B{ROW_TOTAL_COSTS}=0,"",B{FUNDING_ROWS["grant"]}/B{ROW_TOTAL_COSTS})',
            PERCENT,
        ),
    )
    for row, key, formula, number_format in totals:
        _text(sheet, f"A{row}", labels[key])
        sheet[f"A{row}"].font = bold
        sheet[f"B{row}"] = formula
        sheet[f"B{row}"].number_format = number_format
        sheet[f"B{row}"].font = bold
    _text(sheet, f"A{ROW_LINES_HEAD - 1}", labels["lines"])
    for name, column in COLUMN.items():
        _text(sheet, f"{column}{ROW_LINES_HEAD}", labels[name])
        sheet[f"{column}{ROW_LINES_HEAD}"].font = bold
    titles = {c.key: c.title for c in snapshot.categories}
    flat = {key: base for key, _rate, base in snapshot.flat_rates}
    categories = f"$A${FIRST_LINE}:$A${LAST_LINE}"
    for row, line in enumerate(partner.lines, start=FIRST_LINE):
        c = {name: f"{column}{row}" for name, column in COLUMN.items()}
        _text(sheet, c["category"], titles.get(line.category, line.category))
        _text(sheet, c["description"], line.description)
        _text(sheet, c["unit"], line.unit)
        sheet[c["quantity"]] = line.quantity
        _text(sheet, c["period"], line.period)
        if line.kind == "flat_rate" and line.category in flat:
            base = "+".join(
                f'SUMIF({categories},"{titles.get(k, k)}",{amounts})' for k in flat[line.category]
            )
            sheet[c["unit_cost"]] = f"={base}"
            sheet[c["amount"]] = "=" + _round(
                f"{c['unit_cost']}*{c['quantity']}/100", snapshot.rounding
            )
        else:
            entered = line.unit_cost if line.entered_unit_cost is None else line.entered_unit_cost
            sheet[c["unit_cost"]] = entered
            if line.currency:
                _text(sheet, c["currency"], line.currency)
                sheet[c["exchange_rate"]] = line.exchange_rate
                sheet[c["rate_date"]] = line.rate_date
                sheet[c["rate_date"]].number_format = "yyyy-mm-dd"
            rate = f'IF({c["exchange_rate"]}="",1,{c["exchange_rate"]})'
            sheet[c["amount"]] = "=" + _round(
                f"{c['quantity']}*{c['unit_cost']}*{rate}", snapshot.rounding
            )
        sheet[c["unit_cost"]].number_format = MONEY
        sheet[c["amount"]].number_format = MONEY
    for column, width in zip("ABCDEFGHIJ", (34, 40, 10, 10, 14, 10, 14, 12, 18, 16), strict=True):
        sheet.column_dimensions[column].width = width


def _summary_sheet(
    sheet: Worksheet,
    snapshot: BudgetSnapshot,
    titles: Mapping[str, str],
    labels: Mapping[str, str],
) -> None:
    bold = Font(bold=True)
    _text(sheet, "A1", f"{labels['budget']} ({snapshot.currency})")
    sheet["A1"].font = Font(bold=True, size=14)
    headers = [labels["partner"], *(c.title for c in snapshot.categories), labels["total_costs"]]
    headers += [labels[k] for k in SOURCE_KINDS] + [labels["total_funding"], labels["grant_rate"]]
    for index, text in enumerate(headers, start=1):
        cell = sheet.cell(row=3, column=index)
        cell.value, cell.data_type, cell.font = text, "s", bold
    n_categories = len(snapshot.categories)
    cost_total_col = 2 + n_categories
    funding_cols = {k: cost_total_col + 1 + i for i, k in enumerate(SOURCE_KINDS)}
    total_funding_col = cost_total_col + 1 + len(SOURCE_KINDS)
    rate_col = total_funding_col + 1
    letter = get_column_letter
    first = 4
    for row, partner in enumerate(snapshot.partners, start=first):
        ref = _ref(titles[partner.key])
        name = sheet.cell(row=row, column=1)
        name.value, name.data_type = partner.name, "s"
        categories = f"{ref}!$A${FIRST_LINE}:$A${LAST_LINE}"
        amounts = f"{ref}!${COLUMN['amount']}${FIRST_LINE}:${COLUMN['amount']}${LAST_LINE}"
        for index, category in enumerate(snapshot.categories, start=2):
            sheet.cell(
                row=row, column=index
            ).value = f'=SUMIF({categories},"{category.title}",{amounts})'
        sheet.cell(row=row, column=cost_total_col).value = f"={ref}!$B${ROW_TOTAL_COSTS}"
        for kind, column in funding_cols.items():
            sheet.cell(row=row, column=column).value = f"={ref}!$B${FUNDING_ROWS[kind]}"
        sheet.cell(row=row, column=total_funding_col).value = f"={ref}!$B${ROW_TOTAL_FUNDING}"
    last = first + len(snapshot.partners) - 1
    total_row = last + 1
    consortium = sheet.cell(row=total_row, column=1)
    consortium.value, consortium.data_type, consortium.font = labels["consortium"], "s", bold
    for column in range(2, total_funding_col + 1):
        cell = sheet.cell(row=total_row, column=column)
        cell.value = f"=SUM({letter(column)}{first}:{letter(column)}{max(first, last)})"
        cell.font = bold
    for row in range(first, total_row + 1):
        grant, costs = f"{letter(funding_cols['grant'])}{row}", f"{letter(cost_total_col)}{row}"
        sheet.cell(row=row, column=rate_col).value = f'=IF({costs}=0,"",{grant}/{costs})'
        sheet.cell(row=row, column=rate_col).number_format = PERCENT
        for column in range(2, total_funding_col + 1):
            sheet.cell(row=row, column=column).number_format = MONEY
    share_row = total_row + 1
    share = sheet.cell(row=share_row, column=1)
    share.value, share.data_type = labels["share"], "s"
    total_funding = f"{letter(total_funding_col)}{total_row}"
    for column in (*funding_cols.values(), total_funding_col):
        cell = sheet.cell(row=share_row, column=column)
        cell.value = f'=IF({total_funding}=0,"",{letter(column)}{total_row}/{total_funding})'
        cell.number_format = PERCENT
    sheet.column_dimensions["A"].width = 40
    for column in range(2, rate_col + 1):
        sheet.column_dimensions[letter(column)].width = 16


def budget_workbook(snapshot: BudgetSnapshot, labels: Mapping[str, str] | None = None) -> bytes:
    """The workbook for ``snapshot``: the summary first, then one sheet per partner."""
    text = {**DEFAULT_LABELS, **(labels or {})}
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = text["summary"][:31]
    titles = sheet_titles(snapshot)
    for partner in snapshot.partners:
        _partner_sheet(workbook.create_sheet(titles[partner.key]), snapshot, partner, text)
    _summary_sheet(summary, snapshot, titles, text)
    workbook.properties.creator = "Engage"
    workbook.properties.lastModifiedBy = "Engage"
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed timestamps, so equal workbooks are equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2000-01-01T00:00:00Z\g<2>",
                    content,
                )
            info = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, content)
    return out.getvalue()


# --- reading a workbook back -------------------------------------------------------------


@dataclass
class CellError:
    sheet: str
    cell: str
    message: str


@dataclass
class ImportedLine:
    row: int
    values: dict[str, Any]  # field -> Decimal / str / date / None (never a float)
    flat: bool = False


@dataclass
class ImportedPartner:
    key: str
    sheet: str
    lines: list[ImportedLine] = field(default_factory=list)
    sources: dict[str, Decimal] = field(default_factory=dict)
    hours: Decimal | None = None
    notes: dict[str, str] = field(default_factory=dict)


class WorkbookErrors(Exception):
    def __init__(self, errors: list[CellError]) -> None:
        super().__init__(errors)
        self.errors = errors


#: Messages the reader gives; callers pass them translated.
DEFAULT_MESSAGES: dict[str, str] = {
    "not_xlsx": N_("This file is not an Excel workbook (.xlsx)."),
    "no_partner_sheets": N_("No partner sheet was found: use the workbook from “Download budget”."),
    "unknown_partner": N_("This partner ID is not in the proposal."),
    "twice": N_("This partner has two sheets."),
    "formula": N_(
        "Text that starts with =, +, - or @ would run as a formula; start with a letter or digit."
    ),
    "number": N_("Enter a number."),
    "negative": N_("Enter zero or more."),
    "category": N_("Unknown cost category."),
    "date": N_("Enter a date as YYYY-MM-DD."),
    "header": N_("This is not where Engage expects this heading: keep the layout of the download."),
    "too_many": N_("Engage reads cost lines up to row 2000; move the lines below into the table."),
    "too_large": N_("This workbook unpacks to more than 50 MB; it cannot be a budget."),
    "too_many_cells": N_(
        "This workbook has more than 200,000 filled cells or texts; a budget needs far fewer. "
        "Start again from the workbook of “Download budget”."
    ),
    "too_many_sheets": N_(
        "This workbook has more than 60 sheets; a budget has one per partner and a summary."
    ),
    "too_slow": N_(
        "Reading this workbook took too long, so it was not imported. "
        "Start again from the workbook of “Download budget”."
    ),
}
MAX_UNPACKED = 50 * 1024 * 1024
#: Far above a budget (a sheet of 2,000 lines of 11 columns is 22,000 cells), far below trouble.
MAX_CELLS = 200_000
MAX_SHEETS = 60
#: Engage reads the columns of the layout only (A to the last line column).
LAST_COLUMN = max(4, len(LINE_COLUMNS) + 1)
READ_SECONDS = 10.0
_CELL_TAGS = (b"<c ", b"<c>", b"<x:c ", b"<si>", b"<si ", b"<x:si")


def _count_parts(archive: zipfile.ZipFile) -> tuple[int, int]:
    """How many sheets and how many cells and shared texts the workbook holds (streamed)."""
    sheets = cells = 0
    for item in archive.infolist():
        name = item.filename
        is_sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        if not (is_sheet or name == "xl/sharedStrings.xml"):
            continue
        sheets += is_sheet
        tail = b""
        with archive.open(item) as part:
            while chunk := part.read(1 << 20):
                window = tail + chunk
                cells += sum(window.count(tag) for tag in _CELL_TAGS)
                cells -= sum(tail.count(tag) for tag in _CELL_TAGS)
                tail = chunk[-8:]
    return sheets, cells


class _Grid:
    """The cells of one sheet's layout, read once (openpyxl's read-only mode streams them)."""

    class _Cell:
        __slots__ = ("value",)

        def __init__(self, value: Any) -> None:
            self.value = value

    def __init__(self, title: str, values: dict[str, Any], max_row: int) -> None:
        self.title = title
        self.values = values
        self.max_row = max_row

    def __getitem__(self, ref: str) -> _Grid._Cell:
        return self._Cell(self.values.get(ref))


def _grid(sheet: Any, deadline: float) -> _Grid:
    values: dict[str, Any] = {}
    max_row = 0
    # Every row is looked at (their number is bounded by MAX_CELLS), so that lines
    # below the last one Engage reads are reported, not silently left out.
    for row in sheet.iter_rows(max_col=LAST_COLUMN):
        if time.monotonic() > deadline:
            raise TimeoutError
        for cell in row:
            if cell.value is not None and getattr(cell, "coordinate", None):
                max_row = max(max_row, cell.row)
                if cell.row <= LAST_LINE:
                    values[cell.coordinate] = cell.value
    return _Grid(sheet.title, values, max_row)


def _number(value: Any) -> Decimal | None:
    """A cell's number as an exact Decimal (openpyxl gives floats: go through their repr)."""
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that reads back as the same double
    raise ValueError


def read_workbook(
    data: bytes, snapshot: BudgetSnapshot, messages: Mapping[str, str] | None = None
) -> list[ImportedPartner]:
    """The partners' lines and funding from a workbook in the download's layout.

    Raises :class:`WorkbookErrors` listing every problem by sheet and cell; the
    amounts in the file are ignored (Engage computes them again).
    """
    text = {**DEFAULT_MESSAGES, **(messages or {})}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise WorkbookErrors([CellError("", "", text["not_xlsx"])]) from None
    if unpacked > MAX_UNPACKED:  # a zip bomb, not a budget
        raise WorkbookErrors([CellError("", "", text["too_large"])])
    # Bounded before openpyxl sees it: it would hold every cell in memory.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets, cells = _count_parts(archive)
    if sheets > MAX_SHEETS:
        raise WorkbookErrors([CellError("", "", text["too_many_sheets"])])
    if cells > MAX_CELLS:
        raise WorkbookErrors([CellError("", "", text["too_many_cells"])])
    deadline = time.monotonic() + READ_SECONDS
    try:
        workbook = load_workbook(io.BytesIO(data), data_only=False, read_only=True)
        grids = [_grid(sheet, deadline) for sheet in workbook.worksheets]
        workbook.close()
    except TimeoutError:
        raise WorkbookErrors([CellError("", "", text["too_slow"])]) from None
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise WorkbookErrors([CellError("", "", text["not_xlsx"])]) from None
    errors: list[CellError] = []
    partners: list[ImportedPartner] = []
    known = {p.key for p in snapshot.partners}
    titles = {}
    for category in snapshot.categories:
        titles[category.title.casefold()] = category.key
        titles[category.key.casefold()] = category.key
    kinds = {c.key: c.kind for c in snapshot.categories}
    for sheet in grids:
        key = sheet[f"B{ROW_ID}"].value
        if not isinstance(key, str) or not key.strip():
            continue  # the summary, or a sheet the user added: not read
        key = key.strip()
        where = sheet.title
        if key not in known:
            errors.append(CellError(where, f"B{ROW_ID}", text["unknown_partner"]))
            continue
        if any(p.key == key for p in partners):
            errors.append(CellError(where, f"B{ROW_ID}", text["twice"]))
            continue
        if not isinstance(sheet[f"A{ROW_LINES_HEAD}"].value, str) or not isinstance(
            sheet[f"A{ROW_FUNDING_HEAD}"].value, str
        ):
            errors.append(CellError(where, f"A{ROW_LINES_HEAD}", text["header"]))
            continue
        partner = ImportedPartner(key, where)
        partners.append(partner)
        _read_funding(sheet, partner, errors, text)
        _read_lines(sheet, partner, titles, kinds, errors, text)
    if not partners and not errors:
        errors.append(CellError("", "", text["no_partner_sheets"]))
    if errors:
        raise WorkbookErrors(errors)
    return partners


def _cell_text(sheet: _Grid, ref: str, errors: list[CellError], text: Mapping[str, str]) -> str:
    value = sheet[ref].value
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    value = str(value)
    if _FORMULA.match(value) or (value.startswith("=") and _DDE.search(value)):
        errors.append(CellError(sheet.title, ref, text["formula"]))
        return ""
    return value.strip()


def _cell_number(
    sheet: _Grid, ref: str, errors: list[CellError], text: Mapping[str, str]
) -> Decimal | None:
    value = sheet[ref].value
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and _FORMULA.match(value):
        errors.append(
            CellError(sheet.title, ref, text["formula"] if _DDE.search(value) else text["number"])
        )
        return None
    try:
        number = _number(value)
    except (ValueError, InvalidOperation):
        errors.append(CellError(sheet.title, ref, text["number"]))
        return None
    if number is not None and number < 0:
        errors.append(CellError(sheet.title, ref, text["negative"]))
        return None
    return number


def _read_funding(
    sheet: _Grid, partner: ImportedPartner, errors: list[CellError], text: Mapping[str, str]
) -> None:
    for kind, row in FUNDING_ROWS.items():
        note = _cell_text(sheet, f"D{row}", errors, text)
        if note:
            partner.notes[kind] = note
        if kind == "in_kind":
            partner.hours = _cell_number(sheet, f"C{row}", errors, text)
            if partner.hours is not None:
                continue  # valued at the call's hourly rate
        value = sheet[f"B{row}"].value
        if isinstance(value, str) and value.startswith("=") and not _DDE.search(value):
            value = None  # a formula of the template: the hours decide
        amount = _cell_number(sheet, f"B{row}", errors, text) if value is not None else None
        partner.sources[kind] = amount if amount is not None else Decimal("0.00")


def _read_lines(
    sheet: _Grid,
    partner: ImportedPartner,
    titles: Mapping[str, str],
    kinds: Mapping[str, str],
    errors: list[CellError],
    text: Mapping[str, str],
) -> None:
    if sheet.max_row > LAST_LINE:
        errors.append(CellError(sheet.title, f"A{LAST_LINE + 1}", text["too_many"]))
    last = min(sheet.max_row, LAST_LINE)
    for row in range(FIRST_LINE, last + 1):
        c = {name: f"{column}{row}" for name, column in COLUMN.items()}
        if all(sheet[ref].value in (None, "") for name, ref in c.items() if name != "amount"):
            continue
        amount = sheet[c["amount"]].value
        if isinstance(amount, str) and _DDE.search(amount):
            errors.append(CellError(sheet.title, c["amount"], text["formula"]))
        category_text = _cell_text(sheet, c["category"], errors, text)
        category = titles.get(category_text.casefold())
        if category is None:
            errors.append(CellError(sheet.title, c["category"], text["category"]))
        flat = category is not None and kinds.get(category) == "flat_rate"
        values: dict[str, Any] = {"category": category or ""}
        for name in ("description", "unit", "currency", "period"):
            values[name] = _cell_text(sheet, c[name], errors, text)
        values["quantity"] = _cell_number(sheet, c["quantity"], errors, text)
        if flat:
            values["unit_cost"] = Decimal("0.00")
        else:
            values["unit_cost"] = _cell_number(sheet, c["unit_cost"], errors, text)
        values["exchange_rate"] = _cell_number(sheet, c["exchange_rate"], errors, text)
        when = sheet[c["rate_date"]].value
        if isinstance(when, datetime):
            values["rate_date"] = when.date()
        elif isinstance(when, date):
            values["rate_date"] = when
        elif when in (None, ""):
            values["rate_date"] = None
        else:
            try:
                values["rate_date"] = date.fromisoformat(str(when).strip())
            except ValueError:
                errors.append(CellError(sheet.title, c["rate_date"], text["date"]))
                values["rate_date"] = None
        partner.lines.append(ImportedLine(row, values, flat))
