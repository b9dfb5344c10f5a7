"""In-app notifications: the list, marking them read, and the unread count in the header."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from proposals.i18n import gettext as _
from proposals.models import Notification, User, utcnow
from proposals.web import current_user, db, flash, login_required, redirect, render, view

PAGE_SIZE = 50


def unread_count(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


@view
@login_required
def notifications(request: Request) -> Response:
    user = current_user(request)
    items = db(request).scalars(
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PAGE_SIZE)
    )
    return render(request, "notifications.html", {"items": list(items)})


@view
@login_required
def mark_read(request: Request) -> Response:
    user = current_user(request)
    db(request).execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    flash(request, _("All notifications are marked as read."))
    return redirect(request, "/notifications")


routes = [
    Route("/notifications", notifications, name="notifications"),
    Route("/notifications/read", mark_read, methods=["POST"]),
]
