"""The home page, the admin's outbox, and the error pages."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals.i18n import gettext as _
from proposals.i18n import lazy_gettext as _l
from proposals.models import OutboxMessage
from proposals.policy import require
from proposals.web.plumbing import (
    current_user,
    db,
    login_required,
    page_number,
    render,
    use_request_locale,
    view,
)

log = logging.getLogger("engage")

OUTBOX_PAGE_SIZE = 50


@view
def home(request: Request) -> Response:
    return render(request, "home.html")


@view
@login_required
def outbox(request: Request) -> Response:
    require(current_user(request), "admin", None)
    page = page_number(request)
    total = db(request).scalar(select(func.count()).select_from(OutboxMessage)) or 0
    messages = db(request).scalars(
        select(OutboxMessage)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(OUTBOX_PAGE_SIZE)
        .offset((page - 1) * OUTBOX_PAGE_SIZE)
    )
    return render(
        request,
        "admin/outbox.html",
        {
            "messages": list(messages),
            "page": page,
            "has_next": page * OUTBOX_PAGE_SIZE < total,
            "total": total,
            "smtp": request.app.state.settings.smtp.configured,
        },
    )


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("You do not have access to this page or action.")),
    404: (
        _l("Page not found"),
        _l("There is nothing at this address. It may have moved or been removed."),
    ),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Changed at the same moment"),
        _l(
            "Someone else changed this at the same moment, so your change was not saved. "
            "Go back, reload the page and try again."
        ),
    ),
    413: (_l("Too large"), _l("What you sent is too large. Send less at a time.")),
    500: (
        _l("Something went wrong"),
        _l("Engage hit an error. Nothing you saved before was lost; please try again."),
    ),
}


def error_page(request: Request, status_code: int, detail: str | None = None) -> Response:
    """An error page in the user's language with a way back."""
    use_request_locale(request)
    title, text = ERROR_TEXT.get(status_code, ERROR_TEXT[400])
    context = {
        "status_code": status_code,
        "title": str(title),
        "text": detail or str(text),
        "user": None,
        "unread": 0,
        "flashes": [],
        "csrf_token": request.scope.get("session", {}).get("csrf", ""),
        "settings": request.app.state.settings,
    }
    response = request.app.state.templates.TemplateResponse(
        request, "error.html", context, status_code=status_code
    )
    return response


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500)


async def csrf_failure(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """ASGI app answering a request the CSRF middleware refused."""
    request = Request(scope, receive)
    if scope.get("state", {}).get("failure") == "too_large":
        response = error_page(request, 413)
    else:
        use_request_locale(request)
        response = error_page(
            request,
            403,
            _(
                "This form has expired or did not come from Engage, so nothing was saved. "
                "Go back, reload the page and send it again."
            ),
        )
    await response(scope, receive, send)


routes = [
    Route("/", home, name="home"),
    Route("/admin/outbox", outbox, name="outbox"),
]
