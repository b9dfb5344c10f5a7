"""Outgoing e-mail: every message is recorded in the outbox, then sent over SMTP if configured.

Sending happens after the request's transaction has committed (a background
task), so a rolled-back request never mails anybody.
"""

from __future__ import annotations

import logging
import smtplib
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
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as client:
                if smtp.starttls:
                    client.starttls()
                if smtp.username:
                    client.login(smtp.username, smtp.password)
                for message in messages:
                    client.send_message(_email(smtp, message))
                    message.sent_at = utcnow()
                    message.error = ""
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail delivery failed for outbox ids %s: %s", ids, exc)
            for message in messages:
                if message.sent_at is None:
                    message.error = str(exc)[:500]


def _email(smtp: SMTPSettings, message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = smtp.sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain="engage")
    email.set_content(message.body)
    return email
