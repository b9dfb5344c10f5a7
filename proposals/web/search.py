"""The search page: one box over everything the person may see."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from proposals.domain import search
from proposals.i18n import lazy_gettext as _l
from proposals.web.plumbing import current_user, db, render, route, view

#: The groups of results, in the order shown.
KINDS = (
    ("proposal", _l("Proposals")),
    ("section", _l("Sections")),
    ("comment", _l("Comments")),
    ("idea", _l("Ideas")),
    ("organisation", _l("Organisations")),
)


@view("use_engage")
def search_page(request: Request) -> Response:
    query = request.query_params.get("q", "")[: search.MAX_QUERY].strip()
    hits = search.search(db(request), current_user(request), query) if query else {}
    return render(
        request,
        "search.html",
        {
            "query": query,
            "hits": hits,
            "kinds": [(kind, label) for kind, label in KINDS if kind in hits],
            "too_short": bool(query) and not search.terms_of(query),
        },
    )


routes = [route("search", search_page)]
