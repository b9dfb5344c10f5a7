"""The routes' worker threads: as many as ENGAGE_WORKER_THREADS says, and nonsense refused."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from starlette.testclient import TestClient

from proposals.app import create_app
from proposals.settings import Settings, SettingsError, load_settings


def test_the_setting_is_read_and_nonsense_is_refused() -> None:
    base = {"SECRET_KEY": "s" * 40}
    assert load_settings(base).worker_threads == 8
    assert load_settings({**base, "ENGAGE_WORKER_THREADS": "3"}).worker_threads == 3
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
