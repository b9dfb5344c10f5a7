"""Budgets over HTTP: lines, flat rates, funding, checks, access, conflicts, history, htmx."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from proposals.models import BudgetChange, FundingSource
from tests.budget_helpers import (
    consortium_figures,
    field_errors_of,
    line_form,
    lines_of,
    partner,
    seeded,
    signed_in,
    url,
)
from tests.conftest import post, row_counts
from tests.consortium_helpers import browser


@pytest.fixture
def demo_db(db: Session) -> Session:
    return seeded(db)


def test_demo_budget_balances_and_passes_the_calls_checks(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage")
    page = anna.get(url(demo_db))
    assert page.status_code == 200, page.text[:3000]
    figures = consortium_figures(page.text)
    assert figures["total-costs"] == "€84,314.40"
    assert figures["total-funding"] == "€84,314.40"
    assert "Not met:" not in page.text


def test_a_line_is_read_in_the_users_locale_and_amounts_follow(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage", "pl")
    pl = partner(demo_db, "PL")
    response = post(
        anna,
        url(demo_db, f"/{pl.public_id}/lines"),
        line_form(quantity="1,5", unit_cost="1 000,25"),
    )
    assert response.status_code == 200, response.text[:2000]
    line = lines_of(demo_db, "PL")[-1]
    assert (line.quantity, line.unit_cost, line.amount) == (
        Decimal("1.50"),
        Decimal("1000.25"),
        Decimal("1500.38"),  # 1500.375 rounded half-up, once, at the line
    )
    indirect = next(x for x in lines_of(demo_db, "PL") if x.category == "indirect")
    # The flat rate follows its base: 20 % of staff, travel, equipment and other.
    assert indirect.unit_cost == Decimal("44700.00") + Decimal("1500.38")
    assert indirect.amount == Decimal("9240.08")  # 20 % of 46,200.38 = 9,240.076
    # In English "1,5" is not one and a half: refused, not misread as 15.
    ola = signed_in(app, "ola@demo.engage", "en")
    no = partner(demo_db, "NO")
    before = row_counts(demo_db)
    response = post(ola, url(demo_db, f"/{no.public_id}/lines"), line_form(quantity="1,5"))
    assert response.status_code == 422
    assert "Enter a number, for example 1,234.50." in field_errors_of(response)["quantity"]
    assert row_counts(demo_db) == before
    response = post(ola, url(demo_db, f"/{no.public_id}/lines"), line_form(quantity="1.5"))
    assert response.status_code == 200
    assert lines_of(demo_db, "NO")[-1].amount == Decimal("150.00")


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


def test_a_line_in_another_currency_is_converted_per_line(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    fields = line_form(
        quantity="3",
        unit_cost="1234.56",
        currency="nok",
        exchange_rate="0.0845",
        rate_date="2026-11-02",
    )
    response = post(ola, url(demo_db, f"/{no.public_id}/lines"), fields)
    assert response.status_code == 200, field_errors_of(response)
    line = lines_of(demo_db, "NO")[-1]
    assert (line.currency, line.exchange_rate, str(line.rate_date)) == (
        "NOK",
        Decimal("0.084500"),
        "2026-11-02",
    )
    assert line.amount == Decimal("312.96")  # 3 × 1,234.56 × 0.0845 = 312.95568


def test_partners_edit_only_their_own_budget_mentors_read(app, demo_db: Session) -> None:
    no, lt = partner(demo_db, "NO"), partner(demo_db, "LT")
    ola = signed_in(app, "ola@demo.engage")
    marta = signed_in(app, "marta@demo.engage")
    anna = signed_in(app, "anna@demo.engage")
    before = row_counts(demo_db)
    assert post(ola, url(demo_db, f"/{lt.public_id}/lines"), line_form()).status_code == 403
    assert post(marta, url(demo_db, f"/{no.public_id}/lines"), line_form()).status_code == 403
    line = lines_of(demo_db, "NO")[0]
    path = url(demo_db, f"/{no.public_id}/lines/{line.public_id}")
    assert post(marta, path, line_form(version=line.version)).status_code == 403
    assert post(marta, path + "/delete", {"version": line.version}).status_code == 403
    funding = {"grant": "1", "own_cash": "0", "other_donor": "0", "national": "0"}
    assert post(marta, url(demo_db, f"/{no.public_id}/funding"), funding).status_code == 403
    assert row_counts(demo_db) == before
    # The mentor reads the budget, without any form to change it.
    page = marta.get(url(demo_db))
    assert page.status_code == 200
    assert "Add line" not in page.text and "Save funding" not in page.text
    # Ola sees forms for her own partner only; the coordinator for all three.
    assert ola.get(url(demo_db)).text.count("Save funding") == 1
    assert anna.get(url(demo_db)).text.count("Save funding") == 3
    assert post(anna, url(demo_db, f"/{lt.public_id}/lines"), line_form()).status_code == 200
    # Someone outside the consortium does not learn the proposal exists.
    outsider = browser(app)
    assert outsider.get(url(demo_db)).status_code in (200, 303)  # sent to sign in
    assert "Budget" not in outsider.get(url(demo_db)).text.split("<main", 1)[-1][:200]


def test_two_people_saving_the_same_line_get_a_clear_conflict(app, demo_db: Session) -> None:
    anna, ola = signed_in(app, "anna@demo.engage"), signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    line = lines_of(demo_db, "NO")[1]
    path = url(demo_db, f"/{no.public_id}/lines/{line.public_id}")
    seen = line.version
    first = post(anna, path, line_form(quantity="5", unit_cost="350", version=seen))
    assert first.status_code == 200
    second = post(ola, path, line_form(quantity="7", unit_cost="350", version=seen))
    assert second.status_code == 409
    assert "Someone else changed these figures a moment ago" in html.unescape(second.text)
    assert lines_of(demo_db, "NO")[1].quantity == Decimal("5.00")
    # Funding: the same, by the figures the form was shown with.
    page = ola.get(url(demo_db)).text.split(f'id="p-{no.public_id}"', 1)[1]
    stamp = re.search(r'name="stamp" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
    funding = {"grant": "1000", "own_cash": "0", "other_donor": "0", "national": "0"}
    assert (
        post(
            anna, url(demo_db, f"/{no.public_id}/funding"), {**funding, "stamp": stamp}
        ).status_code
        == 200
    )
    late = post(
        ola, url(demo_db, f"/{no.public_id}/funding"), {**funding, "grant": "5", "stamp": stamp}
    )
    assert late.status_code == 409
    demo_db.expire_all()
    grant = demo_db.scalars(
        select(FundingSource).where(
            FundingSource.partner_id == no.id, FundingSource.kind == "grant"
        )
    ).one()
    assert grant.amount == Decimal("1000.00")


def test_the_calls_rules_are_flagged_beside_the_figures(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage")
    pl = partner(demo_db, "PL")
    response = post(anna, url(demo_db, f"/{pl.public_id}/flat/indirect"), {"rate": "25"})
    assert response.status_code == 200
    page = html.unescape(anna.get(url(demo_db)).text)
    section = page.split(f'id="p-{pl.public_id}"', 1)[1].split("</section>", 1)[0]
    assert "Indirect costs are €11,175.00; the flat rate allows €8,940.00." in section
    # The grant above the call's maximum is a consortium finding, in the summary.
    funding = {
        "grant": "200000",
        "own_cash": "1000",
        "in_kind_hours": "400",
        "other_donor": "0",
        "national": "0",
    }
    post(anna, url(demo_db, f"/{pl.public_id}/funding"), funding)
    page = html.unescape(anna.get(url(demo_db)).text)
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "is above the maximum of €80,000.00" in summary
    section = page.split(f'id="p-{pl.public_id}"', 1)[1].split("</section>", 1)[0]
    assert "the sources of funding add up to" in section


def test_in_kind_is_hours_times_the_calls_hourly_value(app, demo_db: Session) -> None:
    ruta = signed_in(app, "ruta@demo.engage")
    lt = partner(demo_db, "LT")
    funding = {
        "grant": "14000",
        "own_cash": "0",
        "in_kind_hours": "76,5",
        "other_donor": "0",
        "national": "0",
    }
    ruta.cookies.set("engage_lang", "pl")
    response = post(ruta, url(demo_db, f"/{lt.public_id}/funding"), funding)
    assert response.status_code == 200, field_errors_of(response)
    demo_db.expire_all()
    source = demo_db.scalars(
        select(FundingSource).where(
            FundingSource.partner_id == lt.id, FundingSource.kind == "in_kind"
        )
    ).one()
    assert (source.hours, source.amount) == (Decimal("76.50"), Decimal("765.00"))


def test_history_says_who_changed_which_figure(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    line = lines_of(demo_db, "NO")[1]
    path = url(demo_db, f"/{no.public_id}/lines/{line.public_id}")
    post(
        ola,
        path,
        line_form(
            description=line.description, quantity="5", unit_cost="350", version=line.version
        ),
    )
    demo_db.expire_all()
    changes = demo_db.scalars(select(BudgetChange).order_by(BudgetChange.id.desc())).all()
    quantity = next(c for c in changes if c.field == "quantity")
    assert (quantity.actor.name, quantity.old, quantity.new) == ("Ola Nordmann", "4.00", "5.00")
    page = html.unescape(ola.get(url(demo_db, "/history")).text)
    assert "Ola Nordmann" in page and "Quantity" in page


def test_htmx_gets_the_budget_region_with_fresh_totals(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    response = post(
        ola,
        url(demo_db, f"/{no.public_id}/lines"),
        line_form(quantity="1", unit_cost="100"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith("{") is False
    assert '<div id="budget"' in response.text and "<html" not in response.text
    assert consortium_figures(response.text)["total-costs"] == "€84,434.40"  # + 100 + 20 % flat
    assert "The line is added." in response.text


def test_the_budget_page_speaks_polish_with_polish_numbers(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage", "pl")
    page = html.unescape(anna.get(url(demo_db)).text)
    assert "Pobierz budżet" in page and "Wkład niepieniężny" in page
    assert consortium_figures(page)["total-costs"] == "84\xa0314,40\xa0€"
    # The funding form shows the figures as a Polish user types them.
    assert 'value="53140,00"' in page


def test_without_javascript_a_line_is_edited_on_its_own_page(app, demo_db: Session) -> None:
    ola = signed_in(app, "ola@demo.engage")
    no = partner(demo_db, "NO")
    line = lines_of(demo_db, "NO")[1]
    seen, line_id = line.version, line.public_id
    page = ola.get(url(demo_db, f"?edit={line.public_id}")).text
    assert (
        f'action="/proposals/{no.proposal.public_id}/budget/{no.public_id}/lines/{line.public_id}"'
        in page
    )
    assert "Save line" in page and f'name="version" value="{line.version}"' in page
    response = post(
        ola,
        url(demo_db, f"/{no.public_id}/lines/{line.public_id}"),
        line_form(quantity="5", unit_cost="350", version=line.version),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/budget#p-{no.public_id}")
    delete = post(
        ola,
        url(demo_db, f"/{no.public_id}/lines/{line.public_id}/delete"),
        {"version": seen + 1},
    )
    assert delete.status_code == 200 and "The line is deleted." in html.unescape(delete.text)
    assert all(x.public_id != line_id for x in lines_of(demo_db, "NO"))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1 500,00", Decimal("1500.00")),
        ("1.500,00", Decimal("1500.00")),
        ("1500,5", Decimal("1500.50")),
        ("1\u00a0500,00", Decimal("1500.00")),
        ("1,500.00", Decimal("1500.00")),
    ],
)
def test_polish_amounts_are_read_as_people_type_them(
    app, demo_db: Session, typed: str, stored: Decimal
) -> None:
    anna = signed_in(app, "anna@demo.engage", "pl")
    pl = partner(demo_db, "PL")
    response = post(
        anna, url(demo_db, f"/{pl.public_id}/lines"), line_form(quantity="1", unit_cost=typed)
    )
    assert response.status_code == 200, field_errors_of(response)
    assert lines_of(demo_db, "PL")[-1].unit_cost == stored


@pytest.mark.parametrize("typed", ["1.500", "1500.5", "1.50.0,00", "1,5.00"])
def test_an_ambiguous_polish_amount_is_refused_not_guessed(
    app, demo_db: Session, typed: str
) -> None:
    anna = signed_in(app, "anna@demo.engage", "pl")
    pl = partner(demo_db, "PL")
    before = row_counts(demo_db)
    response = post(
        anna, url(demo_db, f"/{pl.public_id}/lines"), line_form(quantity="1", unit_cost=typed)
    )
    assert response.status_code == 422
    assert "Wpisz liczbę, na przykład 1\u00a0234,50." in field_errors_of(response)["unit_cost"]
    assert row_counts(demo_db) == before


def test_history_shows_amounts_in_full_in_the_readers_language(app, demo_db: Session) -> None:
    anna = signed_in(app, "anna@demo.engage", "pl")
    pl = partner(demo_db, "PL")
    post(
        anna,
        url(demo_db, f"/{pl.public_id}/lines"),
        line_form(quantity="1", unit_cost="13 830,60"),
    )
    page = html.unescape(anna.get(url(demo_db, "/history")).text)
    assert "13\u00a0830,60\u00a0€" in page
    assert "13830.60" not in page
    ola = signed_in(app, "ola@demo.engage", "en")
    page = html.unescape(ola.get(url(demo_db, "/history")).text)
    assert "€13,830.60" in page
