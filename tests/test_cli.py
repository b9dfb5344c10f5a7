"""The ``engage`` command, run as a user would: in a subprocess, in a fresh folder."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import docx
import httpx2 as httpx
from sqlalchemy import inspect, text

from proposals import demo
from proposals.calls import library
from proposals.db import make_engine, make_sessionmaker
from proposals.migrate import current_revision, head_revision
from proposals.models import Base
from proposals.passwords import verify_password
from proposals.settings import load_settings
from tests.conftest import CSRF_META

ADMIN_PASSWORD = "a long admin passphrase"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without Engage settings (the test run may set DATABASE_URL)."""
    ours = ("DATABASE_URL", "SECRET_KEY")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENGAGE_", "SMTP_")) and k not in ours
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'engage.db'}",
        ENGAGE_INSTANCE_DIR=str(tmp_path / "instance"),
        **extra,
    )
    return env


def engage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proposals.cli", *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def query(tmp_path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    engine = make_engine(f"sqlite:///{tmp_path / 'engage.db'}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_migrate_creates_the_schema_on_a_fresh_database(tmp_path):
    result = engage(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert f"Database migrated from empty to {head_revision()}." in result.stdout
    assert "Database is up to date." in result.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'engage.db'}")
    try:
        assert current_revision(engine) == head_revision()
        names = set(inspect(engine).get_table_names())
        assert {t.name for t in Base.metadata.sorted_tables} <= names
    finally:
        engine.dispose()
    again = engage(tmp_path, "migrate")
    assert again.returncode == 0 and again.stdout.strip() == "Database is up to date."


def test_createadmin_creates_an_administrator(tmp_path):
    result = engage(
        tmp_path,
        "createadmin",
        "--email",
        "A@Example.org",
        "--name",
        "Admin",
        ENGAGE_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    assert "Administrator a@example.org created." in result.stdout
    rows = query(tmp_path, "SELECT email, name, is_admin, password_hash FROM user_account")
    assert len(rows) == 1
    email, name, is_admin, password_hash = rows[0]
    assert (email, name, bool(is_admin)) == ("a@example.org", "Admin", True)
    assert verify_password(password_hash, ADMIN_PASSWORD)


def test_createadmin_with_short_password_says_why_and_creates_nobody(tmp_path):
    result = engage(
        tmp_path,
        "createadmin",
        "--email",
        "a@example.org",
        "--name",
        "Admin",
        ENGAGE_ADMIN_PASSWORD="abc",
    )
    assert result.returncode == 2
    assert "error: password: Use at least 10 characters" in result.stderr
    assert "Traceback" not in result.stderr
    assert query(tmp_path, "SELECT COUNT(*) FROM user_account") == [(0,)]


def test_createadmin_without_password_and_without_terminal_fails_cleanly(tmp_path):
    # As in a deploy script: no ENGAGE_ADMIN_PASSWORD and nobody to type one in.
    result = subprocess.run(
        [sys.executable, "-m", "proposals.cli", "createadmin", "--email", "a@example.org"],
        cwd=tmp_path,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "password" in result.stderr.lower()
    assert query(tmp_path, "SELECT COUNT(*) FROM user_account") == [(0,)]


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = engage(tmp_path, "serve", "--port", str(free_port()), ENGAGE_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "engage.db").exists()  # refused before touching the database
    assert not (tmp_path / "instance").exists()


def test_development_secret_is_generated_once_and_reused(tmp_path):
    environ = {"ENGAGE_ENV": "development", "ENGAGE_INSTANCE_DIR": str(tmp_path / "instance")}
    first = load_settings(dict(environ), cwd=tmp_path)
    second = load_settings(dict(environ), cwd=tmp_path)
    secret_file = tmp_path / "instance" / "secret_key"
    assert len(first.secret_key) >= 40
    assert first.secret_key == second.secret_key == secret_file.read_text().strip()
    assert secret_file.stat().st_mode & 0o777 == 0o600
    # Without ENGAGE_INSTANCE_DIR the secret lives in ./instance of the working folder.
    other = tmp_path / "elsewhere"
    other.mkdir()
    third = load_settings({"ENGAGE_ENV": "development"}, cwd=other)
    assert third.secret_key == (other / "instance" / "secret_key").read_text().strip()
    assert third.secret_key != first.secret_key


def test_demo_starts_quickly_and_its_accounts_sign_in(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "demo.log"
    env = clean_env(tmp_path)
    del env["DATABASE_URL"]  # the demo makes its own SQLite file
    with log.open("w") as out:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "proposals.cli", "demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            elapsed = None
            while time.monotonic() - started < 30 and process.poll() is None:
                try:
                    if httpx.get(url + "/", timeout=1).status_code == 200:
                        elapsed = time.monotonic() - started
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"\nengage demo answered its first page after {elapsed} s")
            assert elapsed is not None and elapsed < 30, log.read_text()
            output = log.read_text()
            assert "Every demo account's password is: engage-demo" in output
            assert "anna@demo.engage" in output and "admin@demo.engage" in output

            with httpx.Client(base_url=url, follow_redirects=True, timeout=10) as browser:
                signin = browser.get("/signin")
                assert signin.status_code == 200
                assert "anna@demo.engage" in signin.text and "engage-demo" in signin.text
                token = CSRF_META.search(signin.text).group(1)
                home = browser.post(
                    "/signin",
                    data={
                        "csrf_token": token,
                        "email": "anna@demo.engage",
                        "password": "engage-demo",
                    },
                )
                assert home.status_code == 200
                assert "Anna Kowalska" in home.text
                assert "Stowarzyszenie Morze Możliwości" in home.text  # her organisation
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert (tmp_path / "engage-demo.db").exists()


def test_export_writes_the_application_and_keeps_it_in_the_history(tmp_path):
    assert engage(tmp_path, "migrate").returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'engage.db'}")
    try:
        with make_sessionmaker(engine)() as session:
            library.sync_shipped(session)
            demo.seed(session)
            session.commit()
    finally:
        engine.dispose()
    result = engage(tmp_path, "export", "BVT", "--output", "bvt.docx")
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "bvt.docx").read_bytes()
    assert hashlib.sha256(written).hexdigest() in result.stdout
    headings = [
        p.text
        for p in docx.Document(str(tmp_path / "bvt.docx")).paragraphs
        if p.style.name == "Heading 1"
    ]
    assert any(h.endswith("Streszczenie projektu") for h in headings)
    rows = query(tmp_path, "SELECT kind, sha256, created_by_id FROM export")
    assert rows == [("application", hashlib.sha256(written).hexdigest(), None)]
    missing = engage(tmp_path, "export", "NOPE")
    assert missing.returncode == 1 and "no proposal with the id or acronym 'NOPE'" in missing.stderr
    no_partner = engage(tmp_path, "export", "BVT", "--kind", "declaration")
    assert no_partner.returncode == 1 and "a declaration needs --partner" in no_partner.stderr
    assert "Traceback" not in missing.stderr + no_partner.stderr
    assert len(query(tmp_path, "SELECT id FROM export")) == 1
