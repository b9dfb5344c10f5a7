"""Every address Engage serves, by name, and the one place that turns a record into its URL.

The web's route table is built from :data:`PATHS` (``proposals.web.routes``), so a
route and the links to it cannot drift apart. Templates call ``url(name, ...)``
and ``link(record)``; the domain uses :func:`link` for the links it stores
(notifications, "Fix it" links of the checks). Nothing here imports the web.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from proposals.models import (
    Comment,
    Export,
    Idea,
    Organisation,
    Partner,
    Proposal,
    ReviewRound,
    Section,
)

PATHS: dict[str, str] = {
    # the site, accounts, administration
    "home": "/",
    "signup": "/signup",
    "signin": "/signin",
    "signout": "/signout",
    "forgot_password": "/password/forgot",
    "reset_password": "/password/reset/{token}",
    "account": "/account",
    "end_other_sessions": "/account/sessions/end",
    "language": "/language",
    "outbox": "/admin/outbox",
    "admin_calls": "/admin/calls",
    "admin_mentors": "/admin/mentors",
    "calls": "/calls",
    "call": "/calls/{call_id}",
    "notifications": "/notifications",
    "notifications_read": "/notifications/read",
    "notification_events": "/notifications/events",
    "review_queue": "/reviews",
    # organisations, the directory, ideas
    "organisations": "/organisations",
    "new_organisation": "/organisations/new",
    "organisation": "/organisations/{oid}",
    "edit_organisation": "/organisations/{oid}/edit",
    "invite_member": "/organisations/{oid}/invitations",
    "revoke_member_invitation": "/organisations/{oid}/invitations/{inv}/revoke",
    "change_member": "/organisations/{oid}/members/{mid}",
    "leave_organisation": "/organisations/{oid}/leave",
    "join_organisation": "/join/{token}",
    "directory": "/partners",
    "ideas": "/ideas",
    "new_idea": "/ideas/new",
    "idea": "/ideas/{iid}",
    "edit_idea": "/ideas/{iid}/edit",
    "express_interest": "/ideas/{iid}/interest",
    "reply_interest": "/ideas/{iid}/interests/{xid}/reply",
    "close_idea": "/ideas/{iid}/close",
    # proposals and their consortium
    "proposals": "/proposals",
    "new_proposal": "/proposals/new",
    "invitations": "/invitations",
    "proposal_invitation": "/proposals/join/{token}",
    "invite_from_directory": "/proposals/invite",
    "proposal": "/proposals/{pid}",
    "transition": "/proposals/{pid}/transition",
    "invite_partner": "/proposals/{pid}/partners",
    "invite_email": "/proposals/{pid}/invitations",
    "revoke_invitation": "/proposals/{pid}/invitations/{inv}/revoke",
    "partner_accept": "/proposals/{pid}/partners/{partner}/accept",
    "partner_decline": "/proposals/{pid}/partners/{partner}/decline",
    "partner_lead": "/proposals/{pid}/partners/{partner}/lead",
    "partner_withdraw": "/proposals/{pid}/partners/{partner}/withdraw",
    "partner_contact": "/proposals/{pid}/partners/{partner}/contact",
    "partner_newcomer": "/proposals/{pid}/partners/{partner}/newcomer",
    "proposal_application": "/proposals/{pid}/application",
    "plan": "/proposals/{pid}/plan",
    "apply_plan": "/proposals/{pid}/plan/due-dates",
    "proposal_calendar": "/proposals/{pid}/calendar.ics",
    "calendar_feed": "/calendar/{token}.ics",
    "calendar_settings": "/account/calendar",
    "search": "/search",
    # sections
    "sections": "/proposals/{pid}/sections",
    "add_section": "/proposals/{pid}/sections/add",
    "section": "/proposals/{pid}/sections/{key}",
    "move_section": "/proposals/{pid}/sections/{key}/move",
    "assign_section": "/proposals/{pid}/sections/{key}/assign",
    "save_section": "/proposals/{pid}/sections/{key}/save",
    "section_state": "/proposals/{pid}/sections/{key}/state",
    "section_history": "/proposals/{pid}/sections/{key}/history",
    "section_draft": "/proposals/{pid}/sections/{key}/draft",
    "section_draft_translated": "/proposals/{pid}/sections/{key}/draft/translated",
    "section_events": "/proposals/{pid}/sections/{key}/events",
    "section_live": "/proposals/{pid}/sections/{key}/live",
    "restore_revision": "/proposals/{pid}/sections/{key}/restore",
    "comments": "/proposals/{pid}/sections/{key}/comments",
    "resolve_comment": "/proposals/{pid}/sections/{key}/comments/{cid}",
    # budget
    "budget": "/proposals/{pid}/budget",
    "budget_history": "/proposals/{pid}/budget/history",
    "budget_workbook": "/proposals/{pid}/budget/workbook",
    "budget_lines": "/proposals/{pid}/budget/{partner}/lines",
    "budget_line": "/proposals/{pid}/budget/{partner}/lines/{line}",
    "delete_budget_line": "/proposals/{pid}/budget/{partner}/lines/{line}/delete",
    "budget_flat_rate": "/proposals/{pid}/budget/{partner}/flat/{category}",
    "budget_funding": "/proposals/{pid}/budget/{partner}/funding",
    # review
    "reviews": "/proposals/{pid}/reviews",
    "new_round": "/proposals/{pid}/reviews/new",
    "add_mentor": "/proposals/{pid}/mentors",
    "review_round": "/proposals/{pid}/reviews/{rid}",
    "verdict": "/proposals/{pid}/reviews/{rid}/sections/{key}",
    "cancel_round": "/proposals/{pid}/reviews/{rid}/cancel",
    # final stage
    "final": "/proposals/{pid}/final",
    "sign_off": "/proposals/{pid}/final/sign-off",
    "export": "/proposals/{pid}/final/export",
    "export_declaration": "/proposals/{pid}/final/declaration",
    "word_upload": "/proposals/{pid}/final/word",
    "word_apply": "/proposals/{pid}/final/word/apply",
    "submission": "/proposals/{pid}/final/submission",
    "export_download": "/proposals/{pid}/exports/{eid}",
    # annexes
    "annexes": "/proposals/{pid}/annexes",
    "annex_upload": "/proposals/{pid}/annexes/upload",
    "partner_annex_upload": "/proposals/{pid}/partners/{partner}/annexes",
    "annex_download": "/proposals/{pid}/annexes/{aid}",
}


def path(name: str, **params: object) -> str:
    """The path of the route ``name`` with ``params`` filled in (each quoted as one segment)."""
    try:
        template = PATHS[name]
    except KeyError:
        raise LookupError(f"no route named {name!r}") from None
    values = {k: quote(str(v), safe="") for k, v in params.items()}
    try:
        return template.format(**values)
    except KeyError as exc:
        raise LookupError(f"the route {name!r} needs {exc.args[0]!r}") from None


def matcher(*names: str) -> re.Pattern[str]:
    """A pattern matching the paths of the routes ``names`` (each parameter one segment)."""
    return re.compile(
        "|".join(
            "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(PATHS[name])) + "$"
            for name in names
        )
    )


def link(target: object, anchor: str = "") -> str:
    """The page of a record: a proposal, section, partner, round, idea, organisation, ..."""
    suffix = f"#{anchor}" if anchor else ""
    if isinstance(target, Proposal):
        return path("proposal", pid=target.public_id) + suffix
    if isinstance(target, Section):
        return path("section", pid=target.proposal.public_id, key=target.key) + suffix
    if isinstance(target, Comment):
        return link(target.section, anchor or f"c-{target.public_id}")
    if isinstance(target, Partner):
        return link(target.proposal, anchor or "consortium")
    if isinstance(target, ReviewRound):
        return path("review_round", pid=target.proposal.public_id, rid=target.public_id) + suffix
    if isinstance(target, Export):
        return path("export_download", pid=target.proposal.public_id, eid=target.public_id)
    if isinstance(target, Idea):
        return path("idea", iid=target.public_id) + suffix
    if isinstance(target, Organisation):
        return path("organisation", oid=target.public_id) + suffix
    raise TypeError(f"no page for {type(target).__name__}")
