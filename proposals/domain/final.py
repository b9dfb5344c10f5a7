"""The final stage: check before submit and partner sign-offs.

- ``problems`` lists everything still wrong (the call's check engine, sections
  not approved, missing or withdrawn sign-offs), each with where it is fixed.
- A partner signs off its sections (their revision numbers) and its budget (a
  hash of its lines and sources). An edit afterwards withdraws the sign-offs it
  touches (``proposals.domain.signoffs``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exports.budget import BudgetSnapshot, PartnerBudget
from proposals import urls
from proposals.calls import library
from proposals.calls.checks import run_checks
from proposals.calls.describe import section_names
from proposals.calls.facts import ProposalFacts
from proposals.calls.schema import Source
from proposals.domain import annexes, audit, budget
from proposals.domain.facts import facts_of
from proposals.domain.signoffs import WHAT, withdraw_sign_offs
from proposals.i18n import get_locale
from proposals.i18n import gettext as _
from proposals.models import Partner, Proposal, ReviewRound, SignOff, User, utcnow
from proposals.text import count_characters, plain_text
from workflow import READ_ONLY_STATES, SIGNING_STATES, GuardResult


def is_read_only(status: str) -> bool:
    return status in READ_ONLY_STATES


# --- the budget: the one place the final stage reads it from --------------------------


def _budget(session: Session, proposal: Proposal) -> BudgetSnapshot:
    """The source of budget data for sign-offs and exports: the budget pages' own snapshot."""
    return budget.budget_snapshot(session, proposal)


def budget_hash(budget: PartnerBudget | None) -> str:
    """A sha256 of a partner's lines and sources in a canonical form (what a sign-off covers)."""
    if budget is None:
        return hashlib.sha256(b"no budget").hexdigest()
    canonical = {
        "lines": [
            [
                line.category,
                line.description,
                str(line.amount),
                line.unit,
                str(line.quantity),
                str(line.unit_cost),
                line.period,
                line.kind,
            ]
            for line in budget.lines
        ],
        "sources": [[s.kind, str(s.amount), s.note] for s in budget.sources],
    }
    data = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


# --- sign-offs ---------------------------------------------------------------------


def covered_sections(proposal: Proposal, partner: Partner) -> dict[str, int]:
    """The sections a partner signs off: those assigned to it (the lead: also unassigned)."""
    return {
        s.key: s.current_number
        for s in proposal.sections
        if s.partner_id == partner.id or (s.partner_id is None and partner.role == "lead")
    }


@dataclass(frozen=True)
class PartnerSignOffs:
    partner: Partner
    sections: SignOff | None  # the current (not withdrawn) one
    budget: SignOff | None
    withdrawn: list[SignOff]  # withdrawn since the last sign-off, newest first

    @property
    def complete(self) -> bool:
        return self.sections is not None and self.budget is not None


def sign_offs(session: Session, proposal: Proposal) -> list[PartnerSignOffs]:
    """Each active partner's current sign-offs, checked against today's texts and budget."""
    rows = list(
        session.scalars(
            select(SignOff)
            .where(SignOff.proposal_id == proposal.id)
            .order_by(SignOff.signed_at.desc(), SignOff.id.desc())
        )
    )
    budget = _budget(session, proposal)
    out = []
    for partner in proposal.partners:
        if partner.status != "active":
            continue
        mine = [r for r in rows if r.partner_id == partner.id]
        expected = {
            "sections": {"sections": covered_sections(proposal, partner)},
            "budget": {"budget": budget_hash(budget.partner(partner.public_id))},
        }
        current: dict[str, SignOff | None] = {}
        for what in WHAT:
            latest = next((r for r in mine if r.what == what and r.withdrawn_at is None), None)
            current[what] = latest if latest and latest.covers == expected[what] else None
        last_signed = max((r.signed_at for r in mine if r.withdrawn_at is None), default=None)
        withdrawn = [
            r
            for r in mine
            if r.withdrawn_at is not None and (last_signed is None or r.withdrawn_at > last_signed)
        ]
        out.append(PartnerSignOffs(partner, current["sections"], current["budget"], withdrawn))
    return out


def sign_off(session: Session, proposal: Proposal, partner: Partner, user: User) -> None:
    """The partner signs off its sections and its budget as they are now."""
    current = next((s for s in sign_offs(session, proposal) if s.partner.id == partner.id), None)
    if current is not None and current.complete:
        return  # signed already as things are now (a double click): nothing new to record
    withdraw_sign_offs(session, proposal.id, partner.id, WHAT, user.id, "")
    budget = _budget(session, proposal)
    covers = {
        "sections": {"sections": covered_sections(proposal, partner)},
        "budget": {"budget": budget_hash(budget.partner(partner.public_id))},
    }
    now = utcnow()
    for what in WHAT:
        session.add(
            SignOff(
                proposal_id=proposal.id,
                partner_id=partner.id,
                what=what,
                covers=covers[what],
                signed_by_id=user.id,
                signed_at=now,
            )
        )
    audit.record(session, proposal, user, "signed_off", partner.organisation.name)


