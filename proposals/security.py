"""Signed tokens, CSRF protection, the body limit and security headers.

CSRF: a random token lives in the signed session; every POST/PUT/PATCH/DELETE
must echo it in the ``X-CSRF-Token`` header (htmx requests, see
``static/js/engage.js``) or in a ``csrf_token`` form field (plain forms).
The middleware checks every state-changing request, so no route can forget.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_BODY_BYTES = 20 * 1024 * 1024

# --- signed, expiring tokens ------------------------------------------------------


class Tokens:
    """Signed, expiring tokens for links sent by e-mail (one salt per purpose)."""

    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=f"engage.{purpose}")

    def make(self, purpose: str, payload: Any) -> str:
        return self._serializer(purpose).dumps(payload)

    def read(self, purpose: str, token: str, max_age_seconds: int) -> Any | None:
        """The payload, or None when the token is forged, malformed or too old."""
        try:
            return self._serializer(purpose).loads(token, max_age=max_age_seconds)
        except (BadData, UnicodeError, ValueError):
            return None


# --- the body limit ----------------------------------------------------------------


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse any request whose body is larger than ``limit`` bytes, before it is read whole.

    A declared Content-Length over the limit is refused at once; a body sent
    without one (chunked) is counted as it arrives and cut off at the limit.
    ``on_too_large`` answers (the 413 page). ``larger`` raises the limit for the
    paths that take bigger files (annexes): (path pattern, limit) pairs.
    """

    def __init__(
        self,
        app: ASGIApp,
        on_too_large: ASGIApp,
        limit: int = MAX_BODY_BYTES,
        larger: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.on_too_large = on_too_large
        self.limit = limit
        self.larger = larger

    def limit_for(self, path: str) -> int:
        return next((size for pattern, size in self.larger if pattern.match(path)), self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self.on_too_large(scope, _replay([]), send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if started:  # too late to answer: the connection is simply closed
                raise
            await self.on_too_large(scope, _replay([]), send)


# --- CSRF ------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


class CSRFMiddleware:
    """Refuse state-changing requests that do not carry the session's CSRF token.

    Plain forms send the token as a field; to read it the body is buffered
    and then replayed unchanged to the application.
    """

    def __init__(self, app: ASGIApp, on_failure: ASGIApp, exempt_paths: tuple[str, ...] = ()):
        self.app = app
        self.on_failure = on_failure
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith(self.exempt_paths)
        ):
            await self.app(scope, receive, send)
            return
        expected = scope.get("session", {}).get("csrf")
        headers = Headers(scope=scope)
        sent = headers.get(CSRF_HEADER)
        body_messages: list[Message] = []
        if sent is None:  # the body is bounded by BodyLimitMiddleware, outside this one
            body = await _read_body(receive, body_messages)
            sent = await _form_token(scope, body)
            receive = _replay(body_messages)
        if not expected or not sent or not hmac.compare_digest(str(expected), str(sent)):
            scope.setdefault("state", {})["failure"] = "csrf"
            await self.on_failure(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, messages: list[Message]) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(messages: list[Message]) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _form_token(scope: Scope, body: bytes) -> str | None:
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    request = Request(scope, _replay([{"type": "http.request", "body": body}]))
    try:
        form = await request.form(max_fields=2000, max_part_size=MAX_BODY_BYTES)
    except Exception:  # a malformed body is simply a request without a token
        return None
    value = form.get(CSRF_FIELD)
    await form.close()
    return value if isinstance(value, str) else None


# --- security headers ----------------------------------------------------------------

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Add the headers every response carries (CSP with no inline script, no framing, ...)."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
