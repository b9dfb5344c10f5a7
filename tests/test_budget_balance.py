"""Balancing a partner's funding in one step: the grant follows the costs at the call's rate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from proposals.calls.loader import parse_profile
from proposals.domain import budget
from proposals.forms import FormErrors
from proposals.models import FundingSource
from tests.budget_helpers import line_form, partner, seeded, signed_in, url
from tests.conftest import post

CALLS = Path(__file__).resolve().parent.parent / "proposals" / "calls"


@pytest.fixture
def demo_db(db: Session) -> Session:
    return seeded(db)


def funding(**amounts: str) -> budget.FundingForm:
    fields = {"grant": "0", "own_cash": "0", "other_donor": "0", "national": "0", **amounts}
    return budget.FundingForm.model_validate(fields)


def test_the_grant_closes_the_gap_up_to_the_calls_rate() -> None:
    interreg = parse_profile((CALLS / "interreg-south-baltic-small.yaml").read_text())
    assert budget.grant_limit(interreg, "PL") == Decimal(80)
    costs = Decimal("10000.01")
    # Within the rate: only the grant moves, the own contribution is kept.
    data = budget.balanced(interreg, "PL", costs, funding(own_cash="3000"), "grant")
    assert (data.grant, data.own_cash) == (Decimal("7000.01"), Decimal("3000"))
    # Beyond the rate: the grant stops at 80 % (rounded down), the own contribution rises.
    data = budget.balanced(interreg, "PL", costs, funding(own_cash="100"), "grant")
    assert (data.grant, data.own_cash) == (Decimal("8000.00"), Decimal("2000.01"))
    # The own contribution alone closes the gap, keeping the grant asked for.
    data = budget.balanced(interreg, "PL", costs, funding(grant="5000", national="1"), "own_cash")
    assert (data.grant, data.own_cash) == (Decimal("5000"), Decimal("4999.01"))
    # Sources beyond the costs cannot be balanced: a message, not a negative grant.
    with pytest.raises(FormErrors) as caught:
        budget.balanced(interreg, "PL", costs, funding(national="20000"), "grant")
    assert "lower them first" in caught.value.errors["grant"]


def test_balance_with_grant_over_http(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    assert post(ola, url(demo_db, f"/{no.public_id}/lines"), line_form()).status_code == 200
    page = ola.get(url(demo_db))
    assert "Costs and funding differ by" in page.text
    assert "Balance with grant at 100%" in page.text
    sources = {s.kind: s.amount for s in demo_db.query(FundingSource).filter_by(partner_id=no.id)}
    form = {
        "grant": str(sources.get("grant", 0)),
        "own_cash": str(sources.get("own_cash", 0)),
        "in_kind_hours": "",
        "in_kind": str(sources.get("in_kind", 0)),
        "other_donor": "0",
        "national": "0",
        "balance": "grant",
    }
    response = post(
        ola, url(demo_db, f"/{no.public_id}/funding"), form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200, response.text[:2000]
    assert "The funding is balanced and saved." in response.text
    demo_db.expire_all()
    after = {s.kind: s.amount for s in demo_db.query(FundingSource).filter_by(partner_id=no.id)}
    # The line (2 x 100.00) and the 20 % flat rate for indirect costs on it.
    assert after["grant"] == sources["grant"] + Decimal("240.00")
    assert after.get("own_cash") == sources.get("own_cash")
    assert "Costs and funding differ by" not in ola.get(url(demo_db)).text
    # A forged choice is an ordinary save, never an error page.
    form["balance"] = "<script>"
    form["grant"] = str(after["grant"])
    response = post(ola, url(demo_db, f"/{no.public_id}/funding"), form)
    assert response.status_code in (200, 303)
