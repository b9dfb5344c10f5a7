"""Budgets: each partner's cost lines and funding sources, computed exactly, with history.

Every figure is a ``Decimal`` from the form (read in the user's locale with
Babel) to the database (``Numeric(14, 2)``) to the workbook. A line's amount is
rounded to the cent the way the call says; totals are sums of rounded lines.
Flat-rate lines (e.g. indirect costs) keep their rate in ``quantity`` and are
computed again from their base whenever the partner's lines change. A line
entered in another currency keeps its rate and rate date and is converted per
line. Every change is written to ``budget_change``: who changed which figure.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from pydantic import BeforeValidator, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from exports.budget import (
    SOURCE_KINDS,
    BudgetSnapshot,
    Category,
    Line,
    PartnerBudget,
    Source,
    SourceKind,
)
from exports.workbook import (
    COLUMN,
    DEFAULT_LABELS,
    DEFAULT_MESSAGES,
    FUNDING_ROWS,
    LINE_COLUMNS,
    CellError,
    ImportedPartner,
    WorkbookErrors,
)
from proposals.calls import library
from proposals.calls.schema import CURRENCIES, CallProfile, FlatRate
from proposals.domain import signoffs
from proposals.forms import CleanText, Form, FormErrors, validate
from proposals.i18n import format_locale
from proposals.i18n import gettext as _
from proposals.i18n import lazy_gettext as _l
from proposals.models import BudgetChange, BudgetLine, FundingSource, Partner, Proposal, User
from proposals.money import to_cents
from proposals.policy import can

ZERO = Decimal("0.00")
#: The largest amount ``Numeric(14, 2)`` holds: anything above is refused, never cut.
MAX_AMOUNT = Decimal("999999999999.99")
MAX_RATE = Decimal("1000000")
#: Text a spreadsheet would run as a formula (or a DDE command) if it started a cell.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Stale(Exception):
    """Someone else changed the figures since the form was shown; nothing was stored."""


# --- reading input -------------------------------------------------------------------


_SPACES = re.compile(r"[ \u00a0\u202f\u2009]")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _as_locale_typed(text: str, group: str, point: str, wrong: str) -> str:
    """Amounts as people type them, in the locale's own symbols.

    Any kind of space groups thousands ("1 500,00"). When both a dot and a comma
    appear, the last one is the decimal mark and the other groups thousands in
    threes, whatever the locale ("1.500,00" and "1,500.00" are 1500). A lone
    foreign mark is not guessed: "1.500" in Polish could be 1.5 or 1500.
    """
    if group.isspace():
        text = _SPACES.sub(group, text)
        plain = _SPACES.sub("", text)
    else:
        plain = text = _SPACES.sub("", text)
    if "." in plain and "," in plain:
        mark = "." if plain.rfind(".") > plain.rfind(",") else ","
        whole, _sep, fraction = plain.rpartition(mark)
        sign = "-" if whole.startswith("-") else ""
        whole = whole.removeprefix("-")
        if not _GROUPED.fullmatch(whole) or mark in whole:
            raise ValueError(wrong)
        return sign + re.sub(r"[.,]", "", whole) + point + fraction
    return text


def parse_number(value: object, places: int = 2, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    """A number typed in the user's locale ("1,5" is 1.5 in Polish), as an exact Decimal.

    Refuses floats, text, negatives, more than ``places`` decimals and values above
    ``maximum`` with a message for the field.
    """
    if isinstance(value, float):
        raise TypeError("money must be Decimal, never float")
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        text = str(value or "").strip()
        if not text:
            raise ValueError(_("This field is required."))
        locale = format_locale()
        group, point = get_group_symbol(locale), get_decimal_symbol(locale)
        example = format_decimal(Decimal("1234.5"), format="#,##0.00", locale=locale)
        wrong = _("Enter a number, for example %(example)s.", example=example)
        text = _as_locale_typed(text, group, point, wrong)
        # Only the locale's own symbols: "1.500" in Polish is not guessed to be 1.5 (or 1500).
        if any(ch not in "0123456789-" and ch not in (group, point) for ch in text):
            raise ValueError(wrong)
        try:
            number = parse_decimal(text, locale=locale, strict=True)
        except NumberFormatError:
            raise ValueError(wrong) from None
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    if number < 0:
        raise ValueError(_("Enter zero or more; a negative figure is not allowed here."))
    if number > maximum:
        limit = format_decimal(maximum, locale=format_locale())
        raise ValueError(_("Enter at most %(max)s.", max=limit))
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places:
        raise ValueError(_("Use at most %(places)s decimals.", places=places))
    return number.quantize(Decimal(1).scaleb(-places))


def _optional(places: int, maximum: Decimal) -> Any:
    def read(value: object) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return parse_number(value, places, maximum)

    return read


def safe_text(value: str) -> str:
    """Refuse text a spreadsheet would read as a formula (``=cmd|...``, ``+``, ``-``, ``@``)."""
    if value.startswith(FORMULA_START):
        raise ValueError(
            _("Start with a letter or digit: a spreadsheet reads =, +, - or @ as a formula.")
        )
    return value


Amount = Annotated[Decimal, BeforeValidator(lambda v: parse_number(v))]
OptionalAmount = Annotated[Decimal | None, BeforeValidator(_optional(2, MAX_AMOUNT))]
OptionalRate = Annotated[Decimal | None, BeforeValidator(_optional(6, MAX_RATE))]


class LineForm(Form):
    category: str = Field(min_length=1, max_length=40)
    description: CleanText = Field(min_length=1, max_length=300)
    unit: CleanText = Field(default="", max_length=40)
    quantity: Amount
    unit_cost: Amount
    currency: str = Field(default="", max_length=3)
    exchange_rate: OptionalRate = None
    rate_date: date | None = None
    period: CleanText = Field(default="", max_length=40)
    lines_stamp: str = Field(default="", max_length=64)  # the add form's, see lines_stamp()

    _text = field_validator("description", "unit", "period")(safe_text)

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        code = str(value or "").strip().upper()
        if code and code not in CURRENCIES:
            raise ValueError(_("Enter a currency code such as EUR, NOK or PLN."))
        return code

    @field_validator("rate_date", mode="before")
    @classmethod
    def _empty_date(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class FlatRateForm(Form):
    rate: Amount


class FundingForm(Form):
    grant: Amount
    own_cash: Amount
    in_kind: OptionalAmount = None
    in_kind_hours: OptionalAmount = None
    other_donor: Amount
    national: Amount
    note: CleanText = Field(default="", max_length=300)
    stamp: str = ""

    _text = field_validator("note")(safe_text)


# --- computing -------------------------------------------------------------------------


def line_amount(
    quantity: Decimal,
    unit_cost: Decimal,
    exchange_rate: Decimal | None = None,
    rounding: str = "half_up",
) -> Decimal:
    """Quantity times unit cost (times the exchange rate), rounded once, at the end."""
    return to_cents(quantity * unit_cost * (exchange_rate or 1), rounding)  # type: ignore[arg-type]


def flat_amount(base: Decimal, rate: Decimal, rounding: str = "half_up") -> Decimal:
    """``rate`` percent of ``base``, rounded to the cent the way the call says."""
    return to_cents(base * rate / 100, rounding)  # type: ignore[arg-type]


def in_kind_value(hours: Decimal, hourly_rate: Decimal, rounding: str = "half_up") -> Decimal:
    return to_cents(hours * hourly_rate, rounding)  # type: ignore[arg-type]


def flat_rule(profile: CallProfile, category: str) -> FlatRate | None:
    return next((f for f in profile.budget.flat_rates if f.category == category), None)


def entry_categories(profile: CallProfile) -> list[str]:
    """The categories a line is typed into (flat-rate lines are computed)."""
    return [c.key for c in profile.budget.categories if c.kind != "flat_rate"]


# --- loading ---------------------------------------------------------------------------


@dataclass
class PartnerRows:
    partner: Partner
    lines: list[BudgetLine]
    sources: dict[str, FundingSource]


def load(session: Session, proposal: Proposal) -> list[PartnerRows]:
    """The active partners' lines and sources, in two queries."""
    partners = [p for p in proposal.partners if p.status == "active"]
    ids = [p.id for p in partners] or [-1]
    lines: dict[int, list[BudgetLine]] = {p.id: [] for p in partners}
    for line in session.scalars(
        select(BudgetLine)
        .where(BudgetLine.partner_id.in_(ids))
        .order_by(BudgetLine.position, BudgetLine.id)
    ):
        lines[line.partner_id].append(line)
    sources: dict[int, dict[str, FundingSource]] = {p.id: {} for p in partners}
    for source in session.scalars(select(FundingSource).where(FundingSource.partner_id.in_(ids))):
        sources[source.partner_id][source.kind] = source
    return [PartnerRows(p, lines[p.id], sources[p.id]) for p in partners]


