"""Response headers are built only from clean values: no control character from a form,
a name or a file name reaches a header, and letters beyond ASCII are encoded, not a 500."""

from __future__ import annotations

import pytest

from tests.conftest import csrf, make_user, post
from tests.consortium_helpers import person, start_proposal

CONTROL = [chr(c) for c in range(0x20)] + ["\x7f"]


def _clean(value: str) -> bool:
    return value.isascii() and not any(ch in CONTROL for ch in value)


@pytest.mark.parametrize(
    "target", ["/ideas\r\nSet-Cookie: engage_session=stolen", "/ideas\x7f", "/ideas\n", "/ide\tas"]
)
def test_language_switch_refuses_a_next_with_control_characters(client, target):
    token = csrf(client)
    htmx = client.post(
        "/language",
        data={"locale": "pl", "next": target},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert htmx.status_code == 204
    assert htmx.headers["HX-Redirect"] == "/"
    assert "engage_session=stolen" not in htmx.headers.get("set-cookie", "")
    plain = post(client, "/language", {"locale": "en", "next": target}, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == "/"


def test_language_switch_back_to_a_page_with_polish_letters_is_encoded(client):
    token = csrf(client)
    response = client.post(
        "/language",
        data={"locale": "pl", "next": "/ideas?q=Łódź"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/ideas?q=%C5%81%C3%B3d%C5%BA"


def test_budget_workbook_of_a_polish_acronym_downloads_with_a_clean_file_name(app, db):
    anna = person(app, db, "anna@example.org", "Anna Lead", "Fundacja Fala")
    pid = start_proposal(anna, acronym="ŁÓDŹ-24")
    response = anna.client.get(f"/proposals/{pid}/budget/workbook")
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert _clean(disposition), disposition
    assert disposition == (
        "attachment; filename=\"LODZ-24-budget.xlsx\"; filename*=UTF-8''"
        "%C5%81%C3%93D%C5%B9-24-budget.xlsx"
    )


@pytest.mark.parametrize("field", ["signup", "account"])
def test_names_lose_line_breaks_and_control_characters_on_input(client, db, field):
    from proposals.models import User

    name = "Łukasz\r\nBcc: all@example.org\x0b\u2028Żółć"
    if field == "signup":
        data = {"name": name, "email": "lz@example.org", "password": "correct horse battery"}
        assert post(client, "/signup", data).status_code == 200
    else:
        make_user(db, email="lz@example.org", name="Łukasz")
        post(client, "/signin", {"email": "lz@example.org", "password": "correct horse battery"})
        data = {"name": name, "locale": "en", "email_notifications": "immediately"}
        assert post(client, "/account", data).status_code == 200
    db.expire_all()
    stored = db.query(User).filter_by(email="lz@example.org").one().name
    assert stored == "Łukasz Bcc: all@example.org Żółć"
