"""Sessions live on the server: signing out ends one for good, a new password ends the
others, and the account page lists them with "Sign out everywhere else"."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, update
from starlette.testclient import TestClient

from proposals.models import Notification, UserSession, utcnow
from tests.conftest import count_queries, make_user, post, printed_mail, sign_in

NEW_PASSWORD = "a brand new passphrase"


def browser(app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, raise_server_exceptions=False)


def signed_in(client: TestClient) -> bool:
    response = client.get("/account", follow_redirects=False)
    return response.status_code == 200 and "Your account" in response.text


def with_cookie(app, cookie: str) -> TestClient:  # type: ignore[no-untyped-def]
    """Another browser carrying a copy of someone's session cookie."""
    thief = browser(app)
    thief.cookies.set("engage_session", cookie)
    return thief


def test_a_cookie_copied_before_sign_out_no_longer_works_after_it(app, client, db):
    make_user(db)
    sign_in(client)
    copied = client.cookies.get("engage_session")
    assert signed_in(with_cookie(app, copied))
    post(client, "/signout")
    assert not signed_in(with_cookie(app, copied))
    # Not even once the user has signed in again.
    sign_in(client)
    assert not signed_in(with_cookie(app, copied))
    assert signed_in(client)


def test_a_password_reset_ends_the_session_of_a_second_browser(app, client, db):
    make_user(db)
    sign_in(client)
    other = browser(app)
    sign_in(other)
    with printed_mail() as printed:
        post(client, "/password/forgot", {"email": "ewa@example.org"})
    link = re.search(r"/password/reset/\S+", printed.text).group(0)
    response = post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert "Your password is changed. You are signed in." in response.text
    assert signed_in(client)
    assert not signed_in(other)
    assert "Welcome" in sign_in(other, password=NEW_PASSWORD).text


def test_sign_out_everywhere_else_ends_the_other_sessions_only(app, client, db):
    make_user(db)
    laptop, phone = browser(app), browser(app)
    sign_in(client)
    sign_in(laptop)
    phone.headers["User-Agent"] = (
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0 Mobile Safari/537.36"
    )
    sign_in(phone)
    page = client.get("/account").text
    assert "Signed in on 3 browsers" in page
    assert "Chrome on Android" in page
    assert "This browser" in page
    response = post(client, "/account/sessions/end")
    assert "You are signed out everywhere else (2 browsers)." in response.text
    assert signed_in(client)
    assert not signed_in(laptop) and not signed_in(phone)
    assert "Signed in on 1 browser" in client.get("/account").text


def test_a_session_ends_after_fourteen_days_whatever_the_cookie_says(app, client, db):
    make_user(db)
    sign_in(client)
    db.execute(update(UserSession).values(created_at=utcnow() - timedelta(days=14, minutes=1)))
    db.commit()
    assert not signed_in(client)


def _bell(page: str) -> tuple[str, bool]:
    badge = re.search(r'<span class="badge" data-unread( hidden)?><span data-count>(\d+)<', page)
    assert badge, "no bell on the page"
    return badge.group(2), badge.group(1) is None


def test_the_bell_shows_the_unread_count_counted_with_the_user(app, client, db):
    user = make_user(db)
    sign_in(client)
    assert _bell(client.get("/search").text) == ("0", False)
    db.add_all(Notification(user_id=user.id, kind="assigned") for _ in range(3))
    db.add(Notification(user_id=user.id, kind="assigned", read_at=utcnow()))
    db.commit()
    assert _bell(client.get("/search").text) == ("3", True)
    post(client, "/notifications/read")
    assert _bell(client.get("/notifications").text) == ("0", False)


def test_the_session_is_checked_in_the_query_that_loads_the_user(app, client, db):
    make_user(db)
    sign_in(client)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(app.state.engine, "before_cursor_execute", record)
    try:
        # The search page without a query reads nothing else (the home page reads one's work).
        queries, _page = count_queries(app, client, "/search")
    finally:
        event.remove(app.state.engine, "before_cursor_execute", record)
    # One statement: the user with their memberships (the session is a join in it) and
    # how many of their notifications are unread (the bell).
    assert queries == 1
    (load,) = [s for s in statements if "user_session" in s]
    assert "JOIN user_session" in load and "user_account" in load and "notification" in load
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]
