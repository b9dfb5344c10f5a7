"""Save storms against a real ``engage serve``: no acknowledged save is ever lost.

Twenty clients (threads, each with its own signed-in HTTP client, as one of three
people who may edit the section) save the same section at once, each save based
on the revision number that client last got back. Every text carries a unique
marker, so an acknowledged (HTTP 200) save can be looked for verbatim among the
revisions afterwards. The second storm SIGKILLs the server mid-way and checks
the database after a restart.

SQLite by default; with DATABASE_URL set to a PostgreSQL URL each test runs on a
fresh database created on that server and dropped at the end.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import text

from proposals.db import make_engine
from tests.storm_helpers import (
    Outcome,
    build_consortium,
    check_section,
    storm,
)
from tests.support import Server, fresh_database, is_postgres

CLIENTS = 20
SAVES = 25
KILL_AFTER = 100
KILL_DEADLINE = 20.0  # seconds


def _no_server_errors(outcome: Outcome) -> None:
    server_errors = {k: v for k, v in outcome.statuses.items() if k.startswith("5")}
    assert not server_errors, f"5xx answers during the storm: {server_errors}"


def test_storm_keeps_every_acknowledged_save(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        server = Server(tmp_path, url)
        try:
            team = build_consortium(server)
            outcome = Outcome()
            storm(server.url, team.pid, team.key, team.writers, CLIENTS, SAVES, outcome)
        finally:
            server.stop()
        print(f"\nstorm on {url.split(':')[0]}: {outcome.summary()}")
        _no_server_errors(outcome)
        assert outcome.acknowledged, "no save was acknowledged"
        kept = check_section(url, team.pid, team.key, outcome.acknowledged)
        print(f"revisions 1..{kept.last_number}, current {kept.current_number}")
        # Every save sent was answered (refusals are printed above); a slow machine may send
        # fewer than CLIENTS * SAVES within the storm's time limit.
        answered = sum(n for status, n in outcome.statuses.items() if status != "busy (retried)")
        assert answered + len(outcome.acknowledged) == outcome.sent


def test_storm_survives_sigkill(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        server = Server(tmp_path / "first", url)
        restarted = None
        try:
            team = build_consortium(server)
            outcome = Outcome()
            stop = threading.Event()
            killed = threading.Lock()

            def kill_once(acknowledged: int = KILL_AFTER) -> None:
                if acknowledged >= KILL_AFTER and killed.acquire(blocking=False):
                    stop.set()
                    server.kill()

            # Should the storm stall before 100 saves are acknowledged, kill it anyway.
            watchdog = threading.Timer(KILL_DEADLINE, kill_once)
            watchdog.start()

            storm(
                server.url,
                team.pid,
                team.key,
                team.writers,
                CLIENTS,
                SAVES,
                outcome,
                stop=stop,
                after_ack=kill_once,
                stop_on_5xx=False,
            )
            watchdog.cancel()
            assert stop.is_set(), "the storm ended before the server was killed"
            restarted = Server(tmp_path / "second", url)
            assert httpx.get(restarted.url + "/", timeout=10).status_code == 200
        finally:
            server.stop()
            if restarted is not None:
                restarted.stop()
        print(f"\nkilled storm on {url.split(':')[0]}: {outcome.summary()}")
        _no_server_errors(outcome)
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                if is_postgres(url):
                    orphans = conn.execute(
                        text(
                            "SELECT count(*) FROM revision r JOIN section s ON s.id = r.section_id"
                            " WHERE r.number > s.last_number OR r.number < 1"
                        )
                    ).scalar_one()
                    assert orphans == 0
                else:
                    assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
                    assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        finally:
            engine.dispose()
        kept = check_section(url, team.pid, team.key, outcome.acknowledged)
        print(
            f"{len(outcome.acknowledged)} acknowledged before the kill; "
            f"revisions 1..{kept.last_number} after restart"
        )
        # The watchdog fired first: the server made (almost) no progress for 20 s.
        assert len(outcome.acknowledged) >= KILL_AFTER, (
            f"the storm stalled: {len(outcome.acknowledged)} saves acknowledged "
            f"in {KILL_DEADLINE:.0f} s"
        )
