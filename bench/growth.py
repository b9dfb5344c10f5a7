# ruff: noqa: S311, S603, S607, S106
"""Growth: page times as a proposal grows, and database bytes per 1,000 saves.

1. The sections dashboard and one section's page of the demo proposal (as its
   coordinator, in-process through the real app and middleware), at 5, 50 and 200
   sections and at 10, 5,000 and 50,000 revisions of the section shown (the
   revisions stored as the saves store them: packed). Median and p95 of
   ``--requests`` requests after 5 warm-ups, and the SQL statements per request.
2. The database bytes taken by 1,000 saves (``proposals.domain.sections.save``, the
   route's own save) of a 10,000-character section that change one sentence each:
   SQLite file growth after VACUUM; PostgreSQL ``pg_total_relation_size`` of the
   revision and section tables after VACUUM FULL (the rebuild SQLite's VACUUM does).

    .venv/bin/python bench/growth.py [--db sqlite|postgres] [--requests 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text, update  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from proposals import demo, packing  # noqa: E402
from proposals.app import create_app  # noqa: E402
from proposals.calls import library  # noqa: E402
from proposals.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from proposals.domain import sections  # noqa: E402
from proposals.migrate import upgrade  # noqa: E402
from proposals.models import Proposal, Revision, Section, User  # noqa: E402
from proposals.settings import Settings  # noqa: E402
from proposals.text import count_characters  # noqa: E402

PG = "postgresql+psycopg://postgres@127.0.0.1:5432"
GRID = [(5, 10), (50, 10), (200, 10), (5, 5_000), (5, 50_000), (200, 50_000)]


def fresh(db: str, name: str, tmp: Path) -> str:
    if db == "sqlite":
        return f"sqlite:///{tmp / (name + '.db')}"
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", sql], check=True)
    return f"{PG}/{name}"


def prose(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnoprstuwyząęółżź"
    return [
        " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))
            for _ in range(rng.randint(8, 16))
        ).capitalize()
        + "."
        for _ in range(count)
    ]


def shape(factory, pid: str, want_sections: int, want_revisions: int) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    """Grow the demo proposal to the size asked: the key of the section measured, and
    how many sections there are (the demo's own, at least)."""
    with unit_of_work(factory) as session:
        proposal = session.scalar(select(Proposal).where(Proposal.public_id == pid))
        while len(proposal.sections) < want_sections:
            sections.add_annex(proposal, f"Annex {len(proposal.sections)}", None)
        session.flush()
        first = min(proposal.sections, key=lambda s: (s.position, s.id))
        author = session.scalar(select(User.id).where(User.email == "anna@demo.engage"))
        have = first.last_number
        rng = random.Random(want_revisions)
        body = " ".join(prose(rng, 30))
        rows, previous = [], (first.current_number, first.text, 0)
        for number in range(have + 1, want_revisions + 1):
            body = body[: len(body) // 2] + f" Change {number}. " + body[len(body) // 2 :][-2000:]
            packed, whole = packing.pack_against(body, previous[1], previous[2])
            depth = 0 if whole else previous[2] + 1
            rows.append(
                {
                    "section_id": first.id,
                    "number": number,
                    "parent_number": number - 1,
                    "plain": "",
                    "packed": packed,
                    "basis": None if whole else previous[0],
                    "depth": depth,
                    "preview": body[:200],
                    "kind": "save",
                    "author_id": author,
                }
            )
            previous = (number, body, depth)
        for start in range(0, len(rows), 5000):
            session.execute(insert(Revision), rows[start : start + 5000])
        if rows:
            session.execute(
                update(Section)
                .where(Section.id == first.id)
                .values(
                    text=previous[1],
                    chars=count_characters(previous[1]),  # stored with the text, as a save does
                    current_number=previous[0],
                    last_number=previous[0],
                )
            )
        return first.key, len(proposal.sections)


def measure(client: TestClient, engine, url: str, requests: int) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    count = 0

    def counter(*_args: object) -> None:
        nonlocal count
        count += 1

    for _ in range(5):
        assert client.get(url).status_code == 200
    event.listen(engine, "before_cursor_execute", counter)
    assert client.get(url).status_code == 200
    event.remove(engine, "before_cursor_execute", counter)
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        assert client.get(url).status_code == 200
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], count


def pages(db: str, tmp: Path, requests: int) -> None:
    print(
        f"{'sections':>8} {'revisions':>9}  {'dashboard ms p50/p95':>21} {'queries':>7}"
        f"  {'section page ms p50/p95':>24} {'queries':>7}"
    )
    for n_sections, n_revisions in GRID:
        url = fresh(db, f"growth_{n_sections}_{n_revisions}", tmp)
        engine = make_engine(url)
        upgrade(engine)
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            library.sync_shipped(session)
            demo.seed(session)
        app = create_app(Settings(database_url=url, secret_key="bench-" + "x" * 40, env="test"))
        with TestClient(app) as client:
            page = client.get("/signin").text
            token = page.split('name="csrf_token" value="')[1].split('"')[0]
            client.post(
                "/signin",
                data={"csrf_token": token, "email": "anna@demo.engage", "password": "engage-demo"},
            )
            with factory() as session:
                pid = session.scalar(select(Proposal.public_id).order_by(Proposal.id))
            key, n_sections = shape(factory, pid, n_sections, n_revisions)
            dash = measure(client, app.state.engine, f"/proposals/{pid}/sections", requests)
            sect = measure(client, app.state.engine, f"/proposals/{pid}/sections/{key}", requests)
        app.state.engine.dispose()
        engine.dispose()
        print(
            f"{n_sections:>8} {n_revisions:>9}  {dash[0]:>10.1f}/{dash[1]:<10.1f} {dash[2]:>7}"
            f"  {sect[0]:>12.1f}/{sect[1]:<11.1f} {sect[2]:>7}",
            flush=True,
        )


def bytes_per_thousand(db: str, tmp: Path) -> None:
    url = fresh(db, "growth_bytes", tmp)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with factory() as session, session.begin():
        user = User(email="ewa@example.org", name="Ewa", password_hash="x")
        proposal = Proposal(title="Growth", call_id="demo", call_version=1)
        proposal.sections.append(Section(key="one", title="One", status="drafting"))
        session.add_all([user, proposal])
        session.flush()
        section_id, user_id = proposal.sections[0].id, user.id
    rng = random.Random(18)
    sentences = prose(rng, 200)
    while len(" ".join(sentences)) > 10_000:
        sentences.pop()

    def size() -> int:
        if db == "sqlite":
            with engine.connect() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
                conn.execute(text("VACUUM"))
            return Path(url.removeprefix("sqlite:///")).stat().st_size
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM FULL revision"))  # as SQLite's VACUUM: rebuilt
            conn.execute(text("VACUUM FULL section"))
            return conn.execute(
                text(
                    "SELECT pg_total_relation_size('revision') + pg_total_relation_size('section')"
                )
            ).scalar_one()

    before = size()
    base, saved = 0, []
    start = time.perf_counter()
    for _ in range(1000):
        sentences[rng.randrange(len(sentences))] = prose(rng, 1)[0]
        saved.append(" ".join(sentences))
        base = sections.save(factory, section_id, user_id, saved[-1], base).number
    seconds = time.perf_counter() - start
    grown = size() - before
    with factory() as session:
        texts = sections.revision_texts(session, section_id)
    exact = [texts[n + 1] for n in range(1000)] == saved
    print(
        f"1,000 saves of a {len(saved[0]):,}-character section, one sentence changed each: "
        f"{grown / 1e6:.2f} MB ({db}), {seconds:.1f} s, "
        f"every revision reads back exactly: {exact}"
    )
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--skip-pages", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="growth-") as tmp:
        if not a.skip_pages:
            pages(a.db, Path(tmp), a.requests)
        bytes_per_thousand(a.db, Path(tmp))


if __name__ == "__main__":
    main()
