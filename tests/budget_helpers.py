"""Arrange and read helpers shared by the budget tests (on the demo consortium)."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals import demo
from proposals.models import BudgetLine, Partner, Proposal
from tests.conftest import post, row_counts, sign_in

AMOUNT = re.compile(r'data-figure="([\w-]+)">([^<]*)<')


def seeded(db: Session) -> Session:
    """The demo data (consortium, sections, budget) in ``db``."""
    demo.seed(db)
    db.commit()
    return db


def signed_in(app, email: str, locale: str = "en") -> TestClient:  # type: ignore[no-untyped-def]
    """A demo person's browser, showing the interface in ``locale``."""
    client = TestClient(app, raise_server_exceptions=False)
    sign_in(client, email=email, password=demo.DEMO_PASSWORD)
    client.cookies.set("engage_lang", locale)
    return client


def the_proposal(db: Session) -> Proposal:
    db.expire_all()
    return db.scalars(select(Proposal)).one()


def partner(db: Session, country: str) -> Partner:
    return next(p for p in the_proposal(db).partners if p.organisation.country == country)


def url(db: Session, tail: str = "") -> str:
    return f"/proposals/{the_proposal(db).public_id}/budget{tail}"


def consortium_figures(text: str) -> dict[str, str]:
    """The consortium row's figures on the budget page (the first of each kind)."""
    block = text.split('data-total="consortium"', 1)[1].split("</tr>", 1)[0]
    return {k: html.unescape(v).strip() for k, v in AMOUNT.findall(block)}


def line_form(**fields: object) -> dict[str, object]:
    return {
        "category": "travel",
        "description": "Bus to Kristiansand",
        "unit": "person",
        "quantity": "2",
        "unit_cost": "100.00",
        "period": "",
        "currency": "",
        "exchange_rate": "",
        "rate_date": "",
        **fields,
    }


def lines_of(db: Session, country: str) -> list[BudgetLine]:
    db.expire_all()
    return list(
        db.scalars(
            select(BudgetLine)
            .where(BudgetLine.partner_id == partner(db, country).id)
            .order_by(BudgetLine.id)
        )
    )


def field_errors_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Field name -> message in the budget forms (ids are prefixed per partner and form)."""
    found = re.findall(r'<p class="error" id="[\w-]+?-(\w+)-e">(.*?)</p>', response.text, re.S)
    return {k: html.unescape(v).strip() for k, v in found}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"quantity": "-2"}, "quantity", "Enter zero or more; a negative figure is not allowed"),
        ({"unit_cost": "1000000000000000"}, "unit_cost", "Enter at most 999,999,999,999.99."),
        ({"unit_cost": "ten euro"}, "unit_cost", "Enter a number, for example 1,234.50."),
        ({"unit_cost": "NaN"}, "unit_cost", "Enter a number"),
        ({"unit_cost": "12.345"}, "unit_cost", "Use at most 2 decimals."),
        ({"quantity": ""}, "quantity", "This field is required."),
        ({"description": "=cmd|' /C calc'!A0"}, "description", "a spreadsheet reads =, +, - or @"),
        ({"description": "@SUM(A1)"}, "description", "a spreadsheet reads =, +, - or @"),
        ({"category": "indirect"}, "category", "Choose one of the options."),
        ({"currency": "XYZ"}, "currency", "Enter a currency code"),
        ({"currency": "NOK"}, "exchange_rate", "Give the rate from NOK to EUR."),
        (
            {"quantity": "999999999999", "unit_cost": "999999999999"},
            "quantity",
            "The amount would be above",
        ),
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_stored(
    app, demo_db: Session, fields: dict[str, str], field: str, message: str
) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    before = row_counts(demo_db)
    response = post(ola, url(demo_db, f"/{no.public_id}/lines"), line_form(**fields))
    assert response.status_code == 422
    assert message in field_errors_of(response).get(field, ""), field_errors_of(response)
    assert row_counts(demo_db) == before
    # The user's text is kept in the form.
    for name, value in fields.items():
        if name == "category":
            continue  # a select: only the call's categories are offered
        assert (
            f'value="{html.escape(value, quote=True)}"'.replace("&#x27;", "&#39;") in response.text
        )
