"""The sign-in throttle counts the real client and slows strangers down without locking the
real user out: a browser that signed in before is known (a signed cookie), failures from
unknown browsers beyond the limit make each further try wait a little longer, and the
limit per address stays. Only a trusted proxy may say who the client is."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.models import SigninAttempt, utcnow
from proposals.settings import SettingsError, load_settings
from tests.conftest import PASSWORD, make_user, post, sign_in
from tests.support import free_port, fresh_database

ROOT = Path(__file__).resolve().parent.parent
WRONG = {"email": "ewa@example.org", "password": "not the password"}
RIGHT = {"email": "ewa@example.org", "password": PASSWORD}


def browser(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    """A browser whose connection comes from ``address``."""
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def attempts(db) -> list[SigninAttempt]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(db.scalars(select(SigninAttempt).order_by(SigninAttempt.id)))


def time_passes(db, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Every recorded attempt happened ``seconds`` earlier."""
    for attempt in attempts(db):
        attempt.created_at -= timedelta(seconds=seconds)
    db.commit()


def test_a_strangers_failures_do_not_stop_the_real_user_on_their_known_browser(app, db, settings):
    make_user(db)
    mine = browser(app, "198.51.100.10")
    sign_in(mine)
    post(mine, "/signout")
    stranger = browser(app, "203.0.113.66")
    for _ in range(settings.signin_max_failures_per_account):
        post(stranger, "/signin", WRONG)
    # A browser Engage has not seen her sign in with waits a moment...
    response = post(browser(app, "198.51.100.10"), "/signin", RIGHT)
    assert "Too many failed sign-ins for this account. Wait 2 seconds" in response.text
    # ...hers does not.
    assert "Welcome, Ewa Nowak" in post(mine, "/signin", RIGHT).text


def test_unknown_browsers_wait_a_short_growing_delay_beyond_the_limit(app, db, settings):
    make_user(db)
    stranger = browser(app, "203.0.113.66")
    for _ in range(settings.signin_max_failures_per_account):
        assert post(stranger, "/signin", WRONG).status_code == 422
    response = post(stranger, "/signin", WRONG)
    assert response.status_code == 422
    assert "Too many failed sign-ins for this account. Wait 2 seconds" in response.text
    assert len(attempts(db)) == settings.signin_max_failures_per_account  # not even tried
    time_passes(db, 2)
    assert "The e-mail or password is not right" in post(stranger, "/signin", WRONG).text
    assert "Wait 4 seconds" in post(stranger, "/signin", WRONG).text
    time_passes(db, 4)
    post(stranger, "/signin", WRONG)
    assert "Wait 8 seconds" in post(stranger, "/signin", WRONG).text
    # The real user on a new browser waits those seconds too, then gets in.
    time_passes(db, 8)
    assert "Welcome, Ewa Nowak" in post(browser(app, "198.51.100.10"), "/signin", RIGHT).text


def test_the_delay_stops_growing_at_a_minute(app, db, settings):
    make_user(db)
    now = utcnow()
    db.add_all(
        SigninAttempt(
            email="ewa@example.org",
            address=f"203.0.113.{i}",
            succeeded=False,
            created_at=now - timedelta(seconds=i),
        )
        for i in range(settings.signin_max_failures_per_account + 12)
    )
    db.commit()
    response = post(browser(app, "203.0.113.66"), "/signin", WRONG)
    assert "Wait 60 seconds" in response.text


def test_the_limit_per_address_holds_even_for_a_known_browser(app, db, settings):
    make_user(db)
    shared = browser(app, "192.0.2.20")  # one office, one address
    sign_in(shared)
    post(shared, "/signout")
    for i in range(settings.signin_max_failures_per_address):
        post(shared, "/signin", {"email": f"guess{i}@example.org", "password": "nope-nope"})
    response = post(shared, "/signin", RIGHT)
    assert "Too many failed sign-ins. For your security, try again in 15 minutes" in response.text


