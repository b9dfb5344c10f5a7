"""The idea board: post a first joint idea, find it by country and theme, say "I'm interested"."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.calls import library
from proposals.calls.standing import closed_reason
from proposals.domain import ideas
from proposals.forms import FormErrors
from proposals.i18n import country_choices, get_locale
from proposals.i18n import gettext as _
from proposals.models import Idea, utcnow
from proposals.policy import can, organisation_ids
from proposals.vocabulary import THEMES
from proposals.web import targets
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    page_number,
    redirect,
    render,
    render_form,
    route,
    submitted,
    view,
)

LIST_FIELDS = ("themes", "countries_sought")


def _call_titles(request: Request) -> dict[str, str]:
    locale = get_locale()
    return {p.id: p.title.get(locale) for p in library.latest(db(request))}


def _closed_calls(request: Request) -> dict[str, str]:
    """Why each closed call takes no new ideas."""
    now = utcnow()
    reasons = {p.id: closed_reason(p, now) for p in library.latest(db(request))}
    return {call_id: reason for call_id, reason in reasons.items() if reason}


def _choices(request: Request, idea: Idea | None = None) -> dict[str, object]:
    closed = _closed_calls(request)
    kept = idea.call_id if idea is not None else None
    return {
        "themes": [(k, str(v)) for k, v in THEMES.items()],
        "countries": country_choices(),
        "calls": [
            (call_id, title)
            for call_id, title in _call_titles(request).items()
            if call_id not in closed or call_id == kept
        ],
        "organisations": [
            (o.public_id, o.name) for o in ideas.my_organisations(current_user(request))
        ],
    }


def _idea(request: Request) -> Idea:
    return targets.idea(request, ideas.get_idea(db(request), request.path_params["iid"]))


@view("use_engage")
def list_ideas(request: Request) -> Response:
    params = request.query_params
    filters = ideas.Filters(
        country=params.get("country", "").upper(),
        theme=params.get("theme", ""),
        call=params.get("call", ""),
        q=params.get("q", "").strip()[:200],
    )
    page = ideas.search(db(request), filters, page_number(request))
    return render(
        request,
        "ideas/list.html",
        {
            "ideas": page.items,
            "total": page.total,
            "page": page.number,
            "pages": page.pages,
            "filters": filters.__dict__,
            "theme_labels": THEMES,
            "call_titles": _call_titles(request),
            **_choices(request),
        },
        fragment="ideas/_results.html",
    )


def _save(request: Request, idea: Idea | None) -> Response:
    user = current_user(request)
    if not ideas.my_organisations(user):
        flash(
            request,
            _("Create your organisation's profile first: ideas are posted by organisations."),
            "info",
        )
        return redirect(request, urls.path("new_organisation"))
    initial: dict[str, object] = {
        "organisation": ideas.my_organisations(user)[0].public_id,
        "themes": [],
        "countries_sought": [],
        "call_id": request.query_params.get("call", ""),
    }
    if idea is not None:
        initial = {
            "organisation": idea.organisation.public_id,
            "title": idea.title,
            "summary": idea.summary,
            "themes": idea.themes,
            "countries_sought": idea.countries_sought,
            "skills_sought": idea.skills_sought,
            "call_id": idea.call_id or "",
        }
    values, errors, data = submitted(request, ideas.IdeaForm, initial=initial, lists=LIST_FIELDS)
    if data is not None:
        new = idea is None
        try:
            idea = ideas.save_idea(
                db(request),
                user,
                idea,
                data,
                set(_call_titles(request)),
                _closed_calls(request),
            )
        except FormErrors as exc:
            errors = exc.errors
        else:
            flash(request, _("Your idea is published.") if new else _("The idea is saved."))
            return redirect(request, urls.link(idea))
    return render_form(
        request, "ideas/form.html", values, errors, idea=idea, **_choices(request, idea)
    )


@view("use_engage")
def new_idea(request: Request) -> Response:
    return _save(request, None)


@view("edit_idea")
def edit_idea(request: Request) -> Response:
    return _save(request, _idea(request))


def _show(
    request: Request, idea: Idea, values: dict[str, object], errors: dict[str, str]
) -> Response:
    """The idea's page, with the "I'm interested" form (and its errors, if any)."""
    user = current_user(request)
    mine = organisation_ids(user)
    return render_form(
        request,
        "ideas/show.html",
        values,
        errors,
        idea=idea,
        owner=not errors and can(user, "edit_idea", idea),
        # With errors the form is shown again, whatever was recorded meanwhile.
        already_interested=set() if errors else {i.organisation_id for i in idea.interests} & mine,
        can_express=bool(errors) or can(user, "express_interest", idea),
        interest_organisations=[
            (o.public_id, o.name)
            for o in ideas.my_organisations(user)
            if o.id != idea.organisation_id
        ],
        theme_labels=THEMES,
        call_titles=_call_titles(request),
        started=[
            p for p in ideas.proposals_from(db(request), idea) if can(user, "view_proposal", p)
        ],
    )


@view("view_idea")
def show_idea(request: Request) -> Response:
    return _show(request, _idea(request), {}, {})


@view("express_interest")
def express_interest(request: Request) -> Response:
    idea = _idea(request)
    values, errors, data = submitted(request, ideas.InterestForm)
    if data is not None:
        try:
            ideas.express_interest(current_user(request), idea, data)
        except FormErrors as exc:
            errors = exc.errors
    if errors:
        return _show(request, idea, values, errors)
    flash(request, _("Thank you: the idea's authors can now see your interest and answer."))
    return redirect(request, urls.link(idea))


@view("edit_idea")
def reply_interest(request: Request) -> Response:
    idea = _idea(request)
    _values, errors, data = submitted(request, ideas.ReplyForm)
    if data is None:
        flash(request, errors.get("reply", ""), "error")
    else:
        ideas.reply(idea, request.path_params["xid"], data.reply)
        flash(request, _("Your answer is saved."))
    return redirect(request, urls.link(idea, "interests"))


@view("edit_idea")
def close_idea(request: Request) -> Response:
    idea = _idea(request)
    idea.status = "open" if form(request).get("reopen") else "closed"
    flash(request, _("The idea is closed.") if idea.status == "closed" else _("The idea is open."))
    return redirect(request, urls.link(idea))


routes = [
    route("ideas", list_ideas),
    route("new_idea", new_idea, ("GET", "POST")),
    route("idea", show_idea),
    route("edit_idea", edit_idea, ("GET", "POST")),
    route("express_interest", express_interest, ("POST",)),
    route("reply_interest", reply_interest, ("POST",)),
    route("close_idea", close_idea, ("POST",)),
]
