"""The application factory: ``create_app(settings)`` builds everything Engage serves."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from anyio import CapacityLimiter, to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware

from proposals.db import make_engine, make_sessionmaker
from proposals.errors import Denied, Invalid, NotFound
from proposals.live import Broker
from proposals.security import (
    BodyLimitMiddleware,
    CSRFMiddleware,
    SecurityHeadersMiddleware,
    Tokens,
)
from proposals.settings import Settings, load_settings
from proposals.templating import Fragments
from proposals.web import annexes, pages
from proposals.web.collab import Hub
from proposals.web.plumbing import make_templates
from proposals.web.routes import all_routes

#: How many exports and Word uploads run at once per process (a PDF waits for LibreOffice).
SLOW_THREADS = 2

SESSION_COOKIE = "engage_session"
SESSION_MAX_AGE = 14 * 24 * 3600


def create_app(settings: Settings, demo_accounts: list[dict[str, str]] | None = None) -> Starlette:
    """Build the Engage ASGI application for ``settings`` (the schema must be migrated)."""
    engine = make_engine(settings.database_url)
    routes = all_routes()
    middleware = [
        Middleware(SecurityHeadersMiddleware, hsts=settings.production),
        Middleware(
            BodyLimitMiddleware,
            on_too_large=pages.too_large,
            larger=((annexes.UPLOAD_PATHS, annexes.BODY_LIMIT),),
        ),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE,
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
        Middleware(CSRFMiddleware, on_failure=pages.csrf_failure),
    ]
    broker = Broker(engine)
    hub = Hub(make_sessionmaker(engine), broker)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # The routes' worker threads (Starlette runs them through anyio).
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        yield
        await hub.close()
        await broker.close()

    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: pages.http_exception,
            Denied: pages.denied,
            NotFound: pages.not_found,
            Invalid: pages.invalid,
            Exception: pages.server_error,
        },
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.broker = broker
    app.state.hub = hub
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.tokens = Tokens(settings.secret_key)
    app.state.demo_accounts = demo_accounts or []
    app.state.templates = make_templates()
    app.state.fragments = Fragments(app.state.templates.env)
    # The routes that build or read whole documents take turns in threads of their own
    # (``view(slow=True)``): two at once, beside the threads that serve the pages.
    app.state.slow_threads = CapacityLimiter(SLOW_THREADS)
    return app


def app_from_env() -> Starlette:
    """Entry point for ``uvicorn --factory`` (Procfile): settings from the environment."""
    logging.basicConfig(level=logging.INFO)
    return create_app(load_settings())
