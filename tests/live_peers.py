"""Yjs peers in Python (pycrdt over real WebSockets) for the live-editing tests and bench.

A :class:`Peer` speaks the same sync protocol as the browser's editor: it
opens the section's socket with a browser's session cookie, syncs, types into
the first paragraph and applies what the server passes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import Callable

import httpx2 as httpx
import websockets
from pycrdt import (
    Doc,
    XmlElement,
    XmlFragment,
    XmlText,
    YMessageType,
    YSyncMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)
from websockets.asyncio.client import ClientConnection

from proposals.domain.livedoc import ROOT, to_markdown

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def socket_url(base: str, pid: str, key: str) -> str:
    return base.replace("http://", "ws://") + f"/proposals/{pid}/sections/{key}/live"


class Peer:
    """One open editor: a pycrdt document synced with the server over a WebSocket."""

    def __init__(
        self, url: str, cookie: str, origin: str | None = None, *, listen: bool = True
    ) -> None:
        self.url = url
        self.listen = listen  # False: a pure sender (the bench), others' updates are dropped
        self.cookie = cookie
        self.origin = origin
        self.doc = Doc()
        self.ws: ClientConnection | None = None
        self.synced = asyncio.Event()
        self.received = 0
        self.closed_code: int | None = None
        self.on_update: Callable[[bytes], None] | None = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> Peer:
        headers = {"Cookie": self.cookie}
        if self.origin:
            headers["Origin"] = self.origin
        self.ws = await websockets.connect(
            self.url, additional_headers=headers, max_size=None, open_timeout=20
        )
        self._reader = asyncio.create_task(self._read())
        await self.ws.send(create_sync_message(self.doc))
        return self

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                assert isinstance(message, bytes)
                if message[0] != YMessageType.SYNC:
                    continue
                if not self.listen and message[1] == YSyncMessageType.SYNC_UPDATE:
                    continue
                reply = handle_sync_message(message[1:], self.doc)
                if reply is not None:
                    await self.ws.send(reply)
                if message[1] == YSyncMessageType.SYNC_STEP2:
                    self.synced.set()
                elif message[1] == YSyncMessageType.SYNC_UPDATE:
                    self.received += 1
                    if self.on_update is not None:
                        self.on_update(message)
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.ws.close_code is not None:
                self.closed_code = self.ws.close_code

    async def wait_closed(self, timeout: float = 10) -> int | None:
        assert self._reader is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.ws.close_code if self.ws else None

    async def send_raw(self, data: bytes) -> None:
        assert self.ws is not None
        await self.ws.send(data)

    def paragraph_text(self) -> XmlText:
        fragment = self.doc.get(ROOT, type=XmlFragment)
        if len(fragment.children) == 0:
            paragraph = fragment.children.append(XmlElement("paragraph"))
            return paragraph.children.append(XmlText())
        first = fragment.children[0]
        assert isinstance(first, XmlElement)
        for child in first.children:
            if isinstance(child, XmlText):
                return child
        return first.children.append(XmlText())

    async def type(self, words: str, rng: random.Random | None = None) -> float:
        """Insert ``words`` at a random place between words of the first paragraph."""
        assert self.ws is not None
        before = self.doc.get_state()
        with self.doc.transaction():
            text = self.paragraph_text()
            current = str(text)
            spaces = [i for i, ch in enumerate(current) if ch == " "] or [len(current)]
            position = (rng or random).choice(spaces)
            text.insert(position, " " + words)
        update = self.doc.get_update(before)
        sent = time.perf_counter()
        await self.ws.send(create_update_message(update))
        return sent

    def markdown(self) -> str:
        return to_markdown(self.doc)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
