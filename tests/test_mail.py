"""E-mail over a real SMTP server (aiosmtpd on localhost), sent only after the commit."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.models import OutboxMessage
from proposals.settings import SMTPSettings
from tests.conftest import make_organisation, make_user, post, sign_in


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
