"""Time the budget page, an htmx "Add line", and the workbook (write and read back).

Seeds the demo data (three partners) in a fresh SQLite database, adds ``--lines``
cost lines to each partner through ``proposals.domain.budget.save_line`` (flat rates
recomputed each time, as on the page), then, in process through Starlette's
TestClient as the coordinator, requests the budget page and posts lines with htmx,
and times ``budget_workbook`` and ``read_workbook`` on the snapshot. Prints the
median and p95 in ms, and the workbook's size.

    /tmp/venv/bin/python bench/budget.py [--lines 150] [--requests 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from exports.workbook import budget_workbook, read_workbook  # noqa: E402
from proposals import demo  # noqa: E402
from proposals.app import create_app  # noqa: E402
from proposals.calls import library  # noqa: E402
from proposals.db import make_engine, make_sessionmaker, unit_of_work  # noqa: E402
from proposals.domain import budget  # noqa: E402
from proposals.migrate import upgrade  # noqa: E402
from proposals.models import Proposal  # noqa: E402
from proposals.settings import Settings  # noqa: E402
from tests.storm_helpers import percentile  # noqa: E402


def timed(function, times: int) -> list[float]:  # type: ignore[no-untyped-def]
    result = []
    for _ in range(times):
        start = time.perf_counter()
        function()
        result.append((time.perf_counter() - start) * 1000)
    return result


def show(what: str, ms: list[float]) -> None:
    print(f"{what}: median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=150)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        library.sync_shipped(session)
        demo.seed(session)
    with unit_of_work(factory) as session:
        proposal = session.scalars(select(Proposal)).one()
        profile = library.profile_for(session, proposal)
        coordinator = proposal.access[0].user
        for partner in proposal.partners:
            for i in range(args.lines):
                data = budget.LineForm(
                    category=("staff", "travel", "services", "other")[i % 4],
                    description=f"Line {i + 1}",
                    quantity=Decimal(i % 7 + 1),
                    unit_cost=Decimal("123.45"),
                )
                budget.save_line(session, profile, partner, coordinator, data)
        pid = proposal.public_id
        lead = next(p for p in proposal.partners if p.role == "lead").public_id
        snapshot = budget.budget_snapshot(session, proposal)
    settings = Settings(database_url=url, secret_key="bench-" + "k" * 40, env="test")
    app = create_app(settings)
    with TestClient(app) as client:
        token = client.get("/signin").text.split('name="csrf-token" content="', 1)[1]
        token = token.split('"', 1)[0]
        signin = {"csrf_token": token, "email": "anna@demo.engage"}
        client.post("/signin", data={**signin, "password": demo.DEMO_PASSWORD})
        client.cookies.set("engage_lang", "en")
        page = f"/proposals/{pid}/budget"
        response = client.get(page, follow_redirects=False)
        assert response.status_code == 200 and "Download budget" in response.text
        token = response.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        lines = sum(len(p.lines) for p in snapshot.partners)
        print(f"{len(snapshot.partners)} partners, {lines} lines")
        show("GET budget page", timed(lambda: client.get(page), args.requests))
        form = {"csrf_token": token, "category": "travel", "description": "Bench", "quantity": "1"}
        form["unit_cost"] = "10"
        headers = {"HX-Request": "true"}
        add = f"{page}/{lead}/lines"
        response = client.post(add, data=form, headers=headers)
        assert response.status_code == 200 and "The line is added." in response.text
        show(
            "POST add line (htmx)",
            timed(lambda: client.post(add, data=form, headers=headers), args.requests),
        )
    data = budget_workbook(snapshot)
    print(f"workbook: {len(data) / 1024:.0f} KiB")
    show("budget_workbook", timed(lambda: budget_workbook(snapshot), 10))
    show("read_workbook", timed(lambda: read_workbook(data, snapshot), 10))


if __name__ == "__main__":
    main()
