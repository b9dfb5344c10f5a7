"""E-mail over a real SMTP server (aiosmtpd on localhost), sent only after the commit."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals import mail
from proposals.app import create_app
from proposals.cli import main
from proposals.models import OutboxMessage, utcnow
from proposals.settings import SMTPSettings
from tests.conftest import make_organisation, make_user, post, sign_in
from tests.support import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_reset_mail_is_delivered_over_smtp_in_the_users_language(settings, db, smtp_inbox):
    inbox, port = smtp_inbox
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender="Engage <e@x.org>")
    app = create_app(replace(settings, smtp=smtp, base_url="https://engage.example"))
    make_user(db, email="ola@example.no", locale="pl")
    # An https base URL makes the session cookie Secure, so the client must use https too.
    with TestClient(app, base_url="https://testserver") as client:
        client.cookies.set("engage_lang", "pl")
        response = post(client, "/password/forgot", {"email": "ola@example.no"})
        assert response.status_code == 200
        assert len(inbox.messages) == 1
        message = inbox.messages[0]
        assert message["To"] == "ola@example.no"
        assert message["Subject"] == "Ustaw nowe hasło do Engage"
        body = message.get_content()
        link = re.search(r"https://engage\.example(/password/reset/\S+)", body)
        assert link, body
        assert client.get(link.group(1)).status_code == 200
    db.expire_all()
    stored = db.scalar(select(OutboxMessage))
    assert stored is not None and stored.sent_at is not None and stored.error == ""
    app.state.engine.dispose()


def test_unreachable_smtp_keeps_the_mail_in_the_outbox_with_the_error(settings, db):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False)
    app = create_app(replace(settings, smtp=smtp))
    make_user(db)
    with TestClient(app) as client:
        response = post(client, "/password/forgot", {"email": "ewa@example.org"})
        assert response.status_code == 200
    db.expire_all()
    stored = db.scalar(select(OutboxMessage))
    assert stored is not None and stored.sent_at is None and stored.error
    app.state.engine.dispose()


def smtp_app(settings, port: int):  # type: ignore[no-untyped-def]
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender="Engage <e@x.org>")
    return create_app(replace(settings, smtp=smtp))


@pytest.mark.parametrize(
    "name, subject",
    [
        # Stored before names were cleaned on input: a line break in a header.
        (
            "Fundacja\r\nBcc: everyone@example.org",
            "Fundacja Bcc: everyone@example.org invites you to Engage",
        ),
        ("Łukasz Żółć i Przyjaciele", "Łukasz Żółć i Przyjaciele invites you to Engage"),
        ("Ż" * 200, "Ż" * 200 + " invites you to Engage"),
    ],
)
def test_names_of_any_shape_never_break_a_mail_header(settings, db, smtp_inbox, name, subject):
    inbox, port = smtp_inbox
    app = smtp_app(settings, port)
    admin = make_user(db, name=name[:120])  # the longest name an account may have
    organisation = make_organisation(db, admin=admin, name=name)
    with TestClient(app) as client:
        sign_in(client)
        response = post(
            client,
            f"/organisations/{organisation.public_id}/invitations",
            {"email": "kari@example.no", "role": "member"},
        )
        assert response.status_code == 200
    assert len(inbox.messages) == 1, "the invitation was not delivered"
    received = inbox.messages[0]
    assert received["Subject"] == subject[:300]
    assert received["To"] == "kari@example.no"
    assert received["Bcc"] is None and len(inbox.envelopes[0].rcpt_tos) == 1
    db.expire_all()
    stored = db.scalar(select(OutboxMessage))
    assert stored is not None and stored.sent_at is not None and stored.error == ""
    app.state.engine.dispose()


# --- failures are recorded, retried with a growing delay, and shown ---------------------


class Refusing(Inbox):
    """An SMTP server that answers "try later" to the first ``refusals`` messages."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        return await super().handle_DATA(server, session, envelope)


def stored_message(db) -> OutboxMessage:  # type: ignore[no-untyped-def]
    db.expire_all()
    message = db.scalar(select(OutboxMessage))
    assert message is not None
    return message


