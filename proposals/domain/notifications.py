"""Notifications: the one path that creates them, and their e-mails.

Every event that concerns someone (a section assigned, a mention, a comment
on one's section, a review requested, a verdict, a due date in two days, an
invitation) goes through :func:`notify`. The request commits first; then
:func:`deliver` e-mails the people who want it at once (in their language,
with links through sign-in) and rings their bell over the live event stream.
People who chose a daily digest get one from ``engage remind``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from jinja2 import Environment
from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from proposals import i18n, mail, urls
from proposals.db import unit_of_work
from proposals.i18n import gettext as _
from proposals.i18n import ngettext
from proposals.live import Broker
from proposals.models import Notification, OutboxMessage, Section, User, utcnow
from proposals.settings import Settings

PAGE_SIZE = 50
#: How people may get their notifications by e-mail (the account page offers these).
EMAIL_CHOICES = ("immediately", "daily", "off")
#: A daily digest goes out at most once in this time (a cron line a little early is fine).
DIGEST_INTERVAL = timedelta(hours=20)
#: Writers hear of a due date this long before it.
REMIND_BEFORE = timedelta(days=2)


def notify(
    session: Session, user: User | int, kind: str, payload: dict[str, Any], link: str = ""
) -> Notification:
    """Tell ``user`` about ``kind``; shown in the app, e-mailed after the commit if they wish."""
    user_id = user if isinstance(user, int) else user.id
    notification = Notification(user_id=user_id, kind=kind, payload=payload, link=link[:300])
    session.add(notification)
    session.flush()
    session.info.setdefault("notified", []).append(notification.id)
    return notification


def notify_all(
    session: Session,
    users: Iterable[User],
    kind: str,
    payload: dict[str, Any],
    link: str = "",
    actor: User | None = None,
) -> None:
    """:func:`notify` each of ``users`` once, leaving out the one who acted."""
    seen = {actor.id} if actor is not None else set()
    for user in users:
        if user.id not in seen:
            seen.add(user.id)
            notify(session, user, kind, payload, link)


def writers_of(section: Section) -> list[User]:
    """Who writes a section: its assignee, else its partner's contact person."""
    if section.assignee is not None:
        return [section.assignee]
    if section.partner is not None and section.partner.contact is not None:
        return [section.partner.contact]
    return []


def _due(payload: dict[str, Any]) -> str:
    raw = payload.get("due")
    try:
        return i18n.format_date(date.fromisoformat(str(raw))) if raw else ""
    except ValueError:
        return str(raw)


def describe(notification: Notification) -> str:
    """What the notification says, in the current language."""
    p = notification.payload
    by, section, proposal = p.get("by", ""), p.get("section", ""), p.get("proposal", "")
    kind = notification.kind
    if kind == "mention":
        return _(
            "%(by)s mentioned you in “%(section)s” (%(proposal)s).",
            by=by,
            section=section,
            proposal=proposal,
        )
    if kind == "section_assigned":
        if p.get("due"):
            return _(
                "%(by)s assigned “%(section)s” (%(proposal)s) to you, due %(due)s.",
                by=by,
                section=section,
                proposal=proposal,
                due=_due(p),
            )
        return _(
            "%(by)s assigned “%(section)s” (%(proposal)s) to you.",
            by=by,
            section=section,
            proposal=proposal,
        )
    if kind == "comment":
        return _(
            "%(by)s commented on your section “%(section)s” (%(proposal)s).",
            by=by,
            section=section,
            proposal=proposal,
        )
    if kind == "review_requested":
        count = int(p.get("count", 0))
        return ngettext(
            "%(by)s asks you to review %(count)s section of %(proposal)s.",
            "%(by)s asks you to review %(count)s sections of %(proposal)s.",
            count,
            by=by,
            count=count,
            proposal=proposal,
        )
    if kind == "verdict":
        if p.get("verdict") == "approved":
            return _(
                "%(by)s approved “%(section)s” (%(proposal)s).",
                by=by,
                section=section,
                proposal=proposal,
            )
        return _(
            "%(by)s requests changes to “%(section)s” (%(proposal)s).",
            by=by,
            section=section,
            proposal=proposal,
        )
    if kind == "review_closed":
        return _(
            "The review round of %(proposal)s is closed: %(approved)s approved, "
            "%(changes)s to revise.",
            proposal=proposal,
            approved=p.get("approved", 0),
            changes=p.get("changes", 0),
        )
    if kind == "review_cancelled":
        return _("%(by)s cancelled the review round of %(proposal)s.", by=by, proposal=proposal)
    if kind == "milestone_late":
        return _(
            "The milestone “%(milestone)s” of %(proposal)s was due on %(due)s and is not reached.",
            milestone=_(p.get("milestone", "")) if p.get("milestone") else "",
            proposal=proposal,
            due=_due(p),
        )
    if kind == "due_soon":
        return _(
            "“%(section)s” (%(proposal)s) is due on %(due)s.",
            section=section,
            proposal=proposal,
            due=_due(p),
        )
    if kind == "invitation":
        return _(
            "%(by)s invites %(organisation)s to join %(proposal)s.",
            by=by,
            organisation=p.get("organisation", ""),
            proposal=proposal,
        )
    if kind == "coordinator_missing":
        return _(
            "%(person)s has left %(organisation)s, so %(proposal)s has no coordinator: "
            "choose the lead partner's new contact person.",
            person=p.get("person", ""),
            organisation=p.get("organisation", ""),
            proposal=proposal,
        )
    if kind == "contact_missing":
        return _(
            "%(person)s has left %(organisation)s, which now has no contact person in "
            "%(proposal)s.",
            person=p.get("person", ""),
            organisation=p.get("organisation", ""),
            proposal=proposal,
        )
    if kind == "mentor_assigned":
        return _("%(by)s asks you to mentor %(proposal)s.", by=by, proposal=proposal)
    return kind


