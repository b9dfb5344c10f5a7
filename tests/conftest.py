"""Fixtures: the real app on a real database (SQLite, or PostgreSQL when DATABASE_URL says so).

The schema is created once per test run by the Alembic migrations, exactly as
in production, and every table is emptied after each test.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.calls import library
from proposals.db import make_engine, make_sessionmaker, unit_of_work
from proposals.migrate import upgrade
from proposals.models import Base, Membership, Organisation, User
from proposals.passwords import hash_password
from proposals.settings import Settings, normalise_database_url

PASSWORD = "correct horse battery"
#: Combinations the policy matrix ran, by (state, database): printed at the end of the run.
MATRIX_RUNS = pytest.StashKey[dict[tuple[str, str], int]]()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    runs = config.stash.get(MATRIX_RUNS, {})
    if runs:
        detail = ", ".join(f"{state} on {db}: {n}" for (state, db), n in sorted(runs.items()))
        terminalreporter.write_line(
            f"policy matrix: {sum(runs.values())} route x person x state combinations ({detail})"
        )


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'engage-test.db'}"


@pytest.fixture(scope="session")
def migrated_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def settings(database_url: str, migrated_engine: Engine, tmp_path: Path) -> Iterator[Settings]:
    with unit_of_work(make_sessionmaker(migrated_engine)) as session:
        library.sync_shipped(session)  # as engage migrate does
    yield Settings(database_url=database_url, secret_key="test-secret-" + "x" * 40, env="test")
    _empty_tables(migrated_engine)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def db(migrated_engine: Engine, settings: Settings) -> Iterator[Session]:
    """A session to arrange data and to look at what the app stored."""
    session = make_sessionmaker(migrated_engine)()
    yield session
    session.close()


def csrf(client: TestClient, path: str = "/") -> str:
    """The CSRF token the page at ``path`` hands out (as a browser would read it)."""
    match = CSRF_META.search(client.get(path).text)
    assert match, "page has no CSRF token"
    return match.group(1)


def post(client: TestClient, path: str, data: dict | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """Submit a form the way the browser does: with the page's CSRF token."""
    payload = {"csrf_token": csrf(client), **(data or {})}
    return client.post(path, data=payload, **kwargs)


def make_user(
    db: Session,
    email: str = "ewa@example.org",
    name: str = "Ewa Nowak",
    locale: str = "en",
    is_admin: bool = False,
) -> User:
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(PASSWORD),
        locale=locale,
        is_admin=is_admin,
    )
    db.add(user)
    db.commit()
    return user


def make_organisation(
    db: Session,
    admin: User | None = None,
    name: str = "Fundacja Fala",
    country: str = "PL",
    city: str = "Gdańsk",
    role: str = "admin",
) -> Organisation:
    organisation = Organisation(
        name=name, country=country, city=city, themes=["youth"], languages=["pl", "en"]
    )
    db.add(organisation)
    if admin is not None:
        db.add(Membership(user=admin, organisation=organisation, role=role))
    db.commit()
    return organisation


def sign_in(client: TestClient, email: str = "ewa@example.org", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    response = post(client, "/signin", {"email": email, "password": password})
    assert response.status_code in (200, 303), response.text
    return response


def row_counts(db: Session) -> dict[str, int]:
    """How many rows each table holds, to show that a refused request stored nothing."""
    db.expire_all()
    return {
        t.name: db.execute(text(f'SELECT COUNT(*) FROM "{t.name}"')).scalar_one()
        for t in Base.metadata.sorted_tables
    }


def count_queries(app, client: TestClient, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """How many SQL statements the app runs to answer GET ``url`` (200), and the page."""
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    event.listen(app.state.engine, "before_cursor_execute", counter)
    try:
        response = client.get(url)
        assert response.status_code == 200
    finally:
        event.remove(app.state.engine, "before_cursor_execute", counter)
    return count, response.text


class PrintedMail(logging.Handler):
    """What Engage prints of its e-mails (``engage.mail`` log), as a developer reads it."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@contextmanager
def printed_mail() -> Iterator[PrintedMail]:
    """Collect what Engage prints of each e-mail while the block runs (no SMTP: the console)."""
    handler = PrintedMail()
    logger = logging.getLogger("engage.mail")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture(autouse=True)
def _english_by_default() -> Iterator[None]:
    """Each test starts in English in Europe/Warsaw, whatever a test before it left set.

    Requests set the locale of their own context; a test that calls the domain directly
    (or a TestClient running the app in this thread) would otherwise inherit the last one.
    """
    from proposals import i18n

    with i18n.using(i18n.DEFAULT_LOCALE, i18n.DEFAULT_TIMEZONE):
        yield
