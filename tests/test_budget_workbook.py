"""The budget workbook: same figures as the page, deterministic, read back all or nothing."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from exports.budget import BudgetSnapshot
from exports.workbook import FIRST_LINE, FUNDING_ROWS, budget_workbook
from proposals.domain import budget
from proposals.models import BudgetLine, FundingSource
from tests.budget_helpers import (
    consortium_figures,
    line_form,
    partner,
    seeded,
    signed_in,
    the_proposal,
    url,
)
from tests.conftest import csrf, post, row_counts


@pytest.fixture
def demo_db(db: Session) -> Session:
    return seeded(db)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(client, db: Session) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(url(db, "/workbook"))
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"] == 'attachment; filename="BVT-budget.xlsx"'
    return response.content


def upload(client, db: Session, data: bytes, name: str = "budget.xlsx"):  # type: ignore[no-untyped-def]
    return client.post(
        url(db, "/workbook"),
        data={"csrf_token": csrf(client)},
        files={"workbook": (name, data, XLSX)},
    )


def upload_errors(response) -> list[str]:  # type: ignore[no-untyped-def]
    text = html.unescape(response.text)
    block = text.split("The workbook was not imported", 1)[1].split("</ul>", 1)[0]
    return [" ".join(li.split("</li>")[0].split()) for li in block.split("<li>")[1:]]


def test_download_is_deterministic_and_has_one_sheet_per_partner(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage")
    first, second = download(anna, demo_db), download(anna, demo_db)
    assert first == second
    book = load_workbook(io.BytesIO(first))
    assert book.sheetnames == [
        "Summary",
        "Stowarzyszenie Morze Możliwości",
        "Frivillighetssentralen Kristian",
        "Klaipėdos bendruomenių asociaci",
    ]
    sheet = book["Frivillighetssentralen Kristian"]
    assert (
        sheet[f"J{FIRST_LINE}"].value
        == f'=ROUND(D{FIRST_LINE}*E{FIRST_LINE}*IF(G{FIRST_LINE}="",1,G{FIRST_LINE}),2)'
    )
    assert sheet[f"C{FUNDING_ROWS['in_kind']}"].value == 100
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert b"2000-01-01T00:00:00Z" in archive.read("docProps/core.xml")


def _walk(value: object, where: str = "snapshot") -> None:
    """Fail on any float inside ``value`` (dataclasses, tuples, dicts)."""
    assert not isinstance(value, float), f"a float at {where}"
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            _walk(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            _walk(item, f"{where}[{i}]")


def test_no_float_from_form_to_database_to_workbook(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    # 0.1 + 0.2 is where floats betray themselves (0.30000000000000004).
    response = post(
        ola, url(demo_db, f"/{no.public_id}/lines"), line_form(quantity="0.1", unit_cost="0.2")
    )
    assert response.status_code == 200
    demo_db.expire_all()
    for line in demo_db.scalars(select(BudgetLine)):
        for name in ("quantity", "unit_cost", "amount"):
            assert type(getattr(line, name)) is Decimal, name
    for source in demo_db.scalars(select(FundingSource)):
        assert type(source.amount) is Decimal
    snapshot = budget.budget_snapshot(demo_db, the_proposal(demo_db))
    _walk(snapshot)
    data = download(ola, demo_db)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = "".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")
        )
    assert "<v>0.10</v>" in xml and "<v>0.20</v>" in xml  # Decimal text, not a float's repr
    assert "0000000" not in xml


def test_the_downloaded_workbook_uploads_back_unchanged(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage")
    before = consortium_figures(anna.get(url(demo_db)).text)
    response = upload(anna, demo_db, download(anna, demo_db))
    assert response.status_code == 200, response.text[-3000:]
    assert "The workbook is imported." in html.unescape(response.text)
    assert consortium_figures(response.text) == before


def test_a_partner_works_on_in_a_spreadsheet_and_uploads(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    book = load_workbook(io.BytesIO(download(ola, demo_db)))
    sheet = book["Frivillighetssentralen Kristian"]
    row = FIRST_LINE + 3  # after two lines and the flat-rate line
    sheet[f"A{row}"], sheet[f"B{row}"], sheet[f"D{row}"], sheet[f"E{row}"] = (
        "Podróże i pobyt",  # categories are named in the call's language (Polish for ACF)
        "Ferry Kristiansand–Hirtshals",
        2,
        45.5,
    )
    sheet[f"B{FUNDING_ROWS['own_cash']}"] = 300
    buffer = io.BytesIO()
    book.save(buffer)
    response = upload(ola, demo_db, buffer.getvalue())
    assert response.status_code == 200, upload_errors(response)
    text = html.unescape(response.text)
    assert "Sheets of partners whose budget you may not edit were not read" in text
    demo_db.expire_all()
    no = partner(demo_db, "NO")
    lines = budget.load_lines(demo_db, no)
    ferry = next(x for x in lines if x.description.startswith("Ferry"))
    assert ferry.amount == Decimal("91.00")
    indirect = next(x for x in lines if x.category == "indirect")
    assert indirect.amount == Decimal("1920.60")  # 20 % of 9,512 + 91
    assert budget.load_sources(demo_db, no)["own_cash"].amount == Decimal("300.00")


def _edited(data: bytes, sheet_name: str, edits: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    sheet = book[sheet_name]
    for ref, value in edits.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_bad_workbooks_are_refused_by_sheet_and_cell_and_nothing_is_stored(
    app, demo_db: Session
) -> None:
    anna = signed_in(app, "anna@demo.engage")
    good = download(anna, demo_db)
    sheet = "Stowarzyszenie Morze Możliwości"
    before = row_counts(demo_db)
    row = FIRST_LINE
    cases = [
        (
            {f"B{row}": "=cmd|' /C calc'!A0"},
            f"Sheet “{sheet}”, cell B{row}: Text that starts with =, +, - or @ would run as a "
            "formula",
        ),
        ({f"B{row + 1}": "@SUM(1+1)"}, f"cell B{row + 1}: Text that starts with"),
        ({f"D{row}": "many"}, f"cell D{row}: Enter a number."),
        ({f"D{row}": -3}, f"cell D{row}: Enter zero or more."),
        ({f"E{row}": 10**15}, f"cell E{row}: Enter at most 999,999,999,999.99."),
        ({f"A{row}": "Catering"}, f"cell A{row}: Unknown cost category."),
        ({"B2": "not-a-partner"}, "cell B2: This partner ID is not in the proposal."),
        ({"A16": None}, "cell A16: This is not where Engage expects this heading"),
        ({f"B{FUNDING_ROWS['grant']}": "lots"}, f"cell B{FUNDING_ROWS['grant']}: Enter a number."),
        ({"B2001": "Hidden far below"}, "cell A2001: Engage reads cost lines up to row 2000"),
    ]
    for edits, message in cases:
        # A good change next to the bad one: it must not be stored either.
        data = _edited(good, sheet, {**edits, f"B{FUNDING_ROWS['own_cash']}": 999})
        response = upload(anna, demo_db, data)
        assert response.status_code == 422, edits
        assert any(message in e for e in upload_errors(response)), (
            message,
            upload_errors(response),
        )
        assert row_counts(demo_db) == before
    for data, message in [
        (b"PK\x03\x04 not really a zip", "This file is not an Excel workbook (.xlsx)."),
        (b"", "This file is not an Excel workbook (.xlsx)."),
    ]:
        response = upload(anna, demo_db, data)
        assert response.status_code == 422
        assert message in upload_errors(response)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    response = upload(anna, demo_db, bomb.getvalue())
    assert upload_errors(response) == [
        "This workbook unpacks to more than 50 MB; it cannot be a budget."
    ]
    response = anna.post(url(demo_db, "/workbook"), data={"csrf_token": csrf(anna)})
    assert upload_errors(response) == ["Choose the workbook to upload."]
    assert row_counts(demo_db) == before
    # A mentor cannot import at all.
    marta = signed_in(app, "marta@demo.engage")
    before = row_counts(demo_db)
    assert upload(marta, demo_db, good).status_code == 403
    assert row_counts(demo_db) == before


def _recalculated_csv(data: bytes, tmp_path: Path) -> list[list[str]]:
    """LibreOffice opens the workbook, computes every formula, and writes the summary as CSV."""
    profile = tmp_path / "lo-profile"
    (profile / "user").mkdir(parents=True)
    # Recalculate formulas on load, always (the workbook carries no cached results anyway).
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
        "</oor:items>\n"
    )
    source = tmp_path / "budget.xlsx"
    source.write_bytes(data)
    out = tmp_path / "out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,1",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    result = out / "budget-Summary.csv"  # one file per sheet asked for: the summary
    assert result.exists(), "LibreOffice exited without writing the CSV"
    return list(csv.reader(io.StringIO(result.read_text(encoding="utf-8"))))


def test_libreoffice_computes_the_same_totals_as_the_page(
    app, demo_db: Session, tmp_path: Path
) -> None:
    anna = signed_in(app, "anna@demo.engage")
    page = consortium_figures(anna.get(url(demo_db)).text)
    rows = _recalculated_csv(download(anna, demo_db), tmp_path)
    header = rows[2]
    consortium = next(r for r in rows if r and r[0] == "Consortium")
    figures = dict(zip(header, consortium, strict=True))

    def money(text: str) -> Decimal:
        return Decimal(text.replace("€", "").replace(",", ""))

    assert Decimal(figures["Total costs"]) == money(page["total-costs"]) == Decimal("84314.40")
    assert Decimal(figures["Total funding"]) == money(page["total-funding"])
    assert Decimal(figures["Grant requested"]) == money(page["grant"])
    assert Decimal(figures["In-kind contribution"]) == money(page["in_kind"])
    snapshot: BudgetSnapshot = budget.budget_snapshot(demo_db, the_proposal(demo_db))
    for category in snapshot.categories:
        assert Decimal(figures[category.title]) == snapshot.category_total(category.key)


def test_the_workbook_writer_is_pure_and_deterministic() -> None:
    snapshot = BudgetSnapshot(currency="EUR")
    assert budget_workbook(snapshot) == budget_workbook(snapshot)
