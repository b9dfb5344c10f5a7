"""The admins' outbox never shows a link that works: password resets and invitations are
secrets of their recipient. Only the e-mail itself (or, in development without SMTP, the
console) carries them, and once sent they are not kept."""

from __future__ import annotations

import re
from dataclasses import replace

from aiosmtpd.controller import Controller
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.models import OutboxMessage
from proposals.settings import SMTPSettings
from tests.conftest import make_organisation, make_user, post, printed_mail, sign_in
from tests.consortium_helpers import Person, start_proposal
from tests.support import free_port
from tests.test_mail import Inbox, remind, smtp_inbox, time_passes  # noqa: F401

# The paths of every e-mailed link that lets its holder in: a new password, an
# organisation's or a proposal's invitation, a mentor's first password.
SECRET = re.compile(r"/(?:password/reset|join|proposals/join)/[\w.\-]{20,}")
HIDDEN = "[link hidden: only the recipient gets it]"
NEW_PASSWORD = "a brand new passphrase"


def mail_every_kind_of_secret(client: TestClient, db) -> None:  # type: ignore[no-untyped-def]
    """As an admin who also coordinates a proposal: a reset, and the three invitations."""
    user = make_user(db, email="anna@example.org", name="Anna Lis", is_admin=True)
    anna = Person(client, user, make_organisation(db, admin=user))
    make_user(db, email="ewa@example.org")
    sign_in(client, email="anna@example.org")
    pid = start_proposal(anna)
    post(client, "/password/forgot", {"email": "ewa@example.org"})
    post(
        client,
        f"/organisations/{anna.organisation.public_id}/invitations",
        {"email": "kari@example.no", "role": "admin"},
    )
    post(client, f"/proposals/{pid}/invitations", {"email": "mari@ee.example.org"})
    post(client, "/admin/mentors", {"name": "Marta Mentor", "email": "marta@example.org"})
    db.expire_all()
    assert {m.kind for m in db.scalars(select(OutboxMessage))} == {
        "reset",
        "organisation-invitation",
        "proposal-invitation",
        "mentor",
    }


def assert_nothing_secret_is_kept_or_shown(client: TestClient, db, links: list[str]) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert SECRET.findall(page.text) == []
    assert page.text.count(HIDDEN) == 4
    db.expire_all()
    for message in db.scalars(select(OutboxMessage)):
        assert SECRET.findall(message.body) == [], message.kind
        assert message.secret_links is None, message.kind
    for link in links:
        assert link.rsplit("/", 1)[1] not in page.text


def reset_works_once(client: TestClient, link: str) -> None:
    post(client, "/signout")
    assert client.get(link).status_code == 200
    response = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "Your password is changed" in response.text
    assert client.get(link).status_code == 400


def test_outbox_without_smtp_hides_the_links_the_console_shows(client, db):
    with printed_mail() as printed:
        mail_every_kind_of_secret(client, db)
    links = SECRET.findall(printed.text)
    assert len(links) == 4, printed.text  # the developer still follows each link
    assert_nothing_secret_is_kept_or_shown(client, db, links)
    for link in links:
        assert client.get(link).status_code == 200, link
    reset_works_once(client, links[0])


def test_outbox_in_production_without_smtp_shows_and_prints_no_link(settings, db):
    app = create_app(replace(settings, env="production", base_url="https://engage.example"))
    with TestClient(app, base_url="https://testserver") as client, printed_mail() as printed:
        mail_every_kind_of_secret(client, db)
        assert SECRET.findall(printed.text) == []
        sign_in(client, email="anna@example.org")
        assert_nothing_secret_is_kept_or_shown(client, db, [])
    app.state.engine.dispose()


def test_outbox_with_smtp_hides_the_links_the_mail_carries(settings, db, smtp_inbox):  # noqa: F811
    inbox, port = smtp_inbox
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender="Engage <e@x.org>")
    app = create_app(replace(settings, smtp=smtp))
    with TestClient(app) as client:
        mail_every_kind_of_secret(client, db)
        received = "\n".join(m.get_content() for m in inbox.messages)
        links = SECRET.findall(received)
        assert len(links) == 4
        assert_nothing_secret_is_kept_or_shown(client, db, links)
        reset_works_once(client, links[0])
    app.state.engine.dispose()


def test_a_link_waiting_for_smtp_is_hidden_and_delivered_once_the_server_is_up(
    settings, db, monkeypatch
):
    port = free_port()
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender="Engage <e@x.org>")
    app = create_app(replace(settings, smtp=smtp))
    make_user(db, email="admin@example.org", name="Ada Admin", is_admin=True)
    make_user(db)
    with TestClient(app) as client:
        sign_in(client, email="admin@example.org")
        post(client, "/password/forgot", {"email": "ewa@example.org"})
        page = client.get("/admin/outbox").text
        assert "could not be sent yet" in page and HIDDEN in page
        assert SECRET.findall(page) == []
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            time_passes(db)
            remind(monkeypatch, settings, port)
        finally:
            controller.stop()
        (link,) = SECRET.findall(inbox.messages[0].get_content())
        db.expire_all()
        stored = db.scalars(select(OutboxMessage)).one()
        assert stored.sent_at is not None and stored.secret_links is None
        assert link not in stored.body and SECRET.findall(client.get("/admin/outbox").text) == []
        reset_works_once(client, link)
    app.state.engine.dispose()