def time_passes(db) -> None:  # type: ignore[no-untyped-def]
    """Move the stored next attempt (if there is one) to now, as if its delay had passed."""
    message = stored_message(db)
    if message.next_attempt_at is not None:
        message.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.commit()


def remind(monkeypatch, settings, port: int) -> None:  # type: ignore[no-untyped-def]
    """``engage remind`` as the Procfile's worker runs it, with SMTP on ``port``."""
    for key, value in {
        "DATABASE_URL": settings.database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_STARTTLS": "false",
        "SECRET_KEY": settings.secret_key,
    }.items():
        monkeypatch.setenv(key, value)
    assert main(["remind"]) == 0


def delay_of(message: OutboxMessage) -> timedelta:
    assert message.next_attempt_at is not None
    return message.next_attempt_at - utcnow()


def test_mail_that_fails_while_smtp_is_down_is_retried_later_until_it_is_sent(
    settings, db, monkeypatch
):
    port = free_port()
    app = smtp_app(settings, port)
    make_user(db)
    with TestClient(app) as client:
        assert post(client, "/password/forgot", {"email": "ewa@example.org"}).status_code == 200
    failed = stored_message(db)
    assert failed.sent_at is None and failed.error and failed.attempts == 1
    first_delay = delay_of(failed)
    assert timedelta(minutes=5) < first_delay <= timedelta(hours=1)

    remind(monkeypatch, settings, port)  # too early: not tried again
    assert stored_message(db).attempts == 1

    time_passes(db)
    remind(monkeypatch, settings, port)  # still down: a longer wait now
    failed = stored_message(db)
    assert failed.attempts == 2 and failed.sent_at is None
    assert delay_of(failed) > first_delay + timedelta(minutes=5)

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        time_passes(db)
        remind(monkeypatch, settings, port)
    finally:
        controller.stop()
    (received,) = inbox.messages
    assert received["Subject"] == "Choose a new password for Engage"
    sent = stored_message(db)
    assert sent.sent_at is not None and sent.error == "" and sent.next_attempt_at is None
    assert sent.attempts == 3
    app.state.engine.dispose()


def test_mail_refused_by_the_server_is_retried_and_the_outbox_says_why(settings, db, monkeypatch):
    port = free_port()
    inbox = Refusing(refusals=1)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        app = smtp_app(settings, port)
        make_user(db, is_admin=True)
        with TestClient(app) as client:
            sign_in(client)
            post(client, "/password/forgot", {"email": "ewa@example.org"})
            failed = stored_message(db)
            assert "451" in failed.error and "try again later" in failed.error
            page = client.get("/admin/outbox").text
            assert "1 e-mail could not be sent yet" in page
            assert "Mailbox busy, try again later" in page
            assert "attempt 1 of 6" in page
            time_passes(db)
            remind(monkeypatch, settings, port)
            assert len(inbox.messages) == 1
            page = client.get("/admin/outbox").text
            assert "could not be sent" not in page and "sent" in page
    finally:
        controller.stop()
    app.state.engine.dispose()


def test_retries_stop_at_the_limit_and_the_outbox_says_so(settings, db, monkeypatch):
    port = free_port()
    app = smtp_app(settings, port)
    make_user(db, is_admin=True)
    with TestClient(app) as client:
        sign_in(client)
        post(client, "/password/forgot", {"email": "ewa@example.org"})
        for _ in range(mail.MAX_ATTEMPTS - 1):
            time_passes(db)
            remind(monkeypatch, settings, port)
        given_up = stored_message(db)
        assert given_up.attempts == mail.MAX_ATTEMPTS and given_up.next_attempt_at is None
        time_passes(db)
        remind(monkeypatch, settings, port)
        assert stored_message(db).attempts == mail.MAX_ATTEMPTS  # not tried any more
        page = client.get("/admin/outbox").text
        assert f"not sent after {mail.MAX_ATTEMPTS} attempts" in page
    app.state.engine.dispose()
