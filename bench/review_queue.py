"""Time a mentor's review queue (GET /reviews) across 30 consortia of 20 sections each.

Builds, in a fresh SQLite database migrated with ``proposals.migrate.upgrade``, a
mentor who mentors 30 proposals; each proposal has 20 written sections (with due
dates) and an open review round on all of them, with 5 verdicts given. Then it
starts ``engage serve`` on that database, signs the mentor in over HTTP and
requests the queue 200 times (after 10 warm-up requests), one at a time,
printing the median and p95 in ms (client-side on 127.0.0.1, so the server's
time plus a fraction of a millisecond).

    /tmp/venv/bin/python bench/review_queue.py [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proposals.calls import library  # noqa: E402
from proposals.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from proposals.migrate import upgrade  # noqa: E402
from proposals.models import (  # noqa: E402
    Proposal,
    ProposalAccess,
    ReviewRound,
    Section,
    SectionVerdict,
    User,
)
from proposals.security import hash_password  # noqa: E402
from tests.storm_helpers import PASSWORD, Server, percentile, sign_in  # noqa: E402

CONSORTIA = 30
SECTIONS = 20
EMAIL = "mentor@bench.example.org"


def build(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        library.sync_shipped(session)
    with unit_of_work(factory) as session:
        mentor = User(
            email=EMAIL,
            name="Marta Mentor",
            password_hash=hash_password(PASSWORD),
            locale="en",
            is_mentor=True,
        )
        session.add(mentor)
        session.flush()
        for n in range(CONSORTIA):
            proposal = Proposal(
                title=f"Consortium {n}",
                acronym=f"C{n:02d}",
                call_id="acf-poland-national",
                call_version=1,
                status="drafting.in_review",
            )
            proposal.access.append(ProposalAccess(user_id=mentor.id, role="mentor"))
            proposal.sections = [
                Section(
                    key=f"s{i}",
                    title=f"Section {i}",
                    position=i,
                    status="ready",
                    text=f"Text of section {i}. " * 50,
                    due_date=date(2030, 1 + n % 12, 1 + i),
                )
                for i in range(SECTIONS)
            ]
            session.add(proposal)
            session.flush()
            session.add(
                ReviewRound(
                    proposal_id=proposal.id,
                    mentor_id=mentor.id,
                    verdicts=[
                        SectionVerdict(
                            section_id=s.id,
                            position=s.position,
                            verdict="approved" if s.position < 5 else None,
                        )
                        for s in proposal.sections
                    ],
                )
            )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engage-queue-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'queue.db'}"
        started = time.perf_counter()
        build(url)
        print(f"built {CONSORTIA} consortia x {SECTIONS} sections, one open round each", end=" ")
        print(f"in {time.perf_counter() - started:.1f} s")
        server = Server(workdir, url)
        try:
            client, _ = sign_in(server.url, EMAIL)
            for _ in range(10):
                response = client.get("/reviews")
                assert response.status_code == 200, response.status_code
            assert response.text.count("15 / 20") == CONSORTIA, "the queue lacks rounds"
            times = []
            for _ in range(args.requests):
                began = time.perf_counter()
                response = client.get("/reviews")
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200
            client.close()
        finally:
            server.stop()
    median, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"GET /reviews: {args.requests} requests, median {median:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(times):.1f} ms ({os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}; "
        "target < 100 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
