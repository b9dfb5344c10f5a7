"""Routes for notifications: the list, "mark all as read", and the bell's live count."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from sqlalchemy import select, update
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response

from proposals import urls
from proposals.domain.notifications import PAGE_SIZE, describe, unread_count, user_topic
from proposals.i18n import gettext as _
from proposals.live import Broker
from proposals.models import Notification, utcnow
from proposals.web.plumbing import current_user, db, flash, redirect, render, route, view


@view("use_engage")
def notifications(request: Request) -> Response:
    user = current_user(request)
    items = db(request).scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
    )
    return render(request, "notifications.html", {"items": [(n, describe(n)) for n in items]})


@view("use_engage")
def mark_read(request: Request) -> Response:
    user = current_user(request)
    db(request).execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    flash(request, _("All notifications are marked as read."))
    return redirect(request, urls.path("notifications"))


async def _bell(broker: Broker, user_id: int, unread: int) -> AsyncIterator[dict[str, str]]:
    """The unread count now, then again whenever it changes, until the page goes away."""
    async with broker.subscribe(user_topic(user_id)) as queue:
        yield {"event": "unread", "data": json.dumps({"count": unread})}
        while True:
            message = await queue.get()
            if message.get("type") == "unread":
                yield {"event": "unread", "data": json.dumps({"count": message.get("count", 0)})}


@view("use_engage")
def events(request: Request) -> Response:
    """Server-sent events for the bell in the header (the unread count, live)."""
    user = current_user(request)
    return EventSourceResponse(
        _bell(request.app.state.broker, user.id, unread_count(db(request), user)),
        ping=15,
        headers={"Cache-Control": "no-store"},
    )


routes = [
    route("notifications", notifications),
    route("notifications_read", mark_read, ("POST",)),
    route("notification_events", events),
]
