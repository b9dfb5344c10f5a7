"""Alembic migrations: they build exactly the models' schema, go down and up again,
and ``engage serve`` brings an old database up to date without losing its rows."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx2 as httpx
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from proposals.db import make_engine
from proposals.migrate import alembic_config, current_revision, head_revision, upgrade
from proposals.models import Base
from proposals.passwords import hash_password
from tests.conftest import CSRF_META, PASSWORD

APP_TABLES = {t.name for t in Base.metadata.sorted_tables}


def _search_index(item: object) -> bool:
    """The full-text search's own tables and indexes (0011), which no model describes."""
    name = getattr(item, "name", "") or ""
    return name.startswith(("search_", "ix_search_"))


def schema_diff(engine: Engine) -> list:  # type: ignore[type-arg]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    return [d for d in diff if not (isinstance(d, tuple) and _search_index(d[1]))]


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def tables(engine: Engine) -> set[str]:
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    return {n for n in names if not n.startswith("search_")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_migrations_build_exactly_the_models_schema(migrated_engine):
    assert current_revision(migrated_engine) == head_revision()
    assert schema_diff(migrated_engine) == []


def test_downgrade_to_base_and_upgrade_again_round_trips(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        upgrade(engine)
        assert tables(engine) == APP_TABLES
        downgrade(engine, "0001")
        assert tables(engine) == {"user_account", "signin_attempt", "outbox_message"}
        assert current_revision(engine) == "0001"
        downgrade(engine, "base")
        assert tables(engine) == set()
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert tables(engine) == APP_TABLES
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_serve_upgrades_an_old_database_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO user_account (email, name, password_hash, locale, timezone, is_admin,"
                " created_at) VALUES (:email, 'Ewa Nowak', :hash, 'en', 'Europe/Warsaw', 0,"
                " '2025-01-02 03:04:05.000000')"
            ),
            {"email": "ewa@example.org", "hash": hash_password(PASSWORD)},
        )
    assert current_revision(engine) == "0001"
    engine.dispose()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "ENGAGE_ENV": "development",
        "ENGAGE_INSTANCE_DIR": str(tmp_path / "instance"),
        "ENGAGE_BASE_URL": url,
    }
    env.pop("SECRET_KEY", None)
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "proposals.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            answered = False
            while time.monotonic() < deadline and process.poll() is None and not answered:
                try:
                    answered = httpx.get(url + "/", timeout=1).status_code == 200
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert answered, log.read_text()
            # The old account still signs in on the upgraded database.
            with httpx.Client(base_url=url, follow_redirects=True, timeout=10) as browser:
                token = CSRF_META.search(browser.get("/signin").text).group(1)
                page = browser.post(
                    "/signin",
                    data={"csrf_token": token, "password": PASSWORD, "email": "ewa@example.org"},
                )
                assert "Welcome, Ewa Nowak" in page.text
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert "Database migrated from 0001 to " + str(head_revision()) in log.read_text()

    engine = make_engine(f"sqlite:///{path}")
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT email, name FROM user_account")).all()
        assert [tuple(r) for r in rows] == [("ewa@example.org", "Ewa Nowak")]
        assert tables(engine) == APP_TABLES
    finally:
        engine.dispose()
