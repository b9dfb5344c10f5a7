"""The activity feed in words: each audit entry as a sentence in the reader's language.

"Anna Kowalska assigned “Cele projektu” to Frivillighetssentralen Kristiansand,
due 17 Jan 2027", grouped by day, each with a link to what changed. No entry
ever shows an internal trigger name: a kind this module does not know reads
"… made a change" (and ``tests/test_activity.py`` fails until it is described).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from proposals import urls
from proposals.i18n import format_date, get_timezone, language_name, ngettext
from proposals.i18n import gettext as _
from proposals.models import Proposal, StatusChange

#: Events written with ``audit.record`` (not workflow transitions), each described below.
RECORDED = (
    "invite_partner",
    "invite_by_email",
    "invitation_revoked",
    "invitation_lapsed",
    "invitations_lapsed",
    "partner_accepted",
    "partner_declined",
    "lead_handed_over",
    "partner_withdrawn",
    "contact_changed",
    "member_left",
    "mentor_added",
    "review_requested",
    "review_closed",
    "review_cancelled",
    "signed_off",
    "sign_off_withdrawn",
    "submission_recorded",
    "annex_uploaded",
    "newcomer_marked",
    "newcomer_unmarked",
    "language_chosen",
    "stage_changed",
)


@dataclass(frozen=True)
class Item:
    when: datetime
    text: str
    link: str | None


@dataclass(frozen=True)
class Day:
    day: date
    label: str
    items: list[Item]


def section_detail(title: str, key: str, **more: str) -> str:
    """The ``detail`` of a section entry: enough to say which section and link to it."""
    return json.dumps({"section": title, "key": key, **more}, ensure_ascii=False)


def _detail(entry: StatusChange) -> dict[str, str]:
    """A section entry's detail; older entries hold just the section's title."""
    text = entry.detail or ""
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return {k: str(v) for k, v in data.items()}
    return {"section": text}


def _due(raw: str) -> str:
    try:
        return format_date(date.fromisoformat(raw))
    except ValueError:
        return raw


def _fraction(detail: str) -> tuple[str, str]:
    part, _sep, total = detail.partition("/")
    return part, total or "?"


_PROPOSAL: dict[str, Callable[[str], str]] = {
    "start": lambda who: _("%(who)s started the partnership.", who=who),
    "confirm_partnership": lambda who: _("%(who)s confirmed the partnership.", who=who),
    "reopen_partnership": lambda who: _(
        "%(who)s reopened the partnership to invite more partners.", who=who
    ),
    "start_drafting": lambda who: _("%(who)s started drafting the application.", who=who),
    "request_review": lambda who: _("%(who)s asked for a review of the application.", who=who),
    "return_for_revision": lambda who: _(
        "%(who)s returned the application to the writers.", who=who
    ),
    "finalise": lambda who: _("%(who)s moved the application to sign-off.", who=who),
    "reopen": lambda who: _("%(who)s reopened the application for editing.", who=who),
    "mark_signed": lambda who: _("%(who)s marked the application as signed.", who=who),
    "submit": lambda who: _("%(who)s recorded that the application was submitted.", who=who),
    "record_funded": lambda who: _("%(who)s recorded that the project is funded.", who=who),
    "record_not_funded": lambda who: _("%(who)s recorded that the project is not funded.", who=who),
    "withdraw": lambda who: _("%(who)s withdrew the proposal.", who=who),
}

_SECTION: dict[str, Callable[[str, str], str]] = {
    "start_writing": lambda who, s: _("%(who)s started writing “%(section)s”.", who=who, section=s),
    "mark_ready": lambda who, s: _(
        "%(who)s marked “%(section)s” as ready for review.", who=who, section=s
    ),
    "request_changes": lambda who, s: _(
        "%(who)s asked for changes to “%(section)s”.", who=who, section=s
    ),
    "approve": lambda who, s: _("%(who)s approved “%(section)s”.", who=who, section=s),
    "reopen": lambda who, s: _("%(who)s reopened “%(section)s” for editing.", who=who, section=s),
}


def _assigned(who: str, detail: dict[str, str]) -> str:
    section, partner, due = detail.get("section", ""), detail.get("partner"), detail.get("due")
    if partner and due:
        return _(
            "%(who)s assigned “%(section)s” to %(partner)s, due %(due)s.",
            who=who,
            section=section,
            partner=partner,
            due=_due(due),
        )
    if partner:
        return _(
            "%(who)s assigned “%(section)s” to %(partner)s.",
            who=who,
            section=section,
            partner=partner,
        )
    return _("%(who)s assigned “%(section)s”.", who=who, section=section)


def _recorded(kind: str, who: str, detail: str) -> str | None:
    name = detail
    if kind == "invite_partner":
        return _("%(who)s invited %(name)s to the consortium.", who=who, name=name)
    if kind == "invite_by_email":
        return _("%(who)s invited %(name)s by e-mail.", who=who, name=name)
    if kind == "invitation_revoked":
        return _("%(who)s withdrew the invitation sent to %(name)s.", who=who, name=name)
    if kind == "invitation_lapsed":
        return _("The invitation of %(name)s lapsed when the partnership was formed.", name=name)
    if kind == "invitations_lapsed":
        count = int(detail) if detail.isdigit() else 0
        return ngettext(
            "%(num)s e-mailed invitation lapsed when the partnership was formed.",
            "%(num)s e-mailed invitations lapsed when the partnership was formed.",
            count,
        )
    if kind == "partner_accepted":
        return _(
            "%(who)s accepted the invitation: %(name)s joined the consortium.", who=who, name=name
        )
    if kind == "partner_declined":
        return _("%(who)s declined the invitation (%(name)s).", who=who, name=name)
    if kind == "lead_handed_over":
        return _("%(who)s handed the lead to %(name)s.", who=who, name=name)
    if kind == "partner_withdrawn":
        return _("%(who)s withdrew %(name)s from the consortium.", who=who, name=name)
    if kind == "contact_changed":
        return _("%(who)s made %(name)s a contact person.", who=who, name=name)
    if kind == "member_left":
        return _("%(name)s left the organisation and no longer works on the proposal.", name=name)
    if kind == "mentor_added":
        return _("%(who)s asked %(name)s to mentor the proposal.", who=who, name=name)
    if kind == "review_requested":
        return _("%(who)s asked %(name)s for a review.", who=who, name=name)
    if kind == "review_closed":
        approved, total = _fraction(detail)
        return _(
            "%(who)s closed a review round: %(approved)s of %(total)s sections approved.",
            who=who,
            approved=approved,
            total=total,
        )
    if kind == "review_cancelled":
        decided, total = _fraction(detail)
        return _(
            "%(who)s cancelled a review round (%(decided)s of %(total)s sections had a verdict).",
            who=who,
            decided=decided,
            total=total,
        )
    if kind == "signed_off":
        return _("%(who)s signed off for %(name)s.", who=who, name=name)
    if kind == "sign_off_withdrawn":
        return _("A change by %(who)s withdrew a sign-off: %(reason)s", who=who, reason=detail)
    if kind == "newcomer_marked":
        return _("%(who)s marked %(name)s as new to the programme.", who=who, name=name)
    if kind == "newcomer_unmarked":
        return _("%(who)s marked %(name)s as not new to the programme.", who=who, name=name)
    if kind == "language_chosen":
        return _(
            "%(who)s chose %(language)s as the language of the application.",
            who=who,
            language=language_name(detail, capital=False),
        )
    if kind == "stage_changed":
        return _("%(who)s moved the proposal on to the stage “%(stage)s”.", who=who, stage=detail)
    if kind == "annex_uploaded":
        return _("%(who)s uploaded an annex: %(name)s.", who=who, name=name)
    if kind == "submission_recorded":
        day, _sep, reference = detail.partition(" ")
        return _(
            "%(who)s recorded the submission of %(date)s (the funder's reference: %(reference)s).",
            who=who,
            date=_due(day),
            reference=reference,
        )
    return None


def _link(entry: StatusChange, proposal: Proposal, sections: dict[str, str]) -> str | None:
    pid = proposal.public_id
    kind = entry.trigger
    if kind.startswith("section."):
        detail = _detail(entry)
        key = detail.get("key") or sections.get(detail.get("section", ""))
        return urls.path("section", pid=pid, key=key) if key else None
    if kind.startswith("review_") or kind == "mentor_added":
        return urls.path("reviews", pid=pid)
    if kind == "annex_uploaded":
        return urls.path("annexes", pid=pid)
    if kind in {"signed_off", "sign_off_withdrawn", "submission_recorded"}:
        return urls.path("final", pid=pid)
    if kind in RECORDED:
        return urls.path("proposal", pid=pid) + "#consortium"
    return urls.path("proposal", pid=pid)


def describe(entry: StatusChange, state_label: Callable[[str], str]) -> str:
    """One entry as a sentence in the current language; never the trigger's name."""
    who = entry.actor.name if entry.actor else _("Someone")
    kind = entry.trigger
    if kind in _PROPOSAL:
        return _PROPOSAL[kind](who)
    if kind.startswith("section."):
        trigger, detail = kind.removeprefix("section."), _detail(entry)
        if trigger == "assign":
            return _assigned(who, detail)
        section = detail.get("section", "")
        if trigger in _SECTION:
            return _SECTION[trigger](who, section)
        return _(
            "%(who)s moved “%(section)s” to “%(state)s”.",
            who=who,
            section=section,
            state=state_label(entry.dest),
        )
    text = _recorded(kind, who, entry.detail or "")
    if text is not None:
        return text
    if entry.source != entry.dest:
        return _(
            "%(who)s moved the proposal to “%(state)s”.", who=who, state=state_label(entry.dest)
        )
    return _("%(who)s made a change.", who=who)


def feed(
    entries: list[StatusChange], proposal: Proposal, state_label: Callable[[str], str]
) -> list[Day]:
    """The entries (newest first) as sentences with links, grouped by the reader's day."""
    sections = {s.title: s.key for s in proposal.sections}
    zone = get_timezone()
    days: list[Day] = []
    for entry in entries:
        day = entry.created_at.astimezone(zone).date()
        if not days or days[-1].day != day:
            days.append(Day(day, format_date(day, "full"), []))
        days[-1].items.append(
            Item(entry.created_at, describe(entry, state_label), _link(entry, proposal, sections))
        )
    return days
