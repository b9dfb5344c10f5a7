"""Notifications by e-mail over a real SMTP server (aiosmtpd): recipients, language, links;
``engage remind`` (due-date reminders, daily digests, idempotent); the account's choice."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.cli import main
from proposals.models import Notification, OutboxMessage, User
from proposals.settings import SMTPSettings
from tests.conftest import post
from tests.consortium_helpers import flashes
from tests.test_mail import Inbox, smtp_inbox  # noqa: F401 - the fixture
from tests.test_reviews import drafting, request_review

BASE = "http://engage.example"
LINK = re.compile(re.escape(BASE) + r"(/signin\?next=\S+)")


@pytest.fixture
def mail_app(settings, smtp_inbox):  # type: ignore[no-untyped-def] # noqa: F811
    inbox, port = smtp_inbox
    smtp = SMTPSettings(host="127.0.0.1", port=port, starttls=False, sender="Engage <e@x.org>")
    application = create_app(replace(settings, smtp=smtp, base_url=BASE))
    yield application, inbox
    application.state.engine.dispose()


def _to(inbox: Inbox, email: str) -> list:  # type: ignore[type-arg]
    return [m for m in inbox.messages if m["To"] == email]


def _set(db, email: str, **values: object) -> None:  # type: ignore[no-untyped-def]
    db.expire_all()
    user = db.scalar(select(User).where(User.email == email))
    for key, value in values.items():
        setattr(user, key, value)
    db.commit()


def test_review_request_is_mailed_in_the_mentors_language_with_a_link_through_sign_in(mail_app, db):
    app, inbox = mail_app
    team, marta = drafting(app, db)
    _set(db, marta.user.email, locale="pl")
    # The assignment reached Ola at once, in English, leading to her section.
    invited, assigned = _to(inbox, team.partner.user.email)
    assert invited["Subject"] == "Engage: Anna Lis invites Frivillig to join Baltic youth councils."
    assert assigned["Subject"].startswith("Engage: Anna Lis assigned “Streszczenie projektu”")
    inbox.messages.clear()

    round_url = request_review(team, marta)
    (message,) = _to(inbox, marta.user.email)
    assert message["Subject"] == "Engage: Anna Lis prosi Cię o ocenę 2 sekcji wniosku BYC."
    body = message.get_content()
    assert "Dzień dobry, Marta Wiśniewska," in body and "Otwórz w Engage:" in body
    link = LINK.search(body).group(1)
    # Signed in: straight to the round. Signed out: sign in first, then the round.
    response = marta.client.get(link)
    assert response.status_code == 200 and response.url.path == round_url
    stranger = TestClient(app, raise_server_exceptions=False)
    page = stranger.get(link)
    assert page.url.path == "/signin"
    next_field = re.search(r'name="next" value="([^"]+)"', page.text).group(1)
    response = post(
        stranger,
        "/signin",
        {"email": marta.user.email, "password": "correct horse battery", "next": next_field},
    )
    assert response.status_code == 200 and response.url.path == round_url
    # Nobody else was mailed about the request; the outbox keeps what was sent.
    assert [m["To"] for m in inbox.messages] == [marta.user.email]
    db.expire_all()
    sent = db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == marta.user.email))
    assert all(m.sent_at is not None for m in sent)


def test_verdicts_reach_the_writer_and_the_choice_off_mails_nothing(mail_app, db):
    app, inbox = mail_app
    team, marta = drafting(app, db)
    _set(db, team.lead.user.email, email_notifications="off")
    round_url = request_review(team, marta)
    inbox.messages.clear()
    post(marta.client, round_url + "/sections/streszczenie", {"verdict": "approved"})
    post(
        marta.client,
        round_url + "/sections/uzasadnienie",
        {"verdict": "changes_requested", "comment": "Więcej danych."},
    )
    (verdict,) = _to(inbox, team.partner.user.email)
    assert verdict["Subject"] == (
        "Engage: Marta Wiśniewska approved “Streszczenie projektu” (BYC)."
    )
    link = LINK.search(verdict.get_content()).group(1)
    page = team.partner.client.get(link)
    assert page.url.path.endswith("/sections/streszczenie") and 'id="review"' in page.text
    assert _to(inbox, team.lead.user.email) == []  # "off": only the bell
    db.expire_all()
    closed = db.scalar(select(Notification).where(Notification.kind == "review_closed"))
    assert closed.user_id == team.lead.user.id and closed.emailed_at is not None


def test_the_account_page_sets_how_notifications_are_mailed(app, db):
    team, _ = drafting(app, db)
    client = team.partner.client
    response = post(
        client, "/account", {"name": "Ola Berg", "locale": "en", "email_notifications": "daily"}
    )
    assert "Your account is saved." in flashes(response)
    db.expire_all()
    assert db.get(User, team.partner.user.id).email_notifications == "daily"
    response = post(
        client, "/account", {"name": "Ola Berg", "locale": "en", "email_notifications": "hourly"}
    )
    assert response.status_code == 422
    db.expire_all()
    assert db.get(User, team.partner.user.id).email_notifications == "daily"


def test_engage_remind_sends_due_reminders_and_digests_once(
    mail_app, db, database_url, monkeypatch, capsys
):
    app, inbox = mail_app
    team, marta = drafting(app, db)  # streszczenie is Ola's, due 15 January 2027
    _set(db, team.lead.user.email, email_notifications="daily")
    request_review(team, marta)  # ...and the section waits in review: no reminder for it
    url = f"/proposals/{team.pid}/sections"
    page = team.lead.client.get(url).text
    partner_id = re.search(r'<option value="([\w-]+)"[^>]*>Frivillig</option>', page).group(1)
    post(
        team.lead.client,
        url + "/cele/assign",
        {"partner": partner_id, "assignee": str(team.partner.user.id), "due_date": "2027-01-15"},
    )
    # Ola mentions Anna: Anna reads it in the next digest, not now.
    post(team.partner.client, url + "/uzasadnienie/comments", {"body": "@Anna Lis dobry tekst."})
    inbox.messages.clear()
    _set(db, team.lead.user.email, locale="pl")
    _set(db, team.partner.user.email, locale="pl")
    for key, value in {
        "DATABASE_URL": database_url,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(app.state.settings.smtp.port),
        "SMTP_STARTTLS": "false",
        "ENGAGE_BASE_URL": BASE,
        "SECRET_KEY": app.state.settings.secret_key,
    }.items():
        monkeypatch.setenv(key, value)

    assert main(["remind", "--today", "2027-01-12"]) == 0  # three days ahead: not yet
    assert _to(inbox, team.partner.user.email) == []
    assert main(["remind", "--today", "2027-01-13"]) == 0
    (reminder,) = _to(inbox, team.partner.user.email)
    assert reminder["Subject"].startswith("Engage: Termin sekcji „Cele projektu” (BYC) mija")
    assert f"/signin?next=/proposals/{team.pid}/sections/cele" in reminder.get_content()
    (digest,) = _to(inbox, team.lead.user.email)
    assert digest["Subject"] == "Engage: 1 nowe powiadomienie"
    assert "Ola Berg wspomina o Tobie" in digest.get_content()
    # Run again (the scheduler ran twice): nothing new is sent.
    count = len(inbox.messages)
    assert main(["remind", "--today", "2027-01-13"]) == 0
    assert main(["remind", "--today", "2027-01-14"]) == 0
    assert len(inbox.messages) == count
    assert "Reminders: 0. Digests: 0." in capsys.readouterr().out
    # A due date that moves is reminded again.
    post(
        team.lead.client,
        url + "/cele/assign",
        {"partner": partner_id, "assignee": str(team.partner.user.id), "due_date": "2027-01-16"},
    )
    inbox.messages.clear()
    assert main(["remind", "--today", "2027-01-14"]) == 0
    assert [m["Subject"][:30] for m in _to(inbox, team.partner.user.email)] == [
        "Engage: Termin sekcji „Cele pr"
    ]


@pytest.mark.parametrize(
    ("locale", "subject", "greeting", "open_it"),
    [
        (
            "nb",
            "Engage: Anna Lis ber deg vurdere 2 deler av BYC.",
            "Hei Marta Wiśniewska,",
            "Åpne den i Engage:",
        ),
        (
            "lt",
            "Engage: Anna Lis prašo įvertinti 2 BYC skyrius.",
            "Sveiki, Marta Wiśniewska,",
            "Atidarykite Engage:",
        ),
    ],
)
def test_review_request_is_mailed_in_norwegian_and_lithuanian(
    mail_app, db, locale, subject, greeting, open_it
):
    app, inbox = mail_app
    team, marta = drafting(app, db)
    _set(db, marta.user.email, locale=locale)
    inbox.messages.clear()
    request_review(team, marta)
    (message,) = _to(inbox, marta.user.email)
    assert message["Subject"] == subject
    body = message.get_content()
    assert greeting in body and open_it in body
    assert LINK.search(body)
