"""J1. Join: sign up, create an organisation, sign out and in again (en, pl, nb, lt)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import exactly, switch_language

WORDS = {
    "en": {
        "sign_up": "Sign up",
        "name": "Name",
        "email": "Email",
        "password": "Password",
        "create_account": "Create account",
        "new_org": "New organisation",
        "org_name": "Organisation name",
        "country": "Country",
        "city": "City",
        "themes": "Themes",
        "theme_a": "Youth",
        "theme_b": "Volunteering",
        "save": "Save",
        "sign_out": "Sign out",
        "sign_in": "Sign in",
        "country_name": "Norway",
        "wrong": "The e-mail or password is not right",
        "welcome": "Welcome",
    },
    "pl": {
        "sign_up": "Zarejestruj się",
        "name": "Imię i nazwisko",
        "email": "E-mail",
        "password": "Hasło",
        "create_account": "Utwórz konto",
        "new_org": "Nowa organizacja",
        "org_name": "Nazwa organizacji",
        "country": "Kraj",
        "city": "Miasto",
        "themes": "Tematy",
        "theme_a": "Młodzież",
        "theme_b": "Wolontariat",
        "save": "Zapisz",
        "sign_out": "Wyloguj się",
        "sign_in": "Zaloguj się",
        "country_name": "Norwegia",
        "wrong": "Nieprawidłowy e-mail lub hasło",
        "welcome": "Witaj",
    },
    "nb": {
        "sign_up": "Registrer deg",
        "name": "Navn",
        "email": "E-post",
        "password": "Passord",
        "create_account": "Opprett konto",
        "new_org": "Ny organisasjon",
        "org_name": "Organisasjonens navn",
        "country": "Land",
        "city": "Sted",
        "themes": "Temaer",
        "theme_a": "Ungdom",
        "theme_b": "Frivillighet",
        "save": "Lagre",
        "sign_out": "Logg ut",
        "sign_in": "Logg inn",
        "country_name": "Norge",
        "wrong": "E-postadressen eller passordet er feil",
        "welcome": "Velkommen",
    },
    "lt": {
        "sign_up": "Registruotis",
        "name": "Vardas ir pavardė",
        "email": "El. paštas",
        "password": "Slaptažodis",
        "create_account": "Sukurti paskyrą",
        "new_org": "Nauja organizacija",
        "org_name": "Organizacijos pavadinimas",
        "country": "Šalis",
        "city": "Miestas",
        "themes": "Temos",
        "theme_a": "Jaunimas",
        "theme_b": "Savanorystė",
        "save": "Išsaugoti",
        "sign_out": "Atsijungti",
        "sign_in": "Prisijungti",
        "country_name": "Norvegija",
        "wrong": "Neteisingas el. pašto adresas arba slaptažodis",
        "welcome": "Sveiki",
    },
}


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "pl", "nb", "lt"])
def test_j1_join(server, new_page, locale: str) -> None:
    w = WORDS[locale]
    page = new_page()
    page.goto(server.url + "/")
    switch_language(page, locale)

    # 1. Sign up: the user is signed in.
    page.get_by_role("link", name=exactly(w["sign_up"])).click()
    page.get_by_label(exactly(w["name"])).fill("Kari Nordmann")
    page.get_by_label(exactly(w["email"])).fill(f"kari.{locale}@example.no")
    page.get_by_label(exactly(w["password"])).fill("fjord and fells 2026")
    page.get_by_role("button", name=exactly(w["create_account"])).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(w["welcome"])
    expect(page.get_by_role("button", name=exactly(w["sign_out"]))).to_be_visible()

    # 2. New organisation: its page shows the name and the country.
    page.get_by_role("link", name=exactly(w["new_org"])).click()
    page.get_by_label(exactly(w["org_name"])).fill("Frivillig <Sørlandet> & Co")
    page.get_by_label(exactly(w["country"])).select_option(label=w["country_name"])
    page.get_by_label(exactly(w["city"])).fill("Kristiansand")
    themes = page.get_by_role("group", name=exactly(w["themes"]))
    themes.get_by_label(exactly(w["theme_a"])).check()
    themes.get_by_label(exactly(w["theme_b"])).check()
    page.get_by_role("button", name=exactly(w["save"])).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Frivillig <Sørlandet> & Co")
    expect(page.locator("main")).to_contain_text(w["country_name"])
    expect(page.locator("main")).to_contain_text(w["theme_a"])

    # 3. Sign out; a wrong password signs nobody in; the right one works.
    page.get_by_role("button", name=exactly(w["sign_out"])).click()
    expect(page.get_by_role("link", name=exactly(w["sign_in"]))).to_be_visible()
    page.get_by_role("link", name=exactly(w["sign_in"])).click()
    page.get_by_label(exactly(w["email"])).fill(f"kari.{locale}@example.no")
    page.get_by_label(exactly(w["password"])).fill("not the password")
    page.get_by_role("button", name=exactly(w["sign_in"])).click()
    expect(page.get_by_role("alert")).to_contain_text(w["wrong"])
    expect(page.get_by_role("button", name=exactly(w["sign_out"]))).to_have_count(0)
    page.get_by_label(exactly(w["password"])).fill("fjord and fells 2026")
    page.get_by_role("button", name=exactly(w["sign_in"])).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(w["welcome"])
    expect(page.locator("main")).to_contain_text("Frivillig <Sørlandet> & Co")
