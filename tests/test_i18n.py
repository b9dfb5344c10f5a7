"""Languages: the Polish catalogue is complete, the switcher works, formats follow the locale."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from proposals import i18n
from tests.conftest import make_user, post, sign_in

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _source_messages() -> set[str]:
    """Every message the code and templates ask to translate, extracted as pybabel does."""
    method_map = [
        ("proposals/**.py", "python"),
        ("workflow/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "N_": None,
    }
    found: set[str] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    path = ROOT / "proposals" / "translations" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def test_polish_catalogue_translates_every_message_in_the_source():
    catalog = _catalog("pl")
    missing = sorted(
        m for m in _source_messages() if not (catalog.get(m) and catalog.get(m).string)
    )
    assert missing == [], f"untranslated in Polish: {missing[:10]} (run the i18n steps in README)"


def test_polish_catalogue_has_no_fuzzy_entries_and_keeps_placeholders():
    for message in _catalog("pl"):
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        source = message.id if isinstance(message.id, str) else message.id[0]
        target = message.string if isinstance(message.string, str) else message.string[0]
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(target)), source


def test_accept_language_chooses_polish(client):
    response = client.get("/signin", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert '<html lang="pl">' in response.text
    assert "Zaloguj się" in response.text


def test_language_switcher_sets_cookie_and_account_locale(client, db):
    user = make_user(db, locale="en")
    sign_in(client)
    response = post(client, "/language", {"locale": "pl", "next": "/organisations"})
    assert response.url.path == "/organisations"
    assert "Twoje organizacje" in response.text
    assert client.cookies.get("engage_lang") == "pl"
    db.refresh(user)
    assert user.locale == "pl"


def test_language_switcher_ignores_unknown_language_and_foreign_next(client):
    response = post(
        client,
        "/language",
        {"locale": "xx", "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "engage_lang" not in response.cookies


def test_dates_and_numbers_follow_the_locale():
    moment = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)  # already 2 March in Warsaw
    i18n.set_locale("pl", "Europe/Warsaw")
    assert i18n.format_number(Decimal("1234567.5")) == "1\xa0234\xa0567,5"
    assert i18n.format_date(moment) == "2 mar 2026"
    assert i18n.format_percent(Decimal("0.6975")) == "69,75%"
    i18n.set_locale("en", "Europe/Warsaw")
    assert i18n.format_number(Decimal("1234567.5")) == "1,234,567.5"
    assert i18n.format_date(moment) == "Mar 2, 2026"
    assert i18n.format_percent(Decimal("0.6975")) == "69.75%"


def test_country_and_language_names_are_localised():
    i18n.set_locale("pl")
    assert i18n.country_name("NO") == "Norwegia"
    assert i18n.language_name("lt") == "Litewski"
    i18n.set_locale("en")
    assert i18n.country_name("LT") == "Lithuania"
    assert ("PL", "Poland") in i18n.country_choices()
