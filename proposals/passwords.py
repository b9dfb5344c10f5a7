"""Passwords: argon2 hashes, and the fingerprint that ends sessions when a password changes."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from proposals.models import User

_hasher = PasswordHasher()
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
