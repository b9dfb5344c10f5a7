"""Demo data for ``engage demo``: a consortium like those in the seed documents.

Anna's NGO in Gdańsk leads; partners in Kristiansand (Norway) and Klaipėda
(Lithuania); a mentor from the regional support institute; an admin.
Later parts of Engage (ideas, proposals, sections, budgets, reviews) add
their demo content here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from proposals.models import (
    Idea,
    IdeaInterest,
    Membership,
    Organisation,
    Proposal,
    ProposalAccess,
    User,
)
from proposals.passwords import hash_password

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
    is_mentor: bool = False


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
    DemoAccount(
        "marta@demo.engage", "Marta Wiśniewska", "Mentor, BISER", "pl", "biser", is_mentor=True
    ),
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


IDEA = {
    "title": "Baltic Volunteers Together",
    "summary": (
        "Small NGOs from Gdańsk, Kristiansand and Klaipėda learn from each other how to "
        "recruit and keep volunteers, and train local leaders to pass it on (train the "
        "trainers).\nWe look for partners from Norway and Lithuania."
    ),
    "themes": ["volunteering", "capacity-building", "youth"],
    "countries_sought": ["NO", "LT"],
    "skills_sought": "Volunteer management, youth work, experience with EEA Grants.",
    "call_id": "eea-csf-poland",
}


def seed(session: Session) -> list[dict[str, str]]:
    """Fill an empty, migrated database with the demo data; return the accounts to show."""
    password_hash = hash_password(DEMO_PASSWORD)
    organisations = {key: Organisation(**values) for key, values in ORGANISATIONS.items()}
    session.add_all(organisations.values())
    users: dict[str, User] = {}
    for account in ACCOUNTS:
        user = User(
            email=account.email,
            name=account.name,
            password_hash=password_hash,
            locale=account.locale,
            is_admin=account.is_admin,
            is_mentor=account.is_mentor,
        )
        users[account.email.split("@")[0]] = user
        session.add(user)
        if account.organisation:
            session.add(
                Membership(
                    user=user, organisation=organisations[account.organisation], role=account.role
                )
            )
    session.flush()
    _seed_consortium(session, organisations, users)
    return [
        {"email": a.email, "name": a.name, "who": a.who, "password": DEMO_PASSWORD}
        for a in ACCOUNTS
    ]


def _seed_consortium(
    session: Session, organisations: dict[str, Organisation], users: dict[str, User]
) -> None:
    """The idea that became a proposal to the EEA Civil Society Fund, with its consortium."""
    from proposals.calls import library
    from proposals.domain import consortium

    anna, ola, ruta = users["anna"], users["ola"], users["ruta"]
    for user in (anna, ola, ruta):
        session.refresh(user)  # load the memberships just added
    idea = Idea(organisation=organisations["gdansk"], author_id=anna.id, **IDEA)
    idea.interests = [
        IdeaInterest(
            organisation=organisations["kristiansand"],
            user_id=ola.id,
            message="Frivillighetssentralen would love to join: we run a volunteer "
            "academy and have worked with Polish partners before.",
        ),
        IdeaInterest(
            organisation=organisations["klaipeda"],
            user_id=ruta.id,
            message="Our community clubs in Klaipėda need exactly this.",
        ),
    ]
    session.add(idea)
    session.flush()
    profile = library.get(session, "eea-csf-poland")
    if profile is None:
        raise RuntimeError("the shipped call profiles must be stored before the demo data")
    proposal = consortium.start_proposal(
        session,
        anna,
        profile,
        organisations["gdansk"],
        "Baltic Volunteers Together: training local leaders of small NGOs",
        "BVT",
        idea,
        [organisations["kristiansand"]],
    )
    # The Lithuanian NGO joins as an associated partner: it takes part in the activities
    # without a share of the grant.
    consortium.invite_organisation(session, anna, proposal, organisations["klaipeda"], "associated")
    for partner in proposal.partners:
        if partner.status == "invited":
            member = ola if partner.organisation is organisations["kristiansand"] else ruta
            consortium.answer(session, member, partner, accept=True)
    proposal.duration_months = 24
    proposal.access.append(ProposalAccess(user=users["marta"], role="mentor"))
    session.flush()
    from proposals.domain import actions

    actions.fire(session, proposal, anna, "start_drafting", expected_state="partnership.inviting")
    _seed_sections(session, proposal, users)
    _seed_budget(session, proposal, users)


SECTION_TEXTS = {
    "streszczenie": (
        "anna",
        "Projekt **Baltic Volunteers Together** łączy małe organizacje z Gdańska, "
        "Kristiansand i Kłajpedy. Przez 24 miesiące uczymy się od siebie, jak pozyskiwać "
        "i zatrzymywać wolontariuszy, a liderzy lokalni przekazują tę wiedzę dalej.",
    ),
    "uzasadnienie": (
        "anna",
        "Małe stowarzyszenia na Pomorzu tracą wolontariuszy po pierwszym roku współpracy.\n\n"
        "- brakuje im narzędzi do wdrażania nowych osób,\n"
        "- rzadko korzystają z doświadczeń partnerów zagranicznych,\n"
        "- nie mają czasu na szkolenia liderów.",
    ),
    "dzialania": (
        "ola",
        "1. Study visit to the volunteer academy in Kristiansand (spring 2027).\n"
        "2. Three train-the-trainers workshops in Gdańsk, Kristiansand and Klaipėda.\n"
        "3. A shared handbook on keeping volunteers, in Polish, Norwegian and Lithuanian.",
    ),
}


def _seed_sections(session: Session, proposal: Proposal, users: dict[str, User]) -> None:
    """Sections assigned to the partners, some partly written (in Polish, with diacritics)."""
    from datetime import date

    from proposals.domain import sections

    by_country = {p.organisation.country: p for p in proposal.partners}
    owners = {"dzialania": "NO", "partnerstwo": "NO"}
    for index, section in enumerate(proposal.sections):
        partner = by_country[owners.get(section.key, "PL")]
        assignee = users["ola"] if partner.organisation.country == "NO" else users["anna"]
        due = date(2027, 1, 15 + index)
        sections.assign(session, users["anna"], section, partner, assignee, due)
    session.flush()
    for section in proposal.sections:
        if section.key in SECTION_TEXTS:
            author, text = SECTION_TEXTS[section.key]
            sections.save_in(session, section, users[author].id, text)
            sections.move(session, section, "writer", users[author].id, "mark_ready")
    _seed_review(session, proposal, users)


def _seed_review(session: Session, proposal: Proposal, users: dict[str, User]) -> None:
    """One review round under way: Marta has approved the summary; two sections wait."""
    from datetime import date

    from proposals.domain import reviews

    written = [s for s in proposal.sections if s.key in SECTION_TEXTS]
    round_ = reviews.request_review(
        session,
        users["anna"],
        proposal,
        written,
        users["marta"],
        date(2027, 1, 20),
        "Prosimy o uwagi przed wysłaniem wniosku do partnerów.",
    )
    first = next(v for v in round_.verdicts if v.section.key == "streszczenie")
    reviews.give_verdict(
        session,
        users["marta"],
        round_,
        first,
        "approved",
        "Jasne i zwięzłe streszczenie. Dobrze!",
        {},
    )


#: Each partner's cost lines: category, description, unit, quantity, unit cost, and for a
#: line entered in the partner's own currency: currency, rate to EUR, rate date.
BUDGET_LINES: dict[str, list[tuple[object, ...]]] = {
    "PL": [
        ("staff", "Koordynatorka projektu (1/2 etatu)", "miesiąc", "24", "1500.00"),
        ("travel", "Wizyta studyjna w Kristiansand, 6 osób", "osoba", "6", "650.00"),
        ("services", "Tłumaczenie podręcznika na trzy języki", "usługa", "1", "4500.00"),
        ("equipment", "Laptop do szkoleń", "szt.", "1", "1200.00"),
        ("other", "Warsztaty dla liderów: sala i catering", "warsztat", "3", "1200.00"),
    ],
    "NO": [
        (
            "staff",
            "Volunteer academy trainer",
            "month",
            "12",
            "8000.00",
            "NOK",
            "0.0845",
            "2026-11-02",
        ),
        ("travel", "Workshop in Gdańsk, 4 people", "person", "4", "350.00"),
    ],
    "LT": [
        ("staff", "Youth club coordinator", "month", "12", "900.00"),
        ("travel", "Workshop in Gdańsk, 3 people", "person", "3", "300.00"),
        ("other", "Heritage walk materials", "set", "1", "600.00"),
    ],
}
#: Own cash and volunteer hours (valued at the call's hourly rate); the grant covers the rest.
BUDGET_FUNDING = {"PL": ("1000.00", "400"), "NO": ("0.00", "100"), "LT": ("0.00", "60")}


def _seed_budget(session: Session, proposal: Proposal, users: dict[str, User]) -> None:
    """Each partner's budget, indirect costs at the flat rate, in-kind volunteer work."""
    from datetime import date
    from decimal import Decimal

    from proposals.calls import library
    from proposals.domain import budget

    profile = library.profile_for(session, proposal)
    writers = {"PL": users["anna"], "NO": users["ola"], "LT": users["ruta"]}
    for partner in proposal.partners:
        country = partner.organisation.country
        user = writers[country]
        for row in BUDGET_LINES[country]:
            category, description, unit, quantity, cost, *foreign = row
            currency, rate, when = foreign or ("", None, None)
            data = budget.LineForm(
                category=category,
                description=description,
                unit=unit,
                quantity=Decimal(str(quantity)),
                unit_cost=Decimal(str(cost)),
                currency=currency,
                exchange_rate=Decimal(str(rate)) if rate else None,
                rate_date=date.fromisoformat(str(when)) if when else None,
            )
            budget.save_line(session, profile, partner, user, data)
        for rule in profile.budget.flat_rates:
            budget.set_flat_rate(session, profile, partner, user, rule.category, rule.rate)
        own_cash, hours = BUDGET_FUNDING[country]
        costs = sum((line.amount for line in budget.load_lines(session, partner)), Decimal(0))
        hourly = profile.budget.in_kind.hourly_rate or Decimal(0)
        in_kind = budget.in_kind_value(Decimal(hours), hourly)
        funding = budget.FundingForm(
            grant=costs - Decimal(own_cash) - in_kind,
            own_cash=Decimal(own_cash),
            in_kind_hours=Decimal(hours),
            other_donor=Decimal(0),
            national=Decimal(0),
        )
        budget.save_funding(
            session, profile, partner, user, funding, budget.load_sources(session, partner)
        )