def unread_count(session: Session, user: User) -> int:
    return session.scalar(_UNREAD, {"user_id": user.id}) or 0


def unread_of(user_id: ColumnElement[int]) -> ScalarSelect[int]:
    """How many notifications of the user ``user_id`` (a bound value or a column) are
    unread: every page's bell shows it, counted in the query of the signed-in user."""
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .scalar_subquery()
    )


#: The same, on its own (built once).
_UNREAD = select(unread_of(bindparam("user_id")))


def user_topic(user_id: int) -> str:
    """The live-event topic of one person's bell."""
    return f"user:{user_id}"


# --- e-mail ---------------------------------------------------------------------------


def signin_link(settings: Settings, link: str) -> str:
    """An absolute link that leads to ``link`` after sign-in (straight there if signed in)."""
    return f"{settings.base_url}/signin?next={quote(link or '/', safe='/')}"


def _message(
    settings: Settings,
    templates: Environment,
    user: User,
    notes: list[Notification],
    digest: bool = False,
) -> OutboxMessage:
    """One e-mail to ``user``: about one notification, or the digest of ``notes``."""
    with i18n.using(user.locale, user.timezone):
        items = [(describe(n), signin_link(settings, n.link)) for n in notes]
        if not digest:
            subject = _("Engage: %(what)s", what=items[0][0])
            kind, template = "notification", "mail/notification.txt"
        else:
            subject = ngettext(
                "Engage: %(count)s new notification",
                "Engage: %(count)s new notifications",
                len(notes),
                count=len(notes),
            )
            kind, template = "digest", "mail/digest.txt"
        body = templates.get_template(template).render(
            user=user, items=items, account=signin_link(settings, "/account")
        )
    return OutboxMessage(recipient=user.email, subject=subject[:300], body=body, kind=kind)


def deliver(
    settings: Settings,
    factory: sessionmaker[Session],
    templates: Environment,
    broker: Broker | None,
    ids: list[int],
) -> None:
    """After the commit: e-mail who wants it now, then ring everyone's bell."""
    if not ids:
        return
    outbox: list[int] = []
    with unit_of_work(factory) as session:
        notes = session.scalars(
            select(Notification)
            .where(Notification.id.in_(ids), Notification.emailed_at.is_(None))
            .options(selectinload(Notification.user))
        ).all()
        now = utcnow()
        for note in notes:
            choice = note.user.email_notifications
            if choice == "immediately":
                message = _message(settings, templates, note.user, [note])
                session.add(message)
                session.flush()
                outbox.append(message.id)
            if choice != "daily":  # the digest picks up the others
                note.emailed_at = now
        users = {n.user_id for n in notes}
        counts = dict(
            session.execute(
                select(Notification.user_id, func.count())
                .where(Notification.user_id.in_(users), Notification.read_at.is_(None))
                .group_by(Notification.user_id)
            ).all()
        )
    mail.send(settings, factory, outbox)
    if broker is not None:
        for user_id in users:
            broker.publish(
                user_topic(user_id), {"type": "unread", "count": int(counts.get(user_id, 0))}
            )


def send_digests(settings: Settings, factory: sessionmaker[Session], templates: Environment) -> int:
    """One e-mail per daily-digest reader with what is new since their last one."""
    outbox: list[int] = []
    now = utcnow()
    with unit_of_work(factory) as session:
        readers = session.scalars(
            select(User).where(
                User.email_notifications == "daily",
                (User.digest_sent_at.is_(None)) | (User.digest_sent_at < now - DIGEST_INTERVAL),
            )
        ).all()
        pending: dict[int, list[Notification]] = {}
        for note in session.scalars(
            select(Notification)
            .where(
                Notification.user_id.in_([u.id for u in readers]),
                Notification.emailed_at.is_(None),
            )
            .order_by(Notification.created_at, Notification.id)
        ):
            pending.setdefault(note.user_id, []).append(note)
        for reader in readers:
            notes = pending.get(reader.id)
            if not notes:
                continue
            message = _message(settings, templates, reader, notes, digest=True)
            session.add(message)
            session.flush()
            outbox.append(message.id)
            reader.digest_sent_at = now
            for note in notes:
                note.emailed_at = now
    mail.send(settings, factory, outbox)
    return len(outbox)


def due_reminders(session: Session, today: date) -> list[int]:
    """Notify the writers of sections due within two days; once per section and due date.

    Returns the new notifications' ids (to deliver after the commit).
    """
    from proposals.models import Partner, Proposal, ReminderLog

    soon = session.scalars(
        select(Section)
        .join(Proposal, Proposal.id == Section.proposal_id)
        .where(
            Section.due_date.is_not(None),
            Section.due_date >= today,
            Section.due_date <= today + REMIND_BEFORE,
            Section.status.not_in(("ready", "approved")),
            Proposal.status.like("drafting%"),
            ~select(ReminderLog.id)
            .where(ReminderLog.section_id == Section.id, ReminderLog.due_date == Section.due_date)
            .exists(),
        )
        .options(
            selectinload(Section.proposal),
            selectinload(Section.assignee),
            selectinload(Section.partner).selectinload(Partner.contact),
        )
    ).all()
    before = len(session.info.get("notified", []))
    for section in soon:
        session.add(ReminderLog(section_id=section.id, due_date=section.due_date))
        proposal = section.proposal
        notify_all(
            session,
            writers_of(section),
            "due_soon",
            {
                "section": section.title,
                "proposal": proposal.acronym or proposal.title,
                "due": section.due_date.isoformat() if section.due_date else "",
            },
            urls.link(section),
        )
    session.flush()
    return list(session.info.get("notified", [])[before:])
