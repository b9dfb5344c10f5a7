"""A made-up proposal snapshot of any size, for the export tests and the benchmark.

Polish section texts with diacritics and every Markdown feature; full budgets
(lines in every category, several funding sources) for every partner.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from exports.budget import BudgetSnapshot, Category, Line, PartnerBudget, Source
from exports.snapshot import Labels, PartnerInfo, ProposalSnapshot, SectionText

COUNTRIES = (("PL", "Polska"), ("NO", "Norwegia"), ("LT", "Litwa"), ("IS", "Islandia"))
PARAGRAPH = (
    "Zażółć gęślą jaźń: **małe organizacje** z Gdańska, Kristiansand i Kłajpedy uczą się "
    "*razem* prowadzić wolontariat. Więcej na [stronie projektu](https://example.org/bvt). "
)


def section_text(number: int, length: int) -> str:
    """About ``length`` characters of Markdown: paragraphs, both kinds of list, a link."""
    head = f"Sekcja {number}. {PARAGRAPH}"
    lists = (
        f"\n\n- pierwszy punkt sekcji {number}\n- drugi punkt, **pogrubiony**\n\n"
        f"1. krok pierwszy\n2. krok drugi\n\n"
    )
    body = head + lists
    while len(body) < length:
        body += PARAGRAPH + "\n\n" if len(body) % 3 == 0 else PARAGRAPH
    return body[:length].rstrip() + f" Koniec sekcji {number}."


def snapshot(
    *,
    sections: int = 5,
    section_length: int = 1200,
    partners: int = 3,
    lines: int = 30,
    labels: Labels | None = None,
    language: str = "pl",
    template: bytes | None = None,
    texts: dict[int, str] | None = None,
) -> ProposalSnapshot:
    categories = (
        Category("staff", "Koszty personelu"),
        Category("travel", "Podróże"),
        Category("equipment", "Sprzęt"),
        Category("volunteers", "Praca wolontariuszy", "real"),
        Category("indirect", "Koszty pośrednie", "flat_rate"),
    )
    infos = tuple(
        PartnerInfo(
            key=f"p{n}",
            name=f"Stowarzyszenie Łączy Nas nr {n}" if n else "Fundacja Fala Gdańsk",
            country=COUNTRIES[n % len(COUNTRIES)][0],
            country_name=COUNTRIES[n % len(COUNTRIES)][1],
            city=("Gdańsk", "Kristiansand", "Klaipėda", "Reykjavík")[n % 4],
            role="lead" if n == 0 else ("associated" if n == partners - 1 and n > 1 else "partner"),
            legal_form="fundacja",
            contact_name=f"Osoba {n}",
            contact_email=f"kontakt{n}@example.org",
        )
        for n in range(partners)
    )
    budgets = []
    for n, info in enumerate(infos):
        mine = [i for i in range(lines) if i % partners == n]
        budget_lines = tuple(
            Line(
                category=categories[i % len(categories)].key,
                description=f"Pozycja {i + 1}: warsztaty i spotkania",
                amount=(Decimal(100 + i) * Decimal("12.5")).quantize(Decimal("0.01")),
                unit="dzień",
                quantity=Decimal("12.5"),
                unit_cost=Decimal(100 + i),
            )
            for i in mine
        )
        total = sum((line.amount for line in budget_lines), Decimal("0.00"))
        grant = (total * Decimal("0.8")).quantize(Decimal("0.01"))
        own = (total - grant).quantize(Decimal("0.01"))
        in_kind = (own / 2).quantize(Decimal("0.01"))
        budgets.append(
            PartnerBudget(
                key=info.key,
                name=info.name,
                country=info.country,
                role=info.role,
                lines=budget_lines,
                sources=(
                    Source("grant", grant),
                    Source("own_cash", own - in_kind),
                    Source("in_kind", in_kind, "wolontariat"),
                ),
            )
        )
    texts = texts or {}
    return ProposalSnapshot(
        proposal_id="sample",
        call_id="acf-poland-national",
        call_version=1,
        call_title="Aktywni Obywatele – Fundusz Krajowy",
        funder="EEA and Norway Grants",
        programme="Active Citizens Fund Poland",
        language=language,
        acronym="BVT",
        title="Bałtyccy wolontariusze razem",
        moment=datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
        date=date(2027, 3, 1),
        budget=BudgetSnapshot(
            currency="EUR",
            categories=categories,
            partners=tuple(budgets),
            hourly_rate=Decimal("12.00"),
        ),
        partners=infos,
        sections=tuple(
            SectionText(
                key=f"s{n}",
                title=f"Część {n}: żółwie i źródła",
                text=texts.get(n, section_text(n, section_length)),
                revision=n + 1,
                char_limit=4000,
                partner=infos[n % partners].key,
            )
            for n in range(1, sections + 1)
        ),
        duration_months=24,
        labels=labels or Labels(),
        template=template,
    )
