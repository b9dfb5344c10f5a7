"""A budget workbook within the upload limits still cannot make the server work for long."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from exports.sample import snapshot as sample
from exports.workbook import WorkbookErrors, budget_workbook, read_workbook

UPLOAD_LIMIT = 5 * 1024 * 1024


def _many_cells(rows: int, columns: int) -> bytes:
    """A workbook of ``rows`` x ``columns`` numbers, written straight as sheet XML."""
    letters = [_col(c) for c in range(1, columns + 1)]
    body = io.StringIO()
    for r in range(1, rows + 1):
        cells = "".join(f'<c r="{letter}{r}"><v>1</v></c>' for letter in letters)
        body.write(f'<row r="{r}">{cells}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{body.getvalue()}</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    template = Workbook()
    template.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in source.infolist():
            data = (
                sheet.encode() if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            )
            zf.writestr(item.filename, data)
    return out.getvalue()


def _col(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def test_a_workbook_of_millions_of_cells_is_refused_quickly_and_cheaply():
    data = _many_cells(rows=4000, columns=500)  # two million cells, a few MB zipped
    assert len(data) < UPLOAD_LIMIT
    elapsed, peak_mb, refused = _measured(data)
    print(f"2,000,000 cells refused in {elapsed:.2f} s, peak {peak_mb:.0f} MB")
    assert any("cells" in e.message for e in refused.errors)
    assert elapsed < 3 and peak_mb < 100


def test_a_workbook_just_under_the_cell_limit_is_read_in_bounded_time_and_memory():
    data = _many_cells(rows=1900, columns=10)  # 19,000 cells: a full budget's worth
    elapsed, peak_mb, refused = _measured(data)
    print(f"19,000 cells read in {elapsed:.2f} s, peak {peak_mb:.0f} MB")
    assert [e.message for e in refused.errors] == [
        "No partner sheet was found: use the workbook from “Download budget”."
    ]
    assert elapsed < 5 and peak_mb < 100


def _measured(data: bytes) -> tuple[float, float, WorkbookErrors]:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(WorkbookErrors) as refused:
            read_workbook(data, sample().budget)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()
    return elapsed, peak, refused.value


def test_a_workbook_of_many_sheets_is_refused():
    workbook = Workbook()
    for index in range(300):
        workbook.create_sheet(f"S{index}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(WorkbookErrors) as refused:
        read_workbook(buffer.getvalue(), sample().budget)
    assert any("sheets" in e.message for e in refused.value.errors)


def test_the_downloaded_workbook_still_reads_back():
    snapshot = sample().budget
    partners = read_workbook(budget_workbook(snapshot), snapshot)
    assert [p.key for p in partners] == [p.key for p in snapshot.partners]
