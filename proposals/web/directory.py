"""Find partners: the directory of organisation profiles, filtered by country, theme, language."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals.db import json_list_contains
from proposals.i18n import WORKING_LANGUAGES, country_choices, country_codes, language_choices
from proposals.models import Organisation, Proposal, ProposalAccess
from proposals.vocabulary import THEMES
from proposals.web.plumbing import (
    current_user,
    db,
    like_pattern,
    login_required,
    page_number,
    render,
    view,
)

PAGE_SIZE = 24


@view
@login_required
def directory(request: Request) -> Response:
    params = request.query_params
    country = params.get("country", "").upper()
    theme = params.get("theme", "")
    language = params.get("language", "")
    text = params.get("q", "").strip()[:200]
    page = page_number(request)
    query = select(Organisation)
    if country in country_codes():
        query = query.where(Organisation.country == country)
    if theme in THEMES:
        query = query.where(json_list_contains(Organisation.themes, theme))
    if language in WORKING_LANGUAGES:
        query = query.where(json_list_contains(Organisation.languages, language))
    if text:
        needle = like_pattern(text)
        query = query.where(
            or_(
                func.lower(Organisation.name).like(needle, escape="\\"),
                func.lower(Organisation.city).like(needle, escape="\\"),
                func.lower(Organisation.description).like(needle, escape="\\"),
            )
        )
    total = db(request).scalar(select(func.count()).select_from(query.subquery())) or 0
    organisations = db(request).scalars(
        query.order_by(func.lower(Organisation.name), Organisation.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    user = current_user(request)
    # Proposals the user coordinates and that still take partners: the "Invite" targets.
    coordinated = db(request).scalars(
        select(Proposal)
        .join(ProposalAccess, ProposalAccess.proposal_id == Proposal.id)
        .where(
            ProposalAccess.user_id == user.id,
            ProposalAccess.role == "coordinator",
            Proposal.status.in_(["partnership.inviting", "partnership.confirmed"]),
        )
        .order_by(Proposal.created_at.desc())
    )
    return render(
        request,
        "directory/list.html",
        {
            "organisations": list(organisations),
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "filters": {"country": country, "theme": theme, "language": language, "q": text},
            "countries": country_choices(),
            "themes": [(k, str(v)) for k, v in THEMES.items()],
            "theme_labels": THEMES,
            "languages": language_choices(),
            "proposals": list(coordinated),
        },
        fragment="directory/_results.html",
    )


routes = [Route("/partners", directory, name="directory")]
