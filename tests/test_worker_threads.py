"""The routes' worker threads: as many as ENGAGE_WORKER_THREADS says (or as suits the
database), nonsense refused, and exports in threads of their own."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.domain import pdf
from proposals.settings import Settings, SettingsError, load_settings
from tests.budget_helpers import seeded, signed_in, the_proposal
from tests.conftest import csrf


def test_the_setting_is_read_and_nonsense_is_refused() -> None:
    base = {"SECRET_KEY": "s" * 40}
    # Unset: as suits the database (SQLite answers within the process, PostgreSQL over
    # a socket, where a thread waiting for it leaves the others to run).
    assert load_settings(base).threads == 2
    postgres = {**base, "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1/x"}
    assert load_settings(postgres).threads == 4
    assert load_settings({**base, "ENGAGE_WORKER_THREADS": "3"}).threads == 3
    assert load_settings({**postgres, "ENGAGE_WORKER_THREADS": "12"}).threads == 12
    for wrong in ("0", "-2", "201", "many"):
        with pytest.raises(SettingsError, match="ENGAGE_WORKER_THREADS"):
            load_settings({**base, "ENGAGE_WORKER_THREADS": wrong})


def _worker_threads_used(settings: Settings, limit: int) -> set[int | None]:
    """The worker threads that served 48 requests sent 24 at a time."""
    app = create_app(dataclasses.replace(settings, worker_threads=limit))
    before = {t.ident for t in threading.enumerate()}
    try:
        with TestClient(app) as client:
            answers: list[int] = []

            def ask() -> None:
                for _ in range(2):
                    answers.append(client.get("/calls").status_code)

            threads = [threading.Thread(target=ask) for _ in range(24)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            used = {
                t.ident
                for t in threading.enumerate()
                if t.ident not in before and t.name.startswith("AnyIO worker thread")
            }
    finally:
        app.state.engine.dispose()
    assert answers == [200] * 48
    return used


def test_requests_run_in_at_most_that_many_threads(settings: Settings) -> None:
    assert 1 <= len(_worker_threads_used(settings, 2)) <= 2
    # With more allowed, the same load takes more: the limit above is what held it.
    assert len(_worker_threads_used(settings, 12)) > 2


def test_an_export_waiting_for_libreoffice_leaves_the_pages_served(settings: Settings, db) -> None:  # type: ignore[no-untyped-def]
    """With one thread for the pages, a PDF export that waits for LibreOffice (held here)
    runs in a thread of its own: the pages and the saves go on being served meanwhile."""
    app = create_app(dataclasses.replace(settings, worker_threads=1))
    seeded(db)
    pid = the_proposal(db).public_id
    anna = signed_in(app, "anna@demo.engage")
    token = csrf(anna, f"/proposals/{pid}/final")
    answers: dict[str, object] = {}

    def export() -> None:
        answers["export"] = anna.post(
            f"/proposals/{pid}/final/export",
            data={"csrf_token": token, "kind": "application", "format": "pdf"},
        )

    def page() -> None:
        answers["page"] = anna.get(f"/proposals/{pid}/sections").status_code

    assert pdf._lock.acquire(timeout=30)  # LibreOffice busy with someone else's file
    exporter = threading.Thread(target=export)
    try:
        exporter.start()
        deadline = time.monotonic() + 30
        while app.state.slow_threads.borrowed_tokens == 0:  # the export is under way
            assert time.monotonic() < deadline, "the export never took an export thread"
            time.sleep(0.02)
        reader = threading.Thread(target=page)
        reader.start()
        reader.join(timeout=20)
        assert not reader.is_alive(), "the page waited for the export"
        assert answers["page"] == 200
        assert "export" not in answers  # still waiting for LibreOffice
    finally:
        pdf._lock.release()
        exporter.join(timeout=120)
        app.state.engine.dispose()
    response = answers["export"]
    assert response.status_code == 200, response.text[:300]  # type: ignore[attr-defined]
    assert response.content.startswith(b"%PDF-")  # type: ignore[attr-defined]
