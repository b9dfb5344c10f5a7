"""Typed settings, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from proposals import passwords


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


ENVIRONMENTS = ("development", "production", "test")


@dataclass(frozen=True)
class SMTPSettings:
    host: str = ""
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    sender: str = "Engage <no-reply@engage.local>"

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    env: str = "development"
    base_url: str = "http://127.0.0.1:8000"
    smtp: SMTPSettings = field(default_factory=SMTPSettings)
    demo: bool = False
    default_timezone: str = "Europe/Warsaw"
    # Sign-in throttling, over a sliding window: an address is refused for the rest of
    # the window after its limit; an account's failures beyond its limit make each
    # further try from a browser it never signed in with wait (2 s, 4 s, 8 s ... 60 s).
    signin_window_minutes: int = 15
    signin_max_failures_per_account: int = 5
    signin_max_failures_per_address: int = 20
    signin_first_delay_seconds: int = 2
    signin_max_delay_seconds: int = 60
    # The proxies whose X-Forwarded-For is believed (addresses or networks).
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    password_reset_hours: int = 2
    invitation_days: int = 14
    # Requests run their Python in at most this many threads at once (None: as suits
    # the database, see ``threads``).
    worker_threads: int | None = None

    @property
    def threads(self) -> int:
        """How many requests run their Python at once in this process.

        Python runs one thread at a time. Each thread that waits for the database lets
        go of that lock and has to win it back, so threads beyond what the database's
        waits can use only hand the lock to each other, which costs the system time
        (measured on 2 cores, 50 connections: with 8 threads on SQLite a dashboard cost
        1.4 ms of system time, with 2 threads 0.1 ms, and 40% more were served). SQLite
        answers within the process, so 2 threads; PostgreSQL answers over a socket,
        where 4 threads served the most saves a second (8 served 15% fewer).
        """
        if self.worker_threads is not None:
            return self.worker_threads
        return 2 if self.database_url.startswith("sqlite") else 4

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def secure_cookies(self) -> bool:
        return self.production or self.base_url.startswith("https://")


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalise_database_url(url: str) -> str:
    """Accept the URLs that hosting platforms hand out and point them at psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance_dir: Path) -> str:
    """Keep a generated development secret in the instance folder, so sessions survive restarts."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    value = secrets.token_urlsafe(48)
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return value


def _int(environ: dict[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from exc


def _trusted_proxies(environ: dict[str, str]) -> tuple[str, ...]:
    raw = environ.get("ENGAGE_TRUSTED_PROXIES", "").strip()
    if not raw:
        return Settings.trusted_proxies
    proxies = tuple(part.strip() for part in raw.split(",") if part.strip())
    if "*" in proxies:
        # With "*" the first X-Forwarded-For address wins, which the client writes itself.
        raise SettingsError(
            "ENGAGE_TRUSTED_PROXIES cannot be '*': list your proxies' addresses or network "
            "(e.g. 10.0.0.0/8), so that a client cannot choose the address Engage counts"
        )
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise SettingsError(
                "ENGAGE_TRUSTED_PROXIES must list IP addresses or networks separated by "
                f"commas (e.g. 127.0.0.1,10.0.0.0/8), got {proxy!r}"
            ) from exc
    return proxies


def load_settings(environ: dict[str, str] | None = None, cwd: Path | None = None) -> Settings:
    """Build the settings from environment variables (see README, "Configuration")."""
    environ = dict(os.environ if environ is None else environ)
    cwd = cwd or Path.cwd()
    env = environ.get("ENGAGE_ENV", "development").strip() or "development"
    if env not in ENVIRONMENTS:
        raise SettingsError(f"ENGAGE_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    database_url = normalise_database_url(
        environ.get("DATABASE_URL", "") or _sqlite_url(cwd / "engage.db")
    )
    secret_key = environ.get("SECRET_KEY", "").strip()
    if not secret_key:
        if env == "production":
            raise SettingsError(
                "SECRET_KEY is not set. In production Engage refuses to start without it: "
                'set it to a long random value, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        instance = Path(environ.get("ENGAGE_INSTANCE_DIR", "") or cwd / "instance")
        secret_key = _instance_secret(instance)
    try:
        hashing = passwords.hashing_of(environ)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    if hashing == "fast" and env == "production":
        raise SettingsError(
            f"{passwords.HASHING_VARIABLE}=fast is for test suites: in production passwords "
            "are hashed with the standard cost. Unset it."
        )
    smtp = SMTPSettings(
        host=environ.get("SMTP_HOST", ""),
        port=_int(environ, "SMTP_PORT", 587),
        username=environ.get("SMTP_USERNAME", ""),
        password=environ.get("SMTP_PASSWORD", ""),
        starttls=environ.get("SMTP_STARTTLS", "true").lower() not in ("0", "false", "no"),
        sender=environ.get("SMTP_FROM", "") or SMTPSettings.sender,
    )
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        env=env,
        base_url=(environ.get("ENGAGE_BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/"),
        smtp=smtp,
        demo=environ.get("ENGAGE_DEMO", "").lower() in ("1", "true", "yes"),
        trusted_proxies=_trusted_proxies(environ),
        worker_threads=_worker_threads(environ),
    )


def _worker_threads(environ: dict[str, str]) -> int | None:
    if not environ.get("ENGAGE_WORKER_THREADS", "").strip():
        return None  # as suits the database
    threads = _int(environ, "ENGAGE_WORKER_THREADS", 0)
    if not 1 <= threads <= 200:
        raise SettingsError(f"ENGAGE_WORKER_THREADS must be from 1 to 200, got {threads}")
    return threads
