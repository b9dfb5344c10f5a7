"""What every kind of test shares: real servers, fresh databases and signed-in browsers.

- :class:`Server` is ``engage serve`` (or ``engage demo``) in a subprocess on a
  free port, for the journeys in Chromium, the live tests, the storms and the
  benchmarks; several processes share ``SECRET_KEY``, as in production.
- :func:`fresh_database` is an empty SQLite file, or a new PostgreSQL database
  when ``DATABASE_URL`` names a PostgreSQL server (dropped afterwards).
- :func:`signed_in` is a TestClient of the app under test, signed in as someone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from proposals.settings import normalise_database_url
from tests.conftest import PASSWORD, sign_in

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "test-servers-secret-" + "k" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def fresh_database(workdir: Path, name: str = "engage") -> Iterator[str]:
    """An empty database's URL: SQLite in ``workdir``, or a new PostgreSQL database.

    PostgreSQL is used when ``DATABASE_URL`` is a PostgreSQL URL; the database is
    created on that URL's server and dropped at the end.
    """
    configured = normalise_database_url(os.environ.get("DATABASE_URL", ""))
    if not is_postgres(configured):
        yield f"sqlite:///{workdir / (name + '.db')}"
        return
    with new_postgres_database(configured, name) as url:
        yield url


@contextmanager
def new_postgres_database(server_url: str, name: str) -> Iterator[str]:
    """A new empty database on the PostgreSQL server of ``server_url``, dropped at the end."""
    server = make_url(server_url)
    dbname = f"{name}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    try:
        yield server.set(database=dbname).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


class Server:
    """``engage serve`` (or ``engage demo``) in a subprocess; stop() or kill() it.

    Without ``database_url`` it runs on a new SQLite file in ``workdir``.
    """

    def __init__(
        self,
        workdir: Path,
        database_url: str | None = None,
        *,
        command: str = "serve",
        port: int | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url or f"sqlite:///{workdir / 'engage.db'}"
        workdir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "ENGAGE_INSTANCE_DIR": str(workdir / "instance"),
            "ENGAGE_BASE_URL": self.url,
            "ENGAGE_ENV": "development",
            "SECRET_KEY": SECRET_KEY,
            "PYTHONPATH": str(ROOT),
            **(extra_env or {}),
        }
        self.log_path = workdir / f"server-{self.port}.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "proposals.cli", command, "--port", str(self.port)],
            cwd=workdir,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log_path.read_text())
            try:
                if httpx.get(self.url + "/", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"engage {command} did not answer within 45 s:\n{self.log_text()}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when the machine loses power."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def signed_in(
    app,  # type: ignore[no-untyped-def]
    email: str | None = None,
    password: str = PASSWORD,
    locale: str | None = None,
) -> TestClient:
    """A new browser on the app under test, signed in as ``email`` (None: a visitor)."""
    client = TestClient(app, raise_server_exceptions=False)
    if locale is not None:
        client.cookies.set("engage_lang", locale)
    if email is not None:
        sign_in(client, email=email, password=password)
    return client