def snapshot_of(
    profile: CallProfile, rows: Iterable[PartnerRows], language: str | None = None
) -> BudgetSnapshot:
    """The budget as plain data, labelled in the application's language (``language``)."""
    language = profile.written_in(language)
    categories = tuple(
        Category(c.key, c.title.get(language), c.kind) for c in profile.budget.categories
    )
    kinds = {c.key: c.kind for c in categories}
    partners = []
    for row in rows:
        lines = tuple(
            Line(
                category=line.category,
                description=line.description,
                amount=line.amount,
                unit=line.unit,
                quantity=line.quantity,
                unit_cost=line.unit_cost * (line.exchange_rate or 1),
                period=line.period,
                kind=kinds.get(line.category, "real"),  # type: ignore[arg-type]
                currency=line.currency,
                entered_unit_cost=line.unit_cost,
                exchange_rate=line.exchange_rate,
                rate_date=line.rate_date,
            )
            for line in row.lines
        )
        sources = tuple(
            Source(
                kind,
                row.sources[kind].amount,
                row.sources[kind].note,
                hours=row.sources[kind].hours,
            )
            for kind in SOURCE_KINDS
            if kind in row.sources
        )
        organisation = row.partner.organisation
        partners.append(
            PartnerBudget(
                key=row.partner.public_id,
                name=organisation.name,
                country=organisation.country,
                role=row.partner.role,  # type: ignore[arg-type]
                lines=lines,
                sources=sources,
            )
        )
    return BudgetSnapshot(
        currency=profile.currency,
        categories=categories,
        partners=tuple(partners),
        hourly_rate=profile.budget.in_kind.hourly_rate if profile.budget.in_kind.allowed else None,
        rounding=profile.budget.rounding,
        flat_rates=tuple((f.category, f.rate, tuple(f.base)) for f in profile.budget.flat_rates),
    )


