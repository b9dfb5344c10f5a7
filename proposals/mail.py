"""Outgoing e-mail: every message is recorded in the outbox, then sent over SMTP if configured.

Sending happens after the request's transaction has committed (a background
task), so a rolled-back request never mails anybody.

Links that let their holder in (a new password, an invitation) are secrets of the
recipient: the stored body holds a placeholder for each, the links wait beside it
only until the message is delivered, and the outbox shows a marker instead. Without
SMTP, development prints each message with its links to the log (the console);
production prints nothing.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Sequence
from datetime import datetime, timedelta
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, sessionmaker

from proposals.db import unit_of_work
from proposals.models import OutboxMessage, utcnow
from proposals.settings import Settings, SMTPSettings

log = logging.getLogger("engage.mail")

_PLACEHOLDER = "[[secret link {}]]"
_PLACEHOLDERS = re.compile(r"\[\[secret link (\d+)\]\]")


def queue(
    session: Session,
    recipient: str,
    subject: str,
    body: str,
    kind: str,
    *,
    secret_links: Sequence[str] = (),
) -> OutboxMessage:
    """Record a message in the outbox; it is sent once the session's transaction commits.

    ``secret_links`` are the links in ``body`` that let their holder in: they are
    kept apart from the stored body, and only until the message is delivered.
    The ids wait in ``session.info["mail"]`` for whoever commits (the request's
    unit of work) to hand them to :func:`send`.
    """
    links = [link for link in secret_links if link]
    for number, link in enumerate(links):
        body = body.replace(link, _PLACEHOLDER.format(number))
    message = OutboxMessage(
        recipient=recipient,
        subject=subject[:300],
        body=body,
        kind=kind,
        secret_links=links or None,
    )
    session.add(message)
    session.flush()
    session.info.setdefault("mail", []).append(message.id)
    return message


def shown_body(message: OutboxMessage, marker: str) -> str:
    """The body as the outbox shows it: every secret link replaced by ``marker``."""
    return _PLACEHOLDERS.sub(marker, message.body)


def _full_body(message: OutboxMessage) -> str:
    """The body as the recipient reads it, secret links in place."""
    links = message.secret_links or []

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return links[number] if number < len(links) else match.group(0)

    return _PLACEHOLDERS.sub(link, message.body)


def send(settings: Settings, factory: sessionmaker[Session], ids: list[int]) -> None:
    """Deliver the given outbox messages: over SMTP, or without it to the console.

    Without SMTP, development (and tests) print each message with its links, so
    that a developer can follow them; production prints nothing. Either way the
    secret links are not kept once the message is delivered.
    """
    if not ids:
        return
    with unit_of_work(factory) as session:
        messages = _unsent(session, OutboxMessage.id.in_(ids))
        if settings.smtp.configured:
            _send(settings.smtp, session, messages)
            return
        for message in messages:
            if not settings.production:
                log.info(
                    "e-mail %s to %s, not sent (no SMTP_HOST):\nSubject: %s\n\n%s",
                    message.id,
                    message.recipient,
                    message.subject,
                    _full_body(message),
                )
            message.secret_links = None


# A failed message is tried again after 15 min, 45 min, 2 h 15, 6 h 45, 20 h: six attempts
# over about a day and a half, so that an SMTP server down overnight loses nothing.
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=15)
RETRY_FACTOR = 3


def retry_due(
    settings: Settings, factory: sessionmaker[Session], now: datetime | None = None
) -> int:
    """Try again every failed message whose next attempt is due; how many were tried."""
    if not settings.smtp.configured:
        return 0
    with unit_of_work(factory) as session:
        due = _unsent(session, OutboxMessage.next_attempt_at <= (now or utcnow()))
        _send(settings.smtp, session, due)
        return len(due)


def _unsent(session: Session, condition: ColumnElement[bool]) -> list[OutboxMessage]:
    # SKIP LOCKED (PostgreSQL): two workers retrying at once never send a message twice.
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(condition, OutboxMessage.sent_at.is_(None))
            .order_by(OutboxMessage.id)
            .with_for_update(skip_locked=True)
        )
    )


def _send(smtp: SMTPSettings, session: Session, messages: list[OutboxMessage]) -> None:
    """One SMTP connection for ``messages``; each is marked sent, or failed with its error."""
    ready = []
    for message in messages:
        message.attempts += 1
        try:
            ready.append((message, _email(smtp, message)))
        except (ValueError, TypeError, IndexError, MessageError) as exc:
            # Say so in the outbox instead of losing the whole batch without a word.
            _failed(message, f"cannot be built: {exc}", retry=False)
    pending = {message.id for message, _ in ready}
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as client:
            if smtp.starttls:
                client.starttls()
            if smtp.username:
                client.login(smtp.username, smtp.password)
            for message, email in ready:
                try:
                    client.send_message(email)
                except (
                    smtplib.SMTPRecipientsRefused,
                    smtplib.SMTPSenderRefused,
                    smtplib.SMTPDataError,
                ) as exc:
                    _failed(message, _reason(exc))  # the connection serves the others still
                else:
                    message.sent_at = utcnow()
                    message.error = ""
                    message.next_attempt_at = None
                    message.secret_links = None  # delivered: the link is not kept
                pending.discard(message.id)
    except (OSError, smtplib.SMTPException) as exc:
        for message, _built in ready:
            if message.id in pending:
                _failed(message, _reason(exc))


def _failed(message: OutboxMessage, reason: str, *, retry: bool = True) -> None:
    """Record why ``message`` was not sent, and when to try again (if ever)."""
    message.error = reason[:500]
    if retry and message.attempts < MAX_ATTEMPTS:
        delay = FIRST_RETRY * RETRY_FACTOR ** (message.attempts - 1)
        message.next_attempt_at = utcnow() + delay
        log.warning(
            "outbox message %s not sent (attempt %s of %s), next attempt in %s: %s",
            message.id,
            message.attempts,
            MAX_ATTEMPTS,
            delay,
            reason,
        )
    else:
        message.next_attempt_at = None
        message.secret_links = None  # never to be sent: nobody needs the link any more
        log.error(
            "outbox message %s not sent after %s attempts, given up: %s",
            message.id,
            message.attempts,
            reason,
        )


def _reason(exc: Exception) -> str:
    """The server's answer ("451 4.3.0 Mailbox busy"), or what went wrong on the way."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = exc.recipients.values()
        return "; ".join(f"{code} {_text(answer)}" for code, answer in answers)
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or exc.__class__.__name__


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else answer


# Whatever could end or fold a header line: CR, LF, the other controls, Unicode line breaks.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def header_text(value: str) -> str:
    """``value`` as one line of header text: names stored before they were cleaned included."""
    return " ".join(_HEADER_BREAKS.sub(" ", value).split())


def _email(smtp: SMTPSettings, message: OutboxMessage) -> EmailMessage:
    """The message as sent: every header set through the structured header classes.

    ``policy.SMTP`` folds long and non-ASCII headers into encoded words with CRLF line
    ends; values come in as one clean line each, so nothing can add a header.
    """
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = header_text(smtp.sender)
    email["To"] = Address(addr_spec=header_text(message.recipient))
    email["Subject"] = header_text(message.subject)
    email["Message-ID"] = make_msgid(domain="engage")
    email.set_content(_full_body(message))
    return email
