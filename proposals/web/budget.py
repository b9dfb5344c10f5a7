"""Routes for budgets: lines, flat rates and funding per partner, checks, history, workbook.

Every form works without JavaScript (a full page after a redirect); with htmx
the budget region (partners, totals, consortium summary, findings) is swapped
at once. A partner's writers edit its own budget, the coordinator all of them;
mentors and viewers read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_percent
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from exports.budget import SOURCE_KINDS, BudgetSnapshot, PartnerBudget
from exports.workbook import (
    WorkbookErrors,
    budget_workbook,
    read_workbook,
)
from proposals import urls
from proposals.calls import library
from proposals.calls.checks import Finding, run_checks
from proposals.calls.schema import CallProfile
from proposals.domain import budget
from proposals.domain.facts import facts_of
from proposals.errors import NotFound
from proposals.forms import FormErrors, form_id
from proposals.i18n import format_locale, format_money, format_number, format_percent, get_locale
from proposals.i18n import gettext as _
from proposals.i18n import lazy_gettext as _l
from proposals.models import BudgetLine, Partner, Proposal
from proposals.money import percent_shares
from proposals.policy import can, organisation_ids
from proposals.web import targets
from proposals.web.plumbing import (
    attachment,
    current_user,
    db,
    flash,
    form,
    is_htmx,
    redirect,
    render,
    route,
    submitted,
    view,
)
from workflow import READ_ONLY_STATES

MAX_UPLOAD = 5 * 1024 * 1024
FIELD_LABELS = {
    "added": _l("added"),
    "deleted": _l("deleted"),
    "amount": _l("Amount"),
    "rate": _l("Rate"),
    "hours": _l("Hours"),
    "note": _l("Note"),
    "category": _l("Category"),
    "description": _l("Description"),
    "unit": _l("Unit"),
    "quantity": _l("Quantity"),
    "unit_cost": _l("Unit cost"),
    "currency": _l("Currency"),
    "exchange_rate": _l("Exchange rate"),
    "rate_date": _l("Rate date"),
    "period": _l("Period or work package"),
}


# --- loading -----------------------------------------------------------------------------


def _proposal(request: Request) -> tuple[Proposal, CallProfile]:
    proposal = targets.proposal(request)
    return proposal, library.profile_for(db(request), proposal)


def _partner(request: Request, proposal: Proposal) -> Partner:
    partner = targets.partner(request, proposal)
    if partner.status != "active":
        raise NotFound()
    return partner


def _line(request: Request, partner: Partner) -> BudgetLine:
    line = next(
        (
            line
            for line in budget.load_lines(db(request), partner)
            if line.public_id == request.path_params["line"]
        ),
        None,
    )
    if line is None:
        raise NotFound()
    return line


def _version(request: Request) -> int | None:
    """The line version the form was shown with (None if not sent; forged: never current)."""
    raw = form(request).get("version")
    if raw is None or raw == "":
        return None
    number = form_id(raw)
    return -1 if number is None else number


# --- the page ------------------------------------------------------------------------------


@dataclass
class PartnerView:
    partner: Partner
    figures: PartnerBudget
    lines: list[tuple[BudgetLine, str]]  # the row and its category's title
    categories: list[tuple[str, str, Decimal]]  # key, title, total
    flat: list[dict[str, Any]]
    sources: dict[str, Any]
    shares: dict[str, Decimal] | None
    grant_rate: Decimal | None
    findings: list[Finding]
    can_edit: bool
    stamp: str
    lines_stamp: str
    balanced: bool
    mine: bool = False
    folded: bool = False
    form_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    form_errors: dict[str, dict[str, str]] = field(default_factory=dict)


def _rate(value: Decimal | None) -> Decimal | None:
    """An exact fraction shown as a percentage with two decimals, rounded half-up."""
    return None if value is None else value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _shares(amounts: list[Decimal]) -> dict[str, Decimal] | None:
    shares = percent_shares(amounts)
    return dict(zip(SOURCE_KINDS, shares, strict=True)) if shares is not None else None


def entry_number(value: Decimal | None, pattern: str = "0.00") -> str:
    """A figure as the user types it in their locale (no grouping): "1500,00" in Polish."""
    return "" if value is None else format_decimal(value, format=pattern, locale=format_locale())


def _context(
    request: Request,
    proposal: Proposal,
    profile: CallProfile,
    *,
    state: tuple[str, str, dict[str, Any], dict[str, str]] | None = None,
    edit: str | None = None,
    notice: str = "",
    notice_at: tuple[str, str] | None = None,
) -> dict[str, Any]:
    session, user = db(request), current_user(request)
    rows = budget.load(session, proposal)
    snapshot = budget.snapshot_of(profile, rows, proposal.language)
    findings = run_checks(profile, facts_of(proposal), ["budget"])
    locale = get_locale()
    own = organisation_ids(user) if user else set()
    titles = {c.key: c.title.get(locale) for c in profile.budget.categories}
    views = []
    for row, figures in zip(rows, snapshot.partners, strict=True):
        mine = [f for f in findings if f.target.key == row.partner.public_id]
        flat = []
        for rule in profile.budget.flat_rates:
            line = next((x for x in row.lines if x.category == rule.category), None)
            base = sum((figures.category_total(k) for k in rule.base), budget.ZERO)
            flat.append(
                {
                    "rule": rule,
                    "title": titles[rule.category],
                    "base_titles": [titles[k] for k in rule.base],
                    "line": line,
                    "base": base,
                    "allowed": budget.flat_amount(base, rule.rate, profile.budget.rounding),
                    "findings": [f for f in mine if f.check == "flat_rates"],
                }
            )
        view_ = PartnerView(
            partner=row.partner,
            figures=figures,
            lines=[
                (x, titles.get(x.category, x.category))
                for x in row.lines
                if budget.flat_rule(profile, x.category) is None
            ],
            categories=[
                (c.key, titles[c.key], figures.category_total(c.key))
                for c in profile.budget.categories
            ],
            flat=flat,
            sources=row.sources,
            shares=_shares([figures.funding(k) for k in SOURCE_KINDS]),
            grant_rate=_rate(figures.grant_rate),
            findings=[f for f in mine if f.check != "flat_rates"],
            can_edit=can(user, "edit_budget", row.partner),
            stamp=budget.funding_stamp(row.sources),
            lines_stamp=budget.lines_stamp(row.lines),
            balanced=figures.total_funding == figures.total_costs,
            mine=row.partner.organisation_id in own,
        )
        if state and state[1] == row.partner.public_id:
            view_.form_values[state[0]] = state[2]
            view_.form_errors[state[0]] = state[3]
        views.append(view_)
    # A partner's own budget comes first; when the user has one, the budgets they can
    # neither edit nor call theirs are folded (a coordinator keeps every one open).
    views.sort(key=lambda v: not v.mine)
    has_own = any(v.mine for v in views)
    for v in views:
        v.folded = has_own and not v.mine and not v.can_edit
    return {
        "proposal": proposal,
        "profile": profile,
        "snapshot": snapshot,
        "partners": views,
        "titles": titles,
        "entry_categories": [(k, titles[k]) for k in budget.entry_categories(profile)],
        "consortium_findings": [f for f in findings if f.target.key is None],
        "consortium_shares": _shares([snapshot.funding(k) for k in SOURCE_KINDS]),
        "consortium_rate": _rate(snapshot.grant_rate),
        "source_labels": budget.SOURCE_LABELS,
        "kinds": SOURCE_KINDS,
        "money": lambda value: format_money(value, profile.currency),
        "pct": lambda value: "–" if value is None else format_percent(value),
        "share": lambda value: "–" if value is None else format_percent(value / 100),
        "entry": entry_number,
        "edit": edit,
        "notice": "" if notice_at else notice,
        "local_notice": notice if notice_at else "",
        "notice_at": notice_at,
        "grant_limit": lambda v: budget.grant_limit(profile, v.figures.country),
        "rate": lambda value: babel_percent(
            value.normalize() / 100, locale=locale, decimal_quantization=False
        ),
        "hourly_rate": profile.budget.in_kind.hourly_rate,
        "in_kind_allowed": profile.budget.in_kind.allowed,
        "can_import": any(v.can_edit for v in views),
        "read_only": proposal.status in READ_ONLY_STATES,
        "lump_sums": [
            format_money(a, profile.currency)
            for a in (profile.budget.lump_sums.amounts if profile.budget.lump_sums else [])
        ],
        "upload_errors": [],
    }


def _show(
    request: Request,
    proposal: Proposal,
    profile: CallProfile,
    status_code: int = 200,
    **kwargs: Any,
) -> Response:
    return render(
        request,
        "budget/page.html",
        _context(request, proposal, profile, **kwargs),
        status_code=status_code,
        fragment="budget/_budget.html",
    )


def _done(
    request: Request,
    proposal: Proposal,
    profile: CallProfile,
    partner: Partner,
    notice: str,
    slot: str = "lines",
) -> Response:
    """After a change: the fresh budget region for htmx, a redirect otherwise.

    The message is shown beside the form the change came from (``slot``: "add",
    "lines" or "funding" of this partner), where the user's focus returns.
    """
    if is_htmx(request):
        return _show(request, proposal, profile, notice=notice, notice_at=(partner.public_id, slot))
    flash(request, notice)
    return redirect(
        request, urls.path("budget", pid=proposal.public_id) + f"#p-{partner.public_id}"
    )


def _stale(request: Request, proposal: Proposal, profile: CallProfile) -> Response:
    message = _(
        "Someone else changed these figures a moment ago, so yours were not saved. "
        "Here they are now: enter your change again."
    )
    return _show(request, proposal, profile, status_code=409, notice=message)


@view("view_proposal")
def page(request: Request) -> Response:
    proposal, profile = _proposal(request)
    edit = request.query_params.get("edit") or None
    return _show(request, proposal, profile, edit=edit)


@view("edit_budget")
def add_line(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    values, errors, data = submitted(request, budget.LineForm)
    if data is not None:
        try:
            budget.save_line(db(request), profile, partner, current_user(request), data)
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        state = ("add", partner.public_id, values, errors)
        return _show(request, proposal, profile, status_code=422, state=state)
    return _done(request, proposal, profile, partner, _("The line is added."), "add")


@view("edit_budget")
def change_line(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    line = _line(request, partner)
    values, errors, data = submitted(request, budget.LineForm)
    if data is not None:
        try:
            budget.save_line(
                db(request), profile, partner, current_user(request), data, line, _version(request)
            )
        except budget.Stale:
            return _stale(request, proposal, profile)
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        state = ("line", partner.public_id, values, errors)
        return _show(request, proposal, profile, status_code=422, state=state, edit=line.public_id)
    return _done(request, proposal, profile, partner, _("The line is saved."))


@view("edit_budget")
def delete_line(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    line = _line(request, partner)
    try:
        budget.delete_line(
            db(request), profile, partner, current_user(request), line, _version(request)
        )
    except budget.Stale:
        return _stale(request, proposal, profile)
    return _done(request, proposal, profile, partner, _("The line is deleted."))


@view("edit_budget")
def flat_rate(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    category = request.path_params["category"]
    if budget.flat_rule(profile, category) is None:
        raise NotFound()  # no such flat rate in this call: no form to show
    values, errors, data = submitted(request, budget.FlatRateForm)
    if data is not None:
        try:
            budget.set_flat_rate(
                db(request), profile, partner, current_user(request), category, data.rate
            )
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        state = (f"flat-{category}", partner.public_id, values, errors)
        return _show(request, proposal, profile, status_code=422, state=state)
    return _done(request, proposal, profile, partner, _("The flat rate is applied."))


@view("edit_budget")
def funding(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    values, errors, data = submitted(request, budget.FundingForm)
    by = form(request).get("balance")
    if data is not None:
        sources = budget.load_sources(db(request), partner)
        try:
            if by in ("grant", "own_cash"):
                data = _balanced(request, proposal, profile, partner, data, str(by))
            budget.save_funding(db(request), profile, partner, current_user(request), data, sources)
        except budget.Stale:
            return _stale(request, proposal, profile)
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        state = ("funding", partner.public_id, values, errors)
        return _show(request, proposal, profile, status_code=422, state=state)
    notice = _("The funding is balanced and saved.") if by else _("The funding is saved.")
    return _done(request, proposal, profile, partner, notice, "funding")


def _balanced(
    request: Request,
    proposal: Proposal,
    profile: CallProfile,
    partner: Partner,
    data: budget.FundingForm,
    by: str,
) -> budget.FundingForm:
    """The submitted funding with the grant or own contribution meeting the partner's costs."""
    rows = budget.load(db(request), proposal)
    snapshot = budget.snapshot_of(profile, rows, proposal.language)
    figures = next(
        f for r, f in zip(rows, snapshot.partners, strict=True) if r.partner.id == partner.id
    )
    return budget.balanced(profile, figures.country, figures.total_costs, data, by)


