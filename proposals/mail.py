"""Outgoing e-mail: every message is recorded in the outbox, then sent over SMTP if configured.

Sending happens after the request's transaction has committed (a background
task), so a rolled-back request never mails anybody.
"""

from __future__ import annotations

import logging
import re
import smtplib
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from proposals.db import unit_of_work
from proposals.models import OutboxMessage, utcnow
from proposals.settings import SMTPSettings

log = logging.getLogger("engage.mail")


def queue(session: Session, recipient: str, subject: str, body: str, kind: str) -> OutboxMessage:
    """Record a message in the outbox; it is sent once the session's transaction commits.

    The ids wait in ``session.info["mail"]`` for whoever commits (the request's
    unit of work) to hand them to :func:`send_pending`.
    """
    message = OutboxMessage(recipient=recipient, subject=subject[:300], body=body, kind=kind)
    session.add(message)
    session.flush()
    session.info.setdefault("mail", []).append(message.id)
    return message


def send_pending(smtp: SMTPSettings, factory: sessionmaker[Session], ids: list[int]) -> None:
    """Send the given outbox messages over SMTP and record the outcome of each."""
    if not smtp.configured or not ids:
        return
    with unit_of_work(factory) as session:
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None))
        ).all()
        emails = []
        for message in messages:
            try:
                emails.append((message, _email(smtp, message)))
            except (ValueError, TypeError, IndexError, MessageError) as exc:
                # Say so in the outbox instead of losing the whole batch without a word.
                log.warning("outbox message %s cannot be built: %s", message.id, exc)
                message.error = f"cannot be built: {exc}"[:500]
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username:
                    client.login(smtp.username, smtp.password)
                for message, email in emails:
                    client.send_message(email)
                    message.sent_at = utcnow()
                    message.error = ""
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail delivery failed for outbox ids %s: %s", ids, exc)
            for message in messages:
                if message.sent_at is None:
                    message.error = str(exc)[:500]


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
    email.set_content(message.body)
    return email
