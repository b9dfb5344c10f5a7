"""Money, property-based: rounded lines, exact totals, shares of 100.00 %, rules at the cent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exports.budget import BudgetSnapshot, Line, PartnerBudget
from proposals.calls.checks import run_checks
from proposals.calls.facts import PartnerFacts, ProposalFacts
from proposals.calls.loader import SHIPPED_DIR, parse_profile
from proposals.calls.schema import CallProfile
from proposals.domain import budget
from proposals.i18n import set_locale
from proposals.money import percent_shares, to_cents

CENT = Decimal("0.01")
cents = st.decimals(min_value=0, max_value=Decimal("9999999.99"), places=2)
quantities = st.decimals(min_value=0, max_value=Decimal("10000"), places=2)
rates = st.one_of(st.none(), st.decimals(min_value="0.000001", max_value="50", places=6))


def shipped(call_id: str) -> CallProfile:
    return parse_profile((SHIPPED_DIR / f"{call_id}.yaml").read_text(encoding="utf-8"))


def acf() -> CallProfile:
    return shipped("acf-poland-national")


@given(st.lists(st.tuples(quantities, cents, rates), max_size=30))
def test_totals_are_sums_of_lines_rounded_once_to_the_cent(rows) -> None:  # type: ignore[no-untyped-def]
    lines = []
    for quantity, unit_cost, rate in rows:
        amount = budget.line_amount(quantity, unit_cost, rate)
        exact = quantity * unit_cost * (rate or 1)
        assert amount == exact.quantize(CENT) or abs(amount - exact) <= Decimal("0.005")
        assert amount.as_tuple().exponent == -2
        lines.append(Line("staff", "x", amount, quantity=quantity, unit_cost=unit_cost))
    partner = PartnerBudget("p", "P", "PL", lines=tuple(lines))
    snapshot = BudgetSnapshot("EUR", partners=(partner, partner))
    assert partner.total_costs == sum((line.amount for line in lines), Decimal("0.00"))
    assert snapshot.total_costs == 2 * partner.total_costs
    assert type(snapshot.total_costs) is Decimal


@given(st.lists(cents, min_size=1, max_size=8))
def test_shares_add_up_to_exactly_100_00(parts) -> None:  # type: ignore[no-untyped-def]
    shares = percent_shares(parts)
    if sum(parts) == 0:
        assert shares is None
        return
    assert shares is not None
    assert sum(shares) == Decimal("100.00")
    total = sum(parts)
    for part, share in zip(parts, shares, strict=True):
        assert abs(share - part * 100 / total) < CENT
        assert share.as_tuple().exponent == -2


def test_shares_refuse_floats() -> None:
    with pytest.raises(TypeError):
        percent_shares([0.1, Decimal(1)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        to_cents(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        budget.parse_number(0.1)


def facts_with(**money: object) -> ProposalFacts:
    partner = PartnerFacts("p", "Org", "PL", "lead", **money)  # type: ignore[arg-type]
    return ProposalFacts(now=datetime(2020, 1, 1, tzinfo=UTC), partners=(partner,))


def found(name: str, facts: ProposalFacts) -> list[str]:
    set_locale("en")
    return [f.message for f in run_checks(acf(), facts, ["budget"]) if f.check == name]


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=0, max_value=Decimal("500000"), places=2))
def test_flat_rate_at_the_cent_page_and_check_agree(base) -> None:  # type: ignore[no-untyped-def]
    """The line the page computes at the call's rate passes; one cent more is flagged."""
    allowed = budget.flat_amount(base, Decimal(20))
    costs = {"staff": base}
    assert found("flat_rates", facts_with(costs={**costs, "indirect": allowed})) == []
    over = found("flat_rates", facts_with(costs={**costs, "indirect": allowed + CENT}))
    assert len(over) == 1


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value="1000", max_value="100000", places=2))
def test_grant_limits_at_the_cent(grant) -> None:  # type: ignore[no-untyped-def]
    costs = {"staff": grant}
    at = facts_with(costs=costs, grant=grant)
    assert found("funding_balance", at) == []
    maximum = Decimal("125000.00")
    assert found("grant_limits", facts_with(costs={"staff": maximum}, grant=maximum)) == []
    above = facts_with(costs={"staff": maximum + CENT}, grant=maximum + CENT)
    assert found("grant_limits", above) == [
        "The grant requested, €125,000.01, is above the maximum of €125,000.00."
    ]


def test_grant_rate_at_the_cent() -> None:
    profile = shipped("interreg-south-baltic-small")
    set_locale("en")

    def messages(grant: Decimal, costs: Decimal) -> list[str]:
        facts = facts_with(costs={"staff": costs}, grant=grant)
        return [
            f.message for f in run_checks(profile, facts, ["budget"]) if f.check == "grant_rate"
        ]

    # 80 % of 10,000.01 is 8,000.008: 8,000.00 is within, 8,000.01 is above.
    assert messages(Decimal("8000.00"), Decimal("10000.01")) == []
    assert len(messages(Decimal("8000.01"), Decimal("10000.01"))) == 2  # consortium and partner


@given(
    st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2),
    st.sampled_from(["en", "pl"]),
)
def test_numbers_typed_in_the_users_locale_read_back_exactly(value, locale) -> None:  # type: ignore[no-untyped-def]
    from babel.numbers import format_decimal

    set_locale(locale)
    for pattern in ("#,##0.00", "0.00", "0.##"):
        text = format_decimal(value, format=pattern, locale=locale)
        assert budget.parse_number(text) == value
    set_locale("en")


@pytest.mark.parametrize(
    ("locale", "text", "result"),
    [
        ("pl", "1,5", Decimal("1.50")),
        ("pl", "1 234,50", Decimal("1234.50")),
        ("en", "1.5", Decimal("1.50")),
        ("en", "1,234.50", Decimal("1234.50")),
        ("en", "1,5", None),
        ("pl", "1.5", None),
        ("en", "-1", None),
        ("en", "1e3", None),
        ("en", "1000000000000000", None),
        ("en", "Infinity", None),
    ],
)
def test_parse_number_by_locale(locale: str, text: str, result: Decimal | None) -> None:
    set_locale(locale)
    try:
        if result is None:
            with pytest.raises(ValueError):
                budget.parse_number(text)
        else:
            assert budget.parse_number(text) == result
    finally:
        set_locale("en")
