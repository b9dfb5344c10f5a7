"""What the domain raises when something cannot be seen or done; the web turns it into a page."""

from __future__ import annotations


class NotFound(LookupError):
    """Nothing the user may see is at this address (a 404, so nobody learns what exists)."""


class Denied(PermissionError):
    """The user may not do this: 403 with ``reason`` when they may see the target, else 404.

    409 means the user's role allows it, but not in the target's current state
    (e.g. a signed proposal); ``back`` is then the target's page, to return to.
    """

    def __init__(self, status: int = 403, reason: str = "", back: str = "") -> None:
        super().__init__(reason or f"denied ({status})")
        self.status = status
        self.reason = reason
        self.back = back


class Invalid(ValueError):
    """What was sent cannot be used (a 400 page saying why, e.g. an expired link)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
