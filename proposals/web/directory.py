"""Find partners: the directory of organisation profiles, filtered by country, theme, language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals.domain import directory as found
from proposals.i18n import country_choices, language_choices
from proposals.vocabulary import THEMES
from proposals.web.plumbing import current_user, db, page_number, render, route, view


@view("use_engage")
def directory(request: Request) -> Response:
    params = request.query_params
    filters = found.Filters(
        country=params.get("country", "").upper(),
        theme=params.get("theme", ""),
        language=params.get("language", ""),
        q=params.get("q", "").strip()[:200],
    )
    page = found.search(db(request), filters, page_number(request))
    return render(
        request,
        "directory/list.html",
        {
            "organisations": page.items,
            "total": page.total,
            "page": page.number,
            "pages": page.pages,
            "filters": filters.__dict__,
            "countries": country_choices(),
            "themes": [(k, str(v)) for k, v in THEMES.items()],
            "theme_labels": THEMES,
            "languages": language_choices(),
            "proposals": found.invite_targets(db(request), current_user(request)),
        },
        fragment="directory/_results.html",
    )


routes = [route("directory", directory)]
