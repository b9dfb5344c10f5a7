"""Where a call stands today: open, expected or closed, and whether its profile is stale.

A profile says its ``status``; a call whose deadline or closing date has passed is
closed whatever the profile says, so that nobody starts on it by mistake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from proposals.calls.schema import CallProfile
from proposals.i18n import format_date
from proposals.i18n import gettext as _

Standing = Literal["open", "expected", "closed"]
STANDINGS: tuple[Standing, ...] = ("open", "expected", "closed")
#: A profile checked longer ago than this is due for another check.
STALE_AFTER = timedelta(days=183)


def closing_moment(profile: CallProfile) -> datetime | None:
    """When applications close: the deadline, else the end of ``dates.closes``."""
    if profile.deadline is not None:
        return profile.deadline.moment()
    if profile.dates is not None and profile.dates.closes is not None:
        return datetime.combine(profile.dates.closes, time.max, tzinfo=ZoneInfo("UTC"))
    return None


def _closing_day(profile: CallProfile) -> date | datetime | None:
    """The closing day as the profile gives it, for messages."""
    if profile.deadline is not None:
        return profile.deadline.moment()
    return profile.dates.closes if profile.dates is not None else None


def standing(profile: CallProfile, now: datetime) -> Standing:
    if profile.status == "closed":
        return "closed"
    closes = closing_moment(profile)
    if closes is not None and closes < now:
        return "closed"
    return profile.status


def closed_reason(profile: CallProfile, now: datetime) -> str | None:
    """Why nothing new may start on this call, or None if something may."""
    if standing(profile, now) != "closed":
        return None
    closes = _closing_day(profile)
    if profile.status == "closed" and closes is not None:
        return _(
            "This call closed on %(date)s and takes no new applications.",
            date=format_date(closes, "long"),
        )
    if closes is not None:
        return _(
            "The deadline of this call passed on %(date)s; it takes no new applications.",
            date=format_date(closes, "long"),
        )
    return _("This call is closed and takes no new applications.")


def label(value: Standing) -> str:
    return {"open": _("Open"), "expected": _("Expected"), "closed": _("Closed")}[value]


@dataclass(frozen=True)
class Staleness:
    """Why an admin should check a profile again (empty: it is current)."""

    reasons: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.reasons)


def staleness(profile: CallProfile, now: datetime) -> Staleness:
    reasons: list[str] = []
    today: date = now.date()
    if profile.verified_on is None:
        reasons.append(_("Never verified against its sources."))
    elif today - profile.verified_on > STALE_AFTER:
        reasons.append(
            _(
                "Verified on %(date)s, more than six months ago.",
                date=format_date(profile.verified_on, "long"),
            )
        )
    closes = closing_moment(profile)
    if profile.status != "closed" and closes is not None and closes < now:
        reasons.append(
            _(
                "Its deadline passed on %(date)s, but the profile does not say it is closed.",
                date=format_date(_closing_day(profile), "long"),
            )
        )
    return Staleness(tuple(reasons))
