"""What the checks look at: a plain snapshot of a proposal, free of the database.

The consortium, sections and budget parts of Engage build these from their
tables; tests build them directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PartnerFacts:
    key: str
    name: str
    country: str
    role: Literal["lead", "partner", "associated"] = "partner"
    costs: dict[str, Decimal] = field(default_factory=dict)  # per cost category key
    grant: Decimal = ZERO
    own_cash: Decimal = ZERO
    in_kind: Decimal = ZERO
    other: Decimal = ZERO  # other donors and national co-financing
    region: str = ""  # NUTS code of where the organisation is ("" when not known)
    newcomer: bool | None = None  # new to the programme (None when not known)

    @property
    def total_costs(self) -> Decimal:
        return sum(self.costs.values(), ZERO)

    @property
    def own_contribution(self) -> Decimal:
        return self.own_cash + self.in_kind

    @property
    def total_funding(self) -> Decimal:
        return self.grant + self.own_cash + self.in_kind + self.other


@dataclass(frozen=True)
class SectionFacts:
    key: str
    title: str
    text: str = ""


@dataclass(frozen=True)
class ProposalFacts:
    now: datetime
    partners: tuple[PartnerFacts, ...] = ()
    sections: tuple[SectionFacts, ...] = ()
    duration_months: int | None = None
    language: str | None = None  # the language the application is written in, if known
    stage: str | None = None  # the call's stage the proposal is at (None: the first)
    # Points per award criterion from the latest review (averaged over its sections).
    review_scores: dict[str, Decimal] | None = None

    @property
    def lead(self) -> PartnerFacts | None:
        return next((p for p in self.partners if p.role == "lead"), None)

    def total(self, attribute: str) -> Decimal:
        return sum((getattr(p, attribute) for p in self.partners), ZERO)
