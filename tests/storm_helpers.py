"""Helpers for the save storm tests and the benchmarks: real servers, real HTTP, real databases.

The servers and fresh databases come from ``tests/support.py``.
:func:`build_consortium` makes the users, organisations and proposal over
HTTP, as people do; :func:`storm` runs concurrent writers;
:func:`check_section` reads what the database kept.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from proposals.db import make_engine
from proposals.domain.sections import revision_texts
from proposals.models import Proposal, Section
from tests.support import Server

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "storm-password-1234"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
JSON = {"Accept": "application/json"}


def printed_link(server: Server, pattern: str, timeout: float = 10) -> str:
    """The last link matching ``pattern`` in the e-mails the server printed to its log.

    Without SMTP, development prints each e-mail after the response is sent: wait for it.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = re.findall(pattern, server.log_text())
        if found or time.monotonic() > deadline:
            assert found, server.log_text()[-3000:]
            return found[-1]
        time.sleep(0.1)


# --- browsers --------------------------------------------------------------------------


def csrf(client: httpx.Client, path: str = "/") -> str:
    match = CSRF_META.search(client.get(path).text)
    assert match, f"{path} has no CSRF token"
    return match.group(1)


def post(client: httpx.Client, path: str, data: dict | None = None) -> httpx.Response:  # type: ignore[type-arg]
    response = client.post(path, data={"csrf_token": csrf(client), **(data or {})})
    assert response.status_code < 400, (path, response.status_code, response.text[:1500])
    return response


def browser(url: str) -> httpx.Client:
    # Longer than the server's 30 s connection-pool timeout, so that its answer arrives.
    return httpx.Client(base_url=url, follow_redirects=True, timeout=45)


def sign_in(url: str, email: str) -> tuple[httpx.Client, str]:
    """A new client signed in as ``email``, and the CSRF token of its session."""
    client = browser(url)
    token = csrf(client, "/signin")
    response = client.post(
        "/signin", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 200 and "/signin" not in str(response.url), response.text[:500]
    return client, csrf(client)


def _sign_up(url: str, name: str, email: str) -> httpx.Client:
    client = browser(url)
    post(client, "/signup", {"name": name, "email": email, "password": PASSWORD})
    return client


def _organisation(client: httpx.Client, name: str, country: str, city: str) -> str:
    response = post(client, "/organisations/new", {"name": name, "country": country, "city": city})
    return str(response.url).rstrip("/").rsplit("/", 1)[1]


@dataclass
class Consortium:
    pid: str
    key: str
    writers: list[str]  # e-mail addresses of people who may edit the section
    keys: list[str] = field(default_factory=list)  # every section of the proposal


def build_consortium(server: Server) -> Consortium:
    """Over HTTP: a coordinator (PL), a partner organisation (NO) with two members,
    a proposal with both, and its sections assigned to the NO partner.

    The writers are the coordinator (who may edit every section) and the two NO members.
    The colleague joins by the link of the e-mail the server printed (no SMTP).
    """
    url = server.url
    anna = _sign_up(url, "Anna Lead", "anna@storm.example.org")
    org_pl = _organisation(anna, "Fundacja Burza", "PL", "Gdańsk")
    ola = _sign_up(url, "Ola Partner", "ola@storm.example.org")
    org_no = _organisation(ola, "Frivillig Storm", "NO", "Kristiansand")
    kari = _sign_up(url, "Kari Colleague", "kari@storm.example.org")
    post(
        ola,
        f"/organisations/{org_no}/invitations",
        {"email": "kari@storm.example.org", "role": "member"},
    )
    post(kari, printed_link(server, r"/join/[^\s]+"))
    response = post(
        anna,
        "/proposals/new",
        {
            "call": "eea-csf-poland",
            "title": "Storm over the Baltic",
            "acronym": "STORM",
            "organisation": org_pl,
        },
    )
    pid = str(response.url).rstrip("/").rsplit("/", 1)[1]
    post(anna, f"/proposals/{pid}/partners", {"organisation": org_no, "role": "partner"})
    partner = re.search(r"/partners/([\w-]+)/accept", ola.get("/invitations").text)
    assert partner, "the NO organisation has no invitation"
    post(ola, f"/proposals/{pid}/partners/{partner.group(1)}/accept")
    dashboard = anna.get(f"/proposals/{pid}/sections").text
    keys = list(
        dict.fromkeys(re.findall(rf'/proposals/{pid}/sections/([\w-]+)/assign"', dashboard))
    )
    option = re.search(r'<option value="([\w-]+)"[^>]*>\s*Frivillig Storm', dashboard)
    assert keys and option, dashboard[:2000]
    for key in keys:  # every section, so that the benchmarks can spread writers over them
        post(anna, f"/proposals/{pid}/sections/{key}/assign", {"partner": option.group(1)})
    for client in (anna, ola, kari):
        client.close()
    writers = ["anna@storm.example.org", "ola@storm.example.org", "kari@storm.example.org"]
    return Consortium(pid=pid, key=keys[0], writers=writers, keys=keys)


# --- the storm -------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the storm's clients saw."""

    acknowledged: list[str] = field(default_factory=list)  # texts of every 200 answer
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)  # non-200 answers and errors
    latencies: list[float] = field(default_factory=list)  # seconds, acknowledged saves
    sent: int = 0  # saves sent (a busy answer's retry counts once), within the time limit
    samples: dict[str, str] = field(default_factory=dict)  # status -> first answer body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def summary(self) -> str:
        kinds = ", ".join(
            f"{k}={self.kinds[k]}" for k in ("save", "merge", "conflict", "unchanged")
        )
        others = dict(self.statuses) or "none"
        samples = "".join(f"\n  first {k}: {v!r}" for k, v in self.samples.items())
        return (
            f"acknowledged={len(self.acknowledged)} ({kinds}); non-200 answers: {others}{samples}"
        )


