"""Live events over server-sent events, against real app processes.

On PostgreSQL two app processes share one database and must see each other's
events (LISTEN/NOTIFY); on SQLite one process uses its in-process broker.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support import Server, fresh_database, is_postgres

CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fresh database for the servers, and how many processes share it (2 on PostgreSQL)."""
    with fresh_database(tmp_path, "live") as url:
        yield url, 2 if is_postgres(url) else 1


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=10, follow_redirects=True)


def _post(client: httpx.Client, path: str, data: dict[str, object]) -> httpx.Response:
    token = CSRF.search(client.get("/").text).group(1)
    return client.post(path, data={"csrf_token": token, **data})


def _join(url: str, name: str, email: str, org: str, country: str) -> tuple[httpx.Client, str]:
    client = _client(url)
    client.get("/signup")
    _post(client, "/signup", {"name": name, "email": email, "password": "a long passphrase"})
    response = _post(client, "/organisations/new", {"name": org, "country": country, "city": "X"})
    return client, str(response.url).rsplit("/", 1)[1]


@contextmanager
def app_processes(tmp_path: Path, url: str, processes: int) -> Iterator[list[Server]]:
    """``processes`` real app servers on one database, stopped afterwards."""
    servers: list[Server] = []
    try:
        for n in range(processes):
            workdir = tmp_path / f"p{n}"
            workdir.mkdir()
            servers.append(Server(workdir, database_url=url))
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_save_reaches_editors_on_every_app_process(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, processes = database
    with app_processes(tmp_path, url, processes) as servers:
        a, b = servers[0], servers[-1]
        anna, anna_org = _join(a.url, "Anna Kowalska", "anna@x.pl", "Fala", "PL")
        ola, ola_org = _join(a.url, "Ola Nordmann", "ola@x.no", "Fri", "NO")
        response = _post(
            anna,
            "/proposals/new",
            {"call": "eea-csf-poland", "title": "Live", "organisation": anna_org},
        )
        pid = str(response.url).rsplit("/", 1)[1]
        section = f"/proposals/{pid}/sections/streszczenie"
        events: queue.Queue[str] = queue.Queue()

        def listen() -> None:
            listener = httpx.Client(
                base_url=a.url, timeout=httpx.Timeout(30, read=30), cookies=anna.cookies
            )
            try:
                with listener.stream("GET", section + "/events") as stream:
                    for line in stream.iter_lines():
                        events.put(line)
            except httpx.HTTPError:
                pass  # the server stopped at the end of the test

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert _first(events, "event: presence")
        # Ola joins the consortium and saves through the other process.
        _post(anna, f"/proposals/{pid}/partners", {"organisation": ola_org, "role": "partner"})
        ola_b = _client(b.url)
        ola_b.cookies = ola.cookies
        page = ola_b.get("/invitations").text
        partner = re.search(r"/partners/([\w-]+)/accept", page).group(1)
        _post(ola_b, f"/proposals/{pid}/partners/{partner}/accept", {})
        sections_page = anna.get(f"/proposals/{pid}/sections").text
        partner_id = re.search(r'<option value="([\w-]+)">Fri</option>', sections_page).group(1)
        _post(anna, section + "/assign", {"partner": partner_id})
        token = CSRF.search(ola_b.get(section).text).group(1)
        saved = ola_b.post(
            section + "/save",
            data={"csrf_token": token, "base": "0", "text": "Hei fra Kristiansand."},
            headers={"Accept": "application/json"},
        )
        assert saved.status_code == 200, saved.text
        assert _first(events, "event: saved")
        data = _first(events, "data: ")
        assert '"by": "Ola Nordmann"' in data and '"number": 1' in data


def _first(events: queue.Queue[str], prefix: str, timeout: float = 15) -> str:
    while True:
        line = events.get(timeout=timeout)
        if line.startswith(prefix):
            return line


def test_events_need_access(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, _processes = database
    server = Server(tmp_path, database_url=url)
    try:
        anna, anna_org = _join(server.url, "Anna", "anna@x.pl", "Fala", "PL")
        response = _post(
            anna,
            "/proposals/new",
            {"call": "eea-csf-poland", "title": "Live", "organisation": anna_org},
        )
        pid = str(response.url).rsplit("/", 1)[1]
        stranger, _ = _join(server.url, "Eve", "eve@x.lt", "Other", "LT")
        events = f"/proposals/{pid}/sections/streszczenie/events"
        assert stranger.get(events).status_code == 404
        assert _client(server.url).get(events).url.path == "/signin"
    finally:
        server.stop()


def test_the_bell_rings_on_every_app_process(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    url, processes = database
    with app_processes(tmp_path, url, processes) as servers:
        a, b = servers[0], servers[-1]
        anna, anna_org = _join(b.url, "Anna Kowalska", "anna@x.pl", "Fala", "PL")
        ola, ola_org = _join(a.url, "Ola Nordmann", "ola@x.no", "Fri", "NO")
        assert _client(a.url).get("/notifications/events").url.path == "/signin"
        events: queue.Queue[str] = queue.Queue()

        def listen() -> None:
            listener = httpx.Client(
                base_url=a.url, timeout=httpx.Timeout(30, read=30), cookies=ola.cookies
            )
            try:
                with listener.stream("GET", "/notifications/events") as stream:
                    for line in stream.iter_lines():
                        events.put(line)
            except httpx.HTTPError:
                pass  # the server stopped at the end of the test

        threading.Thread(target=listen, daemon=True).start()
        assert _first(events, "event: unread")
        assert _first(events, "data: ") == 'data: {"count": 0}'
        # Anna, on the other process, invites Ola's organisation: Ola's bell rings.
        response = _post(
            anna,
            "/proposals/new",
            {"call": "eea-csf-poland", "title": "Live", "organisation": anna_org},
        )
        pid = str(response.url).rsplit("/", 1)[1]
        _post(anna, f"/proposals/{pid}/partners", {"organisation": ola_org, "role": "partner"})
        assert _first(events, "event: unread")
        assert _first(events, "data: ") == 'data: {"count": 1}'
