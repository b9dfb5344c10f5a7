"""Where uploaded files' bytes are kept: one small interface, the database by default.

Keeping the bytes in the database means a backup of the database is a backup
of everything. Another store (an object store) implements :class:`FileStore`
and is returned by :func:`file_store`; the rest of Engage keeps only the key.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from proposals.models import StoredFile


class FileStore(Protocol):
    """Keeps bytes under a key it chooses; never changes or deletes what it keeps."""

    def put(self, content: bytes) -> str:
        """Keep ``content``; return the key to read it back with."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes kept under ``key`` (KeyError when there are none)."""
        ...


class DatabaseStore:
    """The bytes in the ``stored_file`` table, in the same transaction as the records."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def put(self, content: bytes) -> str:
        key = secrets.token_hex(16)
        self.session.add(StoredFile(key=key, content=content))
        self.session.flush()
        return key

    def get(self, key: str) -> bytes:
        content = self.session.scalar(select(StoredFile.content).where(StoredFile.key == key))
        if content is None:
            raise KeyError(key)
        return content


def file_store(session: Session) -> FileStore:
    """The store of this installation."""
    return DatabaseStore(session)
