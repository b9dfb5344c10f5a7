"""Who is at the other end of a request: the client's address behind trusted proxies,
and whether the browser is one its account signed in with before (a "known device").

Both serve the sign-in throttle (``proposals.domain.accounts.signin_throttle``).
"""

from __future__ import annotations

import functools
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from starlette.requests import Request
from starlette.responses import Response

from proposals.domain.accounts import normalise_email

# A browser that signed in with an account is known to it for half a year (OWASP's
# "device cookie"): failures by strangers do not slow it down. It remembers the last
# few accounts, for a computer a family or an office shares.
DEVICE_COOKIE = "engage_device"
DEVICE_DAYS = 180
DEVICE_ACCOUNTS = 5


def client_address(request: Request) -> str:
    """The address of whoever sent this request, as the sign-in throttle counts it.

    The connection's peer, unless the peer is one of ``ENGAGE_TRUSTED_PROXIES``: then
    the last address in X-Forwarded-For that is not a trusted proxy (what the first
    trusted proxy saw). Anything a client writes there itself comes before that, and
    is ignored. When uvicorn already applied the header (``--forwarded-allow-ips``,
    the same list), the peer is that client, and nothing changes.
    """
    trusted = _trusted_networks(request.app.state.settings.trusted_proxies)
    peer = request.client.host if request.client else ""
    if not _is_trusted(peer, trusted):
        return peer or "unknown"
    forwarded = [
        address.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for address in header.split(",")
        if address.strip()
    ]
    for address in reversed(forwarded):
        if not _is_trusted(address, trusted):
            return address[:64]
    return forwarded[0][:64] if forwarded else peer


@functools.cache
def _trusted_networks(proxies: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(proxy, strict=False) for proxy in proxies)


def _is_trusted(address: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False  # "testclient", "unknown", a socket path, garbage
    return any(ip in network for network in trusted)


def known_device(request: Request, email: str) -> bool:
    """Did this browser sign in with ``email`` before (a cookie Engage signed says so)?"""
    return normalise_email(email) in _device_accounts(request)


def remember_device(request: Request, response: Response, email: str) -> None:
    """Mark this browser as known to ``email``'s account (after proving the password)."""
    accounts = [normalise_email(email)]
    accounts += [a for a in _device_accounts(request) if a not in accounts]
    response.set_cookie(
        DEVICE_COOKIE,
        request.app.state.tokens.make("device", accounts[:DEVICE_ACCOUNTS]),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )


def _device_accounts(request: Request) -> list[str]:
    cookie = request.cookies.get(DEVICE_COOKIE, "")
    accounts = request.app.state.tokens.read("device", cookie, DEVICE_DAYS * 86400)
    if not isinstance(accounts, list):
        return []  # none, forged, expired
    return [a for a in accounts if isinstance(a, str)]
