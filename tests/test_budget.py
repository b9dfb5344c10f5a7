"""Budgets over HTTP: lines, flat rates, funding, checks, access, conflicts, history, workbook."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals import demo
from proposals.models import BudgetChange, BudgetLine, FundingSource, Partner, Proposal
from tests.conftest import post, row_counts, sign_in
from tests.consortium_helpers import browser, field_errors

AMOUNT = re.compile(r'data-figure="([\w-]+)">([^<]*)<')


@pytest.fixture
def demo_db(db: Session) -> Session:
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


def test_demo_budget_balances_and_passes_the_calls_checks(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage")
    page = anna.get(url(demo_db))
    assert page.status_code == 200, page.text[:3000]
    figures = consortium_figures(page.text)
    assert figures["total-costs"] == "€84,314.40"
    assert figures["total-funding"] == "€84,314.40"
    assert "Not met:" not in page.text
