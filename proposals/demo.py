"""Demo data for ``engage demo``: a consortium like those in the seed documents.

Anna's NGO in Gdańsk leads; partners in Kristiansand (Norway) and Klaipėda
(Lithuania); a mentor from the regional support institute; an admin.
Later parts of Engage (ideas, proposals, sections, budgets, reviews) add
their demo content here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proposals.models import Membership, Organisation, User
from proposals.security import hash_password

DEMO_PASSWORD = "engage-demo"  # noqa: S105 - printed on purpose, demo databases only


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    who: str
    locale: str
    organisation: str | None
    role: str = "admin"
    is_admin: bool = False


ORGANISATIONS: dict[str, dict[str, object]] = {
    "gdansk": {
        "name": "Stowarzyszenie Morze Możliwości",
        "country": "PL",
        "city": "Gdańsk",
        "legal_form": "association",
        "themes": ["civic-participation", "volunteering", "youth", "capacity-building"],
        "tags": ["Baltic NGO Network", "train the trainers"],
        "languages": ["pl", "en"],
        "description": (
            "Stowarzyszenie wspiera małe organizacje pozarządowe z Pomorza w pierwszych "
            "projektach międzynarodowych: szkolenia, mentoring i wizyty studyjne.\n"
            "We help small NGOs from Pomerania start their first international projects."
        ),
        "website": "https://example.org/morze-mozliwosci",
    },
    "kristiansand": {
        "name": "Frivillighetssentralen Kristiansand",
        "country": "NO",
        "city": "Kristiansand",
        "legal_form": "association",
        "themes": ["volunteering", "social-inclusion", "seniors"],
        "tags": ["Agder", "frivillighet"],
        "languages": ["no", "en"],
        "description": (
            "A volunteer centre in Agder connecting local associations, the municipality "
            "and people who want to help. Experienced in EEA-funded partnerships with Poland."
        ),
        "website": "https://example.org/frivillig-kristiansand",
    },
    "klaipeda": {
        "name": "Klaipėdos bendruomenių asociacija",
        "country": "LT",
        "city": "Klaipėda",
        "legal_form": "federation",
        "themes": ["local-development", "youth", "culture"],
        "tags": ["seaside communities"],
        "languages": ["lt", "en", "ru"],
        "description": (
            "An umbrella association of neighbourhood communities in Klaipėda county, "
            "running youth clubs and cultural heritage walks."
        ),
        "website": "",
    },
    "biser": {
        "name": "Baltic Institute for Regional Affairs (BISER)",
        "country": "PL",
        "city": "Gdynia",
        "legal_form": "foundation",
        "themes": ["capacity-building", "civic-participation"],
        "tags": ["mentoring", "Baltic NGO Network"],
        "languages": ["pl", "en", "ru"],
        "description": (
            "A regional support institute: mentors NGO consortia around the Baltic Sea from "
            "a first joint idea to a funded project."
        ),
        "website": "https://example.org/biser",
    },
}

ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "anna@demo.engage", "Anna Kowalska", "Lead partner coordinator, Gdańsk", "pl", "gdansk"
    ),
    DemoAccount(
        "ola@demo.engage", "Ola Nordmann", "Partner writer, Kristiansand", "en", "kristiansand"
    ),
    DemoAccount(
        "ruta@demo.engage", "Rūta Petrauskienė", "Partner writer, Klaipėda", "en", "klaipeda"
    ),
    DemoAccount("marta@demo.engage", "Marta Wiśniewska", "Mentor, BISER", "pl", "biser"),
    DemoAccount(
        "piotr@demo.engage",
        "Piotr Zieliński",
        "Volunteer writer, Gdańsk",
        "pl",
        "gdansk",
        role="member",
    ),
    DemoAccount(
        "admin@demo.engage", "Platform Admin", "Platform administrator", "en", None, is_admin=True
    ),
)


def seed(session: Session) -> list[dict[str, str]]:
    """Fill an empty, migrated database with the demo data; return the accounts to show."""
    password_hash = hash_password(DEMO_PASSWORD)
    organisations = {key: Organisation(**values) for key, values in ORGANISATIONS.items()}
    session.add_all(organisations.values())
    for account in ACCOUNTS:
        user = User(
            email=account.email,
            name=account.name,
            password_hash=password_hash,
            locale=account.locale,
            is_admin=account.is_admin,
        )
        session.add(user)
        if account.organisation:
            session.add(
                Membership(
                    user=user, organisation=organisations[account.organisation], role=account.role
                )
            )
    session.flush()
    return [
        {"email": a.email, "name": a.name, "who": a.who, "password": DEMO_PASSWORD}
        for a in ACCOUNTS
    ]