def declaration_received(
    session: Session, proposal: Proposal, partner: Partner, user: User
) -> bool:
    """A partner's signed declaration is in: while signing, it records the partner's sign-off.

    Returns whether a sign-off was recorded (not when it was signed off already).
    """
    if proposal.status not in SIGNING_STATES:
        return False
    current = next((s for s in sign_offs(session, proposal) if s.partner.id == partner.id), None)
    if current is None or current.complete:
        return False
    sign_off(session, proposal, partner, user)
    return True


def all_signed_off(session: Session, proposal: Proposal) -> GuardResult:
    missing = [s.partner.organisation.name for s in sign_offs(session, proposal) if not s.complete]
    if not missing:
        return GuardResult(True)
    return GuardResult(False, (_("Not signed off yet by: %(names)s.", names=", ".join(missing)),))


# --- check before submit -------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    message: str
    link: str
    rule: str = ""
    source: Source | None = None
    assumption: bool = False


def problems(
    session: Session, proposal: Proposal, facts: ProposalFacts | None = None
) -> list[Problem]:
    """Everything still wrong before submitting, errors first, each with where it is fixed.

    ``facts``: the checks' facts when the caller has gathered them already."""
    profile = library.profile_for(session, proposal)
    pid = proposal.public_id
    links: dict[str, Callable[[str | None], str]] = {
        "partners": lambda key: urls.link(proposal, "consortium"),
        "sections": lambda key: (
            urls.path("section", pid=pid, key=key) if key else urls.path("sections", pid=pid)
        ),
        "budget": lambda key: urls.path("budget", pid=pid),
        "proposal": lambda key: urls.link(proposal),
    }
    found = [
        Problem(
            f.severity,
            f.message,
            links[f.target.area](f.target.key),
            f.rule,
            f.source,
            f.assumption,
        )
        for f in run_checks(profile, facts or facts_of(proposal))
    ]
    names = section_names(profile, proposal.sections)  # one name per section on the page
    for section in proposal.sections:
        link = urls.link(section)
        name = names[section.key].name
        if profile.section(section.key) is None:  # an annex: the engine knows only the call's
            used = count_characters(section.text)
            if section.char_limit and used > section.char_limit:
                message = _(
                    "The section “%(title)s” has %(used)s characters, %(over)s over the limit.",
                    title=name,
                    used=used,
                    over=used - section.char_limit,
                )
                found.append(Problem("error", message, link))
            elif not plain_text(section.text).strip():
                message = _("The annex “%(title)s” is empty.", title=name)
                found.append(Problem("warning", message, link))
        if section.status != "approved":
            message = _("The section “%(title)s” is not approved yet.", title=name)
            found.append(Problem("warning", message, link))
    for state in sign_offs(session, proposal):
        name = state.partner.organisation.name
        link = urls.path("final", pid=pid) + "#sign-offs"
        if state.withdrawn and not state.complete:
            reasons = " ".join(dict.fromkeys(r.withdrawn_reason for r in state.withdrawn))
            message = _(
                "The sign-off of %(name)s was withdrawn: %(reasons)s", name=name, reasons=reasons
            )
            found.append(Problem("error", message, link))
        elif not state.complete:
            message = _("%(name)s has not signed off its sections and budget.", name=name)
            found.append(Problem("error", message, link))
    for slot in annexes.missing(session, proposal, profile):
        title = slot.requirement.title.get(get_locale())
        if slot.partner is not None:
            message = _(
                "The annex “%(title)s” of %(name)s is missing.",
                title=title,
                name=slot.partner.organisation.name,
            )
        else:
            message = _("The annex “%(title)s” is missing.", title=title)
        link = urls.path("annexes", pid=pid) + "#" + slot.anchor
        found.append(Problem("error", message, link))
    waiting = [p.organisation.name for p in proposal.partners if p.status == "invited"]
    if waiting:
        message = _("Waiting for an answer from: %(names)s.", names=", ".join(waiting))
        found.append(Problem("warning", message, urls.link(proposal, "consortium")))
    return sorted(found, key=lambda p: p.severity != "error")


def blockers(
    session: Session, proposal: Proposal, facts: ProposalFacts | None = None
) -> list[Problem]:
    """What should stop a move to sign-off: the checks' errors and a review still open."""
    signing = urls.path("final", pid=proposal.public_id) + "#sign-offs"  # what the stage is for
    found = [
        p for p in problems(session, proposal, facts) if p.severity == "error" and p.link != signing
    ]
    open_rounds = session.scalar(
        select(func.count())
        .select_from(ReviewRound)
        .where(ReviewRound.proposal_id == proposal.id, ReviewRound.status == "open")
    )
    if open_rounds:
        found.append(
            Problem(
                "error",
                _("A mentor's review is still open: its verdicts are not in yet."),
                urls.path("reviews", pid=proposal.public_id),
            )
        )
    return found


def budget_findings(session: Session, proposal: Proposal, partner: Partner) -> list[Problem]:
    """The call's budget rules this partner's (or the consortium's) budget breaks."""
    profile = library.profile_for(session, proposal)
    link = urls.path("budget", pid=proposal.public_id) + f"#p-{partner.public_id}"
    return [
        Problem(f.severity, f.message, link, f.rule)
        for f in run_checks(profile, facts_of(proposal), ["budget"])
        if f.severity == "error" and f.target.key in (None, partner.public_id)
    ]
