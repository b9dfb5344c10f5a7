"""J2. From idea to partnership: two users of two organisations in two browser contexts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.journey import exactly, new_organisation, sign_up, switch_language

WORDS = {
    "en": {
        "sign_up": "Sign up", "name": "Name", "email": "Email", "password": "Password",
        "create_account": "Create account", "sign_out": "Sign out",
        "new_org": "New organisation", "org_name": "Organisation name", "country": "Country",
        "city": "City", "save": "Save", "poland": "Poland", "norway": "Norway",
        "ideas": "Ideas", "new_idea": "New idea", "title": "Title", "summary": "Summary",
        "countries_sought": "Partner countries sought", "themes": "Themes", "youth": "Youth",
        "publish": "Publish idea", "country_sought": "Country sought", "theme": "Theme",
        "interested": "I'm interested", "message": "Message", "send": "Send",
        "start_proposal": "Start proposal", "funding_call": "Funding call",
        "acf": "EEA Civil Society Fund Poland – thematic projects (EEA and Norway Grants)",
        "bsr": "Small projects (Interreg Baltic Sea Region)",
        "create_proposal": "Create proposal", "partnership": "Partnership", "invited": "Invited",
        "invitations": "Invitations", "accept": "Accept", "lead": "Lead partner",
        "active": "Active", "start_drafting": "Start drafting", "drafting": "Drafting",
        "proposals": "Proposals", "new_proposal": "New proposal", "project_title": "Project title",
        "rule_fails": "the call asks for at least 3",
    },
    "pl": {
        "sign_up": "Zarejestruj się", "name": "Imię i nazwisko", "email": "E-mail",
        "password": "Hasło", "create_account": "Utwórz konto", "sign_out": "Wyloguj się",
        "new_org": "Nowa organizacja", "org_name": "Nazwa organizacji", "country": "Kraj",
        "city": "Miasto", "save": "Zapisz", "poland": "Polska", "norway": "Norwegia",
        "ideas": "Pomysły", "new_idea": "Nowy pomysł", "title": "Tytuł", "summary": "Streszczenie",
        "countries_sought": "Kraje poszukiwanych partnerów", "themes": "Tematy",
        "youth": "Młodzież", "publish": "Opublikuj pomysł", "country_sought": "Poszukiwany kraj",
        "theme": "Temat", "interested": "Jestem zainteresowany/a", "message": "Wiadomość",
        "send": "Wyślij", "start_proposal": "Rozpocznij wniosek", "funding_call": "Nabór",
        "acf": "Fundusz Społeczeństwa Obywatelskiego – projekty tematyczne (EEA and Norway Grants)",
        "bsr": "Small projects (Interreg Baltic Sea Region)",
        "create_proposal": "Utwórz wniosek", "partnership": "Partnerstwo",
        "invited": "Zaproszony", "invitations": "Zaproszenia", "accept": "Przyjmij",
        "lead": "Partner wiodący", "active": "Aktywny", "start_drafting": "Rozpocznij pisanie",
        "drafting": "Pisanie wniosku", "proposals": "Wnioski", "new_proposal": "Nowy wniosek",
        "project_title": "Tytuł projektu", "rule_fails": "co najmniej 3",
    },
}  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en", "pl"])
def test_j2_from_idea_to_partnership(server, new_page, locale: str) -> None:
    w = WORDS[locale]
    anna, ola = new_page(), new_page()
    for page, name, email, org, country, city in (
        (anna, "Anna Kowalska", "anna@example.pl", "Fundacja Fala", w["poland"], "Gdańsk"),
        (ola, "Ola Nordmann", "ola@example.no", "Frivillig Sør", w["norway"], "Kristiansand"),
    ):
        page.goto(server.url + "/")
        switch_language(page, locale)
        sign_up(page, w, name, email, "a long passphrase 2026")
        new_organisation(page, w, org, country, city)

    # 1. Anna posts an idea.
    anna.get_by_role("link", name=exactly(w["ideas"])).click()
    anna.get_by_role("link", name=exactly(w["new_idea"])).click()
    anna.get_by_label(exactly(w["title"])).fill("Baltic Volunteers Together")
    anna.get_by_label(exactly(w["summary"])).fill("Small NGOs learn to keep volunteers.")
    anna.get_by_label(exactly(w["countries_sought"])).select_option(label=[w["norway"]])
    anna.get_by_role("group", name=exactly(w["themes"])).get_by_label(exactly(w["youth"])).check()
    anna.get_by_role("button", name=exactly(w["publish"])).click()
    expect(anna.get_by_role("heading", level=1)).to_have_text("Baltic Volunteers Together")

    # 2. Ola finds it by country and theme and says he is interested.
    ola.get_by_role("link", name=exactly(w["ideas"])).click()
    ola.get_by_label(exactly(w["country_sought"])).select_option(label=w["norway"])
    ola.get_by_label(exactly(w["theme"])).select_option(label=w["youth"])
    expect(ola.get_by_role("link", name="Baltic Volunteers Together")).to_be_visible()
    ola.get_by_role("link", name="Baltic Volunteers Together").click()
    ola.get_by_role("link", name=exactly(w["interested"])).click()
    ola.get_by_label(exactly(w["message"])).fill("Frivillig Sør would love to join.")
    ola.get_by_role("button", name=exactly(w["send"])).click()
    expect(ola.get_by_role("status").first).to_be_visible()

    # 3. Anna sees the interest and starts a proposal to the EEA Civil Society Fund.
    anna.reload()
    expect(anna.locator("main")).to_contain_text("Frivillig Sør would love to join.")
    anna.get_by_role("link", name=exactly(w["start_proposal"])).click()
    anna.get_by_label(exactly(w["funding_call"])).select_option(label=w["acf"])
    anna.get_by_role("button", name=exactly(w["create_proposal"])).click()
    expect(anna.locator(".badge.state")).to_have_text(w["partnership"])
    row = anna.get_by_role("row").filter(has_text="Frivillig Sør")
    expect(row).to_contain_text(w["invited"])

    # 4. Ola accepts under "Invitations": two partners, one of them the lead.
    ola.get_by_role("link", name=exactly(w["invitations"])).click()
    ola.get_by_role("button", name=exactly(w["accept"])).click()
    expect(ola.get_by_role("row").filter(has_text="Frivillig Sør")).to_contain_text(w["active"])
    expect(ola.get_by_role("row").filter(has_text="Fundacja Fala")).to_contain_text(w["lead"])
    expect(ola.get_by_role("cell", name=exactly(w["lead"]))).to_have_count(1)

    # 5. Anna starts drafting: the call's partnership rules hold.
    anna.reload()
    anna.get_by_role("button", name=exactly(w["start_drafting"])).click()
    expect(anna.locator(".badge.state")).to_have_text(w["drafting"])

    # ... and for a call whose rules do not hold, the page says which rule fails.
    anna.get_by_role("link", name=exactly(w["proposals"])).click()
    anna.get_by_role("link", name=exactly(w["new_proposal"])).click()
    anna.get_by_label(exactly(w["funding_call"])).select_option(label=w["bsr"])
    anna.get_by_label(exactly(w["project_title"])).fill("Baltic rural volunteers")
    anna.get_by_role("button", name=exactly(w["create_proposal"])).click()
    start = anna.get_by_role("button", name=exactly(w["start_drafting"]))
    expect(start).to_be_disabled()
    expect(anna.locator("main")).to_contain_text(w["rule_fails"])
