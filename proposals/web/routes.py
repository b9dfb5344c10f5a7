"""Every route Engage serves, in one table: each area's routes, then the static files."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, WebSocketRoute
from starlette.staticfiles import StaticFiles

from proposals import urls
from proposals.web import (
    annexes,
    auth,
    budget,
    calls,
    collab,
    directory,
    drafts,
    final,
    ideas,
    notifications,
    organisations,
    pages,
    planning,
    proposals,
    reviews,
    search,
    sections,
)

STATIC_DIR = Path(__file__).parent.parent / "static"


def all_routes() -> list[BaseRoute]:
    """The routes of every area (order matters only where paths overlap: fixed before {id})."""
    return [
        *pages.routes,
        *auth.routes,
        *organisations.routes,
        *calls.routes,
        *ideas.routes,
        *directory.routes,
        *planning.routes,
        *proposals.routes,
        *sections.routes,
        *drafts.routes,
        WebSocketRoute(urls.PATHS["section_live"], collab.endpoint, name="section_live"),
        *final.routes,
        *annexes.routes,
        *budget.routes,
        *notifications.routes,
        *reviews.routes,
        *search.routes,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
