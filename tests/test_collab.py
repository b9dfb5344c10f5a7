"""Writing together live: real app servers, real WebSockets, pycrdt peers, a real database.

On SQLite one app process serves everyone; on PostgreSQL two processes share
the database and the peers are split between them (updates travel by
LISTEN/NOTIFY with the row id).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
import websockets
from pycrdt import create_update_message
from sqlalchemy import func, select

from proposals.db import make_engine
from proposals.domain import livedoc
from proposals.models import LiveUpdate, Revision, Section
from tests.live_peers import Peer, cookie_header, socket_url
from tests.support import Server, fresh_database, is_postgres
from tests.test_live import _join, _post, app_processes

STORM_CLIENTS = 20
STORM_EDITS = 25


def _run(coroutine):  # type: ignore[no-untyped-def]
    """``asyncio.run`` in a thread of its own: Playwright's sync API (the browser tests that
    run before these in one session) keeps an event loop running in the main thread."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome.get("value")


@pytest.fixture
def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    with fresh_database(tmp_path, "collab") as url:
        yield url, 2 if is_postgres(url) else 1


class World:
    """Anna (coordinator), Ola (partner, writer of the section once assigned), Eve (stranger)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.anna, anna_org = _join(base, "Anna Kowalska", "anna@x.pl", "Fala", "PL")
        self.ola, ola_org = _join(base, "Ola Nordmann", "ola@x.no", "Fri", "NO")
        self.eve, _ = _join(base, "Eve", "eve@x.lt", "Other", "LT")
        response = _post(
            self.anna,
            "/proposals/new",
            {"call": "eea-csf-poland", "title": "Live", "organisation": anna_org},
        )
        self.pid = str(response.url).rsplit("/", 1)[1]
        self.key = "streszczenie"
        self.path = f"/proposals/{self.pid}/sections/{self.key}"
        _post(self.anna, f"/proposals/{self.pid}/partners", {"organisation": ola_org})
        page = self.ola.get("/invitations").text
        partner = re.search(r"/partners/([\w-]+)/accept", page).group(1)
        _post(self.ola, f"/proposals/{self.pid}/partners/{partner}/accept", {})
        sections_page = self.anna.get(f"/proposals/{self.pid}/sections").text
        self.ola_partner = re.search(r'<option value="([\w-]+)">Fri</option>', sections_page).group(
            1
        )

    def assign_to_ola(self) -> None:
        _post(self.anna, self.path + "/assign", {"partner": self.ola_partner})

    def save(self, client: httpx.Client, text: str) -> httpx.Response:
        page = client.get(self.path).text
        base = re.search(r'name="base" value="(\d+)"', page).group(1)
        return _post(client, self.path + "/save", {"base": base, "text": text})

    def socket(self, server: Server) -> str:
        return socket_url(server.url, self.pid, self.key)


def _section(url: str) -> tuple[str, int, int, list[str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            section = conn.execute(select(Section).where(Section.key == "streszczenie")).one()
            updates = conn.scalar(
                select(func.count())
                .select_from(LiveUpdate)
                .where(LiveUpdate.section_id == section.id)
            )
            kinds = list(
                conn.scalars(
                    select(Revision.kind)
                    .where(Revision.section_id == section.id)
                    .order_by(Revision.number)
                )
            )
            return section.text, section.current_number, updates or 0, kinds
    finally:
        engine.dispose()


async def _converged(peers: list[Peer], words: list[str], timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        texts = {p.markdown() for p in peers}
        if len(texts) == 1:
            text = texts.pop()
            if all(w in text for w in words):
                return text
        if time.monotonic() > deadline:
            missing = [w for w in words if w not in peers[0].markdown()]
            raise AssertionError(f"no convergence: {len(texts)} texts, missing {missing[:10]}")
        await asyncio.sleep(0.1)


async def _storm(
    urls: list[str], cookie: str, clients: int, edits: int
) -> tuple[list[Peer], list[str]]:
    peers = [await Peer(urls[n % len(urls)], cookie).open() for n in range(clients)]
    for peer in peers:
        await asyncio.wait_for(peer.synced.wait(), 20)
    words: list[str] = []

    async def write(n: int, peer: Peer) -> None:
        rng = random.Random(n)
        for e in range(edits):
            word = f"w{n}x{e}q"
            words.append(word)
            await peer.type(word, rng)
            await asyncio.sleep(rng.uniform(0, 0.02))

    await asyncio.gather(*(write(n, p) for n, p in enumerate(peers)))
    return peers, words


def test_a_storm_of_writers_converges_and_the_revision_follows(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, processes = database
    with app_processes(tmp_path, url, processes) as servers:
        world = World(servers[0].url)
        world.save(world.anna, "Start **here**.")
        urls = [world.socket(s) for s in servers]

        async def run() -> str:
            peers, words = await _storm(urls, cookie_header(world.anna), STORM_CLIENTS, STORM_EDITS)
            text = await _converged(peers, words)
            for peer in peers:
                await peer.close()
            return text

        text = _run(run())
        assert text.startswith("Start") and "**here**" in text
        # The revision is recorded after the pause (and when the last writer left).
        deadline = time.monotonic() + 10
        while _section(url)[0] != text and time.monotonic() < deadline:
            time.sleep(0.2)
        stored, _number, updates, kinds = _section(url)
        assert stored == text
        assert updates >= 1  # compaction may have merged them
        assert "conflict" not in kinds
        # A new peer loads exactly that document from the table.

        async def reload() -> str:
            peer = await Peer(urls[-1], cookie_header(world.anna)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            await asyncio.sleep(0.3)
            markdown = peer.markdown()
            await peer.close()
            return markdown

        assert _run(reload()) == text


def test_a_plain_save_and_a_restore_reach_the_live_document(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, processes = database
    with app_processes(tmp_path, url, processes) as servers:
        world = World(servers[0].url)
        world.save(world.anna, "First paragraph.\n\nSecond paragraph.")

        async def run() -> None:
            peer = await Peer(world.socket(servers[-1]), cookie_header(world.anna)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            assert peer.markdown() == "First paragraph.\n\nSecond paragraph."
            await peer.type("live")
            await asyncio.sleep(0.5)
            # Without JavaScript: the text box and Save, through the other process.
            response = await asyncio.to_thread(
                world.save, world.anna, peer.markdown() + "\n\n- a *list* item"
            )
            assert response.status_code == 200
            deadline = time.monotonic() + 10
            while "- a *list* item" not in peer.markdown():
                assert time.monotonic() < deadline, peer.markdown()
                await asyncio.sleep(0.1)
            assert "live" in peer.markdown()
            # Typed live, then at once an export's checks read the text: it is recorded.
            await peer.type("justbeforechecks")
            await asyncio.sleep(0.3)
            page = await asyncio.to_thread(world.anna.get, f"/proposals/{world.pid}/final")
            assert page.status_code == 200
            assert "justbeforechecks" in _section(url)[0]
            await peer.close()

        _run(run())
        text, number, _updates, kinds = _section(url)
        assert "- a *list* item" in text and "live" in text
        assert "conflict" not in kinds
        # Restore revision 1 (the first text): everyone's document says it again.
        page = world.anna.get(world.path + "/history").text
        assert "restore" in page

        async def restored() -> str:
            peer = await Peer(world.socket(servers[0]), cookie_header(world.anna)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            await asyncio.to_thread(_post, world.anna, world.path + "/restore", {"number": "1"})
            deadline = time.monotonic() + 10
            while peer.markdown() != "First paragraph.\n\nSecond paragraph.":
                assert time.monotonic() < deadline, peer.markdown()
                await asyncio.sleep(0.1)
            await peer.close()
            return peer.markdown()

        assert _run(restored()) == "First paragraph.\n\nSecond paragraph."
        assert number >= 2


def _refused(socket: str, cookie: str, origin: str | None = None) -> bool:
    async def run() -> bool:
        try:
            peer = await Peer(socket, cookie, origin).open()
        except websockets.InvalidStatus:
            return True
        code = await peer.wait_closed(5)
        return code is not None and code >= 4000

    return _run(run())


def test_bad_input_is_refused_and_nothing_is_stored(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, _processes = database
    server = Server(tmp_path, database_url=url)
    try:
        world = World(server.url)
        world.save(world.anna, "Kept text.")
        socket = world.socket(server)
        # No session, a stranger, another site's page, a section that does not exist.
        assert _refused(socket, "")
        assert _refused(socket, cookie_header(world.eve))
        assert _refused(socket, cookie_header(world.anna), origin="https://evil.example")
        assert _refused(socket.replace("/streszczenie/", "/nope/"), cookie_header(world.anna))
        assert _refused(socket.replace(world.pid, "x" * 20), cookie_header(world.anna))

        async def run() -> None:
            good = await Peer(socket, cookie_header(world.anna)).open()
            await asyncio.wait_for(good.synced.wait(), 10)
            rows = _section(url)[2]
            # Ola may read the section (not assigned to her partner) but not write it.
            reader = await Peer(socket, cookie_header(world.ola)).open()
            await asyncio.wait_for(reader.synced.wait(), 10)
            assert reader.markdown() == "Kept text."
            await reader.type("sneaky")
            assert await reader.wait_closed() == 4405
            # Malformed: not a Yjs update; garbage framing; text frames; 5 MB.
            for bad in (
                b"\x00\x02\x05garbage",
                b"\x00\x02\xff\xff\xff\xff\xff",
                b"\x07nonsense",
                b"\x00\x02" + b"\x80" * 3 + b"x" * 1000,
            ):
                peer = await Peer(socket, cookie_header(world.anna)).open()
                await peer.send_raw(bad)
                assert await peer.wait_closed() == 4400, bad[:10]
            texty = await Peer(socket, cookie_header(world.anna)).open()
            assert texty.ws is not None
            await texty.ws.send("hello")
            assert await texty.wait_closed() == 4400
            huge = await Peer(socket, cookie_header(world.anna)).open()
            await huge.send_raw(b"\x00\x02" + b"\x80\x80\xc0\x02" + b"\x01" * (5 * 1024 * 1024))
            assert await huge.wait_closed() in (1009, 4400)
            assert _section(url)[2] == rows  # nothing stored
            # The good peer was served all along.
            await good.type("still")
            await asyncio.sleep(0.5)
            await good.close()

        _run(run())
        assert _section(url)[2] >= 1
        # After signing out, the same cookie opens nothing, and an open socket is cut off.

        async def sign_out() -> None:
            peer = await Peer(socket, cookie_header(world.ola)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            await asyncio.to_thread(_post, world.ola, "/signout", {})
            # Cut off at once (signing out tells the live editors), not at the next check.
            assert await peer.wait_closed(2) == 4403

        # A writer whose section is given to another partner can no longer write.
        world.assign_to_ola()

        async def reassigned() -> None:
            peer = await Peer(socket, cookie_header(world.ola)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            await peer.type("allowed")
            await asyncio.sleep(0.5)
            rows = _section(url)[2]
            await asyncio.to_thread(_post, world.anna, world.path + "/assign", {"partner": ""})
            await asyncio.sleep(1)  # well within the periodic check (5 s): the change told it
            await peer.type("notanymore")
            assert await peer.wait_closed() == 4405
            assert _section(url)[2] == rows

        _run(reassigned())
        cookie = cookie_header(world.ola)
        _run(sign_out())
        assert _refused(socket, cookie)
        # A writer who loses the section (reassigned away) can no longer write.
        log = server.log_text()
        assert not re.search(r'HTTP/1\.1" 5\d\d', log) and "Traceback" not in log, log[-3000:]
    finally:
        server.stop()


def test_updates_stored_before_a_sigkill_survive_it(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    """Kill a server mid-storm; restarted, it has every update anyone had received."""
    url, processes = database
    workdir = tmp_path / "server"
    server = Server(workdir, database_url=url)
    # On PostgreSQL a second process keeps serving while the first is killed.
    other = Server(tmp_path / "other", database_url=url) if processes == 2 else None
    world = World(server.url)
    world.save(world.anna, "Before.")
    seen: list[str] = []

    async def storm_then_kill() -> None:
        watcher = await Peer(world.socket(other or server), cookie_header(world.anna)).open()
        await asyncio.wait_for(watcher.synced.wait(), 10)
        writers = [
            await Peer(world.socket(server), cookie_header(world.anna)).open() for _ in range(5)
        ]
        for peer in writers:
            await asyncio.wait_for(peer.synced.wait(), 10)

        async def write(n: int, peer: Peer) -> None:
            for e in range(200):
                try:
                    await peer.type(f"k{n}x{e}q")
                except websockets.ConnectionClosed:
                    return
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(write(n, p)) for n, p in enumerate(writers)]
        await asyncio.sleep(1.5)
        # What the watcher has received was stored first: remember it, then kill.
        seen.extend(re.findall(r"k\d+x\d+q", watcher.markdown()))
        server.kill()
        await asyncio.gather(*tasks, return_exceptions=True)

    _run(storm_then_kill())
    assert len(seen) > 20
    restarted = Server(workdir, database_url=server.database_url, port=server.port)
    if other is not None:
        other.stop()
    try:

        async def reload() -> str:
            peer = await Peer(world.socket(restarted), cookie_header(world.anna)).open()
            await asyncio.wait_for(peer.synced.wait(), 10)
            await asyncio.sleep(0.3)
            text = peer.markdown()
            await peer.close()
            return text

        text = _run(reload())
        missing = [w for w in seen if w not in text]
        assert not missing, missing[:10]
        assert livedoc.to_markdown(livedoc.new_document(text)) == text
    finally:
        restarted.stop()


def test_an_editor_that_stops_reading_holds_up_nobody(tmp_path: Path) -> None:
    """A connection that stops reading (a frozen tab, a dead network) fills its buffers; the
    others in the room keep receiving, and the stalled one is closed to resync later."""
    server = Server(tmp_path, database_url=f"sqlite:///{tmp_path}/stall.db")
    try:
        world = World(server.url)
        world.save(world.anna, "Start.")
        socket, cookie = world.socket(server), cookie_header(world.anna)

        async def run() -> int | None:
            # Reads nothing after the handshake: its buffers fill, then the server's.
            stalled = await websockets.connect(
                socket, additional_headers={"Cookie": cookie}, max_size=None, max_queue=1
            )
            observer = await Peer(socket, cookie).open()
            writer = await Peer(socket, cookie, listen=False).open()
            for peer in (observer, writer):
                await asyncio.wait_for(peer.synced.wait(), 10)
            chunk = "x" * 200_000  # about 25 MB in all: more than the stalled socket buffers
            for n in range(125):
                before = writer.doc.get_state()
                with writer.doc.transaction():
                    text = writer.paragraph_text()
                    del text[0 : len(text)]
                    text.insert(0, f"big{n}q {chunk}")
                await writer.send_raw(create_update_message(writer.doc.get_update(before)))
                await asyncio.sleep(0.02)
            deadline = time.monotonic() + 20
            while not observer.markdown().startswith("big124q"):
                assert time.monotonic() < deadline, observer.markdown()[:40]
                await asyncio.sleep(0.1)
            await observer.close()
            await writer.close()

            # Reading again, the stalled one finds it was told to come back later (Engage
            # kept no unbounded queue for it; the editor reconnects and syncs).
            async def drain() -> None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for _message in stalled:
                        pass

            await asyncio.wait_for(drain(), 30)
            return stalled.close_code

        assert _run(run()) == 1013
    finally:
        server.stop()
