"""The home page, the admin's outbox, and the error pages."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from proposals import mail
from proposals.domain import agenda
from proposals.errors import Denied, Invalid
from proposals.i18n import gettext as _
from proposals.i18n import lazy_gettext as _l
from proposals.models import OutboxMessage
from proposals.web import annexes
from proposals.web.plumbing import (
    current_user,
    db,
    flash,
    html_page,
    page_number,
    redirect,
    render,
    route,
    site_header,
    use_request_locale,
    view,
)
from workflow import proposal_workflow, section_workflow

log = logging.getLogger("engage")

OUTBOX_PAGE_SIZE = 50


@view("public")
def home(request: Request) -> Response:
    user = current_user(request)
    if user is None:
        return render(request, "home.html")
    today = agenda.today_for(user)
    return render(
        request,
        "home.html",
        {
            "agenda": agenda.agenda(db(request), user, today),
            "today": today,
            "workflow": proposal_workflow(),
            "section_labels": section_workflow().labels,
        },
    )


@view("admin")
def outbox(request: Request) -> Response:
    page = page_number(request)
    failed = OutboxMessage.sent_at.is_(None) & (OutboxMessage.error != "")
    failed_count = db(request).scalar(select(func.count()).where(failed)) or 0
    only_failed = request.query_params.get("show") == "failed"
    shown = select(OutboxMessage).where(failed) if only_failed else select(OutboxMessage)
    total = db(request).scalar(select(func.count()).select_from(shown.subquery())) or 0
    messages = db(request).scalars(
        shown.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .limit(OUTBOX_PAGE_SIZE)
        .offset((page - 1) * OUTBOX_PAGE_SIZE)
    )
    messages = list(messages)
    # The personal links are the recipients' secrets: an admin reads everything else.
    hidden = _("[link hidden: only the recipient gets it]")
    return render(
        request,
        "admin/outbox.html",
        {
            "messages": messages,
            "bodies": {m.id: mail.shown_body(m, hidden) for m in messages},
            "page": page,
            "has_next": page * OUTBOX_PAGE_SIZE < total,
            "total": total,
            "failed_count": failed_count,
            "only_failed": only_failed,
            "max_attempts": mail.MAX_ATTEMPTS,
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
    token = request.scope.get("session", {}).get("csrf", "")
    context = {
        "status_code": status_code,
        "title": str(title),
        "text": detail or str(text),
        "user": None,
        "site_header": site_header(request, None, 0, token),
        "flashes": [],
        "csrf_token": token,
        "settings": request.app.state.settings,
        "can": lambda action, target=None: False,
    }
    return html_page(request, "error.html", context, status_code=status_code)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_page(request, exc.status_code)


async def denied(request: Request, exc: Exception) -> Response:
    """A refusal by the policy: 403 or 404 (nothing may be seen) as a page.

    When the user's role allows the action but not in the current state (409), a
    form goes back to the page it came from with the reason, and the editor's
    script gets the reason as JSON.
    """
    assert isinstance(exc, Denied)
    if exc.status == 409 and "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"kind": "refused", "message": exc.reason}, status_code=409)
    if exc.status == 409 and request.method == "POST" and exc.back:
        flash(request, exc.reason, "error")
        return redirect(request, exc.back)
    return error_page(request, 403 if exc.status == 409 else exc.status, exc.reason or None)


async def invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Invalid)
    return error_page(request, 400, exc.message)


async def not_found(request: Request, exc: Exception) -> Response:
    return error_page(request, 404)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_page(request, 500)


async def csrf_failure(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """ASGI app answering a request the CSRF middleware refused."""
    request = Request(scope, receive)
    response = error_page(
        request,
        403,
        _(
            "This form has expired or did not come from Engage, so nothing was saved. "
            "Go back, reload the page and send it again."
        ),
    )
    await response(scope, receive, send)


async def too_large(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """ASGI app answering a request whose body is over the limit (BodyLimitMiddleware)."""
    request = Request(scope, receive)
    use_request_locale(request)
    detail = annexes.too_large_message() if annexes.UPLOAD_PATHS.match(scope["path"]) else None
    response = error_page(request, 413, detail)
    await response(scope, receive, send)


routes = [
    route("home", home),
    route("outbox", outbox),
]
