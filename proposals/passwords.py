"""Passwords: argon2 hashes, and the fingerprint that ends sessions when a password changes."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from proposals.models import User

#: ``ENGAGE_PASSWORD_HASHING``: ``standard`` (the default: argon2-cffi's parameters, RFC 9106's
#: low-memory profile, about 0.1 s a hash) or ``fast`` for test suites, which hash and check
#: thousands of passwords (argon2id with the least work; refused with ENGAGE_ENV=production).
HASHING_VARIABLE = "ENGAGE_PASSWORD_HASHING"
HASHINGS: dict[str, dict[str, int]] = {
    "standard": {},
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


def hashing_of(environ: Mapping[str, str]) -> str:
    """The hashing the environment asks for (a ValueError for anything else)."""
    chosen = environ.get(HASHING_VARIABLE, "").strip() or "standard"
    if chosen not in HASHINGS:
        raise ValueError(f"{HASHING_VARIABLE} must be standard or fast, got {chosen!r}")
    return chosen


def _hashing_here() -> str:
    """This process's hashing (a wrong value is reported by ``load_settings``; standard here)."""
    try:
        return hashing_of(os.environ)
    except ValueError:
        return "standard"


_hasher = PasswordHasher(**HASHINGS[_hashing_here()])
# Verifying against this keeps sign-in for an unknown e-mail as slow as for a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def session_fingerprint(user: User) -> str:
    """Changes whenever the password does, which ends every session signed in before."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