def budget_snapshot(session: Session, proposal: Proposal) -> BudgetSnapshot:
    """The proposal's budget as plain data (for the page, the workbook and the Word export)."""
    return snapshot_of(
        library.profile_for(session, proposal), load(session, proposal), proposal.language
    )


def money_facts(session: Session, proposal: Proposal) -> dict[int, dict[str, Any]]:
    """Partner id -> costs per category and funding per kind, for the check engine."""
    facts: dict[int, dict[str, Any]] = {}
    for row in load(session, proposal):
        costs: dict[str, Decimal] = {}
        for line in row.lines:
            costs[line.category] = costs.get(line.category, ZERO) + line.amount
        money = {k: (row.sources[k].amount if k in row.sources else ZERO) for k in SOURCE_KINDS}
        facts[row.partner.id] = {
            "costs": costs,
            "grant": money["grant"],
            "own_cash": money["own_cash"],
            "in_kind": money["in_kind"],
            "other": money["other_donor"] + money["national"],
        }
    return facts


# --- changing --------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value)[:300]


def _log(
    session: Session,
    partner: Partner,
    user: User,
    subject: str,
    field: str,
    old: object,
    new: object,
) -> None:
    if _text(old) == _text(new):
        return
    session.add(
        BudgetChange(
            proposal_id=partner.proposal_id,
            partner_id=partner.id,
            actor_id=user.id,
            subject=subject[:300],
            field=field,
            old=_text(old),
            new=_text(new),
        )
    )
    # A changed figure withdraws the partner's budget sign-off. No autoflush: the row
    # being changed must be written once, so its version moves on by one per edit.
    with session.no_autoflush:
        signoffs.withdraw_sign_offs(
            session,
            partner.proposal_id,
            partner.id,
            "budget",
            user.id,
            _("The budget was changed (%(what)s).", what=subject[:100]),
        )


