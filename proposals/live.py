"""Live events while writing: who is viewing or editing a section, and newer versions.

Events fan out through a broker: in-process queues on SQLite (one app
process), PostgreSQL LISTEN/NOTIFY on PostgreSQL, so that every app process
behind a load balancer sees every other's events. Events are published only
after the change they announce has been committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = logging.getLogger("engage.live")

CHANNEL = "engage_live"
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
#: Someone's access may have changed (a member removed, a section reassigned, a sign-out).
ACCESS_TOPIC = "access"
HEARTBEAT_SECONDS = 10.0
PRESENCE_TTL = 25.0
EDITING_TTL = 60.0


@dataclass
class Viewer:
    name: str
    seen: float
    edited: float = 0.0


@dataclass
class Broker:
    """Deliver events to this process's subscribers of a topic; publish from any thread."""

    engine: Engine
    _subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = field(default_factory=dict)
    _presence: dict[str, dict[int, Viewer]] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _listener: asyncio.Task[None] | None = None

    @property
    def shared(self) -> bool:
        """True when events travel through PostgreSQL to every app process."""
        return self.engine.dialect.name == "postgresql"

    # --- publishing --------------------------------------------------------------

    def publish(self, topic: str, event: dict[str, Any]) -> None:
        message = {"topic": topic, **event}
        if self.shared:
            with self.engine.connect() as connection:
                connection.execute(_NOTIFY, {"channel": CHANNEL, "payload": json.dumps(message)})
                connection.commit()
            return
        self._send_here(message)

    def publish_on_commit(self, session: Session, topic: str, event: dict[str, Any]) -> None:
        """Publish when ``session``'s transaction commits, and never if it rolls back.

        On PostgreSQL the notification is part of that transaction (PostgreSQL sends it
        at commit): no connection or round trip of its own.
        """
        message = {"topic": topic, **event}
        if self.shared:
            session.execute(_NOTIFY, {"channel": CHANNEL, "payload": json.dumps(message)})
        else:
            sa_event.listen(session, "after_commit", lambda _s: self._send_here(message), once=True)

    def _send_here(self, message: dict[str, Any]) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(self._dispatch, message)

    async def publish_async(self, topic: str, event: dict[str, Any]) -> None:
        if self.shared:
            await asyncio.to_thread(self.publish, topic, event)
        else:
            self._dispatch({"topic": topic, **event})

    # --- receiving ------------------------------------------------------------------

    def _dispatch(self, message: dict[str, Any]) -> None:
        """Update presence, then hand the event to this process's subscribers (event loop)."""
        topic = message.get("topic", "")
        kind = message.get("type")
        viewers = self._presence.setdefault(topic, {})
        user_id = message.get("user_id")
        now = time.monotonic()
        if kind in ("here", "saved") and isinstance(user_id, int):
            viewer = viewers.setdefault(user_id, Viewer(str(message.get("name", "")), now))
            viewer.seen = now
            if kind == "saved":
                viewer.edited = now
        elif kind == "left" and isinstance(user_id, int):
            viewers.pop(user_id, None)
        for queue in list(self._subscribers.get(topic, ())):
            queue.put_nowait(message)

    def presence(self, topic: str, exclude: int) -> list[dict[str, Any]]:
        now = time.monotonic()
        viewers = self._presence.get(topic, {})
        for user_id in [u for u, v in viewers.items() if now - v.seen > PRESENCE_TTL]:
            viewers.pop(user_id)
        return [
            {"name": v.name, "editing": now - v.edited < EDITING_TTL}
            for u, v in sorted(viewers.items(), key=lambda item: item[1].name)
            if u != exclude
        ]

    @contextlib.asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        self._loop = asyncio.get_running_loop()
        if self.shared and (self._listener is None or self._listener.done()):
            self._listener = asyncio.create_task(self._listen())
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            yield queue
        finally:
            self._subscribers.get(topic, set()).discard(queue)

    async def _listen(self) -> None:
        """Receive every process's events from PostgreSQL; reconnect after a failure."""
        import psycopg

        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    async for notify in conn.notifies():
                        with contextlib.suppress(ValueError):
                            self._dispatch(json.loads(notify.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted or the network broke
                log.warning("live events: listener failed (%s); reconnecting", exc)
                await asyncio.sleep(2)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
