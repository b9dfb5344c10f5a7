"""Every route Engage serves, in one table: each area's routes, then the static files."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from proposals.web import (
    auth,
    budget,
    calls,
    directory,
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
        *final.routes,
        *budget.routes,
        *notifications.routes,
        *reviews.routes,
        *search.routes,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