#: What a person enters for a line: the workbook's line columns but the computed amount.
LINE_FIELDS = tuple(c for c in LINE_COLUMNS if c != "amount")


def _check_line(profile: CallProfile, data: LineForm) -> None:
    errors: dict[str, str] = {}
    if data.category not in entry_categories(profile):
        errors["category"] = _("Choose one of the options.")
    if data.currency and data.currency != profile.currency:
        if data.exchange_rate is None or data.exchange_rate == 0:
            errors["exchange_rate"] = _(
                "Give the rate from %(from)s to %(to)s.",
                to=profile.currency,
                **{"from": data.currency},
            )
        if data.rate_date is None:
            errors["rate_date"] = _("Give the date of the exchange rate.")
    amount_of = line_amount(
        data.quantity, data.unit_cost, _rate(profile, data), profile.budget.rounding
    )
    if amount_of > MAX_AMOUNT:
        errors["quantity"] = _(
            "The amount would be above %(max)s.",
            max=format_decimal(MAX_AMOUNT, locale=format_locale()),
        )
    if errors:
        raise FormErrors(errors)


def _rate(profile: CallProfile, data: LineForm) -> Decimal | None:
    if data.currency and data.currency != profile.currency:
        return data.exchange_rate
    return None


def save_line(
    session: Session,
    profile: CallProfile,
    partner: Partner,
    user: User,
    data: LineForm,
    line: BudgetLine | None = None,
    version: int | None = None,
) -> BudgetLine:
    """Add a line (``line`` None) or change one seen at ``version``; recompute flat rates."""
    _check_line(profile, data)
    if line is not None and version is not None and line.version != version:
        raise Stale
    rate = _rate(profile, data)
    values = {
        "category": data.category,
        "description": data.description,
        "unit": data.unit,
        "quantity": data.quantity,
        "unit_cost": data.unit_cost,
        "currency": data.currency if rate is not None else "",
        "exchange_rate": rate,
        "rate_date": data.rate_date if rate is not None else None,
        "period": data.period,
    }
    amount = line_amount(data.quantity, data.unit_cost, rate, profile.budget.rounding)
    if line is None and data.lines_stamp:
        existing = load_lines(session, partner)
        if data.lines_stamp != lines_stamp(existing):
            same = next(
                (x for x in existing if all(getattr(x, k) == values[k] for k in LINE_FIELDS)), None
            )
            if same is not None:
                return same  # the same form sent twice (a double click): the line is added once
    if line is None:
        position = 1 + max(
            (
                p or 0
                for p in session.scalars(
                    select(BudgetLine.position).where(BudgetLine.partner_id == partner.id)
                )
            ),
            default=0,
        )
        line = BudgetLine(partner_id=partner.id, amount=amount, position=position, **values)
        session.add(line)
        _log(session, partner, user, data.description, "added", "", amount)
    else:
        for name in LINE_FIELDS:  # _log never flushes: the line gets one new version
            old = getattr(line, name)
            _log(session, partner, user, line.description, name, old, values[name])
            setattr(line, name, values[name])
        _log(session, partner, user, line.description, "amount", line.amount, amount)
        line.amount = amount
    session.flush()
    recompute_flat_rates(session, profile, partner, user)
    return line


