"""Arrange and read helpers shared by the budget tests (on the demo consortium)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals import demo
from proposals.models import BudgetLine, Partner, Proposal
from tests import support

AMOUNT = re.compile(r'data-figure="([\w-]+)">([^<]*)<')


def seeded(db: Session) -> Session:
    """The demo data (consortium, sections, budget) in ``db``."""
    demo.seed(db)
    db.commit()
    return db


def signed_in(app, email: str, locale: str = "en") -> TestClient:  # type: ignore[no-untyped-def]
    """A demo person's browser, showing the interface in ``locale``."""
    return support.signed_in(app, email, demo.DEMO_PASSWORD, locale)


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
