"""Accounts: sign up, sign in and out, throttling, password reset, bad input."""

from __future__ import annotations

import re

from sqlalchemy import select

from proposals.models import OutboxMessage, SigninAttempt, User
from tests.conftest import PASSWORD, csrf, make_user, post, printed_mail, row_counts, sign_in

SIGNUP = {"name": "Ewa Nowak", "email": "ewa@example.org", "password": PASSWORD}


def test_signup_creates_account_and_signs_in(client, db):
    response = post(client, "/signup", SIGNUP)
    assert response.status_code == 200
    assert "Welcome, Ewa Nowak" in response.text
    user = db.scalar(select(User).where(User.email == "ewa@example.org"))
    assert user is not None and user.password_hash.startswith("$argon2")
    assert PASSWORD not in user.password_hash


def test_signup_with_existing_email_keeps_input_and_says_so(client, db):
    make_user(db, email="ewa@example.org")
    response = post(client, "/signup", {**SIGNUP, "email": "EWA@example.org", "name": "Ewa Two"})
    assert response.status_code == 422
    assert "An account with this e-mail already exists" in response.text
    assert 'value="Ewa Two"' in response.text
    assert db.scalar(select(User).where(User.name == "Ewa Two")) is None


def test_signup_rejects_malformed_email_next_to_field(client, db):
    response = post(client, "/signup", {**SIGNUP, "email": "ewa-at-example"})
    assert response.status_code == 422
    assert re.search(r'id="e-email">Enter an e-mail address', response.text)
    assert 'value="ewa-at-example"' in response.text
    assert row_counts(db)["user_account"] == 0


def test_signup_rejects_short_password(client, db):
    response = post(client, "/signup", {**SIGNUP, "password": "abc"})
    assert response.status_code == 422
    assert re.search(r'id="e-password">Use at least 10 characters', response.text)
    assert 'value="abc"' not in response.text  # a password is never echoed back
    assert row_counts(db)["user_account"] == 0


def test_signup_with_huge_name_gets_message_and_stores_nothing(client, db):
    name = "N" * 100_000
    response = post(client, "/signup", {**SIGNUP, "name": name})
    assert response.status_code == 422
    assert "Use at most 120 characters (this has 100000)" in response.text
    assert name in response.text  # what the user typed is kept
    assert row_counts(db)["user_account"] == 0


def test_signup_with_wrong_types_or_missing_fields_never_500(client, db):
    response = post(client, "/signup", {"name": ["a", "b"], "email": "", "unexpected": "1"})
    assert response.status_code == 422
    assert "This field is required" in response.text


def test_signin_and_signout(client, db):
    make_user(db)
    response = sign_in(client)
    assert "Welcome, Ewa Nowak" in response.text
    response = post(client, "/signout")
    assert "You are signed out" in response.text
    assert "Welcome" not in client.get("/").text


def test_wrong_password_shows_error_and_signs_nobody_in(client, db):
    make_user(db)
    response = post(client, "/signin", {"email": "ewa@example.org", "password": "wrong-password"})
    assert response.status_code == 422
    assert "The e-mail or password is not right" in response.text
    assert 'value="ewa@example.org"' in response.text
    assert "Welcome" not in client.get("/").text


def test_signin_is_throttled_per_account_with_clear_message(client, db, settings):
    make_user(db)
    for _ in range(settings.signin_max_failures_per_account):
        post(client, "/signin", {"email": "ewa@example.org", "password": "wrong-password"})
    # From a browser the account never signed in with, even the right password waits
    # a moment (tests/test_signin_throttle.py: how long, and the user's own browser).
    response = post(client, "/signin", {"email": "ewa@example.org", "password": PASSWORD})
    assert response.status_code == 422
    assert "Too many failed sign-ins for this account. Wait 2 seconds" in response.text
    assert "Welcome" not in client.get("/").text


def test_signin_is_throttled_per_address(client, db, settings):
    make_user(db, email="other@example.org")
    for i in range(settings.signin_max_failures_per_address):
        post(client, "/signin", {"email": f"guess{i}@example.org", "password": "nope-nope-nope"})
    response = post(client, "/signin", {"email": "other@example.org", "password": PASSWORD})
    assert "Too many failed sign-ins" in response.text
    failures = db.scalars(select(SigninAttempt).where(SigninAttempt.succeeded.is_(False))).all()
    assert len(failures) == settings.signin_max_failures_per_address