def delete_line(
    session: Session,
    profile: CallProfile,
    partner: Partner,
    user: User,
    line: BudgetLine,
    version: int | None,
) -> None:
    if version is not None and line.version != version:
        raise Stale
    _log(session, partner, user, line.description, "deleted", line.amount, "")
    session.delete(line)
    session.flush()
    recompute_flat_rates(session, profile, partner, user)


def set_flat_rate(
    session: Session,
    profile: CallProfile,
    partner: Partner,
    user: User,
    category: str,
    rate: Decimal,
) -> None:
    """Apply ``rate`` percent for the flat-rate ``category`` (a rate of 0 removes the line)."""
    rule = flat_rule(profile, category)
    if rule is None:
        raise FormErrors({"rate": _("Choose one of the options.")})
    if rate > 100:
        raise FormErrors({"rate": _("Enter at most %(max)s.", max="100")})
    line = session.scalar(
        select(BudgetLine).where(
            BudgetLine.partner_id == partner.id, BudgetLine.category == category
        )
    )
    title = profile.category(category).title.get(profile.language)  # type: ignore[union-attr]
    if rate == 0:
        if line is not None:
            _log(session, partner, user, title, "deleted", line.amount, "")
            session.delete(line)
        return
    if line is None:
        line = BudgetLine(
            partner_id=partner.id,
            category=category,
            description=title,
            unit="%",
            quantity=rate,
            unit_cost=ZERO,
            amount=ZERO,
            position=10_000,
        )
        session.add(line)
        _log(session, partner, user, title, "added", "", f"{rate} %")
    else:
        _log(session, partner, user, title, "rate", line.quantity, rate)
        line.quantity = rate
    session.flush()
    recompute_flat_rates(session, profile, partner, user)


def recompute_flat_rates(
    session: Session, profile: CallProfile, partner: Partner, user: User | None
) -> None:
    """Flat-rate lines follow their base: recompute every one of ``partner``'s."""
    lines = list(session.scalars(select(BudgetLine).where(BudgetLine.partner_id == partner.id)))
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.category] = totals.get(line.category, ZERO) + line.amount
    for line in lines:
        rule = flat_rule(profile, line.category)
        if rule is None:
            continue
        base = sum((totals.get(k, ZERO) for k in rule.base), ZERO)
        amount = flat_amount(base, line.quantity, profile.budget.rounding)
        if line.unit_cost != base or line.amount != amount:
            if user is not None:
                _log(session, partner, user, line.description, "amount", line.amount, amount)
            line.unit_cost, line.amount = base, amount
    session.flush()