def marker(writer: int, save: int) -> str:
    return f"W{writer:02d}-S{save:02d} marker."


def next_text(received: str, writer: int, save: int) -> str:
    """The writer's next text: its marker at the end of its own paragraph of ``received``.

    Each writer has a paragraph starting "Paragraph Wnn."; the first save adds it at
    the end. Saves by different writers then change different words (a clean merge),
    and saves racing on the end of the text overlap (a conflict).
    """
    head = f"Paragraph W{writer:02d}."
    paragraphs = [p for p in received.split("\n\n") if p]
    for i, paragraph in enumerate(paragraphs):
        if paragraph.startswith(head):
            paragraphs[i] = f"{paragraph} {marker(writer, save)}"
            return "\n\n".join(paragraphs)
    return "\n\n".join([*paragraphs, f"{head} {marker(writer, save)}"])


def storm(
    url: str | list[str],
    pid: str,
    keys: str | list[str],
    writers: list[str],
    clients: int,
    saves: int,
    outcome: Outcome,
    *,
    stop: threading.Event | None = None,
    after_ack: object = None,
    duration: float | None = None,
    deadline_s: float = 40.0,
    stop_on_5xx: bool = True,
    pause: float = 0.0,
) -> None:
    """``clients`` threads, each its own signed-in client, each making ``saves`` saves.

    Client i signs in as ``writers[i % len(writers)]`` on ``url[i % len(url)]`` and saves
    to ``keys[i % len(keys)]``; each save is based on the number it last got back (0 at
    first). After a connection error a client stops once ``stop`` is set (the server
    was killed). With ``duration`` the clients stop after that many seconds instead of
    after ``saves`` saves; in any case no save starts after ``deadline_s`` seconds, and
    with ``stop_on_5xx`` none starts after the first 5xx answer (a bug: the test fails).
    With ``pause`` each client waits ``pause`` to twice ``pause`` seconds (at random)
    after each answer, as a writer does between the editor's autosaves, and starts
    after a random wait of up to twice ``pause``.
    """
    urls = [url] if isinstance(url, str) else url
    key_list = [keys] if isinstance(keys, str) else keys
    signed = [sign_in(urls[i % len(urls)], writers[i % len(writers)]) for i in range(clients)]
    start = threading.Barrier(clients)
    stop = stop or threading.Event()
    deadline: list[float] = []

    def run(i: int) -> None:
        client, token = signed[i]
        path = f"/proposals/{pid}/sections/{key_list[i % len(key_list)]}/save"
        base, received = 0, ""
        start.wait()
        if pause:  # writers do not all start typing in the same millisecond
            time.sleep(random.uniform(0, 2 * pause))
        if not deadline:
            deadline.append(time.monotonic() + min(duration or deadline_s, deadline_s))
        n = 0
        while n < saves and not stop.is_set() and time.monotonic() < deadline[0]:
            n += 1
            body = next_text(received, i, n)
            with outcome.lock:
                outcome.sent += 1
            began = time.perf_counter()
            try:
                response = client.post(
                    path, data={"csrf_token": token, "base": str(base), "text": body}, headers=JSON
                )
            except httpx.HTTPError as exc:
                with outcome.lock:
                    outcome.statuses[type(exc).__name__] += 1
                if stop.is_set():
                    return
                time.sleep(0.05)
                continue
            elapsed = time.perf_counter() - began
            if response.status_code == 503 and response.json().get("kind") == "busy":
                # Nothing was stored; the editor retries the same text, and so do we.
                with outcome.lock:
                    outcome.statuses["busy (retried)"] += 1
                    outcome.sent -= 1  # the retry is the same save
                n -= 1
                time.sleep(0.05)
                continue
            if response.status_code != 200:
                with outcome.lock:
                    outcome.statuses[str(response.status_code)] += 1
                    outcome.samples.setdefault(str(response.status_code), response.text[:200])
                if stop_on_5xx and response.status_code >= 500:
                    stop.set()
                continue
            answer = response.json()
            with outcome.lock:
                outcome.acknowledged.append(body)
                outcome.kinds[answer["kind"]] += 1
                outcome.latencies.append(elapsed)
            if callable(after_ack):
                after_ack(len(outcome.acknowledged))
            base, received = answer["number"], answer["text"]
            if pause:
                time.sleep(random.uniform(pause, 2 * pause))
        client.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a storm client hung"


