"""The idea board: post a first joint idea, find it by country and theme, say "I'm interested"."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals.calls import library
from proposals.db import json_list_contains
from proposals.forms import CleanText, Form, FormErrors, form_dict, validate
from proposals.i18n import country_choices, country_codes, get_locale
from proposals.i18n import gettext as _
from proposals.models import Idea, IdeaInterest, Organisation, utcnow
from proposals.policy import can, organisation_ids, require
from proposals.vocabulary import THEMES
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    form,
    like_pattern,
    login_required,
    page_number,
    redirect,
    render,
    render_form,
    submitted,
    view,
)

PAGE_SIZE = 20
LIST_FIELDS = ("themes", "countries_sought")


def _countries(values: list[str]) -> list[str]:
    codes = [v.upper() for v in values]
    if any(c not in country_codes() for c in codes):
        raise ValueError(_("Choose a country from the list."))
    return list(dict.fromkeys(codes))


def _themes(values: list[str]) -> list[str]:
    if any(v not in THEMES for v in values):
        raise ValueError(_("Choose themes from the list."))
    return list(dict.fromkeys(values))


class IdeaForm(Form):
    organisation: str = Field(min_length=1, max_length=40)
    title: CleanText = Field(min_length=1, max_length=200)
    summary: CleanText = Field(min_length=1, max_length=5000)
    themes: Annotated[list[str], AfterValidator(_themes)] = Field(default_factory=list)
    countries_sought: Annotated[list[str], AfterValidator(_countries)] = Field(
        default_factory=list, max_length=60
    )
    skills_sought: CleanText = Field(default="", max_length=1000)
    call_id: str = Field(default="", max_length=40)


class InterestForm(Form):
    organisation: str = Field(min_length=1, max_length=40)
    message: CleanText = Field(min_length=1, max_length=2000)


class ReplyForm(Form):
    reply: CleanText = Field(min_length=1, max_length=2000)


def _my_organisations(request: Request) -> list[Organisation]:
    user = current_user(request)
    return sorted((m.organisation for m in user.memberships), key=lambda o: o.name.casefold())


def _own_organisation(request: Request, public_id: str) -> Organisation:
    for organisation in _my_organisations(request):
        if organisation.public_id == public_id:
            return organisation
    raise FormErrors({"organisation": _("Choose one of your organisations.")})


def _call_ids(session: Session) -> dict[str, str]:
    locale = get_locale()
    return {p.id: p.title.get(locale) for p in library.latest(session)}


def _choices(request: Request) -> dict[str, object]:
    return {
        "themes": [(k, str(v)) for k, v in THEMES.items()],
        "countries": country_choices(),
        "calls": list(_call_ids(db(request)).items()),
        "organisations": [(o.public_id, o.name) for o in _my_organisations(request)],
    }


def get_idea(session: Session, public_id: str) -> Idea:
    idea = session.scalar(
        select(Idea)
        .where(Idea.public_id == public_id)
        .options(
            selectinload(Idea.organisation),
            selectinload(Idea.interests).selectinload(IdeaInterest.organisation),
            selectinload(Idea.interests).selectinload(IdeaInterest.user),
        )
    )
    if idea is None:
        raise HTTPException(status_code=404)
    return idea


@view
@login_required
def list_ideas(request: Request) -> Response:
    params = request.query_params
    country = params.get("country", "").upper()
    theme = params.get("theme", "")
    call = params.get("call", "")
    text = params.get("q", "").strip()[:200]
    page = page_number(request)
    query = select(Idea).where(Idea.status == "open")
    if country in country_codes():
        query = query.where(json_list_contains(Idea.countries_sought, country))
    if theme in THEMES:
        query = query.where(json_list_contains(Idea.themes, theme))
    if call:
        query = query.where(Idea.call_id == call)
    if text:
        needle = like_pattern(text)
        query = query.where(
            or_(
                func.lower(Idea.title).like(needle, escape="\\"),
                func.lower(Idea.summary).like(needle, escape="\\"),
            )
        )
    total = db(request).scalar(select(func.count()).select_from(query.subquery())) or 0
    ideas = db(request).scalars(
        query.options(selectinload(Idea.organisation))
        .order_by(Idea.created_at.desc(), Idea.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return render(
        request,
        "ideas/list.html",
        {
            "ideas": list(ideas),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": {"country": country, "theme": theme, "call": call, "q": text},
            "theme_labels": THEMES,
            "call_titles": _call_ids(db(request)),
            **_choices(request),
        },
        fragment="ideas/_results.html",
    )


def _save(request: Request, idea: Idea | None) -> Response:
    if not _my_organisations(request):
        flash(
            request,
            _("Create your organisation's profile first: ideas are posted by organisations."),
            "info",
        )
        return redirect(request, "/organisations/new")
    initial: dict[str, object] = {
        "organisation": _my_organisations(request)[0].public_id,
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
    values, errors, data = submitted(request, IdeaForm, initial=initial, lists=LIST_FIELDS)
    if data is not None:
        try:
            organisation = _own_organisation(request, data.organisation)
            if data.call_id and data.call_id not in _call_ids(db(request)):
                raise FormErrors({"call_id": _("Choose one of the options.")})
        except FormErrors as exc:
            errors = exc.errors
        else:
            if idea is None:
                idea = Idea(author_id=current_user(request).id)
                db(request).add(idea)
                message = _("Your idea is published.")
            else:
                message = _("The idea is saved.")
            idea.organisation_id = organisation.id
            idea.title, idea.summary = data.title, data.summary
            idea.themes, idea.countries_sought = data.themes, data.countries_sought
            idea.skills_sought, idea.call_id = data.skills_sought, data.call_id or None
            db(request).flush()
            flash(request, message)
            return redirect(request, f"/ideas/{idea.public_id}")
    return render_form(request, "ideas/form.html", values, errors, idea=idea, **_choices(request))


@view
@login_required
def new_idea(request: Request) -> Response:
    return _save(request, None)


@view
@login_required
def edit_idea(request: Request) -> Response:
    idea = get_idea(db(request), request.path_params["iid"])
    require(current_user(request), "edit", idea)
    return _save(request, idea)


def _idea_page(request: Request, idea: Idea) -> dict[str, object]:
    """What the idea's page shows to everyone who may see it."""
    return {
        "idea": idea,
        "interest_organisations": [
            (o.public_id, o.name)
            for o in _my_organisations(request)
            if o.id != idea.organisation_id
        ],
        "theme_labels": THEMES,
        "call_titles": _call_ids(db(request)),
    }