def test_a_forged_x_forwarded_for_from_an_untrusted_peer_is_not_believed(app, db, settings):
    make_user(db)
    stranger = browser(app, "203.0.113.66")
    for i in range(settings.signin_max_failures_per_address):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}
        post(stranger, "/signin", {**WRONG, "email": f"guess{i}@example.org"}, headers=forged)
    assert {a.address for a in attempts(db)} == {"203.0.113.66"}
    response = post(stranger, "/signin", RIGHT, headers={"X-Forwarded-For": "198.51.100.99"})
    assert "Too many failed sign-ins" in response.text


def test_a_trusted_proxy_says_who_the_client_is(settings, db):
    make_user(db)
    app = create_app(replace(settings, trusted_proxies=("10.0.0.0/8",)))
    proxy = browser(app, "10.1.2.3")
    # The client wrote the first address itself; the proxy appended the one it saw.
    post(proxy, "/signin", WRONG, headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.7"})
    post(proxy, "/signin", WRONG, headers={"X-Forwarded-For": "198.51.100.8, 10.0.0.9"})
    assert [a.address for a in attempts(db)] == ["198.51.100.7", "198.51.100.8"]
    app.state.engine.dispose()


# --- the Procfile, as a platform runs it ------------------------------------------------


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def run_web(database_url: str, workdir: Path, **env: str) -> tuple[subprocess.Popen, str]:  # type: ignore[type-arg]
    """The Procfile's release then web command, as a platform runs them; its URL."""
    port = free_port()
    environ = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "procfile-test-" + "x" * 40,
        "ENGAGE_INSTANCE_DIR": str(workdir / "instance"),
        **env,
    }
    commands = procfile()
    subprocess.run(["sh", "-c", commands["release"]], env=environ, check=True, cwd=workdir)
    log = (workdir / f"web-{port}.log").open("w")
    process = subprocess.Popen(
        ["sh", "-c", commands["web"]],
        env=environ,
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/signin", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError((workdir / f"web-{port}.log").read_text())


def stop(process: subprocess.Popen) -> None:  # type: ignore[type-arg]
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=15)


def fail_signin_as(url: str, forwarded_for: str) -> None:
    with httpx.Client(base_url=url) as client:
        token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/signin").text)
        assert token
        client.post(
            "/signin",
            data={"csrf_token": token.group(1), **WRONG},
            headers={"X-Forwarded-For": forwarded_for},
        )


def addresses_counted(database_url: str) -> list[str]:
    from proposals.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(SigninAttempt.address).order_by(SigninAttempt.id)))
    finally:
        engine.dispose()


def test_the_procfile_believes_x_forwarded_for_only_from_trusted_proxies(tmp_path):
    with fresh_database(tmp_path, "procfile") as database_url:
        # The proxy is elsewhere: this test's connection (127.0.0.1) is an untrusted client.
        process, url = run_web(database_url, tmp_path, ENGAGE_TRUSTED_PROXIES="10.0.0.1")
        try:
            fail_signin_as(url, "203.0.113.7")
        finally:
            stop(process)
        assert addresses_counted(database_url) == ["127.0.0.1"]
        # By default the proxy runs on the same machine (127.0.0.1), and is believed.
        process, url = run_web(database_url, tmp_path)
        try:
            fail_signin_as(url, "203.0.113.8")
        finally:
            stop(process)
        assert addresses_counted(database_url) == ["127.0.0.1", "203.0.113.8"]


def test_trusted_proxies_are_addresses_or_networks_and_never_everyone():
    environ = {"SECRET_KEY": "s" * 40, "ENGAGE_TRUSTED_PROXIES": " 10.0.0.0/8, 192.0.2.7 "}
    assert load_settings(environ).trusted_proxies == ("10.0.0.0/8", "192.0.2.7")
    assert load_settings({"SECRET_KEY": "s" * 40}).trusted_proxies == ("127.0.0.1", "::1")
    for wrong in ("*", "10.0.0.0/8,*", "proxy.example.org"):
        with pytest.raises(SettingsError, match="ENGAGE_TRUSTED_PROXIES"):
            load_settings({"SECRET_KEY": "s" * 40, "ENGAGE_TRUSTED_PROXIES": wrong})
