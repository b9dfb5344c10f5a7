"""Accounts: creating users, checking passwords, throttling sign-in, resetting passwords."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from proposals.domain import sessions
from proposals.forms import CleanLine, Email, Form, FormErrors
from proposals.i18n import (
    DEFAULT_TIMEZONE,
    LOCALES,
    country_timezone,
    get_locale,
    timezone_names,
)
from proposals.i18n import gettext as _
from proposals.models import SigninAttempt, User, utcnow
from proposals.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    session_fingerprint,
    verify_password,
)
from proposals.settings import Settings


def _password(value: str) -> str:
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            _("Use at least %(min)s characters for your password.", min=MIN_PASSWORD_LENGTH)
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValueError(_("Use at most %(max)s characters.", max=MAX_PASSWORD_LENGTH))
    if value.strip() == "":
        raise ValueError(_("A password cannot be only spaces."))
    return value


NewPassword = Annotated[str, Field(min_length=1), AfterValidator(_password)]


class SignupForm(Form):
    name: CleanLine = Field(min_length=1, max_length=120)
    email: Email = Field(min_length=1, max_length=254)
    password: NewPassword


class SigninForm(Form):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class ForgotForm(Form):
    email: Email = Field(min_length=1, max_length=254)


class ResetForm(Form):
    password: NewPassword
    confirm: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)

    @model_validator(mode="after")
    def _same(self) -> ResetForm:
        if self.password != self.confirm:
            raise ValueError(_("The two passwords are not the same."))
        return self


class AccountForm(Form):
    name: CleanLine = Field(min_length=1, max_length=120)
    locale: str = Field(min_length=2, max_length=10)
    email_notifications: Literal["immediately", "daily", "off"] = "immediately"
    timezone: str | None = Field(default=None, max_length=64)  # None: keep the current one

    @field_validator("locale", "timezone")
    @classmethod
    def _known_choice(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.field_name == "timezone":
            return None
        known = LOCALES if info.field_name == "locale" else timezone_names()
        if value not in known:
            raise ValueError(_("Choose one of the options."))
        return value


def follow_first_organisation(user: User, country: str) -> None:
    """Times are shown in the zone of a person's first organisation until they choose one.

    Accounts start on the default zone (Warsaw); someone whose first organisation
    is in Kristiansand reads Oslo time from then on, without visiting the account page.
    """
    if user.timezone == DEFAULT_TIMEZONE:
        user.timezone = country_timezone(country)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(db: Session, data: SignupForm, locale: str, *, is_admin: bool = False) -> User:
    """Create an account, or raise FormErrors when the e-mail is taken."""
    taken = _("An account with this e-mail already exists. Sign in, or reset your password.")
    if find_user(db, data.email) is not None:
        raise FormErrors({"email": taken})
    user = User(
        name=data.name,
        email=data.email,
        password_hash=hash_password(data.password),
        locale=locale if locale in LOCALES else "en",
        is_admin=is_admin,
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError:
        # Two sign-ups for the same e-mail at once (a double click): the other one won.
        db.rollback()
        raise FormErrors({"email": taken}) from None
    return user


def new_invited_user(db: Session, name: str, email: str) -> User:
    """An account for someone invited by e-mail: no usable password until they choose one."""
    user = User(
        name=name,
        email=normalise_email(email),
        # A random secret nobody knows: the e-mailed reset link is the way in.
        password_hash=hash_password(secrets.token_urlsafe(32)),
        locale=get_locale(),
    )
    db.add(user)
    db.flush()
    return user


@dataclass(frozen=True)
class Throttle:
    """Whether a sign-in may be tried now: ``seconds`` to wait first (0: go ahead).

    ``by_address``: the address is over its limit (refused for the rest of the window);
    otherwise the account's failures slow down browsers it never signed in with.
    """

    seconds: int = 0
    by_address: bool = False

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def signin_throttle(
    db: Session, settings: Settings, email: str, address: str, *, known_device: bool
) -> Throttle:
    """How long a sign-in to ``email`` from ``address`` must wait (OWASP: slow down, do not
    lock out). A stranger's failures never stop the real user on a browser they signed in
    with before (``known_device``); elsewhere each try beyond the account's limit waits
    twice as long as the one before, up to a minute. The limit per address stays whole.
    """
    now = utcnow()
    window = timedelta(minutes=settings.signin_window_minutes)
    failures = select(func.count(), func.min(SigninAttempt.created_at)).where(
        SigninAttempt.created_at >= now - window, SigninAttempt.succeeded.is_(False)
    )
    count, oldest = db.execute(failures.where(SigninAttempt.address == address)).one()
    if count >= settings.signin_max_failures_per_address and oldest is not None:
        return Throttle(_seconds(oldest + window - now), by_address=True)
    if known_device:
        return Throttle()
    count, latest = db.execute(
        select(func.count(), func.max(SigninAttempt.created_at)).where(
            SigninAttempt.email == normalise_email(email),
            SigninAttempt.created_at >= now - window,
            SigninAttempt.succeeded.is_(False),
        )
    ).one()
    beyond = count - settings.signin_max_failures_per_account
    if beyond < 0 or latest is None:
        return Throttle()
    delay = min(
        settings.signin_max_delay_seconds,
        settings.signin_first_delay_seconds * 2 ** min(beyond, 30),
    )
    return Throttle(_seconds(latest + timedelta(seconds=delay) - now))


def _seconds(remaining: timedelta) -> int:
    return max(0, math.ceil(remaining.total_seconds()))


def authenticate(db: Session, email: str, password: str, address: str) -> User | None:
    """The user whose password this is, or None; every attempt is recorded for throttling."""
    user = find_user(db, email)
    ok = verify_password(user.password_hash if user else None, password)
    db.add(SigninAttempt(email=normalise_email(email)[:254], address=address[:64], succeeded=ok))
    if not ok or user is None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_signed_in_at = utcnow()
    return user


def set_password(db: Session, user: User, password: str) -> None:
    """Give ``user`` a new password: every session signed in before it ends."""
    user.password_hash = hash_password(password)
    sessions.end_others(db, user)


def reset_payload(user: User) -> dict[str, object]:
    # The fingerprint makes the link single-use: once the password changes it no longer matches.
    return {"uid": user.id, "fp": session_fingerprint(user)}


def user_for_reset(db: Session, payload: object) -> User | None:
    if not isinstance(payload, dict):
        return None
    uid, fingerprint = payload.get("uid"), payload.get("fp")
    if not isinstance(uid, int) or not isinstance(fingerprint, str):
        return None
    user = db.get(User, uid)
    if user is None or session_fingerprint(user) != fingerprint:
        return None
    return user