@view
@login_required
def show_idea(request: Request) -> Response:
    idea = get_idea(db(request), request.path_params["iid"])
    user = current_user(request)
    if not can(user, "view", idea):
        raise HTTPException(status_code=404)
    mine = organisation_ids(user)
    return render_form(
        request,
        "ideas/show.html",
        {},
        {},
        owner=can(user, "edit", idea),
        already_interested={i.organisation_id for i in idea.interests} & mine,
        can_express=can(user, "express_interest", idea),
        **_idea_page(request, idea),
    )


@view
@login_required
def express_interest(request: Request) -> Response:
    idea = get_idea(db(request), request.path_params["iid"])
    user = current_user(request)
    require(user, "express_interest", idea)
    values = form_dict(form(request))
    try:
        data = validate(InterestForm, values)
        organisation = _own_organisation(request, data.organisation)
        if organisation.id == idea.organisation_id:
            raise FormErrors({"organisation": _("This is your own idea.")})
        if any(i.organisation_id == organisation.id for i in idea.interests):
            raise FormErrors(
                {
                    "organisation": _(
                        "%(name)s has already said it is interested.", name=organisation.name
                    )
                }
            )
    except FormErrors as exc:
        return render_form(
            request,
            "ideas/show.html",
            values,
            exc.errors,
            owner=False,
            already_interested=set(),
            can_express=True,
            **_idea_page(request, idea),
        )
    idea.interests.append(
        IdeaInterest(organisation_id=organisation.id, user_id=user.id, message=data.message)
    )
    flash(request, _("Thank you: the idea's authors can now see your interest and answer."))
    return redirect(request, f"/ideas/{idea.public_id}")


@view
@login_required
def reply_interest(request: Request) -> Response:
    idea = get_idea(db(request), request.path_params["iid"])
    require(current_user(request), "answer_interest", idea)
    interest = next((i for i in idea.interests if i.public_id == request.path_params["xid"]), None)
    if interest is None:
        raise HTTPException(status_code=404)
    try:
        data = validate(ReplyForm, form_dict(form(request)))
    except FormErrors as exc:
        flash(request, exc.errors.get("reply", ""), "error")
    else:
        interest.reply, interest.replied_at = data.reply, utcnow()
        flash(request, _("Your answer is saved."))
    return redirect(request, f"/ideas/{idea.public_id}#interests")


@view
@login_required
def close_idea(request: Request) -> Response:
    idea = get_idea(db(request), request.path_params["iid"])
    require(current_user(request), "close", idea)
    idea.status = "open" if form(request).get("reopen") else "closed"
    flash(request, _("The idea is closed.") if idea.status == "closed" else _("The idea is open."))
    return redirect(request, f"/ideas/{idea.public_id}")


routes = [
    Route("/ideas", list_ideas, name="ideas"),
    Route("/ideas/new", new_idea, methods=["GET", "POST"], name="new_idea"),
    Route("/ideas/{iid}", show_idea, name="idea"),
    Route("/ideas/{iid}/edit", edit_idea, methods=["GET", "POST"], name="edit_idea"),
    Route("/ideas/{iid}/interest", express_interest, methods=["POST"], name="express_interest"),
    Route(
        "/ideas/{iid}/interests/{xid}/reply",
        reply_interest,
        methods=["POST"],
        name="reply_interest",
    ),
    Route("/ideas/{iid}/close", close_idea, methods=["POST"], name="close_idea"),
]