# --- what the database kept ------------------------------------------------------------


@dataclass
class Stored:
    numbers: list[int]
    texts: set[str]
    current_number: int
    last_number: int
    text: str
    current_revision_text: str | None


def stored(engine: Engine, pid: str, key: str) -> Stored:
    with Session(engine) as conn:  # the texts are stored packed: read them as the app does
        section = conn.execute(
            select(Section.id, Section.current_number, Section.last_number, Section.text)
            .join(Proposal, Section.proposal_id == Proposal.id)
            .where(Proposal.public_id == pid, Section.key == key)
        ).one()
        by_number = revision_texts(conn, section.id)
    return Stored(
        numbers=sorted(by_number),
        texts=set(by_number.values()),
        current_number=section.current_number,
        last_number=section.last_number,
        text=section.text,
        current_revision_text=by_number.get(section.current_number),
    )


def check_section(database_url: str, pid: str, key: str, acknowledged: list[str]) -> Stored:
    """Every acknowledged text is a revision, numbers run 1..N, the current text is current."""
    engine = make_engine(database_url)
    try:
        kept = stored(engine, pid, key)
    finally:
        engine.dispose()
    lost = [t for t in acknowledged if t not in kept.texts]
    assert not lost, f"{len(lost)} acknowledged saves are not in the revisions, e.g. {lost[:3]}"
    assert kept.numbers == list(range(1, len(kept.numbers) + 1)), "revision numbers have gaps"
    assert kept.last_number == len(kept.numbers), (kept.last_number, len(kept.numbers))
    assert kept.current_number in kept.numbers
    assert kept.text == kept.current_revision_text, "the section's text is not its current revision"
    return kept


def time_gets(
    client: httpx.Client, path: str, requests: int, check: Callable[[str], bool], warmup: int = 10
) -> tuple[list[float], httpx.Response]:
    """Milliseconds of ``requests`` GETs of ``path`` one after another, and the last answer.

    ``warmup`` GETs go first; the page they get must pass ``check`` (what it must show).
    """
    for _ in range(warmup):
        response = client.get(path)
        assert response.status_code == 200, response.status_code
    assert check(response.text), f"{path} does not show what the benchmark measures"
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200
    return times, response


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
