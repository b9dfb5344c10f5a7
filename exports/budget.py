"""A proposal's budget as plain data: what the workbook and the Word export print.

Built by ``proposals/budget.py`` from the database (or by tests directly). Every
amount is a ``Decimal`` already rounded to the cent the way the call says; totals
are sums of those rounded amounts, and shares are exact fractions, so the page,
the workbook and the Word document show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

ZERO = Decimal("0.00")

SourceKind = Literal["grant", "own_cash", "in_kind", "other_donor", "national"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("grant", "own_cash", "in_kind", "other_donor", "national")
CategoryKind = Literal["real", "flat_rate", "lump_sum"]


def _sum(values: object) -> Decimal:
    return sum(values, ZERO)  # type: ignore[call-overload, no-any-return]


def fraction(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as an exact fraction of ``whole``, or None when ``whole`` is zero."""
    if whole == 0:
        return None
    return part / whole


@dataclass(frozen=True)
class Category:
    key: str
    title: str  # already in the document's language
    kind: CategoryKind = "real"


@dataclass(frozen=True)
class Line:
    category: str  # Category.key
    description: str
    amount: Decimal  # in the call's currency, rounded to the cent
    unit: str = ""
    quantity: Decimal = Decimal("1")
    unit_cost: Decimal = ZERO  # in the call's currency
    period: str = ""  # period or work package, where the call asks for it
    kind: CategoryKind = "real"  # flat_rate lines are computed from their base
    # A line entered in another currency: that currency, the unit cost as entered, the
    # rate to the call's currency and its date ("" / None: entered in the call's currency).
    # For a flat-rate line, ``quantity`` is the rate in percent and ``unit_cost`` its base.
    currency: str = ""
    entered_unit_cost: Decimal | None = None
    exchange_rate: Decimal | None = None
    rate_date: date | None = None


@dataclass(frozen=True)
class Source:
    kind: SourceKind
    amount: Decimal
    note: str = ""
    hours: Decimal | None = None  # in-kind volunteer work: hours valued at the call's rate


@dataclass(frozen=True)
class PartnerBudget:
    key: str  # the partner's public id
    name: str
    country: str  # ISO 3166 alpha-2
    role: Literal["lead", "partner", "associated"] = "partner"
    lines: tuple[Line, ...] = ()
    sources: tuple[Source, ...] = ()

    @property
    def total_costs(self) -> Decimal:
        return _sum(line.amount for line in self.lines)

    def category_total(self, category: str) -> Decimal:
        return _sum(line.amount for line in self.lines if line.category == category)

    def funding(self, kind: SourceKind) -> Decimal:
        return _sum(source.amount for source in self.sources if source.kind == kind)

    @property
    def total_funding(self) -> Decimal:
        return _sum(source.amount for source in self.sources)

    def source_share(self, kind: SourceKind) -> Decimal | None:
        """The share of ``kind`` in all the partner's funding (exact)."""
        return fraction(self.funding(kind), self.total_funding)

    @property
    def grant_rate(self) -> Decimal | None:
        """Grant as a fraction of total costs (exact)."""
        return fraction(self.funding("grant"), self.total_costs)


@dataclass(frozen=True)
class BudgetSnapshot:
    currency: str  # ISO 4217, the call's currency
    categories: tuple[Category, ...] = ()
    partners: tuple[PartnerBudget, ...] = ()
    hourly_rate: Decimal | None = None  # the call's value of an hour of volunteer work
    notes: tuple[str, ...] = field(default=())
    rounding: Literal["half_up", "down"] = "half_up"  # how the call rounds to the cent
    # The call's flat rates: (category key, rate in percent, base category keys).
    flat_rates: tuple[tuple[str, Decimal, tuple[str, ...]], ...] = ()

    @property
    def total_costs(self) -> Decimal:
        return _sum(p.total_costs for p in self.partners)

    def category_total(self, category: str) -> Decimal:
        return _sum(p.category_total(category) for p in self.partners)

    def funding(self, kind: SourceKind) -> Decimal:
        return _sum(p.funding(kind) for p in self.partners)

    @property
    def total_funding(self) -> Decimal:
        return _sum(p.total_funding for p in self.partners)

    def source_share(self, kind: SourceKind) -> Decimal | None:
        return fraction(self.funding(kind), self.total_funding)

    @property
    def grant_rate(self) -> Decimal | None:
        return fraction(self.funding("grant"), self.total_costs)

    def partner(self, key: str) -> PartnerBudget | None:
        return next((p for p in self.partners if p.key == key), None)
