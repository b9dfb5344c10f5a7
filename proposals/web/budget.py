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
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exports.budget import SOURCE_KINDS, BudgetSnapshot, PartnerBudget
from exports.workbook import (
    WorkbookErrors,
    budget_workbook,
    read_workbook,
)
from proposals.calls.checks import Finding, run_checks
from proposals.calls.schema import CallProfile
from proposals.domain import budget, consortium
from proposals.domain.actions import facts_of, profile_for
from proposals.forms import FormErrors, form_id
from proposals.i18n import format_money, format_percent, get_locale
from proposals.i18n import gettext as _
from proposals.i18n import lazy_gettext as _l
from proposals.models import BudgetLine, Partner, Proposal
from proposals.money import percent_shares
from proposals.policy import can, require, require_proposal
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    is_htmx,
    login_required,
    redirect,
    render,
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
    proposal = consortium.load_proposal(db(request), request.path_params["pid"])
    proposal = require_proposal(current_user(request), proposal)
    return proposal, profile_for(db(request), proposal)


def _partner(request: Request, proposal: Proposal) -> Partner:
    partner = next(
        (
            p
            for p in proposal.partners
            if p.public_id == request.path_params["partner"] and p.status == "active"
        ),
        None,
    )
    if partner is None:
        raise HTTPException(status_code=404)
    require(current_user(request), "edit_budget", partner)
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
        raise HTTPException(status_code=404)
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
    return "" if value is None else format_decimal(value, format=pattern, locale=get_locale())


def _context(
    request: Request,
    proposal: Proposal,
    profile: CallProfile,
    *,
    state: tuple[str, str, dict[str, Any], dict[str, str]] | None = None,
    edit: str | None = None,
    notice: str = "",
) -> dict[str, Any]:
    session, user = db(request), current_user(request)
    rows = budget.load(session, proposal)
    snapshot = budget.snapshot_of(profile, rows)
    findings = run_checks(profile, facts_of(proposal), ["budget"])
    locale = get_locale()
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
        )
        if state and state[1] == row.partner.public_id:
            view_.form_values[state[0]] = state[2]
            view_.form_errors[state[0]] = state[3]
        views.append(view_)
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
        "notice": notice,
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
    request: Request, proposal: Proposal, profile: CallProfile, partner: Partner, notice: str
) -> Response:
    """After a change: the fresh budget region for htmx, a redirect otherwise."""
    if is_htmx(request):
        return _show(request, proposal, profile, notice=notice)
    flash(request, notice)
    return redirect(request, f"/proposals/{proposal.public_id}/budget#p-{partner.public_id}")


def _stale(request: Request, proposal: Proposal, profile: CallProfile) -> Response:
    message = _(
        "Someone else changed these figures a moment ago, so yours were not saved. "
        "Here they are now: enter your change again."
    )
    return _show(request, proposal, profile, status_code=409, notice=message)


@view
@login_required
def page(request: Request) -> Response:
    proposal, profile = _proposal(request)
    edit = request.query_params.get("edit") or None
    return _show(request, proposal, profile, edit=edit)


@view
@login_required
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
    return _done(request, proposal, profile, partner, _("The line is added."))


@view
@login_required
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


@view
@login_required
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


@view
@login_required
def flat_rate(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    category = request.path_params["category"]
    if budget.flat_rule(profile, category) is None:
        raise HTTPException(status_code=404)  # no such flat rate in this call: no form to show
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


@view
@login_required
def funding(request: Request) -> Response:
    proposal, profile = _proposal(request)
    partner = _partner(request, proposal)
    values, errors, data = submitted(request, budget.FundingForm)
    if data is not None:
        sources = budget.load_sources(db(request), partner)
        try:
            budget.save_funding(db(request), profile, partner, current_user(request), data, sources)
        except budget.Stale:
            return _stale(request, proposal, profile)
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        state = ("funding", partner.public_id, values, errors)
        return _show(request, proposal, profile, status_code=422, state=state)
    return _done(request, proposal, profile, partner, _("The funding is saved."))


@view
@login_required
def history(request: Request) -> Response:
    proposal, _profile = _proposal(request)
    return render(
        request,
        "budget/history.html",
        {
            "proposal": proposal,
            "changes": budget.history(db(request), proposal),
            "field_labels": FIELD_LABELS,
            "source_labels": budget.SOURCE_LABELS,
        },
    )


def workbook_name(proposal: Proposal) -> str:
    stem = "".join(ch for ch in (proposal.acronym or "budget") if ch.isalnum() or ch in "-_")
    return f"{stem or 'budget'}-budget.xlsx"


@view
@login_required
def download(request: Request) -> Response:
    proposal, _profile = _proposal(request)
    snapshot: BudgetSnapshot = budget.budget_snapshot(db(request), proposal)
    data = budget_workbook(snapshot, budget.workbook_labels())
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{workbook_name(proposal)}"'},
    )


@view
@login_required
def upload(request: Request) -> Response:
    proposal, profile = _proposal(request)
    user = current_user(request)
    if not any(can(user, "edit_budget", p) for p in proposal.partners):
        raise HTTPException(status_code=403)  # mentors and viewers read only
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
                    data, budget.snapshot_of(profile, rows), budget.workbook_messages()
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
                return redirect(request, f"/proposals/{proposal.public_id}/budget")
    context = _context(request, proposal, profile)
    context["upload_errors"] = errors
    return render(request, "budget/page.html", context, status_code=422)


routes = [
    Route("/proposals/{pid}/budget", page, name="budget"),
    Route("/proposals/{pid}/budget/history", history, name="budget_history"),
    Route("/proposals/{pid}/budget/workbook", download, name="budget_workbook"),
    Route("/proposals/{pid}/budget/workbook", upload, methods=["POST"]),
    Route("/proposals/{pid}/budget/{partner}/lines", add_line, methods=["POST"]),
    Route("/proposals/{pid}/budget/{partner}/lines/{line}", change_line, methods=["POST"]),
    Route("/proposals/{pid}/budget/{partner}/lines/{line}/delete", delete_line, methods=["POST"]),
    Route("/proposals/{pid}/budget/{partner}/flat/{category}", flat_rate, methods=["POST"]),
    Route("/proposals/{pid}/budget/{partner}/funding", funding, methods=["POST"]),
]