def test_password_reset_by_emailed_link_is_single_use(client, db):
    make_user(db)
    with printed_mail() as printed:
        response = post(client, "/password/forgot", {"email": "ewa@example.org"})
    assert "If an account exists for ewa@example.org" in response.text
    message = db.scalar(select(OutboxMessage).where(OutboxMessage.kind == "reset"))
    assert message is not None and message.recipient == "ewa@example.org"
    link = re.search(r"http://\S+/password/reset/\S+", printed.text).group(0)
    path = link.split("127.0.0.1:8000", 1)[1]
    new_password = "a brand new passphrase"
    response = post(client, path, {"password": new_password, "confirm": new_password})
    assert "Your password is changed" in response.text
    post(client, "/signout")
    assert "Welcome" in sign_in(client, password=new_password).text
    # The link worked once; now it is refused.
    response = client.get(path)
    assert response.status_code == 400
    assert "This link is not valid any more" in response.text


def test_password_reset_for_unknown_email_reveals_nothing(client, db):
    response = post(client, "/password/forgot", {"email": "nobody@example.org"})
    assert "If an account exists for nobody@example.org" in response.text
    assert row_counts(db)["outbox_message"] == 0


def test_forged_reset_token_is_refused(client):
    response = client.get("/password/reset/not-a-real-token")
    assert response.status_code == 400
    assert "This link is not valid any more" in response.text


def test_password_change_ends_other_sessions(client, app, db):
    from starlette.testclient import TestClient

    from proposals.domain import accounts

    user = make_user(db)
    sign_in(client)
    with TestClient(app) as other:
        sign_in(other)
        assert "Welcome" in other.get("/").text
        # Every way to a new password goes through this (the reset link, a mentor's
        # first password): it ends every session signed in with the old one.
        accounts.set_password(db, db.get(User, user.id), "changed elsewhere 123")
        db.commit()
        assert "Welcome" not in other.get("/").text
        assert "Welcome" not in client.get("/").text


def test_missing_csrf_token_is_refused_and_nothing_stored(client, db):
    client.get("/signup")
    response = client.post("/signup", data=SIGNUP)
    assert response.status_code == 403
    assert "This form has expired or did not come from Engage" in response.text
    assert row_counts(db)["user_account"] == 0


def test_forged_csrf_token_is_refused(client, db):
    client.get("/signup")
    response = client.post("/signup", data={**SIGNUP, "csrf_token": "forged-token-value-123456"})
    assert response.status_code == 403
    assert row_counts(db)["user_account"] == 0


def test_htmx_request_with_csrf_header_is_accepted(client, db):
    token = csrf(client, "/signup")
    response = client.post(
        "/signup",
        data=SIGNUP,
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"
    assert row_counts(db)["user_account"] == 1


def test_htmx_request_with_wrong_csrf_header_is_refused(client, db):
    client.get("/signup")
    response = client.post(
        "/signup", data=SIGNUP, headers={"X-CSRF-Token": "nope", "HX-Request": "true"}
    )
    assert response.status_code == 403
    assert row_counts(db)["user_account"] == 0


def test_tampered_session_cookie_means_signed_out_not_500(client, db):
    make_user(db)
    sign_in(client)
    cookie = client.cookies.get("engage_session")
    assert cookie
    tampered = cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    client.cookies.clear()
    client.cookies.set("engage_session", tampered)
    response = client.get("/")
    assert response.status_code == 200
    assert "Welcome" not in response.text
    client.cookies.clear()
    client.cookies.set("engage_session", "garbage")
    assert client.get("/organisations").status_code == 200  # the sign-in page, after redirect


def test_open_redirect_after_signin_is_prevented(client, db):
    make_user(db)
    response = post(
        client,
        "/signin",
        {"email": "ewa@example.org", "password": PASSWORD, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_signin_returns_to_the_page_asked_for(client, db):
    make_user(db)
    response = client.get("/organisations")
    assert "Please sign in to continue" in response.text
    response = post(
        client,
        "/signin",
        {"email": "ewa@example.org", "password": PASSWORD, "next": "/organisations"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/organisations"
