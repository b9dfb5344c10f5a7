"""Languages: the Polish catalogue is complete, the switcher works, formats follow the locale."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from exports.snapshot import Labels
from proposals import i18n
from tests.conftest import make_organisation, make_user, post, sign_in

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


TRANSLATED = [code for code in i18n.LOCALES if code != i18n.DEFAULT_LOCALE]


def test_every_interface_language_has_a_catalogue():
    assert {"pl", "nb", "lt"} <= set(TRANSLATED)
    for locale in TRANSLATED:
        assert (ROOT / "proposals" / "translations" / locale / "LC_MESSAGES").is_dir()


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_translates_every_message_in_the_source(locale):
    catalog = _catalog(locale)
    missing = sorted(
        m for m in _source_messages() if not (catalog.get(m) and catalog.get(m).string)
    )
    assert missing == [], f"untranslated in {locale}: {missing[:10]} (tools/apply_translations.py)"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_has_no_fuzzy_entries_and_keeps_placeholders(locale):
    catalog = _catalog(locale)
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        if message.pluralizable:
            forms = message.string
            assert len(forms) == catalog.num_plurals, message.id
            assert all(form.strip() for form in forms), message.id
            wanted = set(PLACEHOLDER.findall(message.id[1])) - {"%(num)s"}
            for form in forms:
                assert wanted <= set(PLACEHOLDER.findall(form)), (message.id, form)
                assert set(PLACEHOLDER.findall(form)) <= wanted | {"%(num)s"}, (message.id, form)
            continue
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), message.id


@pytest.mark.parametrize(
    ("locale", "forms"),
    [("pl", 3), ("nb", 2), ("lt", 3)],
)
def test_plural_forms_follow_the_language(locale, forms):
    assert _catalog(locale).num_plurals == forms
    one, few, many = (
        i18n.translations(locale).ngettext("%(num)s idea", "%(num)s ideas", n) % {"num": n}
        for n in (1, 3, 10)
    )
    expected = {
        "pl": ("1 pomysł", "3 pomysły", "10 pomysłów"),
        "nb": ("1 idé", "3 idéer", "10 idéer"),
        "lt": ("1 idėja", "3 idėjos", "10 idėjų"),
    }[locale]
    assert (one, few, many) == expected


@pytest.mark.parametrize(
    ("locale", "opening", "closing"),
    [("pl", "„", "”"), ("nb", "«", "»"), ("lt", "„", "“")],
)
def test_quotation_marks_are_the_language_s_own(locale, opening, closing):
    """Polish „…”, Norwegian «…», Lithuanian „…“: never the English “…” in a translation."""
    for message in _catalog(locale):
        if not message.id or message.pluralizable:
            continue
        if "“" in message.id:
            assert opening in message.string and closing in message.string, message.id
        text = message.string.replace("„", "")
        if locale == "pl":
            assert "“" not in text, message.string
        if locale == "nb":
            assert "“" not in text and "”" not in text, message.string
        if locale == "lt":
            assert "”" not in text, message.string


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
    assert i18n.format_percent(Decimal("0.6975")) == "69.75%"


def test_english_writes_dates_and_times_the_european_way():
    afternoon = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)
    i18n.set_locale("en", "Europe/Warsaw")
    assert i18n.format_date(afternoon) == "1 Dec 2026"
    assert i18n.format_date(afternoon, "short") == "01/12/2026"
    assert i18n.format_datetime(afternoon) == "1 Dec 2026, 14:05:00"
    assert i18n.format_money(Decimal("13830.6"), "EUR") == "€13,830.60"
    i18n.set_locale("nb", "Europe/Oslo")
    assert i18n.format_date(afternoon) == "1. des. 2026"
    assert i18n.format_number(Decimal("13830.6")) == "13\xa0830,6"
    i18n.set_locale("lt", "Europe/Vilnius")
    assert i18n.format_datetime(afternoon).endswith("15:05:00")


US_DATE = re.compile(
    r"\b\d{1,2}/\d{1,2}/\d{2}\b|\d:\d\d(?::\d\d)?\s?[AP]M\b"
    r"|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}"
)


def test_english_pages_show_no_us_dates(client, db):
    user = make_user(db, locale="en")
    make_organisation(db, user)
    sign_in(client)
    post(
        client,
        "/organisations/new",
        {
            "name": "Fala",
            "country": "PL",
            "city": "Gdańsk",
            "legal_form": "foundation",
            "themes": ["youth"],
            "languages": ["pl"],
            "description": "We sail.",
        },
    )
    page = client.get("/account").text
    stamp = re.search(r"signed in (.+?) from", page).group(1)
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2}", stamp), stamp
    for path in ("/account", "/proposals", "/organisations", "/ideas", "/calls"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not US_DATE.search(response.text), (path, US_DATE.search(response.text))


def test_account_chooses_a_time_zone_and_refuses_an_unknown_one(client, db):
    user = make_user(db, locale="en")
    sign_in(client)
    page = client.get("/account").text
    assert '<option value="Europe/Warsaw" selected>' in page
    assert '<option value="Europe/Vilnius">' in page
    form = {"name": "Ewa Nowak", "locale": "en", "email_notifications": "immediately"}
    response = post(client, "/account", {**form, "timezone": "Europe/Vilnius"})
    assert response.status_code == 200 and "Your account is saved." in response.text
    db.refresh(user)
    assert user.timezone == "Europe/Vilnius"
    for bogus in ("Mars/Olympus", "<script>x</script>", "Etc/GMT+3", "x" * 5000):
        response = post(client, "/account", {**form, "timezone": bogus})
        assert response.status_code == 422, bogus
        assert "Choose one of the options." in response.text or "at most 64" in response.text
        db.refresh(user)
        assert user.timezone == "Europe/Vilnius"
    # A form without the field keeps the zone.
    post(client, "/account", form)
    db.refresh(user)
    assert user.timezone == "Europe/Vilnius"


@pytest.mark.parametrize(
    ("country", "zone"), [("NO", "Europe/Oslo"), ("LT", "Europe/Vilnius"), ("PL", "Europe/Warsaw")]
)
def test_first_organisation_sets_the_time_zone_until_the_person_chooses(client, db, country, zone):
    user = make_user(db, locale="en")
    sign_in(client)
    profile = {
        "name": "Frivillig",
        "country": country,
        "city": "Kristiansand",
        "legal_form": "association",
        "themes": ["youth"],
        "languages": ["en"],
        "description": "We volunteer.",
    }
    post(client, "/organisations/new", profile)
    db.refresh(user)
    assert user.timezone == zone
    # A second organisation elsewhere does not move it.
    post(client, "/organisations/new", {**profile, "name": "Other", "country": "IS"})
    db.refresh(user)
    assert user.timezone == zone
    assert i18n.country_timezone("ZZ") == i18n.DEFAULT_TIMEZONE


def test_country_and_language_names_are_localised():
    i18n.set_locale("pl")
    assert i18n.country_name("NO") == "Norwegia"
    assert i18n.language_name("lt") == "Litewski"
    i18n.set_locale("en")
    assert i18n.country_name("LT") == "Lithuania"
    assert ("PL", "Poland") in i18n.country_choices()


@pytest.mark.parametrize(
    ("header", "lang", "words"),
    [
        ("nb-NO,nb;q=0.9,en;q=0.5", "nb", "Logg inn"),
        ("no", "nb", "Logg inn"),
        ("nn-NO", "nb", "Logg inn"),
        ("lt-LT,lt;q=0.9", "lt", "Prisijungti"),
    ],
)
def test_accept_language_chooses_norwegian_and_lithuanian(client, header, lang, words):
    response = client.get("/signin", headers={"Accept-Language": header})
    assert f'<html lang="{lang}">' in response.text
    assert words in response.text


def test_switcher_offers_every_language_in_its_own_name(client):
    page = client.get("/signin").text
    names = {"en": "English", "pl": "Polski", "nb": "Norsk bokmål", "lt": "Lietuvių"}
    for code, name in names.items():
        assert f'<option value="{code}" lang="{code}"' in page
        assert name in page


@pytest.mark.parametrize(
    ("locale", "heading"), [("nb", "Organisasjonene dine"), ("lt", "Jūsų organizacijos")]
)
def test_language_switcher_speaks_norwegian_and_lithuanian(client, db, locale, heading):
    user = make_user(db, locale="en")
    sign_in(client)
    response = post(client, "/language", {"locale": locale, "next": "/organisations"})
    assert f'<html lang="{locale}">' in response.text
    assert heading in response.text
    db.refresh(user)
    assert user.locale == locale


@pytest.mark.parametrize(
    ("language", "contents", "page"),
    [
        ("nb", "Innhold", "Side 2 av 9"),
        ("lt", "Turinys", "2 puslapis iš 9"),
        ("no", "Innhold", "Side 2 av 9"),  # a Norwegian call's language code reads Bokmål
    ],
)
def test_exports_fixed_words_follow_the_calls_language(language, contents, page):
    labels = Labels.translated(i18n.translations(language).gettext)
    english = Labels()
    assert labels.toc == contents
    assert labels.page % {"page": 2, "pages": 9} == page
    same = [f.name for f in fields(Labels) if getattr(labels, f.name) == getattr(english, f.name)]
    # Only words that are the same in that language may stay as they are.
    assert set(same) <= {"role_partner", "partners", "budget", "category"}, same
