"""Database engine and the one-session-per-request unit of work."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    String,
    cast,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 15_000
Row = TypeVar("Row")
POOL_SIZE = 20
POOL_OVERFLOW = 25


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers proceed while one writer writes; foreign keys are off by
    # default in SQLite; the busy timeout turns lock contention into waiting.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` with the connection settings Engage relies on."""
    # As many connections as requests the server runs at once (Starlette's thread pool
    # has 40), so requests wait for the database, not for each other's connections.
    if ":memory:" not in url and url != "sqlite://":  # in-memory SQLite has no pool
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _came_back)
    event.listen(engine, "checkin", _came_back)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


#: A pooled connection left unused for longer than this is checked (``SELECT 1``) before
#: a request gets it: the server may have restarted or a firewall dropped it meanwhile.
#: One back from a request a moment ago is not: under load that is every request, and
#: the check would cost a round trip to PostgreSQL each time (a fifth of a save's).
PING_AFTER_IDLE_SECONDS = 2.0


def _came_back(_dbapi_connection: Any, record: Any, *_: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")
    if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()  # leave it as the pool gave it: outside a transaction
    except Exception as exc:
        # The pool drops this connection and hands out a new one (SQLAlchemy's
        # "pessimistic disconnect handling").
        raise DisconnectionError("the connection was found closed") from exc


_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def serialised_writes(factory: sessionmaker[Session]) -> AbstractContextManager[Any]:
    """Queue this process's writers to a SQLite file on a lock; nothing on PostgreSQL.

    SQLite lets one writer in at a time. Left to itself, a writer that finds the file
    locked sleeps in growing steps (its busy handler), and a transaction that read
    before another writer committed fails outright (SQLITE_BUSY_SNAPSHOT) and must
    start again, so under load saves wait long and unfairly. A lock hands the file to
    the next writer the moment the previous one commits. PostgreSQL locks rows itself.
    """
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return nullcontext()
    with _write_locks_guard:
        lock = _write_locks.setdefault(engine, threading.Lock())
    return lock


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One session, committed once at the end, rolled back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def json_list_contains(column: Any, value: str) -> ColumnElement[bool]:
    """``value`` is in the JSON list in ``column``, on SQLite and PostgreSQL alike.

    JSON is text on SQLite and is cast to text on PostgreSQL; the values we
    look for are fixed-format codes (``NO``, ``youth``), so a quoted match is exact.
    """
    return cast(column, String).like(f'%"{value}"%')


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a longer list: its rows, its number and how many there are in all."""

    items: list[Row]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total


def paginate(session: Session, query: Select[tuple[Row]], number: int, size: int) -> Page[Row]:
    """Page ``number`` (from 1) of ``query``'s rows, ``size`` at a time, and the total."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items, number, size, total)


def like_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern matching ``text`` literally (escape character: \\)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