#: Which logged figures are sums of money (in the call's currency) and which plain numbers.
MONEY_FIELDS = frozenset({"added", "deleted", "amount"})
NUMBER_FIELDS = frozenset({"unit_cost", "quantity", "hours", "rate", "exchange_rate"})


def shown_figure(field: str, raw: str, currency: str) -> str:
    """A logged figure ("13830.60") as people read it: "13 830,60 €" in Polish."""
    if field not in MONEY_FIELDS | NUMBER_FIELDS or not raw:
        return raw
    try:
        value = Decimal(raw)
    except ArithmeticError:
        return raw  # e.g. a flat rate logged as "15 %"
    if not value.is_finite():
        return raw
    return format_money(value, currency) if field in MONEY_FIELDS else format_number(value)


@view("view_proposal")
def history(request: Request) -> Response:
    proposal, profile = _proposal(request)
    return render(
        request,
        "budget/history.html",
        {
            "proposal": proposal,
            "changes": budget.history(db(request), proposal),
            "figure": lambda field, raw: shown_figure(field, raw, profile.currency),
            "field_labels": FIELD_LABELS,
            "source_labels": budget.SOURCE_LABELS,
        },
    )


def workbook_name(proposal: Proposal) -> str:
    stem = "".join(ch for ch in (proposal.acronym or "budget") if ch.isalnum() or ch in "-_")
    return f"{stem or 'budget'}-budget.xlsx"


