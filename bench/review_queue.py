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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proposals.calls import library  # noqa: E402
from proposals.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from proposals.migrate import upgrade  # noqa: E402
from proposals.models import (  # noqa: E402
    User,
)
from proposals.passwords import hash_password  # noqa: E402
from tests.review_helpers import add_mentored_rounds  # noqa: E402
from tests.storm_helpers import PASSWORD, percentile, sign_in, time_gets  # noqa: E402
from tests.support import Server  # noqa: E402

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
        add_mentored_rounds(
            session, mentor.id, CONSORTIA, sections=SECTIONS, text="Text of a section. " * 50
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
            times, _ = time_gets(
                client, "/reviews", args.requests, lambda page: page.count("15 / 20") == CONSORTIA
            )
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
