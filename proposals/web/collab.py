"""Writing together live: a WebSocket per open editor, speaking the Yjs sync protocol.

Each section being written has a room in this process: its shared document
(pycrdt), the sockets of the people in it, and a subscription to the other
app processes' updates. An update from a writer is checked (well-formed, not
too large, the writer still allowed), appended to ``live_update`` and
committed, then applied and passed on; readers' updates are refused. Several
updates arriving together are stored in one transaction. On PostgreSQL the
commit notifies the other processes with the row's id (LISTEN/NOTIFY), and
they read the bytes from the table, so updates of any size travel.

Access is checked when the socket opens and again every few seconds and
before an update after a pause: a person removed from the consortium, or
signed out, is cut off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from pycrdt import (
    Doc,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    merge_updates,
    read_message,
)
from pycrdt._sync import create_sync_step2_message
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from proposals import live
from proposals.domain import livedoc, sessions
from proposals.models import Section
from proposals.policy import section_rights

log = logging.getLogger("engage.collab")

MAX_MESSAGE = livedoc.MAX_UPDATE + 64  # bytes of one WebSocket message
RECHECK_SECONDS = 5.0  # access is checked again at least this often
PAUSE_SECONDS = 2.0  # a revision is recorded after writers pause this long
BATCH = 200  # updates stored in one transaction at most

# Close codes (4000-4999 are the application's): the browser shows why.
NO_SESSION = 4401
NO_ACCESS = 4403
READ_ONLY = 4405
MALFORMED = 4400
TOO_LARGE = 1009
BEHIND = 1013  # "try again later": the editor reconnects and syncs what it missed
SEND_BACKLOG = 8 * 1024 * 1024  # bytes waiting for one client before it is closed
#: Sent after each update is committed (a message type Yjs providers ignore): "Saved".
STORED = bytes([100])


@dataclass(eq=False)
class Client:
    """One open editor. What it is sent waits in its own queue, written by its own task,
    so that a slow or stalled connection never holds up the others in the room."""

    socket: WebSocket
    user_id: int
    name: str
    token: str
    may_write: bool
    checked: float = field(default_factory=time.monotonic)
    awareness: bytes | None = None
    outbox: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    backlog: int = 0  # bytes queued and not yet written
    behind: bool = False  # too far behind: closed, nothing more is queued
    sender: asyncio.Task[None] | None = None

    def send(self, message: bytes) -> None:
        """Queue ``message``; a client too far behind is closed (it reconnects and syncs)."""
        if self.sender is None:
            self.sender = asyncio.create_task(self._send_queued())
        if self.behind:
            return  # being closed: it syncs what it missed when it reconnects
        if self.backlog + len(message) > SEND_BACKLOG:
            log.info("live editor of user %s too far behind: closed to resync", self.user_id)
            self.behind = True
            self.sender.cancel()
            # The close goes out once the connection takes data again (or the
            # server's keepalive ping finds it dead and drops it).
            self.sender = asyncio.create_task(_close(self.socket, BEHIND))
            return
        self.backlog += len(message)
        self.outbox.put_nowait(message)

    async def _send_queued(self) -> None:
        with contextlib.suppress(Exception):  # a socket closing: its own loop ends it
            while True:
                message = await self.outbox.get()
                await self.socket.send_bytes(message)
                self.backlog -= len(message)

    def stop(self) -> None:
        if self.sender is not None:
            self.sender.cancel()


@dataclass(eq=False)
class Room:
    section_id: int
    public_id: str
    proposal_pid: str
    key: str
    doc: Doc
    rows: int
    clients: set[Client] = field(default_factory=set)
    changed: float = 0.0  # monotonic time of the last stored update not yet settled
    last_writer: int | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    outbox: list[bytes] = field(default_factory=list)  # updates waiting to be passed on


class Hub:
    """This process's rooms and the writer that stores their updates in batches."""

    def __init__(self, factory: sessionmaker[Session], broker: live.Broker) -> None:
        self.factory = factory
        self.broker = broker
        self.origin = uuid.uuid4().hex
        self.rooms: dict[int, Room] = {}
        self._loading: dict[int, asyncio.Lock] = {}
        self._queue: asyncio.Queue[tuple[Room, int | None, bytes, asyncio.Future[int]]] | None = (
            None
        )
        self._writer: asyncio.Task[None] | None = None
        self._access: asyncio.Task[None] | None = None

    # --- storing -------------------------------------------------------------------

    async def store(self, room: Room, user_id: int | None, data: bytes) -> int:
        """Append an update; returns its row id once committed."""
        if self._queue is None or self._writer is None or self._writer.done():
            self._queue = asyncio.Queue()
            self._writer = asyncio.create_task(self._write_batches(self._queue))
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((room, user_id, data, future))
        return await future

    async def _write_batches(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH and not queue.empty():
                batch.append(queue.get_nowait())
            rows = [(r.section_id, r.public_id, u, d) for r, u, d, _f in batch]
            try:
                ids = await asyncio.to_thread(livedoc.append, self.factory, rows, self.origin)
            except Exception as exc:
                log.exception("live updates could not be stored")
                for *_rest, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (*_rest, future), row_id in zip(batch, ids, strict=True):
                if not future.done():
                    future.set_result(row_id)

    # --- rooms -----------------------------------------------------------------------

    async def _follow_access(self) -> None:
        """When someone's access changed anywhere, everyone here is checked again now."""
        async with self.broker.subscribe(live.ACCESS_TOPIC) as queue:
            while True:
                await queue.get()
                for room in list(self.rooms.values()):
                    for client in room.clients:
                        client.checked = 0.0  # the room's watch checks them within 0.5 s

    async def join(self, section: Section, pid: str, client: Client) -> Room:
        if self._access is None or self._access.done():
            self._access = asyncio.create_task(self._follow_access())
        lock = self._loading.setdefault(section.id, asyncio.Lock())
        async with lock:
            room = self.rooms.get(section.id)
            if room is None:
                doc, rows = await asyncio.to_thread(livedoc.load, self.factory, section.id)
                room = Room(section.id, section.public_id, pid, section.key, doc, rows)
                self.rooms[section.id] = room
                room.tasks = [
                    asyncio.create_task(self._follow(room)),
                    asyncio.create_task(self._watch(room)),
                ]
            room.clients.add(client)
            return room

    async def leave(self, room: Room, client: Client) -> None:
        client.stop()
        room.clients.discard(client)
        if client.awareness is not None:
            # Others drop this caret at once (Yjs would after 30 s).
            self._send_all(room, _awareness_gone(client.awareness), exclude=client)
        if any(c.may_write for c in room.clients) and room.clients:
            return
        if not room.clients:
            self.rooms.pop(room.section_id, None)
            for task in room.tasks:
                task.cancel()
            lock = self._loading.get(room.section_id)
            if lock is not None and not lock.locked():  # nobody is joining meanwhile
                del self._loading[room.section_id]
        if room.changed:
            room.changed = 0.0
            await asyncio.to_thread(livedoc.settle, self.factory, room.section_id, room.last_writer)

    async def _follow(self, room: Room) -> None:
        """Apply the updates other processes (or a plain-form save) stored for this room."""
        async with self.broker.subscribe(livedoc.topic(room.public_id)) as queue:
            while True:
                messages = [await queue.get()]
                while not queue.empty():  # all that arrived meanwhile, read in one query
                    messages.append(queue.get_nowait())
                ids = [
                    m["id"]
                    for m in messages
                    if m.get("type") == "doc"
                    and m.get("origin") != self.origin
                    and isinstance(m.get("id"), int)
                ]
                if not ids:
                    continue
                state = room.doc.get_state()
                for data in await asyncio.to_thread(self._read, ids, room.section_id, state):
                    room.doc.apply_update(data)
                    self._pass_on(room, data)

    def _read(self, update_ids: list[int], section_id: int, state: bytes) -> list[bytes]:
        with self.factory() as session:
            found = livedoc.read_updates(session, update_ids)
            if len(found) < len(update_ids):
                # Compacted meanwhile: the stored document holds them; pass on only
                # what this room lacks (``state`` is what it had), not the whole text.
                doc = livedoc.document(session, section_id)
                return [doc.get_update(state)] if doc else []
            return found

    async def _watch(self, room: Room) -> None:
        """Record a revision after a pause; check everyone's access again now and then."""
        while True:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            if room.changed and now - room.changed >= PAUSE_SECONDS:
                room.changed = 0.0
                await asyncio.to_thread(
                    livedoc.settle, self.factory, room.section_id, room.last_writer
                )
            if room.rows > livedoc.COMPACT_AFTER:
                room.rows = 1
                await asyncio.to_thread(livedoc.compact, self.factory, room.section_id)
            due = [c for c in room.clients if now - c.checked >= RECHECK_SECONDS]
            if due:
                await self.recheck(room, due)

    async def recheck(self, room: Room, clients: list[Client]) -> bool:
        """Are the clients still allowed (signed in, a member, writing if a writer)?

        Those who are not are cut off; one answer per session however many sockets
        it has open. True when all of them still may.
        """
        tokens = {c.token for c in clients}
        answers = await asyncio.to_thread(
            _access_of, self.factory, tokens, room.proposal_pid, room.key
        )
        now = time.monotonic()
        for client in clients:
            client.checked = now
            access = answers[client.token]
            if access is None:
                await _close(client.socket, NO_ACCESS)
            else:
                client.may_write = access[2]
        return all(answers.values())

    def _send_all(self, room: Room, message: bytes, exclude: Client | None = None) -> None:
        for other in room.clients:
            if other is not exclude:
                other.send(message)

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            for task in room.tasks:
                task.cancel()
        for task in (self._writer, self._access):
            if task is not None:
                task.cancel()

    # --- one socket ------------------------------------------------------------------

    async def serve(self, socket: WebSocket, room: Room, client: Client) -> None:
        client.send(create_sync_message(room.doc))  # step 1: what we have
        for other in list(room.clients):
            if other is not client and other.awareness is not None:
                client.send(other.awareness)
        while True:
            message = await socket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                await _close(socket, MALFORMED)
                return
            if len(data) > MAX_MESSAGE:
                await _close(socket, TOO_LARGE)
                return
            try:
                keep_going = await self._handle(room, client, data)
            except (ValueError, IndexError, RuntimeError, AssertionError, livedoc.UpdateRefused):
                await _close(socket, MALFORMED)
                return
            if not keep_going:
                return

    async def _handle(self, room: Room, client: Client, data: bytes) -> bool:
        if not data:
            raise ValueError("empty message")
        if data[0] == YMessageType.AWARENESS:
            read_message(data[1:])  # well-formed, or refused
            client.awareness = data
            self._send_all(room, data, exclude=client)
            return True
        if data[0] != YMessageType.SYNC or len(data) < 2:
            raise ValueError("unknown message")
        kind, payload = data[1], read_message(data[2:])
        if kind == YSyncMessageType.SYNC_STEP1:
            client.send(create_sync_step2_message(room.doc.get_update(payload)))
            return True
        if kind not in (YSyncMessageType.SYNC_STEP2, YSyncMessageType.SYNC_UPDATE):
            raise ValueError("unknown sync message")
        if payload == livedoc.EMPTY_UPDATE:
            return True
        # The room's watch checks everyone every few seconds; if it fell behind, now.
        if time.monotonic() - client.checked >= 2 * RECHECK_SECONDS and not await self.recheck(
            room, [client]
        ):
            return False
        if not client.may_write:
            await _close(client.socket, READ_ONLY)
            return False
        livedoc.check_update(payload)
        await self.store(room, client.user_id, payload)
        client.send(STORED)  # the editor can say "Saved"
        room.rows += 1
        room.doc.apply_update(payload)
        room.changed = time.monotonic()
        room.last_writer = client.user_id
        self._pass_on(room, payload)
        return True

    def _pass_on(self, room: Room, update: bytes) -> None:
        """Queue an update for everyone in the room; what arrives meanwhile goes along.

        Under load several updates become one message per socket (merged: Yjs ignores
        what a client already has, so its author may receive its own update back).
        """
        room.outbox.append(update)
        if len(room.outbox) == 1:  # the first since the last flush: one flush, soon
            room.tasks.append(asyncio.create_task(self._flush(room)))

    async def _flush(self, room: Room) -> None:
        updates, room.outbox = room.outbox, []
        merged = updates[0] if len(updates) == 1 else merge_updates(*updates)
        self._send_all(room, create_update_message(merged))
        room.tasks[:] = [t for t in room.tasks if not t.done()]


def _awareness_gone(message: bytes) -> bytes:
    """An awareness message saying the client of ``message`` left (state null)."""
    from pycrdt import Decoder, Encoder

    decoder = Decoder(read_message(message[1:]))
    count = decoder.read_var_uint()
    encoder = Encoder()
    encoder.write_var_uint(count)
    for _ in range(count):
        client_id = decoder.read_var_uint()
        clock = decoder.read_var_uint()
        decoder.read_var_string()
        encoder.write_var_uint(client_id)
        encoder.write_var_uint(clock + 1)
        encoder.write_var_string("null")
    from pycrdt import create_awareness_message

    return create_awareness_message(encoder.to_bytes())


def _access(
    factory: sessionmaker[Session], token: str, pid: str, key: str
) -> tuple[Section, str, bool, int, str] | None:
    """(section, its proposal's public id, may write, user id, name), or None if not allowed.

    Two queries (the session's user; the section with the user's roles), as a save's.
    """
    with factory() as session:
        user = sessions.signed_in_user(session, token, memberships=False)
        found = section_rights(session, user, pid, key, ("view_proposal", "edit_text"))
        if user is None or found is None or not found[1]["view_proposal"]:
            return None
        section, allowed = found
        session.expunge_all()
        return section, pid, allowed["edit_text"], user.id, user.name


def _access_of(
    factory: sessionmaker[Session], tokens: set[str], pid: str, key: str
) -> dict[str, tuple[Section, str, bool, int, str] | None]:
    """:func:`_access` for each session token."""
    return {token: _access(factory, token, pid, key) for token in tokens}


async def _close(socket: WebSocket, code: int) -> None:
    if socket.application_state != WebSocketState.DISCONNECTED:
        with contextlib.suppress(Exception):
            await socket.close(code=code)


def _same_origin(socket: WebSocket) -> bool:
    """Browsers send Origin on WebSockets: another site's page may not open ours."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser (no cookie of ours would be sent cross-site anyway)
    host = socket.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


async def endpoint(socket: WebSocket) -> None:
    """The live document of ``{pid}``/``{key}`` for a signed-in reader or writer."""
    if not _same_origin(socket):
        await socket.close(code=NO_ACCESS)
        return
    token = socket.session.get("sid") if "session" in socket.scope else None
    if not isinstance(token, str):
        await socket.close(code=NO_SESSION)
        return
    hub: Hub = socket.app.state.hub
    pid, key = socket.path_params["pid"], socket.path_params["key"]
    access = await asyncio.to_thread(_access, hub.factory, token, pid, key)
    if access is None:
        await socket.close(code=NO_ACCESS)
        return
    section, _pid, may_write, user_id, name = access
    await socket.accept()
    client = Client(socket, user_id, name, token, may_write)
    room = await hub.join(section, pid, client)
    try:
        await hub.serve(socket, room, client)
    except WebSocketDisconnect:
        pass
    finally:
        await hub.leave(room, client)
