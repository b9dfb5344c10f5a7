"""One limit on the size of every request body, however the form's token is sent."""

from __future__ import annotations

from tests.conftest import csrf

MB = 1024 * 1024


def _chunks(total: int, size: int = MB):  # type: ignore[no-untyped-def]
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


def test_a_30_mb_body_is_refused_whether_the_token_is_a_header_or_a_field(client):
    token = csrf(client)
    for headers in ({"X-CSRF-Token": token}, {"X-CSRF-Token": "forged"}, {}):
        response = client.post(
            "/signin",
            content=b"email=a%40b.example&password=" + b"x" * (30 * MB),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413, headers
        assert "too large" in response.text.lower()
    assert client.get("/").status_code == 200  # and the app goes on serving


def test_a_body_without_a_length_is_cut_off_at_the_limit(client):
    token = csrf(client)
    response = client.post(
        "/signin",
        content=_chunks(30 * MB),
        headers={"X-CSRF-Token": token, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


def test_an_ordinary_form_still_passes(client):
    token = csrf(client)
    response = client.post(
        "/signin",
        data={"email": "nobody@x.example", "password": "wrong password"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 422
