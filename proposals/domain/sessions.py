"""Signed-in sessions, kept on the server: started at sign-in, ended by signing out, by a
new password, or from the account page ("Sign out everywhere else").

The session cookie only carries a session's random token. A copied cookie is then worth nothing
once its session has ended, and a session lasts at most :data:`LIFETIME` whatever
the cookie says.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import Session, joinedload

from proposals.domain.notifications import unread_of
from proposals.i18n import gettext as _
from proposals.models import Membership, User, UserSession, utcnow

LIFETIME = timedelta(days=14)
# Ended and expired sessions are listed nowhere; their rows are deleted after this long.
KEPT_FOR = timedelta(days=30)


def start(db: Session, user: User, address: str, agent: str) -> UserSession:
    """A new session for ``user`` signing in from ``address`` with the browser ``agent``."""
    _forget_old(db, user)
    record = UserSession(user_id=user.id, address=address[:64], agent=agent[:300])
    db.add(record)
    db.flush()
    return record


@cache
def _signed_in(memberships: bool, bell: bool) -> Select[Any]:
    """The query for a live session's user, built once (it runs on every request)."""
    # How many notifications are unread (the bell in every page's header), in the same
    # query; with the memberships and their organisations for the policy in Python.
    columns = (User, unread_of(User.id)) if bell else (User,)
    query = (
        select(*columns)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token == bindparam("token"),
            UserSession.ended_at.is_(None),
            UserSession.created_at > bindparam("since"),
        )
    )
    if memberships:  # in the same query: a user belongs to a few organisations
        query = query.options(joinedload(User.memberships).joinedload(Membership.organisation))
    return query


def signed_in(
    db: Session, token: object, *, memberships: bool = True, bell: bool = True
) -> tuple[User | None, int]:
    """The user of a live session (or None) and how many of their notifications are unread.

    One query for the session joined to the user, their memberships with their
    organisations (unless ``memberships`` is False, for a caller that asks the policy in
    SQL) and the unread count (0 when ``bell`` is False: nothing shows it).
    """
    if not isinstance(token, str) or not token:
        return None, 0
    found = db.execute(
        _signed_in(memberships, bell), {"token": token, "since": utcnow() - LIFETIME}
    )
    row = found.unique().first() if memberships else found.first()
    if row is None:
        return None, 0
    return row[0], (int(row[1] or 0) if bell else 0)


def signed_in_user(db: Session, token: object, *, memberships: bool = True) -> User | None:
    """The user of a live session, or None (:func:`signed_in`)."""
    return signed_in(db, token, memberships=memberships, bell=False)[0]


def access_changed(db: Session) -> None:
    """Note that this unit of work changes someone's access (sessions ended): once it
    commits, open live editors check theirs again at once (see ``proposals.web.plumbing``)."""
    db.info["access_changed"] = True


def end(db: Session, token: object) -> None:
    """End one session (signing out)."""
    if isinstance(token, str) and token:
        access_changed(db)
        db.execute(
            update(UserSession)
            .where(UserSession.token == token, UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_others(db: Session, user: User, keep: object = None) -> int:
    """End every live session of ``user`` but the one whose token is ``keep``; how many."""
    query = update(UserSession).where(
        UserSession.user_id == user.id,
        UserSession.ended_at.is_(None),
        UserSession.created_at > utcnow() - LIFETIME,
    )
    if isinstance(keep, str) and keep:
        query = query.where(UserSession.token != keep)
    access_changed(db)
    result = db.execute(query.values(ended_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def active(db: Session, user: User) -> list[UserSession]:
    """The user's live sessions, newest first."""
    return list(
        db.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.created_at > utcnow() - LIFETIME,
            )
            .order_by(UserSession.created_at.desc())
        )
    )


def _forget_old(db: Session, user: User) -> None:
    long_ago = utcnow() - KEPT_FOR
    db.execute(
        delete(UserSession).where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at < long_ago, UserSession.created_at < long_ago),
        )
    )


# --- naming a browser --------------------------------------------------------------------

# Order matters: Edge and Opera also say Chrome, Chrome also says Safari, Android says Linux.
_BROWSERS = [
    ("Edge", re.compile(r"\bEdg(e|A|iOS)?/")),
    ("Opera", re.compile(r"\bOPR/|\bOpera\b")),
    ("Firefox", re.compile(r"\bFirefox/|\bFxiOS/")),
    ("Chrome", re.compile(r"\bChrome/|\bCriOS/|\bChromium/")),
    ("Safari", re.compile(r"\bSafari/")),
]
_SYSTEMS = [
    ("Android", re.compile(r"\bAndroid\b")),
    ("iOS", re.compile(r"\biPhone|\biPad|\biPod")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
]


def browser_name(agent: str) -> str:
    """A name a person recognises their browser by ("Firefox on Linux"), from its User-Agent."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or _("Unknown browser")