def lines_stamp(lines: Iterable[BudgetLine]) -> str:
    """A fingerprint of a partner's lines as the add form showed them (to spot a double click)."""
    text = "|".join(f"{line.id}:{line.version}" for line in lines)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def funding_stamp(sources: Mapping[str, FundingSource]) -> str:
    """A fingerprint of the funding figures a form was shown with (to refuse stale saves)."""
    text = "|".join(
        f"{k}:{sources[k].amount}:{sources[k].hours}:{sources[k].version}" if k in sources else k
        for k in SOURCE_KINDS
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_funding(
    session: Session,
    profile: CallProfile,
    partner: Partner,
    user: User,
    data: FundingForm,
    sources: dict[str, FundingSource],
) -> None:
    """Store the partner's funding sources (in-kind from hours at the call's rate, if given)."""
    if data.stamp and data.stamp != funding_stamp(sources):
        raise Stale
    in_kind = _check_funding(profile, data)
    hourly = profile.budget.in_kind.hourly_rate
    hours = data.in_kind_hours if hourly is not None else None
    amounts: dict[SourceKind, Decimal] = {
        "grant": data.grant,
        "own_cash": data.own_cash,
        "in_kind": in_kind,
        "other_donor": data.other_donor,
        "national": data.national,
    }
    for kind, amount in amounts.items():
        source = sources.get(kind)
        note = data.note if kind == "other_donor" else ""
        if source is None:
            if amount == 0 and not note:
                continue
            source = FundingSource(partner_id=partner.id, kind=kind, amount=ZERO, note="")
            session.add(source)
            sources[kind] = source
        _log(session, partner, user, kind, "amount", source.amount, amount)
        source.amount = amount
        if kind == "in_kind":
            _log(session, partner, user, kind, "hours", source.hours, hours)
            source.hours = hours
        if kind == "other_donor":
            _log(session, partner, user, kind, "note", source.note, note)
            source.note = note
    session.flush()


def history(session: Session, proposal: Proposal, limit: int = 200) -> list[BudgetChange]:
    return list(
        session.scalars(
            select(BudgetChange)
            .where(BudgetChange.proposal_id == proposal.id)
            .options(
                selectinload(BudgetChange.actor),
                selectinload(BudgetChange.partner).selectinload(Partner.organisation),
            )
            .order_by(BudgetChange.id.desc())
            .limit(limit)
        )
    )


def load_lines(session: Session, partner: Partner) -> list[BudgetLine]:
    return list(
        session.scalars(
            select(BudgetLine)
            .where(BudgetLine.partner_id == partner.id)
            .order_by(BudgetLine.position, BudgetLine.id)
        )
    )


def load_sources(session: Session, partner: Partner) -> dict[str, FundingSource]:
    query = select(FundingSource).where(FundingSource.partner_id == partner.id)
    return {s.kind: s for s in session.scalars(query)}


# --- importing a workbook ----------------------------------------------------------------


def import_workbook(
    session: Session,
    profile: CallProfile,
    rows: list[PartnerRows],
    user: User,
    imported: list[ImportedPartner],
) -> list[str]:
    """Replace the budgets of the sheets' partners, all or nothing; the partners skipped.

    Every line and figure is validated with the page's own rules first; any problem
    raises :class:`WorkbookErrors` by sheet and cell before anything is changed.
    Sheets of partners the user may not edit are not read (their names are returned).
    """
    by_key = {row.partner.public_id: row for row in rows}
    errors: list[CellError] = []
    plan: list[tuple[PartnerRows, list[LineForm], list[tuple[str, Decimal]], FundingForm]] = []
    skipped: list[str] = []
    for sheet in imported:
        row = by_key[sheet.key]
        if not can(user, "edit_budget", row.partner):
            skipped.append(row.partner.organisation.name)
            continue
        lines: list[LineForm] = []
        flats: list[tuple[str, Decimal]] = []
        for item in sheet.lines:
            values = {k: ("" if v is None else v) for k, v in item.values.items()}
            if item.flat:
                rate = item.values["quantity"]
                if rate is None or rate > 100:
                    message = _("Enter a rate from 0 to 100.")
                    errors.append(
                        CellError(sheet.sheet, f"{COLUMN['quantity']}{item.row}", message)
                    )
                else:
                    flats.append((str(item.values["category"]), rate))
                continue
            try:
                data = validate(LineForm, values)
                _check_line(profile, data)
            except FormErrors as exc:
                for name, message in exc.errors.items():
                    cell = f"{COLUMN.get(name, 'A')}{item.row}"
                    if not any(e.sheet == sheet.sheet and e.cell == cell for e in errors):
                        errors.append(CellError(sheet.sheet, cell, message))
                continue
            lines.append(data)
        money = {
            "grant": sheet.sources.get("grant", ZERO),
            "own_cash": sheet.sources.get("own_cash", ZERO),
            "in_kind": sheet.sources.get("in_kind"),
            "in_kind_hours": sheet.hours,
            "other_donor": sheet.sources.get("other_donor", ZERO),
            "national": sheet.sources.get("national", ZERO),
            "note": sheet.notes.get("other_donor", ""),
        }
        cells = {k: f"B{r}" for k, r in FUNDING_ROWS.items()}
        cells.update(in_kind_hours=f"C{FUNDING_ROWS['in_kind']}")
        cells.update(note=f"D{FUNDING_ROWS['other_donor']}")
        try:
            funding = validate(FundingForm, money)
            _check_funding(profile, funding)
        except FormErrors as exc:
            for name, message in exc.errors.items():
                errors.append(CellError(sheet.sheet, cells.get(name, "B7"), message))
            continue
        plan.append((row, lines, flats, funding))
    if errors:
        raise WorkbookErrors(errors)
    for row, lines, flats, funding in plan:
        partner = row.partner
        for line in load_lines(session, partner):
            _log(session, partner, user, line.description, "deleted", line.amount, "")
            session.delete(line)
        session.flush()
        for data in lines:
            save_line(session, profile, partner, user, data)
        for category, rate in flats:
            set_flat_rate(session, profile, partner, user, category, rate)
        save_funding(session, profile, partner, user, funding, load_sources(session, partner))
    return skipped


def grant_limit(profile: CallProfile, country: str) -> Decimal | None:
    """The highest grant rate (percent) the call allows a partner of this country, if any."""
    rule = profile.budget.grant_rate
    if rule is None:
        return None
    return rule.by_country.get(country, rule.max)


def balanced(
    profile: CallProfile, country: str, total_costs: Decimal, data: FundingForm, by: str
) -> FundingForm:
    """The funding with the grant (or the own contribution) set so that it meets the costs.

    ``by="grant"``: the grant closes the gap left by the other sources, up to the call's
    rate of the costs (rounded down, so it never breaks the rate); what the rate does not
    cover is added to the own contribution. ``by="own_cash"``: only the own contribution
    moves. Nothing is stored: the caller saves the result.
    """
    others = _check_funding(profile, data) + data.other_donor + data.national
    grant, own = data.grant, data.own_cash
    if by == "grant":
        rate = grant_limit(profile, country)
        cap = total_costs if rate is None else to_cents(total_costs * rate / 100, "down")  # type: ignore[arg-type]
        grant = total_costs - own - others
        if grant > cap:
            grant, own = cap, total_costs - cap - others
    else:
        own = total_costs - grant - others
    if grant < 0 or own < 0:
        raise FormErrors(
            {by: _("The other sources already cover more than the costs: lower them first.")}
        )
    return data.model_copy(update={"grant": grant, "own_cash": own})


def _check_funding(profile: CallProfile, data: FundingForm) -> Decimal:
    """The in-kind value the form gives (hours at the call's rate, or as stated), checked."""
    hourly = profile.budget.in_kind.hourly_rate
    if data.in_kind_hours is not None and hourly is not None:
        in_kind = in_kind_value(data.in_kind_hours, hourly, profile.budget.rounding)
        if in_kind > MAX_AMOUNT:
            limit = format_decimal(MAX_AMOUNT, locale=format_locale())
            raise FormErrors({"in_kind_hours": _("Enter at most %(max)s.", max=limit)})
    else:
        in_kind = data.in_kind if data.in_kind is not None else ZERO
    if in_kind > 0 and not profile.budget.in_kind.allowed:
        raise FormErrors({"in_kind": _("This call does not accept in-kind contributions.")})
    return in_kind


# --- the workbook's words, in the language in force (the user's, or the call's for exports)

SOURCE_LABELS = {
    "grant": _l("Grant requested"),
    "own_cash": _l("Own contribution"),
    "in_kind": _l("In-kind contribution"),
    "other_donor": _l("Other donors"),
    "national": _l("National co-financing"),
}


def workbook_labels() -> dict[str, str]:
    """The workbook's labels in the language in force (``i18n.using`` sets another)."""
    return {key: _(label) for key, label in DEFAULT_LABELS.items()}


def workbook_messages() -> dict[str, str]:
    """The workbook import's messages in the language in force."""
    return {key: _(message) for key, message in DEFAULT_MESSAGES.items()}
