"""A proposal as plain data, frozen at one moment: everything an export prints.

``proposals/final.py`` builds it from the database (texts, revision numbers,
partners, the budget) with its labels already translated into the call's
language; tests and the benchmark build it directly. Exports read nothing else,
so the same snapshot always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Literal

from exports.budget import BudgetSnapshot


def N_(message: str) -> str:
    """Mark a label for translation; ``proposals/`` translates it into the call's language."""
    return message


@dataclass(frozen=True)
class Labels:
    """Every fixed word of the documents, in the document's language (English by default).

    ``proposals/final.py`` fills it through gettext with the call's language;
    a label with ``%(name)s`` placeholders is formatted by the export.
    """

    toc: str = N_("Contents")
    toc_placeholder: str = N_(
        "Right-click here and choose “Update field” to fill in the table of contents."
    )
    page: str = N_("Page %(page)s of %(pages)s")
    call: str = N_("Call")
    funder: str = N_("Funder")
    acronym: str = N_("Acronym")
    project_title: str = N_("Project title")
    lead_partner: str = N_("Lead partner")
    partners: str = N_("Partners")
    total_budget: str = N_("Total budget")
    grant: str = N_("Grant requested")
    date: str = N_("Date")
    duration: str = N_("Duration")
    months: str = N_("%(n)s months")
    partnership: str = N_("Partnership")
    number: str = N_("No.")
    organisation: str = N_("Organisation")
    country: str = N_("Country")
    city: str = N_("City")
    role: str = N_("Role")
    legal_form: str = N_("Legal form")
    contact: str = N_("Contact person")
    role_lead: str = N_("Lead partner")
    role_partner: str = N_("Partner")
    role_associated: str = N_("Associated partner")
    budget: str = N_("Budget")
    budget_by_partner: str = N_("Budget per partner and category")
    budget_lines: str = N_("Budget lines")
    category: str = N_("Category")
    description: str = N_("Description")
    quantity: str = N_("Quantity")
    unit_cost: str = N_("Unit cost")
    amount: str = N_("Amount")
    amounts_in: str = N_("Amounts in %(currency)s")
    total: str = N_("Total")
    cofunding: str = N_("Co-funding")
    share: str = N_("Share")
    source_grant: str = N_("Grant")
    source_own_cash: str = N_("Own contribution (cash)")
    source_in_kind: str = N_("In-kind contribution")
    source_other_donor: str = N_("Other donors")
    source_national: str = N_("National co-financing")
    no_budget: str = N_("No budget lines yet.")
    declaration: str = N_("Partnership declaration")
    declaration_text: str = N_(
        "%(partner)s declares that it takes part as %(role)s in the project “%(title)s” "
        "(%(acronym)s), applied for by %(lead)s in the call “%(call)s”, and that it will "
        "carry out the tasks and contribute the resources described in the application."
    )
    contribution: str = N_("Contribution of the partner")
    total_costs: str = N_("Total costs of the partner")
    sections_written: str = N_("Sections written by the partner")
    place_date: str = N_("Place and date")
    signatory: str = N_("Name and function of the person authorised to sign")
    signature: str = N_("Signature")

    def role_name(self, role: str) -> str:
        return {
            "lead": self.role_lead,
            "associated": self.role_associated,
        }.get(role, self.role_partner)

    def source_name(self, kind: str) -> str:
        return str(getattr(self, f"source_{kind}", kind))

    @classmethod
    def translated(cls, gettext: object) -> Labels:
        """The labels through ``gettext`` (a callable taking the English text)."""
        defaults = cls()
        return cls(**{f.name: gettext(getattr(defaults, f.name)) for f in fields(cls)})  # type: ignore[operator]


@dataclass(frozen=True)
class PartnerInfo:
    key: str  # the partner's public id
    name: str
    country: str  # ISO 3166 alpha-2
    country_name: str  # in the document's language
    city: str = ""
    role: Literal["lead", "partner", "associated"] = "partner"
    legal_form: str = ""
    contact_name: str = ""
    contact_email: str = ""
    website: str = ""


@dataclass(frozen=True)
class SectionText:
    key: str
    title: str
    text: str  # Markdown subset
    revision: int  # the revision number the text is from
    char_limit: int | None = None
    partner: str | None = None  # PartnerInfo.key of the partner that writes it


@dataclass(frozen=True)
class ProposalSnapshot:
    proposal_id: str
    call_id: str
    call_version: int
    call_title: str  # in the document's language
    funder: str
    programme: str
    language: str  # ISO 639-1, the call's language: labels, numbers and dates follow it
    acronym: str
    title: str
    moment: datetime  # the newest change the snapshot holds (document properties)
    date: date  # the date printed on the title page
    budget: BudgetSnapshot
    partners: tuple[PartnerInfo, ...] = ()
    sections: tuple[SectionText, ...] = ()  # in the call's order
    duration_months: int | None = None
    title_page: tuple[str, ...] = (
        "call",
        "acronym",
        "title",
        "partners",
        "budget",
        "grant",
        "date",
    )
    labels: Labels = field(default_factory=Labels)
    template: bytes | None = None  # the funder's .docx template, if the call names one

    @property
    def currency(self) -> str:
        return self.budget.currency

    @property
    def lead(self) -> PartnerInfo | None:
        return next((p for p in self.partners if p.role == "lead"), None)

    def partner(self, key: str) -> PartnerInfo | None:
        return next((p for p in self.partners if p.key == key), None)