@view("view_proposal")
def download(request: Request) -> Response:
    proposal, _profile = _proposal(request)
    snapshot: BudgetSnapshot = budget.budget_snapshot(db(request), proposal)
    data = budget_workbook(snapshot, budget.workbook_labels())
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": attachment(workbook_name(proposal))},
    )


@view("upload_workbook")
def upload(request: Request) -> Response:
    proposal, profile = _proposal(request)
    user = current_user(request)
    file = form(request).get("workbook")
    errors: list[Any] = []
    if not isinstance(file, UploadFile) or not file.filename:
        errors = [("", "", _("Choose the workbook to upload."))]
    else:
        data = file.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            errors = [("", "", _("The file is larger than 5 MB."))]
        else:
            rows = budget.load(db(request), proposal)
            try:
                imported = read_workbook(
                    data,
                    budget.snapshot_of(profile, rows, proposal.language),
                    budget.workbook_messages(),
                )
                skipped = budget.import_workbook(db(request), profile, rows, user, imported)
            except WorkbookErrors as exc:
                db(request).rollback()  # all or nothing: not one figure of the file is kept
                errors = [(e.sheet, e.cell, e.message) for e in exc.errors]
            else:
                notice = _("The workbook is imported.")
                if skipped:
                    notice += " " + _(
                        "Sheets of partners whose budget you may not edit were not read: "
                        "%(names)s.",
                        names=", ".join(skipped),
                    )
                flash(request, notice)
                return redirect(request, urls.path("budget", pid=proposal.public_id))
    context = _context(request, proposal, profile)
    context["upload_errors"] = errors
    return render(request, "budget/page.html", context, status_code=422)


routes = [
    route("budget", page),
    route("budget_history", history),
    route("budget_workbook", download),
    route("budget_workbook", upload, ("POST",)),
    route("budget_lines", add_line, ("POST",)),
    route("budget_line", change_line, ("POST",)),
    route("delete_budget_line", delete_line, ("POST",)),
    route("budget_flat_rate", flat_rate, ("POST",)),
    route("budget_funding", funding, ("POST",)),
]
