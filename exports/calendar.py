"""An iCalendar file (RFC 5545) from a list of dated events, with the ``icalendar`` package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

PRODID = "-//Engage//Proposal calendar//EN"


@dataclass(frozen=True)
class Dated:
    """One event: a whole day (a due date, a milestone) or a moment (a call's deadline)."""

    uid: str
    summary: str
    when: date | datetime
    description: str = ""
    url: str = ""


def calendar(name: str, events: Iterable[Dated], stamp: datetime) -> bytes:
    """The .ics bytes of ``events``; ``stamp`` is the DTSTAMP of every event (now, in UTC)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("summary", item.summary)
        if isinstance(item.when, datetime):
            event.add("dtstart", item.when.astimezone(UTC))
            event.add("dtend", item.when.astimezone(UTC))
        else:
            event.add("dtstart", item.when)
            event.add("dtend", item.when + timedelta(days=1))
            event.add("transp", "TRANSPARENT")
        if item.description:
            event.add("description", item.description)
        if item.url:
            event.add("url", item.url)
        cal.add_component(event)
    return cal.to_ical()
