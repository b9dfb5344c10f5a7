"""Pooled PostgreSQL connections: checked before use only after sitting idle.

A connection back from a request a moment ago goes straight to the next one (no
``SELECT 1`` round trip per request); one left idle past ``PING_AFTER_IDLE_SECONDS``
is checked first, and one the server dropped meanwhile is replaced, so the request
never sees it. Always against PostgreSQL (the suite's own database when it runs on
PostgreSQL, else a throwaway one on the local server, as in CI): SQLite has no server
to drop a connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from proposals import db as dbmodule
from proposals.settings import normalise_database_url
from tests.support import is_postgres, new_postgres_database

LOCAL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    configured = normalise_database_url(os.environ.get("DATABASE_URL", ""))
    with new_postgres_database(configured if is_postgres(configured) else LOCAL, "pool") as url:
        yield url


def test_a_connection_dropped_while_idle_is_replaced_before_it_is_used(postgres_url):
    engine = dbmodule.make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        # Straight back to work: the same connection.
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == first_pid

        # The server drops it while it sits in the pool (a restart, a firewall).
        other = dbmodule.make_engine(postgres_url)
        with other.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
        other.dispose()
        time.sleep(dbmodule.PING_AFTER_IDLE_SECONDS + 0.2)
        # The next user gets a working connection, not an error.
        with engine.connect() as conn:
            again = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert again != first_pid
    finally:
        engine.dispose()
