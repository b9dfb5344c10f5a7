"""Security headers, cookie flags, error pages, and the vendored front-end files."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from proposals.app import create_app
from tests.conftest import PASSWORD, make_user, post

ROOT = Path(__file__).resolve().parent.parent


def test_every_response_carries_security_headers(client):
    for path in ("/", "/signin", "/no-such-page", "/static/css/engage.css"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/signin").text
    assert "<script>" not in html and "<style" not in html and " style=" not in html
    assert " on" + "click=" not in html


def test_session_cookie_is_httponly_and_samesite_lax(client, db):
    make_user(db)
    response = post(
        client,
        "/signin",
        {"email": "ewa@example.org", "password": PASSWORD},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"].lower()
    assert "engage_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in development


def test_session_cookie_is_secure_in_production(settings, db):
    from dataclasses import replace

    app = create_app(replace(settings, env="production", base_url="https://engage.example"))
    make_user(db)
    with TestClient(app, base_url="https://testserver") as client:
        response = post(
            client,
            "/signin",
            {"email": "ewa@example.org", "password": PASSWORD},
            follow_redirects=False,
        )
        assert "secure" in response.headers["set-cookie"].lower()
        assert "strict-transport-security" in response.headers
    app.state.engine.dispose()


def test_not_found_page_is_friendly_and_translated(client):
    response = client.get("/nowhere", headers={"Accept-Language": "pl"})
    assert response.status_code == 404
    assert "Nie znaleziono strony" in response.text
    assert 'href="/"' in response.text


def test_wrong_method_is_a_page_not_a_crash(client):
    response = client.delete("/signin", headers={"X-CSRF-Token": "x"})
    assert response.status_code in (403, 405)
    assert "<html" in response.text


def test_admin_outbox_is_for_admins_only(client, db):
    make_user(db)
    post(client, "/signin", {"email": "ewa@example.org", "password": PASSWORD})
    assert client.get("/admin/outbox").status_code == 403


def test_admin_outbox_lists_mail(client, db):
    make_user(db, is_admin=True)
    post(client, "/signin", {"email": "ewa@example.org", "password": PASSWORD})
    post(client, "/password/forgot", {"email": "ewa@example.org"})
    response = client.get("/admin/outbox")
    assert response.status_code == 200
    assert "Choose a new password for Engage" in response.text
    assert "No SMTP server is configured" in response.text


def test_htmx_is_vendored_with_its_licence(client):
    vendor = ROOT / "proposals" / "static" / "vendor" / "htmx"
    assert (vendor / "LICENSE").read_text().strip()
    assert "4.0.1" in (vendor / "VERSION").read_text()
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200 and len(response.content) > 10_000
    assert "cdn" not in client.get("/").text.lower()
