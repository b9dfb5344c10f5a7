"""Time the sections dashboard (GET /proposals/{pid}/sections) of a busy proposal.

Builds, in a fresh SQLite database migrated with ``proposals.migrate.upgrade``, a
proposal with 8 partners (the lead and 7 others, all active, each organisation
with 3 members), 20 sections (the call's own plus added ones, assigned round-robin
to the partners) and 2,000 revisions (100 saves per section, through
``proposals.domain.sections.save_in``). Then it starts ``engage serve`` on that database,
signs the coordinator in over HTTP and requests the dashboard 200 times (after 10
warm-up requests), one at a time, printing the median and p95 in ms.

The time is measured by the client around each request on 127.0.0.1 (Engage sends
no Server-Timing header), so it is the server's time plus a fraction of a millisecond.

    /tmp/venv/bin/python bench/dashboard.py [--requests 200]
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
from proposals.domain import consortium, sections  # noqa: E402
from proposals.migrate import upgrade  # noqa: E402
from proposals.models import Membership, Organisation, Section, User  # noqa: E402
from proposals.passwords import hash_password  # noqa: E402
from tests.storm_helpers import PASSWORD, percentile, sign_in, time_gets  # noqa: E402
from tests.support import Server  # noqa: E402

PARTNERS = 8
SECTIONS = 20
REVISIONS = 2000
COUNTRIES = ["PL", "NO", "LT", "LV", "EE", "FI", "SE", "DK"]
CALL = "eea-csf-poland"


def build(url: str) -> tuple[str, str, int]:
    """The proposal's public id, the coordinator's e-mail and the number of revisions."""
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        library.sync_shipped(session)
    password_hash = hash_password(PASSWORD)
    with unit_of_work(factory) as session:
        organisations, admins = [], []
        for i in range(PARTNERS):
            org = Organisation(
                name=f"Partner {i + 1}",
                country=COUNTRIES[i],
                city="Town",
                themes=["youth"],
                languages=["en"],
            )
            session.add(org)
            for j in range(3):
                user = User(
                    email=f"p{i}m{j}@bench.example.org",
                    name=f"Person {i}-{j}",
                    password_hash=password_hash,
                    locale="en",
                )
                session.add(Membership(user=user, organisation=org, role="admin"))
                if j == 0:
                    admins.append(user)
            organisations.append(org)
        session.flush()
        for user in admins:
            session.refresh(user, ["memberships"])
        profile = library.get(session, CALL)
        assert profile is not None
        proposal = consortium.start_proposal(
            session,
            admins[0],
            profile,
            organisations[0],
            "Dashboard benchmark",
            "DASH",
            invite=organisations[1:],
        )
        for partner in proposal.partners:
            if partner.status == "invited":
                admin = admins[organisations.index(partner.organisation)]
                assert consortium.answer(session, admin, partner, True)
        for position in range(len(proposal.sections), SECTIONS):
            proposal.sections.append(
                Section(
                    key=f"extra-{position:02d}",
                    title=f"Extra section {position}",
                    guidance="",
                    char_limit=4000,
                    required=False,
                    position=position,
                )
            )
        session.flush()
        active = [p for p in proposal.partners if p.status == "active"]
        assert len(active) == PARTNERS and len(proposal.sections) == SECTIONS
        for n, section in enumerate(proposal.sections):
            partner = active[n % PARTNERS]
            sections.assign(session, admins[0], section, partner, None, date(2030, 1, 15))
        pid = proposal.public_id
        section_ids = [s.id for s in proposal.sections]
        authors = [a.id for a in admins]
    per_section = REVISIONS // SECTIONS
    for n, section_id in enumerate(section_ids):
        with unit_of_work(factory) as session:
            section = session.get(Section, section_id)
            assert section is not None
            text = ""
            for k in range(per_section):
                text += f"Sentence {k} of section {n} says what the partners will do. "
                if k % 10 == 9:
                    text += "\n\n"
                sections.save_in(session, section, authors[(n + k) % PARTNERS], text)
    engine.dispose()
    return pid, admins[0].email, len(section_ids) * per_section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engage-dashboard-") as tmp:
        workdir = Path(tmp)
        url = f"sqlite:///{workdir / 'dashboard.db'}"
        started = time.perf_counter()
        pid, email, revisions = build(url)
        print(f"built {PARTNERS} partners, {SECTIONS} sections, {revisions} revisions", end=" ")
        print(f"in {time.perf_counter() - started:.1f} s")
        server = Server(workdir, url)
        try:
            client, _ = sign_in(server.url, email)
            path = f"/proposals/{pid}/sections"
            times, response = time_gets(
                client, path, args.requests, lambda page: page.count("/assign") >= SECTIONS
            )
            size = len(response.content)
            client.close()
        finally:
            server.stop()
    median, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"GET {path}: {args.requests} requests, {size // 1024} KiB page, "
        f"median {median:.1f} ms, p95 {p95:.1f} ms, max {max(times):.1f} ms "
        f"({os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}; target < 50 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
